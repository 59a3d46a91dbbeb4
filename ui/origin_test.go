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
	last  map[string][]auth.Event // oldest first
}

func (o *originStore) RecentEvents(_ context.Context, name string, limit int) ([]auth.Event, error) {
	evs := o.last[name]
	if len(evs) > limit {
		evs = evs[len(evs)-limit:]
	}
	return evs, nil
}

func (o *originStore) LocalHost() string { return o.local }

func newOriginHarness(t *testing.T, w, h int) (*harness, *originStore) {
	ss, sec := tuiSessions()
	ws := &watchingStore{fakeStore: newFakeStore(ss...), changes: make(chan string, 4)}
	ws.secrets = sec
	st := &originStore{watchingStore: ws, local: "laptop-3", last: map[string][]auth.Event{}}
	hs := newHarness(t, w, h, func(c *Config) { c.Store = st })
	next, _ := hs.m.Update(hs.m.watchCmd()())
	hs.m = next.(Model)
	return hs, st
}

// rotate stores a new access token for acme-admin, as another machine's
// refresh would, and records that machine's event, then any later ones.
func rotate(h *harness, st *originStore, host, user string, later ...auth.Event) {
	se := st.sessions["acme-admin"]
	old := se.AccessFP
	se.AccessFP = "sha256:b7c8d9e0"
	st.put(se, st.secrets["acme-admin"])
	st.last["acme-admin"] = append([]auth.Event{{Time: fixedNow.Add(-300 * time.Millisecond), Host: host, User: user,
		Session: "acme-admin", Kind: auth.EventRefreshed, OldFP: old, NewFP: se.AccessFP}}, later...)
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

// Our keeper adopting the other host's pair (recorded after its refresh,
// and reported as a keeper event) does not hide which host it was.
func TestRemoteChangeSurvivesOurAdoption(t *testing.T) {
	h, st := newOriginHarness(t, 120, 30)
	adopted := auth.Event{Time: fixedNow, Host: "laptop-3", User: "me", Session: "acme-admin", Kind: auth.EventAdopted, NewFP: "sha256:b7c8d9e0"}
	rotate(h, st, "build-7", "ci", adopted)
	h.send(keeperEventMsg{adopted})
	want := "acme-admin refreshed on build-7 (ci) · new sha256:b7c8d9e0"
	if !strings.Contains(h.m.status.text, want) || !strings.Contains(h.m.live["acme-admin"].note, "build-7") {
		t.Fatalf("status %q, row note %q; want %q", h.m.status.text, h.m.live["acme-admin"].note, want)
	}
	// A local action after the other host's is ours: no host named.
	h2, st2 := newOriginHarness(t, 120, 30)
	rotate(h2, st2, "build-7", "ci", auth.Event{Time: fixedNow, Host: "laptop-3", Session: "acme-admin", Kind: auth.EventPaused})
	if strings.Contains(h2.m.status.text, "build-7") {
		t.Fatalf("status %q names the other host for our own change", h2.m.status.text)
	}
}
