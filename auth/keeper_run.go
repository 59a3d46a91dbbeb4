package auth

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrRunning is returned by Run when the keeper is already running.
var ErrRunning = errors.New("keeper is already running")

// Local backoff for failures that could not be recorded in metadata (store
// unavailable, lock timeout), so such a session does not spin.
const (
	localBackoffMin = 5 * time.Second
	localBackoffMax = 5 * time.Minute
)

// watchedPollInterval is how often a keeper whose store watches still
// compares stamps, as a safety net.
const watchedPollInterval = time.Minute

// Run refreshes sessions (all, or only names) at their refresh window until
// ctx is done, then returns after in-flight refreshes finish.
//
// It keeps one timer, for the earlier of the next due session and the next
// stamp poll, and a min-heap of sessions by due time, so an idle keeper costs
// one Store.Stamp call per PollInterval whatever the number of sessions.
func (k *Keeper) Run(ctx context.Context, names ...string) error {
	k.mu.Lock()
	if k.running {
		k.mu.Unlock()
		return ErrRunning
	}
	k.running = true
	k.mu.Unlock()
	defer func() {
		k.mu.Lock()
		k.running = false
		k.mu.Unlock()
	}()

	sc := &scheduler{k: k, entries: map[string]*schedEntry{}}
	if len(names) > 0 {
		sc.only = make(map[string]bool, len(names))
		for _, n := range names {
			sc.only[n] = true
		}
	}
	// A nudge left from before Run (a login, say) is covered by the first load.
	select {
	case <-k.nudge:
	default:
	}
	// A store that can watch says which session changed, so a change costs
	// one record read, not a listing of every session (which at thousands
	// of sessions, each refreshing, would make a refresh cycle quadratic).
	// Without a watch, Stamp is polled every PollInterval. The watch starts
	// before the first listing, so no change falls between the two.
	var changes <-chan string
	if w, ok := k.cfg.Store.(Watcher); ok {
		if ch, err := w.Watch(ctx); err == nil {
			changes = ch
		}
	}
	if err := sc.reload(ctx, true); err != nil {
		return fmt.Errorf("keeper: %w", err)
	}

	clock := k.cfg.Clock
	timer := clock.NewTimer(k.cfg.PollInterval)
	defer timer.Stop()
	nextPoll := clock.Now().Add(k.cfg.PollInterval)
	if changes != nil {
		nextPoll = clock.Now().Add(watchedPollInterval)
	}
	done := make(chan doneMsg, k.cfg.MaxInFlight)
	var wg sync.WaitGroup
	// In-flight refreshes finish even when ctx ends (see refresh's detach).
	defer wg.Wait()

	for {
		now := clock.Now()
		for sc.inflight < k.cfg.MaxInFlight && sc.heap.Len() > 0 && !sc.heap[0].due.After(now) {
			e := heap.Pop(&sc.heap).(*schedEntry)
			e.inflight = true
			sc.inflight++
			wg.Add(1)
			go func(e schedEntry) {
				defer wg.Done()
				done <- doneMsg{name: e.name, err: k.autoRefresh(ctx, e)}
			}(*e)
		}
		wake := nextPoll
		if sc.inflight < k.cfg.MaxInFlight && sc.heap.Len() > 0 && sc.heap[0].due.Before(wake) {
			wake = sc.heap[0].due
		}
		timer.Reset(max(wake.Sub(now), 0))
		// The wait was computed from now: if the clock jumped meanwhile (a
		// fake clock in tests, a resumed laptop), compute it again.
		if clock.Now().Sub(now) > time.Millisecond {
			continue
		}
		if k.idle != nil {
			k.idle(now, sc.inflight)
		}

		select {
		case <-ctx.Done():
			return nil
		case <-timer.C():
		case d := <-done:
			sc.inflight--
			sc.finished(ctx, d)
		case <-k.nudge:
			if changes == nil {
				_ = sc.reload(ctx, true)
			}
		case name, ok := <-changes:
			switch {
			case !ok:
				changes = nil // the watch ended: poll from now on
			case name == "":
				_ = sc.reload(ctx, true)
			default:
				sc.reloadOne(ctx, name)
			}
		}
		if now := clock.Now(); !now.Before(nextPoll) {
			if changes == nil {
				_ = sc.reload(ctx, false)
				nextPoll = now.Add(k.cfg.PollInterval)
			} else {
				// A safety net for a change the watch missed.
				_ = sc.reload(ctx, false)
				nextPoll = now.Add(watchedPollInterval)
			}
		}
	}
}

