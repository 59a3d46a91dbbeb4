package ui

import (
	"reflect"
	"testing"
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
