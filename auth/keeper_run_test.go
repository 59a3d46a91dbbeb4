package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/auth/emulator"
)

// loopState is what the keeper loop last reported before waiting.
type loopState struct {
	mu       sync.Mutex
	changed  *sync.Cond
	now      time.Time
	inflight int
	waits    int
}

func (ls *loopState) idle(now time.Time, inflight int) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.now, ls.inflight = now, inflight
	ls.waits++
	ls.changed.Broadcast()
}

// waitFor waits until ok accepts the loop's last report.
func (ls *loopState) waitFor(t *testing.T, what string, ok func(now time.Time, inflight int) bool) {
	t.Helper()
	guard := time.AfterFunc(20*time.Second, func() { // hang guard, not a timing assertion
		ls.mu.Lock()
		defer ls.mu.Unlock()
		ls.waits = -1
		ls.changed.Broadcast()
	})
	defer guard.Stop()
	ls.mu.Lock()
	defer ls.mu.Unlock()
	for ls.waits == 0 || !ok(ls.now, ls.inflight) {
		if ls.waits < 0 {
			t.Fatalf("the keeper loop never got to: %s", what)
		}
		ls.changed.Wait()
	}
}

// run starts k.Run in the background, waits until its loop is up, and stops
// it at the end of the test.
func (e *env) run(k *auth.Keeper, names ...string) {
	e.t.Helper()
	e.loop = &loopState{}
	e.loop.changed = sync.NewCond(&e.loop.mu)
	auth.SetIdleHook(k, e.loop.idle)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- k.Run(ctx, names...) }()
	e.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("Run: %v", err)
		}
	})
	e.loop.waitFor(e.t, "its first wait", func(time.Time, int) bool { return true })
}

// requests counts the requests the emulator answered (not its time-driven
// counters).
func requests(s emulator.Stats) int {
	return s.Logins + s.Refreshes + s.RefreshRejections + s.Revocations
}

// waitEventFunc reads the keeper's events until ok accepts one.
func waitEventFunc(t *testing.T, k *auth.Keeper, what string, ok func(auth.Event) bool) auth.Event {
	t.Helper()
	guard := time.NewTimer(20 * time.Second) // a hang guard, not a timing assertion
	defer guard.Stop()
	for {
		select {
		case ev := <-k.Events():
			if ok(ev) {
				return ev
			}
		case <-guard.C:
			t.Fatalf("no event: %s", what)
		}
	}
}

// advance moves the clock by d (at least one poll interval, so the loop's
// timer fires) and waits until the loop has caught up with the new time and
// has nothing in flight.
func (e *env) advance(d time.Duration) {
	e.t.Helper()
	e.clock.Advance(d)
	target := e.clock.Now()
	e.loop.waitFor(e.t, "idle at "+target.String(), func(now time.Time, inflight int) bool {
		return !now.Before(target) && inflight == 0
	})
}

func TestRunRefreshesAtTheWindow(t *testing.T) {
	e := newEnv(t, envOpt{})
	s := e.seed("s", 100*time.Second, time.Hour) // window 30 s
	e.run(e.k)
	ev := waitEvent(t, e.k, "s", auth.EventScheduled)
	sp := auth.Spread("s", 7500*time.Millisecond) // up to a quarter of the window earlier
	if want := s.IssuedAt.Add(70*time.Second - sp); !ev.At.Equal(want) {
		t.Fatalf("scheduled at %s, want %s", ev.At, want)
	}
	e.advance(69*time.Second - sp)
	if n := e.emu.Stats().Refreshes; n != 0 {
		t.Fatalf("%d refreshes before the window", n)
	}
	e.clock.Advance(time.Second)
	ref := waitEvent(t, e.k, "s", auth.EventRefreshed)
	if ref.OldFP != s.AccessFP || ref.NewFP == s.AccessFP || ref.NewFP != e.get("s").AccessFP {
		t.Fatalf("refreshed event %+v", ref)
	}
	next := waitEvent(t, e.k, "s", auth.EventScheduled)
	// Issued at the refresh, by the server's clock (its Date header has whole
	// seconds), so within a second of it.
	if want := ev.At.Add(70*time.Second - sp); next.At.Sub(want).Abs() > time.Second {
		t.Fatalf("rescheduled at %s, want %s", next.At, want)
	}
	if st := e.emu.Stats(); st.Refreshes != 1 || st.ReuseDetected != 0 {
		t.Fatalf("stats %+v", st)
	}
	// Only one timer, whatever the number of sessions.
	if n := e.clock.Timers(); n != 1 {
		t.Fatalf("%d timers armed", n)
	}
}