// autoRefresh is one scheduled refresh. Errors are already recorded in
// metadata and events, except those the store itself caused.
func (k *Keeper) autoRefresh(ctx context.Context, e schedEntry) error {
	before := Session{Name: e.name, RefreshFP: e.refreshFP, AccessFP: e.accessFP}
	_, _, err := k.refresh(ctx, before, autoSatisfied)
	var nl *NeedsLoginError
	var re *RetryError
	if err != nil && !errors.As(err, &nl) && !errors.As(err, &re) && !errors.Is(err, ErrSessionNotFound) && ctx.Err() == nil {
		k.emit(Event{Session: e.name, Kind: EventFailed, Message: err.Error()})
	}
	return err
}

// autoSatisfied says whether a scheduled refresh has nothing to do once the
// lock is held: the session was paused, is waiting for a later retry, or was
// refreshed by someone else.
func autoSatisfied(s Session, now time.Time) bool {
	switch {
	case s.Paused:
		return true
	case s.State == StateRetrying && !s.NextAttempt.IsZero():
		return now.Before(s.NextAttempt)
	case s.refreshMarked():
		return false
	}
	// Due is RefreshDue, which includes the session's spread, not just
	// the window: otherwise an early (spread) refresh would find nothing
	// to do.
	return s.AccessLeft(now) > 0 && now.Before(s.RefreshDue())
}

// dueAt is when the scheduler should look at s next (local clock), and
// whether it should at all.
func dueAt(s Session) (time.Time, bool) {
	switch {
	case s.Paused || s.State == StateNeedsLogin:
		return time.Time{}, false
	case s.State == StateRetrying && !s.NextAttempt.IsZero():
		return s.NextAttempt, true
	case s.refreshMarked():
		// Interrupted, or another process is at it right now: taking the
		// lock settles which.
		return s.RefreshingSince, true
	}
	return s.RefreshDue(), true
}

type doneMsg struct {
	name string
	err  error
}

// schedEntry is one scheduled session.
type schedEntry struct {
	name                string
	refreshFP, accessFP string // what the schedule was decided on
	due                 time.Time
	index               int // in the heap; -1 when not queued
	inflight            bool
	// localBackoff grows while refreshes fail without changing metadata.
	localBackoff time.Duration
}

// scheduler is Run's state; only Run's goroutine touches it.
type scheduler struct {
	k        *Keeper
	only     map[string]bool
	entries  map[string]*schedEntry
	heap     entryHeap
	stamp    string
	inflight int
	lastErr  string
}

// reload re-reads all metadata when the store's stamp changed (or force).
func (sc *scheduler) reload(ctx context.Context, force bool) error {
	// The stamp is read before the list, so a write during the list shows
	// as a new stamp at the next poll.
	stamp, err := sc.k.cfg.Store.Stamp(ctx)
	if err == nil && !force && stamp == sc.stamp {
		return nil
	}
	var list []Session
	if err == nil {
		list, err = sc.k.cfg.Store.List(ctx)
	}
	if err != nil {
		if ctx.Err() == nil && err.Error() != sc.lastErr {
			sc.lastErr = err.Error()
			sc.k.emit(Event{Kind: EventFailed, Message: "reading the session list: " + err.Error()})
		}
		return err
	}
	sc.lastErr = ""
	sc.stamp = stamp
	seen := make(map[string]struct{}, len(list))
	for i := range list {
		s := &list[i]
		if sc.only != nil && !sc.only[s.Name] {
			continue
		}
		seen[s.Name] = struct{}{}
		sc.update(s)
	}
	for name, e := range sc.entries {
		if _, ok := seen[name]; !ok && !e.inflight {
			sc.drop(e)
		}
	}
	return nil
}

