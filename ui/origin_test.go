package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/tokentop/tokentop/auth"
)

// originStore is a watched store with a shared timeline: the newest event
// of each session, and the host and user that recorded it.
type originStore struct {
	*watchingStore
	local string
	last  map[string]remoteEvent
}

func (o *originStore) LastEvent(_ context.Context, name string) (auth.Event, string, string, error) {
	r := o.last[name]
	return r.ev, r.host, r.user, nil
}

func (o *originStore) LocalHost() string { return o.local }

func newOriginHarness(t *testing.T, w, h int) (*harness, *originStore) {
	ss, sec := tuiSessions()
	ws := &watchingStore{fakeStore: newFakeStore(ss...), changes: make(chan string, 4)}
	ws.secrets = sec
	st := &originStore{watchingStore: ws, local: "laptop-3", last: map[string]remoteEvent{}}
	hs := newHarness(t, w, h, func(c *Config) { c.Store = st })
	next, _ := hs.m.Update(hs.m.watchCmd()())
	hs.m = next.(Model)
	return hs, st
}

// rotate stores a new access token for acme-admin, as another machine's
// refresh would, and records that machine's event.
func rotate(h *harness, st *originStore, host, user string) {
	se := st.sessions["acme-admin"]
	old := se.AccessFP
	se.AccessFP = "sha256:b7c8d9e0"
	st.put(se, st.secrets["acme-admin"])
	st.last["acme-admin"] = remoteEvent{host: host, user: user, ev: auth.Event{Time: fixedNow.Add(-300 * time.Millisecond),
		Session: "acme-admin", Kind: auth.EventRefreshed, OldFP: old, NewFP: se.AccessFP}}
	for _, msg := range runBatch(h.m.onChange(changeMsg{name: "acme-admin", ch: st.changes}), st.changes) {
		h.send(msg)
	}
}

// A refresh another host made shows on the status line and the row with
// that host and user.
func TestRemoteChangeNamesHost(t *testing.T) {
	h, st := newOriginHarness(t, 120, 30)
	rotate(h, st, "build-7", "ci")
	want := "acme-admin refreshed on build-7 (ci) · new sha256:b7c8d9e0"
	if !strings.Contains(h.m.status.text, want) {
		t.Fatalf("status line %q, want %q", h.m.status.text, want)
	}
	if lr := h.m.live["acme-admin"]; lr == nil || !strings.Contains(lr.note, "refreshed on build-7 (ci)") {
		t.Fatalf("row note %+v, want the host", lr)
	}
	t.Run("120x30", func(t *testing.T) { golden.RequireEqual(t, []byte(h.view())) })
}

// Our own host's change, and a store without a shared timeline, keep the
// wording they had.
func TestLocalChangeNamesNoHost(t *testing.T) {
	for _, host := range []string{"laptop-3", ""} {
		h, st := newOriginHarness(t, 120, 30)
		rotate(h, st, host, "me")
		if strings.Contains(h.view(), " on ") || !strings.Contains(h.m.status.text, "acme-admin has a new access token sha256:b7c8d9e0") {
			t.Fatalf("host %q: status %q", host, h.m.status.text)
		}
	}
}

// Host and user come from another machine: control sequences in them show
// escaped, and a long name is cut short.
func TestRemoteHostEscaped(t *testing.T) {
	h, st := newOriginHarness(t, 120, 30)
	rotate(h, st, "evil\x1b]2;pwned\x07"+strings.Repeat("x", 80), "u\u009b")
	for _, s := range []string{h.m.status.text, h.m.live["acme-admin"].note} {
		if !strings.Contains(s, "on evil") || strings.ContainsAny(s, "\x1b\x07\u009b") || strings.Contains(s, strings.Repeat("x", 40)) {
			t.Fatalf("unescaped or uncut: %q", s)
		}
	}
}
