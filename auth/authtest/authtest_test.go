package authtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/auth/authtest"
)

var start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func fired(t auth.Timer) (time.Time, bool) {
	select {
	case v := <-t.C():
		return v, true
	default:
		return time.Time{}, false
	}
}

func TestFakeClockTimers(t *testing.T) {
	c := authtest.NewFakeClock(start)
	a := c.NewTimer(2 * time.Second)
	b := c.NewTimer(5 * time.Second)
	if c.Timers() != 2 {
		t.Fatalf("%d timers", c.Timers())
	}
	c.Advance(time.Second)
	if _, ok := fired(a); ok {
		t.Fatal("fired early")
	}
	c.Advance(10 * time.Second)
	// Each timer sees the clock at its own deadline.
	if v, ok := fired(a); !ok || !v.Equal(start.Add(2*time.Second)) {
		t.Fatalf("a fired %v %v", v, ok)
	}
	if v, ok := fired(b); !ok || !v.Equal(start.Add(5*time.Second)) {
		t.Fatalf("b fired %v %v", v, ok)
	}
	if !c.Now().Equal(start.Add(11*time.Second)) || c.Timers() != 0 {
		t.Fatalf("now %s, %d timers", c.Now(), c.Timers())
	}

	// Reset discards a value not yet received, like Go 1.23 timers.
	c.Advance(0)
	a.Reset(time.Second)
	c.Advance(time.Second)
	a.Reset(time.Minute)
	if _, ok := fired(a); ok {
		t.Fatal("a stale value survived Reset")
	}
	if !a.Stop() || a.Stop() {
		t.Fatal("Stop should report an armed timer once")
	}
	c.Advance(time.Hour)
	if _, ok := fired(a); ok {
		t.Fatal("a stopped timer fired")
	}
	// Zero or negative durations fire at once.
	z := c.NewTimer(0)
	if _, ok := fired(z); !ok {
		t.Fatal("a zero timer did not fire")
	}
}

func TestFakeClockBlockUntil(t *testing.T) {
	c := authtest.NewFakeClock(start)
	got := make(chan time.Time)
	go func() {
		tm := c.NewTimer(time.Minute)
		got <- <-tm.C()
	}()
	c.BlockUntil(1)
	c.Advance(time.Minute)
	if v := <-got; !v.Equal(start.Add(time.Minute)) {
		t.Fatalf("fired at %s", v)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.BlockUntilContext(ctx, 5); err == nil {
		t.Fatal("BlockUntilContext ignored its context")
	}
	if err := c.WaitResets(context.Background(), 1); err != nil || c.Resets() != 1 {
		t.Fatalf("resets %d, %v", c.Resets(), err)
	}
}

func TestAuditRecorder(t *testing.T) {
	var r authtest.AuditRecorder
	_ = r.Record(auth.Event{Session: "a", Kind: auth.EventLogin})
	_ = r.Record(auth.Event{Session: "b", Kind: auth.EventRefreshed})
	_ = r.Record(auth.Event{Session: "a", Kind: auth.EventRefreshed})
	if r.Count("a", auth.EventRefreshed) != 1 || r.Count("", auth.EventRefreshed) != 2 || len(r.Kinds("a")) != 2 {
		t.Fatalf("kinds %v", r.Kinds(""))
	}
}
