package ui

import (
	"reflect"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
)

func (m listModel) order() []string {
	var names []string
	for _, i := range m.rows {
		names = append(names, m.all[i].Name)
	}
	return names
}

// o cycles the order: name, then soonest refresh expiry (the session that
// dies first on top), then worst state; the cursor stays on its session
// and the sorted column says so.
func TestSortCycles(t *testing.T) {
	h := newHarness(t, 120, 30)
	h.keys("jj") // legacy-paused
	want := [][]string{
		{"acme-admin", "billing-retry", "legacy-paused", "support-desk", "viewer-dead"},
		{"viewer-dead", "legacy-paused", "billing-retry", "acme-admin", "support-desk"},
		{"viewer-dead", "legacy-paused", "billing-retry", "acme-admin", "support-desk"},
		{"acme-admin", "billing-retry", "legacy-paused", "support-desk", "viewer-dead"},
	}
	marks := []string{"NAME▾", "REFRESH▾", "STATE▾", "NAME▾"}
	for i, w := range want {
		if i > 0 {
			h.keys("o")
		}
		if got := h.m.list.order(); !reflect.DeepEqual(got, w) {
			t.Fatalf("after %d× o: order %q, want %q", i, got, w)
		}
		h.requireContains(marks[i], "▸ legacy-paused")
	}
}

// Sorting by state puts what needs a person first.
func TestSortByStateWorstFirst(t *testing.T) {
	h := newHarness(t, 120, 30)
	h.keys("oo")
	got := h.m.list.order()
	if got[0] != "viewer-dead" || got[len(got)-1] != "support-desk" && got[len(got)-1] != "acme-admin" {
		t.Fatalf("state order %q", got)
	}
}

// Once the list scrolls, the column header says where the cursor is.
func TestPositionIndicator(t *testing.T) {
	h := newHarness(t, 100, 30, func(c *Config) { c.Sessions = manySessions(40) })
	h.requireContains("1/40")
	h.keys("jjj")
	h.requireContains("4/40")
	h.keys("G")
	h.requireContains("40/40")
	small := newHarness(t, 100, 30)
	small.requireNotContains("1/5")
	narrow := newHarness(t, 60, 20, func(c *Config) { c.Sessions = manySessions(40) })
	narrow.requireContains("1/40")
}

// effectiveSessions are sessions whose stored state is stale: metadata is
// written only when something happens, so "ok" outlives the tokens.
func effectiveSessions() []auth.Session {
	mk := func(name string, accessLeft, refreshLeft time.Duration, st auth.State) auth.Session {
		return auth.Session{
			Name: name, Email: name + "@example.com",
			User:          auth.User{UserID: 1, Email: name + "@example.com", RoleID: 2, OrgUnitID: 1001},
			IssuedAt:      fixedNow.Add(accessLeft - time.Hour),
			AccessExpiry:  fixedNow.Add(accessLeft),
			RefreshExpiry: fixedNow.Add(refreshLeft),
			AccessFP:      "sha256:aaaaaaaa", RefreshFP: "sha256:bbbbbbbb",
			State: st,
		}
	}
	return []auth.Session{
		mk("alpha", -5*time.Minute, 10*24*time.Hour, auth.StateOK),   // expired
		mk("bravo", -2*time.Hour, -time.Hour, auth.StateOK),          // needs_login (refresh_expired)
		mk("charlie", 30*time.Minute, 10*24*time.Hour, auth.StateOK), // ok
		mk("delta", 30*time.Minute, 9*24*time.Hour, auth.StateRetrying),
	}
}

// Sorting by state and filtering go by the state the list shows (the
// effective one), not the stored one.
func TestSortByEffectiveState(t *testing.T) {
	h := newHarness(t, 120, 30, func(c *Config) { c.Sessions = effectiveSessions() })
	h.keys("oo")
	want := []string{"bravo", "alpha", "delta", "charlie"}
	if got := h.m.list.order(); !reflect.DeepEqual(got, want) {
		t.Errorf("state order %q, want %q", got, want)
	}
}

func TestFilterByEffectiveState(t *testing.T) {
	for _, tt := range []struct {
		q    string
		want []string
	}{
		{"needs_login", []string{"bravo"}},
		{"refresh_expired", []string{"bravo"}},
		{"expired", []string{"alpha", "bravo"}},
		{"ok", []string{"charlie"}},
		{"retrying", []string{"delta"}},
	} {
		h := newHarness(t, 120, 30, func(c *Config) { c.Sessions = effectiveSessions() })
		h.keys("/")
		h.typeText(tt.q)
		h.keys("enter")
		if got := h.m.list.order(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("filter %q: %q, want %q", tt.q, got, tt.want)
		}
	}
}