// reloadOne re-reads one session that the store's watch said changed.
func (sc *scheduler) reloadOne(ctx context.Context, name string) {
	if sc.only != nil && !sc.only[name] {
		return
	}
	s, err := sc.k.cfg.Store.Get(ctx, name)
	if errors.Is(err, ErrSessionNotFound) {
		if e := sc.entries[name]; e != nil && !e.inflight {
			sc.drop(e)
		}
		return
	}
	if err != nil {
		return // a damaged record is reported by whoever reads it next
	}
	sc.update(&s)
}

// finished reschedules a session after its refresh.
func (sc *scheduler) finished(ctx context.Context, d doneMsg) {
	e := sc.entries[d.name]
	if e == nil {
		return
	}
	e.inflight = false
	s, err := sc.k.cfg.Store.Get(ctx, d.name)
	if err != nil {
		if errors.Is(err, ErrSessionNotFound) {
			sc.drop(e)
			return
		}
		sc.retryLocally(e)
		return
	}
	prevDue := e.due
	sc.update(&s)
	if d.err == nil || errors.As(d.err, new(*NeedsLoginError)) || errors.As(d.err, new(*RetryError)) {
		e.localBackoff = 0
		return
	}
	// The failure left metadata as it was, so the due time has not moved:
	// wait before trying again instead of spinning.
	if e.index >= 0 && !e.due.After(sc.k.cfg.Clock.Now()) && e.due.Equal(prevDue) {
		sc.retryLocally(e)
	}
}

func (sc *scheduler) retryLocally(e *schedEntry) {
	e.localBackoff = min(max(e.localBackoff*2, localBackoffMin), localBackoffMax)
	sc.schedule(e, sc.k.cfg.Clock.Now().Add(e.localBackoff), "retry after a local failure")
}

// update (re)schedules one session from its metadata.
func (sc *scheduler) update(s *Session) {
	e := sc.entries[s.Name]
	if e != nil && e.inflight {
		return // finished() looks again
	}
	due, ok := dueAt(*s)
	if !ok {
		if e != nil {
			sc.drop(e)
		}
		return
	}
	if e == nil {
		e = &schedEntry{name: s.Name, index: -1}
		sc.entries[s.Name] = e
	}
	e.refreshFP, e.accessFP = s.RefreshFP, s.AccessFP
	what := "next refresh"
	if s.State == StateRetrying {
		what = "next retry"
	}
	sc.schedule(e, due, what)
}

// schedule queues e at due, announcing it when that changed.
func (sc *scheduler) schedule(e *schedEntry, due time.Time, what string) {
	if e.index >= 0 {
		if e.due.Equal(due) {
			return
		}
		e.due = due
		heap.Fix(&sc.heap, e.index)
	} else {
		e.due = due
		heap.Push(&sc.heap, e)
	}
	sc.k.emit(Event{Session: e.name, Kind: EventScheduled, At: due, Message: what})
}

func (sc *scheduler) drop(e *schedEntry) {
	if e.index >= 0 {
		heap.Remove(&sc.heap, e.index)
	}
	delete(sc.entries, e.name)
}

// entryHeap is a min-heap of entries by due time.
type entryHeap []*schedEntry

func (h entryHeap) Len() int           { return len(h) }
func (h entryHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h entryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h *entryHeap) Push(x any) {
	e := x.(*schedEntry)
	e.index = len(*h)
	*h = append(*h, e)
}

func (h *entryHeap) Pop() any {
	old := *h
	n := len(old)
	e := old[n-1]
	old[n-1] = nil
	e.index = -1
	*h = old[:n-1]
	return e
}
