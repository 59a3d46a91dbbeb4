// Command tokentop is a terminal session manager and token inspector for the
// Convirza V3 platform. This file parses the command line and wires the
// pieces together; each subcommand lives in a cmd_*.go file beside it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/hardening"
	"github.com/tokentop/tokentop/internal/quietinit"
	"github.com/tokentop/tokentop/internal/safetext"
	"github.com/tokentop/tokentop/storage"
)

// Exit codes: the command-line contract in design.md.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitNeedsLogin  = 3
	exitStorage     = 4
	exitUnavailable = 5
)

func main() {
	if err := hardening.NoCoreDumps(); err != nil {
		fmt.Fprintf(os.Stderr, "tokentop: warning: %v\n", err)
	}
	quietinit.Restore()
	os.Exit(runWithSignals(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// runWithSignals runs one command line as the process: SIGINT and SIGTERM
// cancel the command's context, but a refresh whose request may already
// have reached the server is finished and saved first (see onSignals).
func runWithSignals(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := newApp(stdin, stdout, stderr)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go a.onSignals(sigs, cancel, os.Exit)
	return a.run(ctx, args)
}

// app carries what every subcommand needs: the standard streams and the
// global flags, and opens storage lazily (some commands never need it).
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	configDir      string
	storageName    string
	store          *storage.Store
	// kp is the command's keeper once built, read by the signal handler to
	// learn whether stopping now would abandon a refresh.
	kp atomic.Pointer[auth.Keeper]
	// showsEvents is set while the command shows every keeper event itself
	// (the TUI, keepalive), so urgentEvent stays quiet.
	showsEvents atomic.Bool
}

func newApp(stdin io.Reader, stdout, stderr io.Writer) *app {
	return &app{stdin: stdin, stdout: stdout, stderr: stderr}
}

// onSignals cancels the command at the first signal. If a refresh may be in
// flight at the server, the keeper finishes and saves it regardless of the
// cancel (its exchange ignores cancellation), so this says what is going on;
// a second signal forces the exit, after saying what that loses.
func (a *app) onSignals(sigs <-chan os.Signal, cancel context.CancelFunc, exit func(int)) {
	for n := 0; ; n++ {
		sig, ok := <-sigs
		if !ok {
			return
		}
		cancel()
		var names []string
		if k := a.kp.Load(); k != nil {
			names = k.Exchanging()
		}
		if n == 0 {
			if len(names) > 0 {
				fmt.Fprintf(a.stderr, "\ntokentop: %s (press Ctrl-C again to do so)\n", auth.ExchangeWarning(names))
			}
			continue
		}
		if len(names) > 0 {
			fmt.Fprintf(a.stderr, "\ntokentop: abandoned the refresh of %s: any pair the server issued is lost; log in again if the session fails\n",
				strings.Join(names, ", "))
		}
		code := 130
		if s, ok := sig.(syscall.Signal); ok {
			code = 128 + int(s)
		}
		exit(code)
		return
	}
}

// run executes one command line and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return newApp(stdin, stdout, stderr).run(ctx, args)
}

func (a *app) run(ctx context.Context, args []string) int {
	stdin, stdout, stderr := a.stdin, a.stdout, a.stderr
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if a.store != nil {
		_ = a.store.Close()
	}
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	var ec *exitCodeError
	if errors.As(err, &ec) && ec.err == nil {
		return code // e.g. exec's child failed: it has spoken for itself
	}
	// Errors quote what came from outside (server messages, file contents,
	// names from a damaged sessions.json); whatever a layer below missed,
	// nothing reaches the terminal as a control sequence. Line breaks stay:
	// joined errors are one per line.
	fmt.Fprintf(stderr, "tokentop: %s\n", safetext.Lines(err.Error()))
	if hint := errorHint(err); hint != "" {
		fmt.Fprintf(stderr, "  %s\n", safetext.Lines(hint))
	}
	return code
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "tokentop",
		Short: "Session manager and token inspector for the Convirza V3 platform",
		Long: `tokentop logs in to Convirza V3 (or imports a token pair), keeps the secrets in the
OS keyring, refreshes before expiry with single-use refresh-token rotation, and lets
you inspect, copy and revoke tokens: in the TUI (run with no command) or from scripts.`,
		SilenceUsage:               true,
		SilenceErrors:              true,
		SuggestionsMinimumDistance: 2,
		Args:                       noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runTUI(cmd.Context())
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.configDir, "config-dir", os.Getenv("TOKENTOP_CONFIG_DIR"),
		"directory for metadata, locks and the audit log (env TOKENTOP_CONFIG_DIR)")
	pf.StringVar(&a.storageName, "storage", envOr("TOKENTOP_STORAGE", storage.BackendKeyring),
		"where secrets live: keyring, file or memory (env TOKENTOP_STORAGE); --storage file warns on stderr unless TOKENTOP_STORAGE=file")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr(err) })
	root.AddCommand(
		a.newDemoCmd(),
		a.newEmulatorCmd(),
		a.newLoginCmd(),
		a.newImportCmd(),
		a.newListCmd(),
		a.newTokenCmd(),
		a.newRefreshCmd(),
		a.newInspectCmd(),
		a.newRevokeCmd(),
		a.newForgetCmd(),
		a.newKeepaliveCmd(),
		a.newExecCmd(),
	)
	return root
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// openStore opens the session store chosen by the global flags, once.
func (a *app) openStore() (*storage.Store, error) {
	if a.store != nil {
		return a.store, nil
	}
	switch a.storageName {
	case storage.BackendKeyring, storage.BackendFile, storage.BackendMemory:
	default:
		return nil, usageErr(fmt.Errorf("--storage %q: choose keyring, file or memory", a.storageName))
	}
	dir := a.configDir
	if a.storageName == storage.BackendMemory {
		// Memory means nothing outlives the process: metadata on disk would
		// describe secrets that vanished with it.
		dir = ""
	} else if dir == "" {
		d, err := storage.DefaultConfigDir()
		if err != nil {
			return nil, fmt.Errorf("find the config directory (set --config-dir or TOKENTOP_CONFIG_DIR): %w", err)
		}
		dir = d
	}
	s, err := storage.Open(storage.Options{ConfigDir: dir, Backend: a.storageName, RuntimeDir: os.Getenv("XDG_RUNTIME_DIR")})
	if err != nil {
		return nil, err
	}
	for _, w := range s.Warnings() {
		fmt.Fprintf(a.stderr, "tokentop: warning: %s\n", w)
	}
	// The file backend keeps tokens in plain text. A --storage file flag may
	// be copied from an example without a second thought, so each command
	// says where the tokens are; TOKENTOP_STORAGE=file in the environment is
	// a standing choice made once (a CI job, a test machine) and stays quiet.
	if p := s.SecretsPath(); p != "" && os.Getenv("TOKENTOP_STORAGE") != storage.BackendFile {
		fmt.Fprintf(a.stderr, "tokentop: warning: secrets are stored in %s (a plain file, mode 0600), not the OS keyring; set TOKENTOP_STORAGE=file to make this your standing choice and silence this\n", p)
	}
	a.store = s
	return s, nil
}

