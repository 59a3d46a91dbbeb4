package keepalive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/present"
	"github.com/tokentop/tokentop/internal/safetext"
	"github.com/tokentop/tokentop/internal/timefmt"
)

// runKeeper runs the keeper until ctx is done, printing its events, and
// returns nil when it stopped because it was asked to.
// health (nil: none) reports the store going out of reach and back.
func runKeeper(ctx context.Context, k *auth.Keeper, names []string, health <-chan error, w io.Writer, now func() time.Time) error {
	events := k.Events()
	hp := healthPrinter{w: w}
	done := make(chan error, 1)
	go func() { done <- k.Run(ctx, names...) }()
	p := eventPrinter{w: w, retryAt: map[string]time.Time{}}
	for {
		select {
		case e, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			p.print(e, now())
		case err, ok := <-health:
			if !ok {
				health = nil
				continue
			}
			hp.print(err, now())
		case err := <-done:
			// Print what the last refreshes reported before stopping.
			for drained := false; !drained && events != nil; {
				select {
				case e, ok := <-events:
					if !ok {
						drained = true
						break
					}
					p.print(e, now())
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

// eventPrinter prints keeper events, leaving out a "scheduled" event
// that only repeats the next attempt the "retrying" line just gave.
type eventPrinter struct {
	w       io.Writer
	retryAt map[string]time.Time // session -> next attempt last announced
}

func (p *eventPrinter) print(e auth.Event, now time.Time) {
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
	present.WriteEvent(p.w, e, now)
}

// healthPrinter prints one line when the store goes out of reach and one
// when it is back: the keeper keeps serving the tokens it holds meanwhile
// (a refresh needs the store, and is retried), so the outage is news, not
// a failure of its own.
type healthPrinter struct {
	w     io.Writer
	since time.Time // when the store went out of reach; zero while in reach
}

func (p *healthPrinter) print(err error, now time.Time) {
	switch {
	case err != nil && p.since.IsZero():
		p.since = now
		fmt.Fprintf(p.w, "%s disconnected from the store, retrying; the tokens already held are still served: %s\n",
			present.Stamp(now), safetext.Escape(err.Error()))
	case err == nil && !p.since.IsZero():
		fmt.Fprintf(p.w, "%s reconnected to the store after %s\n", present.Stamp(now), timefmt.Countdown(now.Sub(p.since)))
		p.since = time.Time{}
	}
}

// unique drops repeated names, keeping the first order.
func unique(names []string) []string {
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
