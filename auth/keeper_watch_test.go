package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/storage"
)

// On a store that watches, a running keeper learns of another process's
// write at once, by name, without waiting for a stamp poll: the clock never
// moves in this test, so only the watch can tell it.
func TestKeeperFollowsTheStoresWatch(t *testing.T) {
	e, _, st := fileEnv(t, "")
	other, err := storage.Open(storage.Options{ConfigDir: st.ConfigDir(), Backend: storage.BackendMemory})
	if err != nil {
		t.Fatal(err)
	}
	e.run(e.k)
	// Another process saves a session whose refresh is due in 5 minutes.
	now := e.clock.Now()
	se := auth.Session{Name: "elsewhere", Endpoints: e.ep, State: auth.StateOK,
		IssuedAt: now, AccessExpiry: now.Add(time.Hour), RefreshExpiry: now.Add(24 * time.Hour),
		AccessFP: "sha256:00000001", RefreshFP: "sha256:00000002"}
	if err := other.PutMeta(context.Background(), se); err != nil {
		t.Fatal(err)
	}
	ev := waitEventFunc(t, e.k, "the watched session scheduled", func(ev auth.Event) bool {
		return ev.Session == "elsewhere" && ev.Kind == auth.EventScheduled
	})
	if want := se.RefreshDue(); !ev.At.Equal(want) {
		t.Fatalf("scheduled at %v, want %v", ev.At, want)
	}
	// And a removal unschedules it (no refresh is ever attempted).
	if err := other.Delete(context.Background(), "elsewhere"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Hour)
	if st := e.emu.Stats(); st.Refreshes != 0 {
		t.Fatalf("stats %+v: a removed session was refreshed", st)
	}
}
