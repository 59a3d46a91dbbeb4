package ui

import (
	"testing"
)

// The three forms are one component: the same keys do the same things in
// each: inline errors, the footer, tab order, esc.
func TestFormsShareBehaviour(t *testing.T) {
	forms := []struct {
		open    string
		title   string
		firstEr string // the first inline error of an empty submit
	}{
		{"n", "NEW LOGIN", "give the session a name"},
		{"i", "IMPORT A TOKEN RESPONSE", "give the session a name"},
		{"X", "REVOKE A PASTED TOKEN", "paste the token to revoke"},
	}
	for _, f := range forms {
		t.Run(f.open, func(t *testing.T) {
			h := newHarness(t, 120, 30)
			h.keys(f.open)
			h.requireContains(f.title, "ctrl+s submit", "esc cancel")
			h.keys("ctrl+s")
			h.requireContains("✗ " + f.firstEr)
			if len(h.keeper.called()) > 0 || h.m.dialog != nil {
				t.Fatal("an empty form was sent")
			}
			// tab walks every field and comes back round.
			start := h.m.active().(interface{ focused() int }).focused()
			for range 8 {
				h.keys("tab")
			}
			h.keys("shift+tab", "shift+tab", "shift+tab", "shift+tab", "shift+tab", "shift+tab", "shift+tab", "shift+tab")
			if got := h.m.active().(interface{ focused() int }).focused(); got != start {
				t.Fatalf("tab ×8 then shift+tab ×8 ends on field %d, want %d", got, start)
			}
			h.keys("esc")
			h.requireContains("NAME▾")
		})
	}
}
