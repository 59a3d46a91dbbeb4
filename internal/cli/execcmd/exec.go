// Package execcmd is `tokentop exec`: run a command with a valid access token
// in its environment.
package execcmd

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
	"github.com/tokentop/tokentop/internal/cli/iostreams"
	"github.com/tokentop/tokentop/internal/present"
)

// Options are exec's inputs: the session, and the command to run.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory

	Name     string
	MinValid time.Duration
	Command  string
	Args     []string
}

// NewCmdExec builds the command; runF, when not nil, runs instead of the
// child.
func NewCmdExec(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f}
	names := cmdutil.CompleteSessionName(f)
	cmd := &cobra.Command{
		DisableFlagsInUseLine: true,
		Use:                   "exec NAME [--min-valid D] -- CMD [ARG...]",
		Short:                 "Run a command with a valid access token in its environment",
		Long: `exec gets an access token valid for at least --min-valid (refreshing first when
needed), then runs CMD with CONVIRZA_ACCESS_TOKEN and CONVIRZA_API_URL set in its
environment (never on its command line, where ps would show it). CMD shares
tokentop's stdin, stdout and stderr; SIGTERM, SIGHUP and SIGINT are forwarded to
it, and exec exits with its exit code (128+N when a signal N killed it), printing
nothing of its own.

A paused session (imports start paused; see tokentop pause) is never refreshed:
exec runs CMD while its access token has --min-valid left, else exits 1 and says
to run tokentop resume NAME.

If CMD cannot be started, exec exits 127 (not found) or 126 (not executable), like
a shell; exit codes 1-5 mean what they mean for every tokentop command.`,
		Example: `  tokentop exec prod --min-valid 30m -- ./nightly-report.py
  tokentop exec prod -- sh -c 'printf "Authorization: Bearer %s\n" "$CONVIRZA_ACCESS_TOKEN" |
      curl -sS -H @- "$CONVIRZA_API_URL/auth/profile"'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if cmd.ArgsLenAtDash() != 1 || len(args) < 2 {
				return cmdutil.UsageErrorf("%s needs a session NAME, then --, then the command: tokentop exec NAME -- CMD [ARG...]", cmd.CommandPath())
			}
			return nil
		},
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				// After NAME come the command and its arguments: let the
				// shell complete those (ArgsLenAtDash is unreliable while
				// completing: cobra parses the line with an extra "--").
				return nil, cobra.ShellCompDirectiveDefault
			}
			return names(cmd, args, toComplete)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.MinValid < 0 {
				return cmdutil.UsageErrorf("--min-valid %s: must not be negative", opts.MinValid)
			}
			opts.Name, opts.Command, opts.Args = args[0], args[1], args[2:]
			if runF != nil {
				return runF(opts)
			}
			return execRun(cmd, opts)
		},
	}
	cmd.Flags().DurationVar(&opts.MinValid, "min-valid", time.Minute,
		"the token must stay valid at least this long (e.g. 30s, 10m, 2h); the default shrinks for tokens that live less than a minute")
	return cmd
}

func execRun(cmd *cobra.Command, opts *Options) error {
	name, minValid, prog, progArgs := opts.Name, opts.MinValid, opts.Command, opts.Args
	// Find the command before touching the session: a typo must not cost a
	// refresh.
	path, err := exec.LookPath(prog)
	if err != nil {
		code := ExitCannotExec
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			code = ExitNotFound
		}
		return &cmdutil.ExitError{Code: code, Err: fmt.Errorf("exec %s: cannot run %q: %w", name, prog, err)}
	}
	k, err := opts.Factory.Keeper()
	if err != nil {
		return err
	}
	sec, se, err := k.Token(cmd.Context(), name, minValid)
	if errors.Is(err, auth.ErrMinValid) && !cmd.Flags().Changed("min-valid") {
		// The default minute is longer than this server's tokens live (an
		// emulator with seconds-long lifetimes): settle for a token outside
		// its refresh window instead of failing on a wish nobody made. The
		// keeper either refused up front or has just refreshed, so this
		// second call hands out a fresh token without another rotation.
		sec, se, err = k.Token(cmd.Context(), name, 0)
	}
	if err != nil {
		// The same words as `tokentop token NAME` for the same trouble.
		return present.Explain(name, err)
	}
	// Let go of storage (keyring connection, files) for the child's lifetime.
	opts.Factory.CloseStore()

	child := exec.Command(path, progArgs...)
	child.Args[0] = prog
	child.Env = append(envWithout(opts.Factory.Environ(), envAccessToken, envAPIURL),
		envAccessToken+"="+sec.AccessToken,
		envAPIURL+"="+se.Endpoints.APIURL,
	)
	child.Stdin, child.Stdout, child.Stderr = opts.IO.In, opts.IO.Out, opts.IO.ErrOut

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	// From here the signals are the child's to act on: no refresh is in
	// flight (the token is in hand), and tokentop waits for the child.
	opts.Factory.HandOffSignals()
	if err := child.Start(); err != nil {
		return &cmdutil.ExitError{Code: ExitCannotExec, Err: fmt.Errorf("exec %s: start %q: %w", name, prog, err)}
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case sig := <-sigs:
				if sig == os.Interrupt && terminalDeliveredInterrupt() {
					// Ctrl-C already reached the child, which shares our
					// process group; a second SIGINT would look like a
					// second Ctrl-C to it.
					continue
				}
				_ = child.Process.Signal(sig)
			case <-done:
				return
			}
		}
	}()
	waitErr := child.Wait()
	close(done)

	code := childExitCode(child.ProcessState)
	if code == 0 {
		return nil
	}
	if code < 0 {
		return fmt.Errorf("exec %s: wait for %q: %w", name, prog, waitErr)
	}
	return &cmdutil.ExitError{Code: code} // the child has said what went wrong
}
