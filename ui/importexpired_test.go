package ui

import (
	"fmt"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// A response saved yesterday: its access token has expired, its refresh
// token has not. `tokentop import` takes it (and says the access token
// will be refreshed); so does the form.
func TestImportFormAcceptsAnExpiredAccessToken(t *testing.T) {
	body := fmt.Sprintf(`{"access_token":"old-access-value","refresh_token":"live-refresh-value","expires_in":%q,"refresh_expires_in":%q}`,
		fixedNow.Add(-time.Hour).Format(time.RFC3339), fixedNow.Add(24*time.Hour).Format(time.RFC3339))
	h := newHarness(t, 120, 30)
	h.keys("i")
	h.typeText("yesterday")
	h.keys("tab")
	h.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(body), Paste: true})
	h.requireContains("expired 1h 00m ago", "The access token has already expired; tokentop refreshes it once imported.")
	h.requireNotContains("✗")
	h.keys("ctrl+s")
	if got := h.keeper.called(); len(got) != 1 || got[0] != "import yesterday "+body {
		t.Fatalf("keeper calls %q", got)
	}
	// A dead refresh token is still refused, before anything is sent.
	dead := fmt.Sprintf(`{"access_token":"a","refresh_token":"r","expires_in":%q,"refresh_expires_in":%q}`,
		fixedNow.Add(-2*time.Hour).Format(time.RFC3339), fixedNow.Add(-time.Hour).Format(time.RFC3339))
	h.keys("i")
	h.typeText("dead")
	h.keys("tab")
	h.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(dead), Paste: true})
	h.keys("ctrl+s")
	h.requireContains("✗")
	if got := h.keeper.called(); len(got) != 1 {
		t.Fatalf("a dead pair was sent: %q", got)
	}
}
