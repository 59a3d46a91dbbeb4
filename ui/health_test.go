package ui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"
)

// healthStore is a fakeStore whose reachability the test sets.
type healthStore struct {
	*fakeStore
	health chan error
	stamps int // Stamp calls
}

func (s *healthStore) Health(context.Context) (<-chan error, error) { return s.health, nil }

func (s *healthStore) Stamp(ctx context.Context) (string, error) {
	s.mu.Lock()
	s.stamps++
	s.mu.Unlock()
	return s.fakeStore.Stamp(ctx)
}

// While the store is out of reach the header says so and since when, the
// rows stay; back in reach the header clears and everything is read again.
func TestHeaderSaysDisconnected(t *testing.T) {
	ss, sec := tuiSessions()
	st := &healthStore{fakeStore: newFakeStore(ss...), health: make(chan error, 1)}
	st.secrets, st.backend = sec, "etcd"
	h := newHarness(t, 120, 30, func(c *Config) { c.Store = st })
	start := h.m.healthCmd()
	if start == nil {
		t.Fatal("no health command for a store that has Health")
	}
	st.health <- errors.New("reach the store: etcd at http://10.0.0.1:2379 did not answer (context deadline exceeded)")
	next, _ := h.m.Update(start())
	h.m = next.(Model)
	want := "etcd disconnected (since 12:00:00), retrying"
	h.requireContains(want, "acme-admin", "etcd out of reach, serving the tokens already read: reach the store: etcd at http://10.0.0.1:2379")
	t.Run("120x30", func(t *testing.T) { golden.RequireEqual(t, []byte(h.view())) })

	// A second failure keeps the first instant.
	h.m.now = fixedNow.Add(5 * time.Second)
	next, _ = h.m.Update(healthMsg{err: errors.New("still down"), ch: st.health})
	h.m = next.(Model)
	h.requireContains(want)

	lists := st.lists
	h.m.now = fixedNow.Add(42 * time.Second)
	next, cmd := h.m.Update(healthMsg{ch: st.health})
	h.m = next.(Model)
	h.requireNotContains("disconnected")
	h.requireContains("etcd reconnected after 42s")
	for _, msg := range runBatch(cmd, nil) {
		h.send(msg)
	}
	if st.lists == lists {
		t.Fatal("back in reach, the sessions were not read again")
	}
}

// A narrow terminal still says it, shorter.
func TestHeaderSaysDisconnectedNarrow(t *testing.T) {
	h := newHarness(t, 60, 20, func(c *Config) { c.Store.(*fakeStore).backend = "etcd" })
	h.m.disconnected = fixedNow
	if head := strings.SplitN(h.view(), "\n", 2)[0]; !strings.Contains(head, "etcd disconnected") {
		t.Fatalf("header %q", head)
	}
}

// While out of reach the tick does not ask for the store's stamp: it would
// wait out its timeout every second and the countdowns would freeze.
func TestTickSkipsStampWhileDisconnected(t *testing.T) {
	st := &healthStore{fakeStore: newFakeStore(), health: make(chan error, 1)}
	h := newHarness(t, 120, 30, func(c *Config) { c.Store = st })
	h.m.disconnected = fixedNow
	if msg := h.m.stampedTick(fixedNow.Add(time.Second)).(tickMsg); st.stamps != 0 || !msg.now.Equal(fixedNow.Add(time.Second)) {
		t.Fatalf("Stamp called %d times while disconnected (tick %v)", st.stamps, msg.now)
	}
	h.m.disconnected = time.Time{}
	h.m.stampedTick(fixedNow.Add(2 * time.Second))
	if st.stamps != 1 {
		t.Fatalf("Stamp called %d times once connected, want 1", st.stamps)
	}
}

// stuckStore's Stamp answers only when its context ends, as a store out of
// reach does.
type stuckStore struct{ *fakeStore }

func (stuckStore) Stamp(ctx context.Context) (string, error) {
	<-ctx.Done()
	return "", ctx.Err()
}

// A store that stopped answering holds the tick (and so the countdowns)
// for under a second, not the store's whole timeout.
func TestTickDoesNotWaitOutAStuckStore(t *testing.T) {
	h := newHarness(t, 120, 30, func(c *Config) { c.Store = stuckStore{newFakeStore()} })
	start := time.Now()
	msg := h.m.stampedTick(fixedNow).(tickMsg)
	if d := time.Since(start); d > 2*time.Second || msg.stampErr == nil {
		t.Fatalf("tick took %v (stamp error %v)", d, msg.stampErr)
	}
}