func TestRunAtMostFourInFlight(t *testing.T) {
	e := newEnv(t, envOpt{})
	const n = 50
	for i := range n {
		e.seed(fmt.Sprintf("s%02d", i), 100*time.Second, time.Hour)
	}
	// Real latency, so that refreshes overlap if the keeper lets them.
	e.emu.SetLatency(5 * time.Millisecond)
	e.run(e.k)
	for range n {
		waitEvent(t, e.k, "", auth.EventScheduled)
	}
	e.clock.Advance(71 * time.Second)
	for range n {
		waitEvent(t, e.k, "", auth.EventRefreshed)
	}
	if st := e.emu.Stats(); st.Refreshes != n || st.ReuseDetected != 0 {
		t.Fatalf("stats %+v", st)
	}
	if m := e.tap.maxConcurrent(); m > 4 || m < 1 {
		t.Fatalf("%d refreshes in flight at once, want at most 4", m)
	}
	t.Logf("max concurrent refreshes: %d", e.tap.maxConcurrent())
}

func TestRunAdoptsAnotherProcessRefresh(t *testing.T) {
	// A long poll interval: the loop has not noticed the other process's
	// write when the session falls due, so it must notice under the lock.
	e := newEnv(t, envOpt{keeper: func(c *auth.KeeperConfig) { c.PollInterval = time.Hour }})
	e.seed("s", 100*time.Second, time.Hour)
	e.run(e.k)
	waitEvent(t, e.k, "s", auth.EventScheduled)
	e.clock.Advance(50 * time.Second)
	other := e.newKeeper()
	if _, err := other.Refresh(context.Background(), "s"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(20 * time.Second)
	ev := waitEvent(t, e.k, "s", auth.EventAdopted)
	if ev.NewFP != e.get("s").AccessFP {
		t.Fatalf("adopted %s, stored %s", ev.NewFP, e.get("s").AccessFP)
	}
	next := waitEvent(t, e.k, "s", auth.EventScheduled)
	if want := t0.Add(50*time.Second + 70*time.Second - auth.Spread("s", 7500*time.Millisecond)); !next.At.Equal(want) {
		t.Fatalf("rescheduled at %s, want %s", next.At, want)
	}
	if st := e.emu.Stats(); st.Refreshes != 1 || st.ReuseDetected != 0 || st.RefreshRejections != 0 {
		t.Fatalf("stats %+v: want the other process's refresh only", st)
	}
}

func TestRunFollowsOtherProcesses(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.seed("s", 100*time.Second, time.Hour)
	e.run(e.k)
	waitEvent(t, e.k, "s", auth.EventScheduled)
	other := e.newKeeper()
	ctx := context.Background()

	// Paused elsewhere: the loop stops scheduling it.
	if err := other.SetPaused(ctx, "s", true); err != nil {
		t.Fatal(err)
	}
	e.advance(2 * time.Minute)
	if n := e.emu.Stats().Refreshes; n != 0 {
		t.Fatalf("a paused session was refreshed (%d)", n)
	}
	// Resumed elsewhere: rescheduled (overdue, so at once).
	if err := other.SetPaused(ctx, "s", false); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	waitEvent(t, e.k, "s", auth.EventScheduled)
	waitEvent(t, e.k, "s", auth.EventRefreshed)

	// Logged in again elsewhere: the new pair's window is used.
	u := emulator.DefaultUser()
	fresh, err := other.Login(ctx, "s", e.ep, u.Email, u.Password)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	waitEventFunc(t, e.k, "a schedule for the new pair", func(ev auth.Event) bool {
		return ev.Session == "s" && ev.Kind == auth.EventScheduled && ev.At.Equal(fresh.RefreshDue())
	})
	// Forgotten elsewhere: dropped, and nothing is refreshed.
	if err := other.Forget(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	before := requests(e.emu.Stats())
	e.advance(7 * 24 * time.Hour)
	if requests(e.emu.Stats()) != before {
		t.Fatal("a forgotten session reached the server")
	}
}

func TestRunRetriesAndRecovers(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.seed("s", 100*time.Second, time.Hour)
	e.setIntercept(func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
		if !strings.HasSuffix(r.URL.Path, "/oauth/refresh-token") {
			return false
		}
		w.Header().Set("Retry-After", "20")
		http.Error(w, `{"statusCode":429,"message":"Too Many Requests"}`, http.StatusTooManyRequests)
		return true
	})
	e.run(e.k)
	waitEvent(t, e.k, "s", auth.EventScheduled)
	e.clock.Advance(70 * time.Second)
	ev := waitEvent(t, e.k, "s", auth.EventRetrying)
	if want := t0.Add(90 * time.Second); !ev.At.Equal(want) {
		t.Fatalf("retry at %s, want %s (Retry-After)", ev.At, want)
	}
	if s := e.get("s"); s.State != auth.StateRetrying || !s.NextAttempt.Equal(ev.At) {
		t.Fatalf("stored %s next %s", s.State, s.NextAttempt)
	}
	if next := waitEvent(t, e.k, "s", auth.EventScheduled); !next.At.Equal(ev.At) {
		t.Fatalf("rescheduled at %s, want %s", next.At, ev.At)
	}
	// The server recovers; nothing is sent before Retry-After.
	e.setIntercept(nil)
	e.advance(19 * time.Second)
	if n := e.emu.Stats().Refreshes; n != 0 {
		t.Fatal("retried before Retry-After")
	}
	e.clock.Advance(time.Second)
	waitEvent(t, e.k, "s", auth.EventRefreshed)
	if s := e.get("s"); s.State != auth.StateOK || s.Failures != 0 || !s.NextAttempt.IsZero() {
		t.Fatalf("after recovery: %s failures %d next %s", s.State, s.Failures, s.NextAttempt)
	}
}

func TestRunSkewRefreshesBeforeServerExpiry(t *testing.T) {
	e := newEnv(t, envOpt{emu: emulator.Config{AccessTTL: 10 * time.Minute, RefreshTTL: time.Hour}})
	e.emu.ShiftClock(2 * time.Minute)
	u := emulator.DefaultUser()
	s, err := e.k.Login(context.Background(), "s", e.ep, u.Email, u.Password)
	if err != nil {
		t.Fatal(err)
	}
	if ev := waitEvent(t, e.k, "s", auth.EventSkew); ev.Skew != 2*time.Minute {
		t.Fatalf("skew event %+v", ev)
	}
	old := e.secrets("s")
	e.run(e.k)
	ev := waitEvent(t, e.k, "s", auth.EventScheduled)
	// Server expiry t0+12 min (issued at its t0+2 min), window 2 min,
	// server 2 min ahead: t0+8 min by our clock. Scheduling by our clock
	// alone would say t0+10 min, the very instant the token dies.
	if want := t0.Add(8*time.Minute - auth.Spread("s", 30*time.Second)); !ev.At.Equal(want) {
		t.Fatalf("scheduled at %s, want %s (expiry %s)", ev.At, want, s.AccessExpiry)
	}
	e.clock.Set(ev.At)
	waitEvent(t, e.k, "s", auth.EventRefreshed)
	// The refresh happened with the old token still alive at the server,
	// a full window before its expiry by the server's clock.
	if !e.emu.Valid(old.AccessToken, emulator.KindAccess) {
		t.Fatal("the old access token had expired at the server before the refresh")
	}
	if left := s.AccessExpiry.Sub(e.emu.Now()); left != 2*time.Minute+auth.Spread("s", 30*time.Second) {
		t.Fatalf("refreshed with %s left by server time, want 2m", left)
	}
}

func TestRunOnlyNamedSessions(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.seed("a", 100*time.Second, time.Hour)
	b := e.seed("b", 100*time.Second, time.Hour)
	e.run(e.k, "a")
	waitEvent(t, e.k, "a", auth.EventScheduled)
	e.clock.Advance(70 * time.Second)
	waitEvent(t, e.k, "a", auth.EventRefreshed)
	e.advance(time.Second)
	if e.get("b").AccessFP != b.AccessFP || e.emu.Stats().Refreshes != 1 {
		t.Fatal("a session outside the list was refreshed")
	}
	if e.audit.Count("b", auth.EventScheduled) != 0 {
		t.Fatal("a session outside the list was scheduled")
	}
}

func TestRunRecoversInterruptedRefresh(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.seed("s", time.Hour, 24*time.Hour)
	s := e.get("s")
	s.State, s.RefreshingSince, s.RefreshingPID, s.RefreshingFP = auth.StateRefreshing, t0.Add(-time.Minute), 99999, s.RefreshFP
	if err := e.store.PutMeta(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	e.run(e.k)
	// Due at once: the previous refresh's outcome must be settled.
	ev := waitEvent(t, e.k, "s", auth.EventRefreshed)
	if !strings.Contains(ev.Message, "pid 99999") || !strings.Contains(ev.Message, "recovered") {
		t.Fatalf("message %q", ev.Message)
	}
	if got := e.get("s"); got.State != auth.StateOK || !got.RefreshingSince.IsZero() {
		t.Fatalf("after recovery %+v", got)
	}
}

func TestRunNeedsLoginStopsScheduling(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.seed("s", 100*time.Second, time.Hour)
	e.run(e.k)
	waitEvent(t, e.k, "s", auth.EventScheduled)
	e.stealRefresh("s")
	e.clock.Advance(70 * time.Second)
	waitEvent(t, e.k, "s", auth.EventReuseSuspected)
	waitEvent(t, e.k, "s", auth.EventNeedsLogin)
	before := requests(e.emu.Stats())
	e.advance(time.Hour)
	if requests(e.emu.Stats()) != before {
		t.Fatal("a needs-login session was retried")
	}
}

func TestRunOnce(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.run(e.k)
	if err := e.clock.BlockUntilContext(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if err := e.k.Run(context.Background()); !errors.Is(err, auth.ErrRunning) {
		t.Fatalf("second Run = %v", err)
	}
}

func TestRunStopFinishesInFlightRefresh(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.seed("s", 100*time.Second, time.Hour)
	e.emu.SetLatency(100 * time.Millisecond) // real time: the refresh is in flight when Run stops
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.k.Run(ctx) }()
	waitEvent(t, e.k, "s", auth.EventScheduled)
	e.clock.Advance(70 * time.Second)
	waitEvent(t, e.k, "s", auth.EventRefreshing)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Run returned only after the answer was saved: the stored refresh
	// token is the live one, and the lock is free.
	if !e.emu.Valid(e.secrets("s").RefreshToken, emulator.KindRefresh) || e.get("s").State != auth.StateOK {
		t.Fatal("stopping the keeper lost the rotated pair")
	}
	lctx, lcancel := context.WithTimeout(context.Background(), 20*time.Second) // hang guard
	defer lcancel()
	unlock, err := e.store.Lock(lctx, "s")
	if err != nil {
		t.Fatalf("lock left held: %v", err)
	}
	unlock()
}

// TestRunLeavesNoGoroutines: Run stopped with refreshes due and in flight
// returns with every goroutine it started gone, and every lock free. It
// counts the process's goroutines, so it must not run in parallel.
func TestRunLeavesNoGoroutines(t *testing.T) {
	e := newEnv(t, envOpt{})
	for i := range 8 {
		e.seed(fmt.Sprintf("s%d", i), 100*time.Second, time.Hour)
	}
	e.emu.SetLatency(50 * time.Millisecond) // real time: refreshes are in flight at the stop
	idleConns := func() {
		e.srv.Client().CloseIdleConnections()
		if tr, ok := e.tap.base.(interface{ CloseIdleConnections() }); ok {
			tr.CloseIdleConnections()
		}
	}
	idleConns()
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.k.Run(ctx) }()
	waitEvent(t, e.k, "", auth.EventScheduled)
	e.clock.Advance(90 * time.Second)
	waitEvent(t, e.k, "", auth.EventRefreshing)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Connections close asynchronously: wait (bounded) for their goroutines.
	guard := time.Now().Add(20 * time.Second) // hang guard, not a timing assertion
	for {
		idleConns()
		n := runtime.NumGoroutine()
		if n <= before {
			break
		}
		if time.Now().After(guard) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines after Run returned, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i := range 8 {
		lctx, lcancel := context.WithTimeout(context.Background(), 20*time.Second) // hang guard
		unlock, err := e.store.Lock(lctx, fmt.Sprintf("s%d", i))
		lcancel()
		if err != nil {
			t.Fatalf("lock s%d left held: %v", i, err)
		}
		unlock()
	}
}
