package ui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// Bubble Tea delivers runes typed faster than it reads them (jj, kkk, or
// any typing over SSH) as one key message; each must be applied.

func TestKeysThatArriveTogetherAreEachApplied(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.keys("jj")
	if se, _ := h.m.list.selected(); se.Name != "legacy-paused" {
		t.Fatalf("jj selected %q, want legacy-paused (two rows down)", se.Name)
	}
	h.keys("kkk")
	if se, _ := h.m.list.selected(); se.Name != "acme-admin" {
		t.Fatalf("kkk selected %q, want acme-admin", se.Name)
	}
}

func TestFastRevokeConfirmsTheRightSession(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.keys("jjx")
	h.requireContains("Revoke legacy-paused?")
	h.keys("y")
	if got := strings.Join(h.keeper.called(), ";"); got != "revoke legacy-paused" {
		t.Fatalf("keeper calls %q, want the session two rows down revoked", got)
	}
}

// A burst that opens a text field goes on into it as text: "/acme" typed
// fast filters by "acme", rather than running a, c, m, e as commands.
func TestBurstThatOpensAFieldTypesIntoIt(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.keys("/acme")
	if got := h.m.list.filter.Value(); got != "acme" {
		t.Fatalf("filter %q, want acme", got)
	}
	if h.m.dialog != nil || len(h.keeper.called()) > 0 {
		t.Fatalf("letters after / ran as commands: %v", h.keeper.called())
	}
}

// Pasted text is not a string of commands: pasting "xy" on the list must
// not revoke anything.
func TestPasteOnTheListRunsNothing(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("jxy"), Paste: true})
	if h.m.dialog != nil || len(h.keeper.called()) > 0 {
		t.Fatalf("a paste ran as keys: confirm=%v calls=%v", h.m.dialog != nil, h.keeper.called())
	}
	if se, _ := h.m.list.selected(); se.Name != "acme-admin" {
		t.Fatalf("a paste moved the cursor to %q", se.Name)
	}
	h.requireContains("paste ignored")
}

// Pasted text lands whole in a text field: a name in the name field, a
// token response in the (hidden) response field.
func TestPasteLandsWholeInTheImportForm(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.keys("i")
	h.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("customer-1234"), Paste: true})
	if got := h.m.imp.fields[importName].input.Value(); got != "customer-1234" {
		t.Fatalf("name field %q after a paste", got)
	}
	body := `{"access_token":"a-token","refresh_token":"r-token","expires_in":90,"refresh_expires_in":900}`
	h.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(body), Paste: true})
	if got := h.m.imp.fields[importBody].input.Value(); got != body {
		t.Fatalf("response field %q after a paste, want it whole", got)
	}
	// Typed fast (not a bracketed paste), a name still lands whole.
	h.keys("esc", "i", "quick-typed")
	if got := h.m.imp.fields[importName].input.Value(); got != "quick-typed" {
		t.Fatalf("name field %q after fast typing", got)
	}
}