// keeper builds a keeper over the opened store with the real clock and
// network; the store is also its audit log.
func (a *app) keeper() (*auth.Keeper, error) {
	s, err := a.openStore()
	if err != nil {
		return nil, err
	}
	k := auth.NewKeeper(auth.KeeperConfig{
		Store:   s,
		Client:  auth.NewClient(nil, nil),
		Audit:   s,
		Rescue:  s,
		OnEvent: a.urgentEvent,
	})
	a.kp.Store(k)
	return k, nil
}

// urgentEvent prints, as it happens, what a user must see before the
// command ends: a new pair whose save is being retried for up to a minute.
func (a *app) urgentEvent(e auth.Event) {
	if a.showsEvents.Load() {
		return
	}
	// A pair kept aside is told by the command's error, which names the file.
	if e.Kind == auth.EventSaveRetrying {
		fmt.Fprintf(a.stderr, "tokentop: session %q: %s\n", e.Session, e.Message)
	}
}

// addEndpointFlags adds --oauth-url and --api-url, defaulting to production.
func addEndpointFlags(cmd *cobra.Command, ep *auth.Endpoints) {
	cmd.Flags().StringVar(&ep.OAuthURL, "oauth-url", auth.DefaultOAuthURL, "Convirza OAuth base URL")
	cmd.Flags().StringVar(&ep.APIURL, "api-url", auth.DefaultAPIURL, "Convirza API base URL")
}

