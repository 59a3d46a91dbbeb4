package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/timefmt"
)

func (a *app) newKeepaliveCmd() *cobra.Command {
	cmd := &cobra.Command{
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
		ValidArgsFunction: a.completeSessionNamesMulti,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			names := sessUnique(args)
			s, err := a.openStore()
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
			k, err := a.keeper()
			if err != nil {
				return err
			}
			a.showsEvents.Store(true) // every event gets its line below
			what, count := "all saved sessions", fmt.Sprintf("%d now, ", len(watched))
			if len(names) > 0 {
				what, count = strings.Join(names, ", "), ""
			}
			fmt.Fprintf(a.stderr, "%s keeping %s alive (%sstorage: %s); stop with Ctrl-C\n",
				sessStamp(time.Now()), what, count, s.Backend())
			if len(names) == 0 && len(watched) == 0 {
				// Not silence: say what it waits for.
				fmt.Fprintf(a.stderr, "%s no sessions are saved yet; sessions logged in or imported from now on are kept alive too\n",
					sessStamp(time.Now()))
			}
			// The keeper reports skew when it changes and skips sessions
			// that need a login; say up front what metadata already knows,
			// so neither is silent.
			now := time.Now()
			for _, se := range watched {
				if state, reason := sessEffectiveState(se, now); state == auth.StateNeedsLogin {
					msg := se.LastError
					if msg == "" {
						msg = sessReasonWords(se.Name, reason)
					}
					sessWriteEvent(a.stderr, auth.Event{Time: now, Session: se.Name, Kind: auth.EventNeedsLogin, Reason: reason,
						Message: msg + "; left alone until you log in again"}, now)
				}
				if se.ClockSkew >= sessSkewThreshold || se.ClockSkew <= -sessSkewThreshold {
					sessWriteEvent(a.stderr, auth.Event{Time: now, Session: se.Name, Kind: auth.EventSkew, Skew: se.ClockSkew,
						Message: "as measured at the last exchange"}, now)
				}
			}
			err = sessRunKeeper(ctx, k, names, a.stderr)
			fmt.Fprintf(a.stderr, "%s stopped\n", sessStamp(time.Now()))
			return err
		},
	}
	return cmd
}

// sessRunKeeper runs the keeper until ctx is done, printing its events, and
// returns nil when it stopped because it was asked to.
func sessRunKeeper(ctx context.Context, k *auth.Keeper, names []string, w io.Writer) error {
	events := k.Events()
	done := make(chan error, 1)
	go func() { done <- k.Run(ctx, names...) }()
	p := sessEventPrinter{w: w, retryAt: map[string]time.Time{}}
	for {
		select {
		case e, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			p.print(e, time.Now())
		case err := <-done:
			// Print what the last refreshes reported before stopping.
			for drained := false; !drained && events != nil; {
				select {
				case e, ok := <-events:
					if !ok {
						drained = true
						break
					}
					p.print(e, time.Now())
				default:
					drained = true
				}
			}
			if err != nil && !(ctx.Err() != nil && errors.Is(err, ctx.Err())) {
				return fmt.Errorf("keepalive: %w", err)
			}
			return nil
		}
	}
}

// sessEventPrinter prints keeper events, leaving out a "scheduled" event
// that only repeats the next attempt the "retrying" line just gave.
type sessEventPrinter struct {
	w       io.Writer
	retryAt map[string]time.Time // session -> next attempt last announced
}

func (p *sessEventPrinter) print(e auth.Event, now time.Time) {
	switch e.Kind {
	case auth.EventRetrying:
		p.retryAt[e.Session] = e.At
	case auth.EventScheduled:
		if at, ok := p.retryAt[e.Session]; ok && at.Equal(e.At) {
			delete(p.retryAt, e.Session)
			return
		}
		delete(p.retryAt, e.Session)
	}
	sessWriteEvent(p.w, e, now)
}

// sessSkewThreshold is when a clock difference is worth showing (the
// keeper's threshold too).
const sessSkewThreshold = 5 * time.Second

// sessUnique drops repeated names, keeping the first order.
func sessUnique(names []string) []string {
	seen := make(map[string]bool, len(names))
	var out []string
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// sessStamp is the time column of keepalive lines.
func sessStamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// sessWriteEvent prints one keeper event as one line.
func sessWriteEvent(w io.Writer, e auth.Event, now time.Time) {
	t := e.Time
	if t.IsZero() {
		t = now
	}
	fmt.Fprintf(w, "%s %s %s %s\n", sessStamp(t), e.Session, e.Kind, sessOneLine(sessEventDetail(e, now)))
}

// sessEventDetail is what an event says beyond its kind.
func sessEventDetail(e auth.Event, now time.Time) string {
	var parts []string
	add := func(format string, args ...any) { parts = append(parts, fmt.Sprintf(format, args...)) }
	at := func() string { return timefmt.Absolute(e.At) + " (" + timefmt.Relative(e.At, now) + ")" }
	switch e.Kind {
	case auth.EventScheduled:
		when := "at " + at()
		if !e.At.After(now) {
			// Overdue (the keeper was not running, or a retry is due):
			// it happens now, not at a time in the past.
			when = "now (due since " + timefmt.Absolute(e.At) + ")"
		}
		// "next refresh at ..." reads better than "at ...; next refresh".
		if e.Message != "" && !strings.ContainsAny(e.Message, ";:") {
			add("%s %s", e.Message, when)
			e.Message = ""
		} else {
			add("%s", when)
		}
	case auth.EventRefreshing:
		add("%s", sessFP(e.OldFP))
	case auth.EventRefreshed:
		add("%s -> %s", sessFP(e.OldFP), sessFP(e.NewFP))
	case auth.EventAdopted:
		add("%s -> %s", sessFP(e.OldFP), sessFP(e.NewFP))
		if e.Message == "" {
			add("saved by another process")
		}
	case auth.EventRetrying:
		if !e.At.IsZero() {
			add("next attempt at %s", at())
		}
	case auth.EventNeedsLogin:
		add("needs a new login (%s)", sessReasonLabel(e.Reason))
		if e.Message == "" {
			add("%s", sessReasonWords(e.Session, e.Reason))
		}
	case auth.EventReuseSuspected:
		// The alarm comes first; the keeper's message already shouts.
		msg := e.Message
		if msg == "" {
			msg = fmt.Sprintf("WARNING: possible refresh token reuse by someone else; revoke with `tokentop revoke %s` and log in again", e.Session)
		}
		add("%s", msg)
		if e.OldFP != "" && !strings.Contains(msg, e.OldFP) {
			add("refresh token %s", e.OldFP)
		}
		e.Message = ""
	case auth.EventSkew:
		add("server clock %s; scheduling by server time", sessSkewWords(e.Skew))
	default:
		if e.OldFP != "" || e.NewFP != "" {
			add("%s -> %s", sessFP(e.OldFP), sessFP(e.NewFP))
		}
	}
	if e.Reason != "" && e.Kind != auth.EventNeedsLogin && e.Kind != auth.EventReuseSuspected {
		add("reason %s", e.Reason)
	}
	// The keeper's messages often quote the server's error already.
	if e.Status != 0 && !strings.Contains(e.Message, fmt.Sprintf("HTTP %d", e.Status)) {
		add("HTTP %d", e.Status)
	}
	if e.Message != "" {
		add("%s", e.Message)
	}
	if e.RequestID != "" && !strings.Contains(e.Message, e.RequestID) {
		add("request %s", e.RequestID)
	}
	return strings.Join(parts, "; ")
}
