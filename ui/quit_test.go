package ui

import (
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/tokentop/tokentop/auth"
)

// A quit while a refresh may be in flight at the server waits for its pair
// to be saved, saying so, and then quits by itself.
func TestQuitWaitsForAnInFlightRefresh(t *testing.T) {
	for _, quitKey := range []string{"q", "ctrl+c"} {
		t.Run(quitKey, func(t *testing.T) {
			h := newHarness(t, 100, 30)
			settle := h.keeper.inFlight("acme-admin")
			next, cmd := h.m.Update(keyMsg(quitKey))
			h.m = next.(Model)
			if h.m.quitting || cmd == nil {
				t.Fatal("quit went ahead with a refresh in flight")
			}
			h.requireContains("finishing refresh of acme-admin…")
			// Other keys do nothing meanwhile.
			h.keys("j", "r")
			if calls := h.keeper.called(); len(calls) != 0 {
				t.Fatalf("keys acted while quitting: %v", calls)
			}
			got := make(chan tea.Msg, 1)
			go func() { got <- cmd() }()
			settle()
			select {
			case msg := <-got:
				h.send(msg)
			case <-time.After(10 * time.Second): // a hang guard
				t.Fatal("the quit never went ahead once the refresh settled")
			}
			if !h.quit || h.m.Abandoned() {
				t.Fatalf("quit=%v abandoned=%v, want a clean quit", h.quit, h.m.Abandoned())
			}
		})
	}
}

// A second quit does not wait, and the program reports it abandoned the
// refresh (so the caller does not wait for it either).
func TestSecondQuitAbandonsTheRefresh(t *testing.T) {
	h := newHarness(t, 100, 30)
	defer h.keeper.inFlight("acme-admin")()
	next, _ := h.m.Update(keyMsg("q"))
	h.m = next.(Model)
	h.requireContains("q again quits now")
	h.keys("q")
	if !h.quit || !h.m.Abandoned() {
		t.Fatalf("quit=%v abandoned=%v after the second q", h.quit, h.m.Abandoned())
	}
}

// A pair the store refuses is news for the status line and the row, at
// once, with where it was kept.
func TestSaveTroubleIsShown(t *testing.T) {
	h := newHarness(t, 120, 30)
	h.send(keeperEventMsg{event: auth.Event{Session: "acme-admin", Kind: auth.EventRescued, Time: fixedNow,
		Message: "new pair kept in /cfg/rescue/acme-admin.json (private to you): saving it failed (keyring timed out); …"}})
	h.requireContains("new pair kept in /cfg/rescue/acme-admin.json", "rescued")
}
