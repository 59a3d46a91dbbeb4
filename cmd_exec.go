package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokentop/tokentop/auth"
)

// Environment variables exec sets for the child.
const (
	envAccessToken = "CONVIRZA_ACCESS_TOKEN"
	envAPIURL      = "CONVIRZA_API_URL"
)

// Exit codes of exec when the child cannot run, as in POSIX shells and env(1).
const (
	exitCannotExec = 126 // found but not executable
	exitNotFound   = 127 // not found
)

func (a *app) newExecCmd() *cobra.Command {
	var minValid time.Duration
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

If CMD cannot be started, exec exits 127 (not found) or 126 (not executable), like
a shell; exit codes 1-5 mean what they mean for every tokentop command.`,
		Example: `  tokentop exec prod --min-valid 30m -- ./nightly-report.py
  tokentop exec prod -- sh -c 'printf "Authorization: Bearer %s\n" "$CONVIRZA_ACCESS_TOKEN" |
      curl -sS -H @- "$CONVIRZA_API_URL/auth/profile"'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if cmd.ArgsLenAtDash() != 1 || len(args) < 2 {
				return usageErr(fmt.Errorf("%s needs a session NAME, then --, then the command: tokentop exec NAME -- CMD [ARG...]", cmd.CommandPath()))
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
			return a.completeSessionNames(cmd, args, toComplete)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if minValid < 0 {
				return usageErr(fmt.Errorf("--min-valid %s: must not be negative", minValid))
			}
			return a.runExec(cmd, args[0], minValid, args[1], args[2:])
		},
	}
	cmd.Flags().DurationVar(&minValid, "min-valid", time.Minute,
		"the token must stay valid at least this long (e.g. 30s, 10m, 2h); the default shrinks for tokens that live less than a minute")
	return cmd
}

func (a *app) runExec(cmd *cobra.Command, name string, minValid time.Duration, prog string, progArgs []string) error {
	// Find the command before touching the session: a typo must not cost a
	// refresh.
	path, err := exec.LookPath(prog)
	if err != nil {
		code := exitCannotExec
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			code = exitNotFound
		}
		return &exitCodeError{code: code, err: fmt.Errorf("exec %s: cannot run %q: %w", name, prog, err)}
	}
	k, err := a.keeper()
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
		return sessExplain(name, err)
	}
	// Let go of storage (keyring connection, files) for the child's lifetime.
	if a.store != nil {
		_ = a.store.Close()
		a.store = nil
	}

	child := exec.Command(path, progArgs...)
	child.Args[0] = prog
	child.Env = append(envWithout(os.Environ(), envAccessToken, envAPIURL),
		envAccessToken+"="+sec.AccessToken,
		envAPIURL+"="+se.Endpoints.APIURL,
	)
	child.Stdin, child.Stdout, child.Stderr = a.stdin, a.stdout, a.stderr

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	if err := child.Start(); err != nil {
		return &exitCodeError{code: exitCannotExec, err: fmt.Errorf("exec %s: start %q: %w", name, prog, err)}
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
	return &exitCodeError{code: code} // the child has said what went wrong
}

// childExitCode is the child's exit code, 128+N when signal N killed it
// (as shells report it), or -1 when unknown.
func childExitCode(ps *os.ProcessState) int {
	if ps == nil {
		return -1
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// envWithout drops the given variables from env, so the child never sees a
// stale token from the parent's environment.
func envWithout(env []string, names ...string) []string {
	out := make([]string, 0, len(env)+len(names))
	for _, kv := range env {
		key, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, n := range names {
			if key == n {
				drop = true
				break
			}
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}
