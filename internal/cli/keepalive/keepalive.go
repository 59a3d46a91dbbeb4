// Package keepalive is `tokentop keepalive`: refresh sessions in the
// background, without the TUI, until interrupted.
package keepalive

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
	"github.com/tokentop/tokentop/internal/cli/iostreams"
	"github.com/tokentop/tokentop/internal/present"
)

// Options are keepalive's inputs: the sessions to keep alive (none: all).
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory

	Names []string
}

// NewCmdKeepalive builds the command; runF, when not nil, runs instead of
// keeping sessions alive.
func NewCmdKeepalive(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f}
	return &cobra.Command{
		DisableFlagsInUseLine: true,
		Use:                   "keepalive [NAME...]",
		Short:                 "Keep sessions alive without the TUI, until interrupted",
		Long: `Refresh the named sessions (all saved sessions when none are named) at their
refresh windows until SIGINT or SIGTERM, printing one line per event on stderr:
the time (UTC), the session, what happened, fingerprints (never tokens), and
the reason or the next attempt. Transient failures (rate limits, server
errors, network down) are retried with backoff; sessions that need a new login
are reported and left alone. Other processes (tokentop token, the TUI) may use
the same sessions at the same time: refreshes are serialised by a lock per
session and a pair another process saved is adopted.

Stopping waits for a refresh in flight to finish, so no lock is left held and
no rotated pair is lost.`,
		Example: `  tokentop keepalive
  tokentop keepalive work staging 2>>keepalive.log`,
		ValidArgsFunction: cmdutil.CompleteSessionNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Names = unique(args)
			if runF != nil {
				return runF(opts)
			}
			return keepaliveRun(cmd, opts)
		},
	}
}

func keepaliveRun(cmd *cobra.Command, opts *Options) error {
	ctx := cmd.Context()
	names := opts.Names
	s, err := opts.Factory.Store()
	if err != nil {
		return err
	}
	var watched []auth.Session
	for _, n := range names {
		se, err := s.Get(ctx, n)
		if err != nil {
			return fmt.Errorf("keepalive %s: %w", n, err)
		}
		watched = append(watched, se)
	}
	if len(names) == 0 {
		if watched, err = s.List(ctx); err != nil {
			return fmt.Errorf("keepalive: %w", err)
		}
	}
	k, err := opts.Factory.Keeper()
	if err != nil {
		return err
	}
	opts.Factory.ShowEvents(true) // every event gets its line below
	what, count := "all saved sessions", fmt.Sprintf("%d now, ", len(watched))
	if len(names) > 0 {
		what, count = strings.Join(names, ", "), ""
	}
	fmt.Fprintf(opts.IO.ErrOut, "%s keeping %s alive (%sstorage: %s); stop with Ctrl-C\n",
		present.Stamp(opts.Factory.Now()), what, count, s.Backend())
	if len(names) == 0 && len(watched) == 0 {
		// Not silence: say what it waits for.
		fmt.Fprintf(opts.IO.ErrOut, "%s no sessions are saved yet; sessions logged in or imported from now on are kept alive too\n",
			present.Stamp(opts.Factory.Now()))
	}
	// The keeper reports skew when it changes and skips sessions that
	// need a login or are paused; say up front what metadata already
	// knows, so none of these is silent.
	now := opts.Factory.Now()
	for _, se := range watched {
		st := present.Describe(se, now)
		switch {
		case st.State == auth.StateNeedsLogin:
			msg := se.LastError
			if msg == "" {
				msg = present.ReasonWords(se.Name, st.Reason)
			}
			present.WriteEvent(opts.IO.ErrOut, auth.Event{Time: now, Session: se.Name, Kind: auth.EventNeedsLogin, Reason: st.Reason,
				Message: msg + "; left alone until you log in again"}, now)
		case st.Paused:
			present.WriteEvent(opts.IO.ErrOut, auth.Event{Time: now, Session: se.Name, Kind: auth.EventPaused,
				Message: "auto-refresh is off (watch-only); left alone until you run: tokentop resume " + se.Name}, now)
		}
		if st.SkewShown {
			present.WriteEvent(opts.IO.ErrOut, auth.Event{Time: now, Session: se.Name, Kind: auth.EventSkew, Skew: se.ClockSkew,
				Message: "as measured at the last exchange"}, now)
		}
	}
	// Only a store on a cluster can go out of reach; the others have no
	// health to follow (a nil channel).
	health, _ := s.Health(ctx)
	err = runKeeper(ctx, k, names, health, opts.IO.ErrOut, opts.Factory.Now)
	fmt.Fprintf(opts.IO.ErrOut, "%s stopped\n", present.Stamp(opts.Factory.Now()))
	return err
}