// maxSecretInput bounds what is read from stdin for a password or token.
const maxSecretInput = 1 << 20

// readSecret reads a password or token from r (stdin): the first line,
// without its line ending. what names it in errors ("password", "token").
func readSecret(r io.Reader, what string) (string, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxSecretInput+1))
	if err != nil {
		return "", fmt.Errorf("read the %s from stdin: %w", what, err)
	}
	if len(data) > maxSecretInput {
		return "", usageErr(fmt.Errorf("the %s on stdin is larger than 1 MiB", what))
	}
	line, _, _ := strings.Cut(string(data), "\n")
	line = strings.TrimRight(line, "\r")
	if strings.TrimSpace(line) == "" {
		return "", usageErr(fmt.Errorf("no %s on stdin: pipe it in, e.g. `pass show convirza | tokentop ...`", what))
	}
	return line, nil
}

// usageError marks a mistake in the command line (exit 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErr(err error) error { return &usageError{err} }

// exitCodeError carries an explicit exit code (e.g. exec's child status).
type exitCodeError struct {
	code int
	err  error // nil: print nothing
}

func (e *exitCodeError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e *exitCodeError) Unwrap() error { return e.err }

// noArgs and exactArgs are cobra argument checks that fail as usage errors.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 && cmd.HasSubCommands() {
		msg := fmt.Sprintf("unknown command %q (see %s --help)", args[0], cmd.CommandPath())
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg = fmt.Sprintf("unknown command %q; did you mean %q? (see %s --help)", args[0], s[0], cmd.CommandPath())
		}
		return usageErr(errors.New(msg))
	}
	if len(args) > 0 {
		return usageErr(fmt.Errorf("%s takes no arguments, got %q (see %s --help)", cmd.CommandPath(), args[0], cmd.CommandPath()))
	}
	return nil
}

func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return usageErr(fmt.Errorf("%s takes %s, got %d arguments (see %s --help)", cmd.CommandPath(), what, len(args), cmd.CommandPath()))
		}
		if len(args) != n {
			return usageErr(fmt.Errorf("%s needs %s (see %s --help)", cmd.CommandPath(), what, cmd.CommandPath()))
		}
		return nil
	}
}

// exitCode maps an error to the contract's exit codes.
func exitCode(err error) int {
	var ec *exitCodeError
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ec):
		return ec.code
	case errors.As(err, &ue), errors.Is(err, auth.ErrInvalidName):
		return exitUsage
	case errors.Is(err, auth.ErrNeedsLogin), errors.Is(err, auth.ErrSecretNotFound), errors.Is(err, auth.ErrSecretUnusable):
		return exitNeedsLogin
	case errors.Is(err, auth.ErrStoreUnavailable), errors.Is(err, auth.ErrLockTimeout):
		return exitStorage
	case errors.Is(err, auth.ErrNetwork), errors.Is(err, auth.ErrServer), errors.Is(err, auth.ErrRateLimited):
		return exitUnavailable
	default:
		return exitError
	}
}

// errorHint says what to do next, where the error alone does not.
func errorHint(err error) string {
	switch {
	case errors.Is(err, auth.ErrNeedsLogin), errors.Is(err, auth.ErrSecretNotFound), errors.Is(err, auth.ErrSecretUnusable):
		var nl *auth.NeedsLoginError
		if errors.As(err, &nl) && nl.Session != "" {
			return "log in again: tokentop login " + nl.Session + " --email EMAIL"
		}
		return "log in again: tokentop login NAME --email EMAIL"
	case errors.Is(err, auth.ErrRateLimited):
		var ae *auth.APIError
		if !errors.As(err, &ae) || ae.Op != "login" {
			return "the server is rate limiting; keepalive and the TUI retry by themselves, or try again in a minute"
		}
		return "the server limits logins to 10 a minute; wait and try again"
	}
	return ""
}
