// Package pause is `tokentop pause` and `tokentop resume`: switch a
// session's automatic refreshes off (watch-only) or on, as p does in the TUI.
package pause

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
	"github.com/tokentop/tokentop/internal/cli/iostreams"
	"github.com/tokentop/tokentop/internal/present"
)

// Options are pause's and resume's inputs: the session Name and whether
// it is to be Paused (pause) or resumed.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory

	Name   string
	Paused bool
}

// NewCmdPause builds `pause`; runF, when not nil, runs instead.
func NewCmdPause(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	return newCmd(f, runF, true, &cobra.Command{
		Use:   "pause NAME",
		Short: "Stop refreshing a session automatically (watch-only), as p does in the TUI",
		Long: `pause switches a session's automatic refreshes off: nothing refreshes it any more,
not the TUI, keepalive, token or exec, until it is resumed. token and exec still
hand out its access token while it is valid, then fail with exit 1 and say so.
An explicit "tokentop refresh NAME" (or r in the TUI) still rotates it.

Imported sessions start paused: an imported pair is usually someone else's, and a
refresh here would rotate it and log them out.`,
		Example: "  tokentop pause customer-4453",
	})
}

// NewCmdResume builds `resume`; runF, when not nil, runs instead.
func NewCmdResume(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	return newCmd(f, runF, false, &cobra.Command{
		Use:   "resume NAME",
		Short: "Refresh a paused session automatically again, as p does in the TUI",
		Long: `resume switches a paused session's automatic refreshes back on: a running TUI or
keepalive refreshes it when its refresh window opens (at once if that has passed),
and token and exec refresh it when needed.

A refresh rotates the pair: whoever else holds it (the customer whose pair you
imported) is logged out. Resume only a session that is yours to keep alive.`,
		Example: "  tokentop resume work",
	})
}

func newCmd(f *cmdutil.Factory, runF func(*Options) error, paused bool, cmd *cobra.Command) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f, Paused: paused}
	cmd.DisableFlagsInUseLine = true
	cmd.Args = cmdutil.ExactArgs(1, "one session NAME")
	cmd.ValidArgsFunction = cmdutil.CompleteSessionName(f)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		opts.Name = args[0]
		if runF != nil {
			return runF(opts)
		}
		return run(cmd, opts)
	}
	return cmd
}

func run(cmd *cobra.Command, opts *Options) error {
	ctx := cmd.Context()
	s, err := opts.Factory.Store()
	if err != nil {
		return err
	}
	before, err := s.Get(ctx, opts.Name)
	if err != nil {
		return err
	}
	k, err := opts.Factory.Keeper()
	if err != nil {
		return err
	}
	if err := k.SetPaused(ctx, opts.Name, opts.Paused); err != nil {
		return err
	}
	se, err := s.Get(ctx, opts.Name)
	if err != nil {
		return err
	}
	st := present.Describe(se, opts.Factory.Now())
	w := opts.IO.ErrOut
	switch {
	case before.Paused == opts.Paused && opts.Paused:
		fmt.Fprintf(w, "Session %s was already paused: %s.\n", opts.Name, st.Label())
	case before.Paused == opts.Paused:
		fmt.Fprintf(w, "Session %s was not paused: %s.\n", opts.Name, st.Label())
	case opts.Paused:
		fmt.Fprintf(w, "Paused %s (watch-only): nothing refreshes it until `tokentop resume %s`.\n", opts.Name, opts.Name)
	default:
		fmt.Fprintf(w, "Resumed %s: a running tokentop or keepalive refreshes it (auto-refresh %s); token and exec refresh it when needed.\n",
			opts.Name, st.AutoRefreshText())
	}
	if st.State == auth.StateNeedsLogin {
		fmt.Fprintf(w, "It needs a new login all the same: %s.\n", present.ReasonWords(opts.Name, st.Reason))
	}
	return nil
}
