package ui

import (
	"fmt"
	"strings"
	"testing"
)

// lastLine is the frame's footer (the short help).
func lastLine(v string) string {
	lines := strings.Split(v, "\n")
	return lines[len(lines)-1]
}

// The footer drops the least needed bindings to fit, never the way to the
// help and out.
func TestFooterKeepsHelpAndQuit(t *testing.T) {
	for _, w := range []int{60, 80, 100, 120, 200} {
		t.Run(fmt.Sprint(w), func(t *testing.T) {
			h := newHarness(t, w, 24)
			if f := lastLine(h.view()); !strings.Contains(f, "? help") || !strings.Contains(f, "q quit") {
				t.Errorf("list footer at %d columns: %q", w, f)
			}
			h.keys("enter")
			if f := lastLine(h.view()); !strings.Contains(f, "? help") || !strings.Contains(f, "q quit") {
				t.Errorf("inspector footer at %d columns: %q", w, f)
			}
			h.keys("esc", "n")
			if f := lastLine(h.view()); !strings.Contains(f, "esc cancel") || !strings.Contains(f, "ctrl+c quit") {
				t.Errorf("login footer at %d columns: %q", w, f)
			}
		})
	}
}

// ? lists every key the screen takes, the paging aliases and the
// inspector's keys included.
func TestFullHelpListsEveryKey(t *testing.T) {
	h := newHarness(t, 120, 40)
	h.keys("?")
	for _, want := range []string{"ctrl+b", "ctrl+f", "reuse warning names", "reveal tokens", "ask the server", "sort: name", "revoke pasted token", "forget locally"} {
		h.requireContains(want)
	}
	h.keys("?", "enter", "?")
	for _, want := range []string{"ctrl+b", "ctrl+f", "reuse warning names", "reveal/mask tokens", "ask the server", "back"} {
		h.requireContains(want)
	}
}
