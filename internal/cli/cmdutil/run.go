package cmdutil

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/safetext"
)

// Run executes one command line on root and returns the process exit code,
// printing the error (and what to do about it) on stderr.
func Run(ctx context.Context, f *Factory, root *cobra.Command, args []string) int {
	ios := f.IOStreams
	root.SetArgs(args)
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	err := root.ExecuteContext(ctx)
	f.CloseStore()
	if err == nil {
		return ExitOK
	}
	code := ExitCode(err)
	if silent(err) {
		return code
	}
	// Errors quote what came from outside (server messages, file contents,
	// names from a damaged session record); whatever a layer below missed,
	// nothing reaches the terminal as a control sequence. Line breaks stay:
	// joined errors are one per line.
	fmt.Fprintf(ios.ErrOut, "tokentop: %s\n", safetext.Lines(err.Error()))
	if hint := ErrorHint(err); hint != "" {
		fmt.Fprintf(ios.ErrOut, "  %s\n", safetext.Lines(hint))
	}
	return code
}

// RunWithSignals runs one command line as the process: SIGINT, SIGTERM and
// SIGHUP (a closed terminal or SSH connection) cancel the command's context, but a refresh whose request may already
// have reached the server is finished and saved first (see OnSignals).
func RunWithSignals(f *Factory, root *cobra.Command, args []string) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	go f.OnSignals(sigs, cancel, os.Exit)
	return Run(ctx, f, root, args)
}

// OnSignals cancels the command at the first signal. If a refresh may be in
// flight at the server, the keeper finishes and saves it regardless of the
// cancel (its exchange ignores cancellation), so this says what is going on;
// a second signal forces the exit, after saying what that loses. Once a
// command has handed the signals over (HandOffSignals), they are its own.
func (f *Factory) OnSignals(sigs <-chan os.Signal, cancel context.CancelFunc, exit func(int)) {
	stderr := f.IOStreams.ErrOut
	for n := 0; ; n++ {
		sig, ok := <-sigs
		if !ok {
			return
		}
		if f.signalsHandedOff.Load() {
			n--
			continue
		}
		f.signalsSeen.Add(1)
		cancel()
		names := f.exchanging()
		if n == 0 {
			if len(names) > 0 {
				fmt.Fprintf(stderr, "\ntokentop: %s (press Ctrl-C again to do so)\n", auth.ExchangeWarning(names))
			}
			continue
		}
		if len(names) > 0 {
			fmt.Fprintf(stderr, "\ntokentop: abandoned the refresh of %s: any pair the server issued is lost; log in again if the session fails\n",
				strings.Join(names, ", "))
		}
		code := ExitInterrupted
		if s, ok := sig.(syscall.Signal); ok {
			code = 128 + int(s)
		}
		exit(code)
		return
	}
}

// HandOffSignals leaves the process's signals to the command from now on:
// exec, once its child runs, passes them to the child and exits with the
// child's status; exiting at a second Ctrl-C would orphan the child.
func (f *Factory) HandOffSignals() { f.signalsHandedOff.Store(true) }

// SignalsSeen is how many stop signals the process has acted on, so that a
// command says "press Ctrl-C again" only when one has come.
func (f *Factory) SignalsSeen() int { return int(f.signalsSeen.Load()) }
