// Package authtest holds test helpers for code built on auth: a fake clock
// whose timers fire only when the test advances it, and an audit log that
// remembers what it was given.
package authtest

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/tokentop/tokentop/auth"
)

// FakeClock is an auth.Clock that moves only when told to. Timers fire,
// in deadline order, during Advance or Set. It is safe for concurrent use.
type FakeClock struct {
	mu      sync.Mutex
	changed *sync.Cond // broadcast when timers are armed or fired
	now     time.Time
	timers  []*fakeTimer // armed timers
	resets  int          // NewTimer and Reset calls so far
}

var _ auth.Clock = (*FakeClock)(nil)

// NewFakeClock returns a clock reading start.
func NewFakeClock(start time.Time) *FakeClock {
	c := &FakeClock{now: start}
	c.changed = sync.NewCond(&c.mu)
	return c
}

// Now returns the fake time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a timer that fires once the clock reaches now+d.
func (c *FakeClock) NewTimer(d time.Duration) auth.Timer {
	t := &fakeTimer{c: c, ch: make(chan time.Time, 1)}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.armLocked(t, d)
	return t
}

// Advance moves the clock forward by d, firing due timers in order.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	target := c.now.Add(d)
	c.mu.Unlock()
	c.Set(target)
}

// Set moves the clock to t (never backwards), firing due timers in order;
// each timer sees the clock at its own deadline when it fires.
func (c *FakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		i := c.nextLocked()
		if i < 0 || c.timers[i].deadline.After(t) {
			break
		}
		ft := c.timers[i]
		if ft.deadline.After(c.now) {
			c.now = ft.deadline
		}
		c.fireLocked(i)
	}
	if t.After(c.now) {
		c.now = t
	}
	c.changed.Broadcast()
}

// Timers is the number of armed timers.
func (c *FakeClock) Timers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// Resets counts NewTimer and Reset calls so far: a loop that re-arms its
// timer each time round shows progress through this number.
func (c *FakeClock) Resets() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resets
}

// BlockUntil waits until at least n timers are armed.
func (c *FakeClock) BlockUntil(n int) {
	_ = c.BlockUntilContext(context.Background(), n)
}

// BlockUntilContext waits until at least n timers are armed or ctx is done.
func (c *FakeClock) BlockUntilContext(ctx context.Context, n int) error {
	return c.waitFor(ctx, func() bool { return len(c.timers) >= n })
}

// WaitResets waits until Resets() >= n or ctx is done.
func (c *FakeClock) WaitResets(ctx context.Context, n int) error {
	return c.waitFor(ctx, func() bool { return c.resets >= n })
}

// NextDeadline is the earliest armed timer's deadline (false when none).
func (c *FakeClock) NextDeadline() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := c.nextLocked()
	if i < 0 {
		return time.Time{}, false
	}
	return c.timers[i].deadline, true
}

func (c *FakeClock) waitFor(ctx context.Context, cond func() bool) error {
	stop := context.AfterFunc(ctx, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.changed.Broadcast()
	})
	defer stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for !cond() {
		if err := ctx.Err(); err != nil {
			return err
		}
		c.changed.Wait()
	}
	return nil
}

// nextLocked is the index of the earliest armed timer, -1 when none.
func (c *FakeClock) nextLocked() int {
	best := -1
	for i, t := range c.timers {
		if best < 0 || t.deadline.Before(c.timers[best].deadline) {
			best = i
		}
	}
	return best
}

func (c *FakeClock) fireLocked(i int) {
	t := c.timers[i]
	c.timers = slices.Delete(c.timers, i, i+1)
	t.armed = false
	select {
	case t.ch <- c.now:
	default:
	}
}

// armLocked (re)arms t for now+d; like Go 1.23 timers, a value not yet
// received from an earlier firing is discarded.
func (c *FakeClock) armLocked(t *fakeTimer, d time.Duration) {
	c.disarmLocked(t)
	c.resets++
	t.deadline = c.now.Add(d)
	t.armed = true
	c.timers = append(c.timers, t)
	if d <= 0 {
		c.fireLocked(len(c.timers) - 1)
	}
	c.changed.Broadcast()
}

// disarmLocked stops t and drains a pending value; it reports whether t was armed.
func (c *FakeClock) disarmLocked(t *fakeTimer) bool {
	select {
	case <-t.ch:
	default:
	}
	if !t.armed {
		return false
	}
	t.armed = false
	if i := slices.Index(c.timers, t); i >= 0 {
		c.timers = slices.Delete(c.timers, i, i+1)
	}
	return true
}

type fakeTimer struct {
	c        *FakeClock
	ch       chan time.Time
	deadline time.Time
	armed    bool
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.c.disarmLocked(t)
	t.c.changed.Broadcast()
	return was
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.armed
	t.c.armLocked(t, d)
	return was
}

// AuditRecorder is an auth.AuditLog that keeps events in memory.
type AuditRecorder struct {
	mu     sync.Mutex
	events []auth.Event
}

var _ auth.AuditLog = (*AuditRecorder)(nil)

// Record appends e.
func (r *AuditRecorder) Record(e auth.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

// Events returns a copy of everything recorded.
func (r *AuditRecorder) Events() []auth.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// Kinds returns the kinds recorded for session (all sessions when "").
func (r *AuditRecorder) Kinds(session string) []auth.EventKind {
	var out []auth.EventKind
	for _, e := range r.Events() {
		if session == "" || e.Session == session {
			out = append(out, e.Kind)
		}
	}
	return out
}

// Count is the number of events of kind recorded for session ("" for all).
func (r *AuditRecorder) Count(session string, kind auth.EventKind) int {
	n := 0
	for _, k := range r.Kinds(session) {
		if k == kind {
			n++
		}
	}
	return n
}
