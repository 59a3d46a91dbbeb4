package ui

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/storage"
)

func TestListNavigation(t *testing.T) {
	tests := []struct {
		keys []string
		want string // selected session
	}{
		{nil, "acme-admin"},
		{[]string{"j"}, "billing-retry"},
		{[]string{"down", "down"}, "legacy-paused"},
		{[]string{"j", "k"}, "acme-admin"},
		{[]string{"up"}, "acme-admin"}, // stays at the top
		{[]string{"G"}, "viewer-dead"},
		{[]string{"end", "j"}, "viewer-dead"}, // stays at the bottom
		{[]string{"G", "g"}, "acme-admin"},
		{[]string{"pgdown"}, "viewer-dead"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.keys, ","), func(t *testing.T) {
			h := newHarness(t, 100, 30)
			h.keys(tt.keys...)
			se, ok := h.m.list.selected()
			if !ok || se.Name != tt.want {
				t.Fatalf("selected %q, want %q", se.Name, tt.want)
			}
			h.requireContains("▸ " + tt.want)
		})
	}
}

// manySessions makes n sessions named s00000, s00001, ...
func manySessions(n int) []auth.Session {
	ss := make([]auth.Session, n)
	for i := range ss {
		ss[i] = auth.Session{
			Name: fmt.Sprintf("s%05d", i), Email: fmt.Sprintf("user%d@example.com", i),
			User:     auth.User{UserID: int64(i), Email: fmt.Sprintf("user%d@example.com", i), RoleID: 1 + i%3, OrgUnitID: int64(1000 + i%7)},
			IssuedAt: fixedNow.Add(-time.Minute), AccessExpiry: fixedNow.Add(time.Duration(i%90) * time.Second),
			RefreshExpiry: fixedNow.Add(time.Hour), State: auth.StateOK,
			AccessFP: fmt.Sprintf("sha256:%08x", i), RefreshFP: fmt.Sprintf("sha256:%08x", i+1),
		}
	}
	return ss
}

// TestListRendersOnlyVisibleRows: the table is windowed, and the window
// follows the cursor.
func TestListRendersOnlyVisibleRows(t *testing.T) {
	h := newHarness(t, 100, 30, func(c *Config) { c.Sessions = manySessions(1000) })
	h.requireContains("s00000", "s00010")
	h.requireNotContains("s00100", "s00999")
	h.keys("G")
	h.requireContains("▸ s00999")
	h.requireNotContains("s00000")
	h.keys("pgup")
	if se, _ := h.m.list.selected(); se.Name >= "s00999" || se.Name < "s00970" {
		t.Fatalf("page up went to %s", se.Name)
	}
	requireFits(t, h.view(), 100, 30)
}

func TestFilter(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.keys("/")
	h.typeText("SUPPORT") // case does not matter
	h.requireContains("support-desk", "1 of 5")
	h.requireNotContains("acme-admin")
	h.keys("enter") // apply: keys act on the list again
	h.keys("enter") // opens the only match
	if h.m.screen != screenDetail || h.m.detail.name != "support-desk" {
		t.Fatalf("enter on the filtered list opened %q (screen %d)", h.m.detail.name, h.m.screen)
	}
	h.keys("esc") // back to the list, filter still on
	h.requireContains("1 of 5")
	h.keys("esc") // clears the filter
	h.requireContains("acme-admin", "support-desk", "viewer-dead")
	h.requireNotContains("of 5")
}

func TestFilterNoMatch(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.keys("/")
	h.typeText("zzz")
	h.requireContains(`No session matches "zzz"`)
}

func TestQuit(t *testing.T) {
	tests := []struct {
		name     string
		keys     []string
		wantQuit bool
	}{
		{"q on the list", []string{"q"}, true},
		{"ctrl+c on the list", []string{"ctrl+c"}, true},
		{"q in the filter", []string{"/", "q"}, false},
		{"ctrl+c in the filter", []string{"/", "ctrl+c"}, true},
		{"q in the login form", []string{"n", "q"}, false},
		{"q in the import form", []string{"i", "q"}, false},
		{"q in the raw revoke form", []string{"X", "q"}, false},
		{"ctrl+c in the login form", []string{"n", "ctrl+c"}, true},
		{"q in the inspector", []string{"enter", "q"}, true},
		{"q in a confirmation", []string{"x", "q"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, 100, 30)
			h.keys(tt.keys...)
			if h.quit != tt.wantQuit {
				t.Fatalf("quit = %v, want %v", h.quit, tt.wantQuit)
			}
			if tt.wantQuit && h.view() != "" {
				t.Fatalf("the last frame after quitting should be empty (the terminal is restored), got:\n%s", h.view())
			}
		})
	}
}

func TestRevokeConfirmFlow(t *testing.T) {
	tests := []struct {
		name        string
		keys        []string
		wantCalls   []string
		wantStatus  string
		wantRemains bool
	}{
		{"no", []string{"x", "n"}, nil, "", true},
		{"esc", []string{"x", "esc"}, nil, "", true},
		{"enter defaults to no", []string{"x", "enter"}, nil, "", true},
		{"yes", []string{"x", "y"}, []string{"revoke acme-admin"}, "acme-admin revoked at the server", false},
		{"switch then enter", []string{"x", "right", "enter"}, []string{"revoke acme-admin"}, "revoked at the server", false},
		{"forget yes", []string{"d", "y"}, []string{"forget acme-admin"}, "Nothing was revoked", false},
		{"forget no", []string{"d", "n"}, nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, 100, 30)
			h.keys(tt.keys...)
			if got := h.keeper.called(); strings.Join(got, ";") != strings.Join(tt.wantCalls, ";") {
				t.Fatalf("keeper calls %q, want %q", got, tt.wantCalls)
			}
			if h.m.dialog != nil {
				t.Fatal("the dialog is still open")
			}
			if tt.wantStatus != "" {
				h.requireContains(tt.wantStatus)
			}
			_, remains := h.m.session("acme-admin")
			if remains != tt.wantRemains {
				t.Fatalf("session still listed = %v, want %v", remains, tt.wantRemains)
			}
		})
	}
}

func TestRevokeFailureKeepsSession(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.keeper.err = &auth.APIError{Op: "revoke", Kind: auth.ErrServer, Status: 503, Message: "down"}
	h.keys("x", "y")
	h.requireContains("revoke acme-admin failed", "HTTP 503")
	if !strings.Contains(h.m.status.text, "the session is kept so you can retry") {
		t.Fatalf("status %q does not say the session was kept", h.m.status.text)
	}
	if _, ok := h.m.session("acme-admin"); !ok {
		t.Fatal("session gone after a failed revoke")
	}
}

func TestRevealMasksByDefault(t *testing.T) {
	h := newHarness(t, 100, 30)
	_, sec := tuiSessions()
	tok := sec["acme-admin"].AccessToken
	h.keys("enter")
	content := h.m.detail.content(fixedNow, time.UTC)
	if strings.Contains(content, tok) || strings.Contains(content, sec["acme-admin"].RefreshToken) {
		t.Fatal("a token is on screen before reveal")
	}
	if !strings.Contains(content, auth.Fingerprint(tok)) {
		t.Fatal("the masked view does not name the token by fingerprint")
	}
	h.keys("v")
	content = h.m.detail.content(fixedNow, time.UTC)
	if !strings.Contains(strings.ReplaceAll(strings.ReplaceAll(content, "\n", ""), " ", ""), tok) {
		t.Fatal("v did not reveal the access token")
	}
	h.keys("v")
	if strings.Contains(h.m.detail.content(fixedNow, time.UTC), tok[:40]) {
		t.Fatal("second v did not mask again")
	}
	h.keys("esc")
	if h.m.detail.secrets != nil {
		t.Fatal("the inspector kept the secrets after closing")
	}
}

func TestProbe(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.keeper.probe = auth.ProbeResult{Accepted: false, Status: 401, Message: "token expired", Meta: auth.Meta{RequestID: "req-9"}}
	h.keys("enter", "s")
	content := h.m.detail.content(fixedNow, time.UTC)
	for _, want := range []string{"REJECTED", "HTTP 401", "request id req-9", "token expired"} {
		if !strings.Contains(content, want) {
			t.Fatalf("probe result lacks %q:\n%s", want, content)
		}
	}
}

func TestCopy(t *testing.T) {
	_, sec := tuiSessions()
	tests := []struct {
		key, want string
		status    string // the fingerprint the status line names
	}{
		{"a", sec["acme-admin"].AccessToken, "access token " + auth.Fingerprint(sec["acme-admin"].AccessToken)},
		{"r", sec["acme-admin"].RefreshToken, "refresh token " + auth.Fingerprint(sec["acme-admin"].RefreshToken)},
		{"f", sec["acme-admin"].FrontendToken, "frontend token " + auth.Fingerprint(sec["acme-admin"].FrontendToken)},
		{"b", "Authorization: Bearer " + sec["acme-admin"].AccessToken,
			"Authorization: Bearer line with access token " + auth.Fingerprint(sec["acme-admin"].AccessToken)},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			h := newHarness(t, 200, 30)
			native := &fakeNative{}
			h.m.clipboard.Native = native
			h.keys("c")
			h.requireContains("Copy from acme-admin")
			h.keys(tt.key)
			osc := "\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte(tt.want)) + "\x07"
			if got := h.term.String(); got != osc {
				t.Fatalf("terminal got %q, want the OSC 52 sequence %q", got, osc)
			}
			if native.text != tt.want {
				t.Fatal("the system clipboard does not hold the copy")
			}
			h.requireContains("copied acme-admin "+tt.status+" to the system clipboard and sent it to the terminal's (OSC 52)", "cleared in 30s")
			h.requireNotContains(tt.want)
			// Both clipboards are emptied once the 30 s have passed, by the
			// model's clock, and only then.
			shown := tt.status[strings.LastIndex(tt.status, " ")+1:]
			h.send(tickMsg{now: fixedNow.Add(29 * time.Second)})
			if native.text != tt.want || h.term.String() != osc {
				t.Fatal("a clipboard was cleared before 30 s")
			}
			h.send(tickMsg{now: fixedNow.Add(30 * time.Second)})
			if native.text != "" {
				t.Fatal("system clipboard not cleared")
			}
			if got := h.term.String(); got != osc+emptyOSC52 {
				t.Fatalf("terminal got %q after 30 s, want the copy and then an empty OSC 52 %q", got, emptyOSC52)
			}
			h.requireContains("cleared the system and terminal clipboards (" + shown + ")")
			h.send(tickMsg{now: fixedNow.Add(90 * time.Second)})
			if got := h.term.String(); got != osc+emptyOSC52 {
				t.Fatalf("cleared more than once: %q", got)
			}
		})
	}
}

// A copy still on the clipboard when the TUI quits is cleared on the way
// out, not left there because no tick came.
func TestCopyClearedWhenQuittingEarly(t *testing.T) {
	_, sec := tuiSessions()
	h := newHarness(t, 200, 30)
	native := &fakeNative{}
	h.m.clipboard.Native = native
	if h.m.PendingClipboardClear() != nil {
		t.Fatal("a clean-up is owed before any copy")
	}
	h.keys("c", "a")
	if native.text != sec["acme-admin"].AccessToken {
		t.Fatal("the system clipboard does not hold the copy")
	}
	h.keys("q")
	clear := h.m.PendingClipboardClear()
	if clear == nil {
		t.Fatal("quitting 0 s after a copy owes no clean-up")
	}
	clear()
	if native.text != "" {
		t.Fatal("the system clipboard still holds the token after quitting")
	}
	if !strings.HasSuffix(h.term.String(), emptyOSC52) {
		t.Fatalf("the terminal's clipboard was not emptied: %q", h.term.String())
	}
}

func TestKeeperEvents(t *testing.T) {
	h := newHarness(t, 160, 30)
	h.send(keeperEventMsg{auth.Event{Time: fixedNow, Session: "acme-admin", Kind: auth.EventRefreshing}})
	h.requireContains("refreshing…")
	h.send(keeperEventMsg{auth.Event{Time: fixedNow, Session: "acme-admin", Kind: auth.EventRefreshed, OldFP: "sha256:a10003e9", NewFP: "sha256:00000002"}})
	h.requireContains("new sha256:00000002", "refreshed sha256:a10003e9 → sha256:00000002")
	// The note fades with time (the tick's time, not the wall clock).
	h.send(tickMsg{now: fixedNow.Add(noteFor + time.Second)})
	h.requireNotContains("new sha256:00000002")

	// A refresh that leaves a state (retrying, needs_login) leaves it to
	// the row in the words of `tokentop list`; the event's own words go on
	// the status line.
	h.send(keeperEventMsg{auth.Event{Time: fixedNow, Session: "billing-retry", Kind: auth.EventRetrying, Message: "server error (HTTP 503)", Status: 503}})
	h.requireContains("retrying, next attempt due now", "server error (HTTP 503)")
	h.requireNotContains("failed: server error")
}

func TestReuseBannerOffersRevoke(t *testing.T) {
	// The banner shows over the list and the inspector; R works on both,
	// for the banner's session whichever row or session is open.
	for _, open := range [][]string{nil, {"j", "enter"}} {
		t.Run(fmt.Sprintf("keys %v", open), func(t *testing.T) {
			h := newHarness(t, 100, 30)
			h.keys(open...)
			h.send(keeperEventMsg{auth.Event{Time: fixedNow, Session: "acme-admin", Kind: auth.EventReuseSuspected, Status: 401}})
			h.requireContains("REUSE SUSPECTED", "Press R to revoke now")
			h.keys("R")
			h.requireContains("Revoke acme-admin?")
			h.keys("y")
			if got := h.keeper.called(); len(got) != 1 || got[0] != "revoke acme-admin" {
				t.Fatalf("keeper calls %q", got)
			}
			h.requireNotContains("REUSE SUSPECTED")
		})
	}
}

func TestReuseBannerDismiss(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.send(keeperEventMsg{auth.Event{Time: fixedNow, Session: "acme-admin", Kind: auth.EventReuseSuspected}})
	h.keys("esc")
	h.requireNotContains("Press R to revoke now")
	h.keys("R") // no banner: nothing to revoke
	if h.m.dialog != nil {
		t.Fatal("R opened a dialog without a banner")
	}
}

func TestTickMovesCountdowns(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.requireContains("1m 02s")
	h.send(tickMsg{now: fixedNow.Add(time.Second)})
	h.requireContains("1m 01s")
	h.requireNotContains("1m 02s")
}

// TestOtherProcessWrites: a changed store stamp (another process refreshed
// or added a session) reloads the metadata.
func TestOtherProcessWrites(t *testing.T) {
	h := newHarness(t, 100, 30)
	lists := h.store.lists
	h.send(h.m.stampedTick(fixedNow.Add(time.Second)))
	if h.store.lists != lists {
		t.Fatal("reloaded although nothing changed")
	}
	se := auth.Session{Name: "from-script", Email: "x@example.com", AccessExpiry: fixedNow.Add(time.Hour), State: auth.StateOK}
	h.store.put(se, auth.Secrets{AccessToken: "x"})
	h.send(h.m.stampedTick(fixedNow.Add(2 * time.Second)))
	h.requireContains("from-script", "6 sessions")
}

func TestActions(t *testing.T) {
	tests := []struct {
		keys []string
		call string
	}{
		{[]string{"r"}, "refresh acme-admin"},
		{[]string{"p"}, "pause acme-admin true"},
		{[]string{"j", "j", "p"}, "pause legacy-paused false"},
		{[]string{"enter", "r"}, "refresh acme-admin"},
		{[]string{"enter", "p"}, "pause acme-admin true"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.keys, ","), func(t *testing.T) {
			h := newHarness(t, 100, 30)
			h.keys(tt.keys...)
			if got := h.keeper.called(); len(got) != 1 || got[0] != tt.call {
				t.Fatalf("keeper calls %q, want %q", got, tt.call)
			}
		})
	}
}

func TestRefreshFailureShowsReason(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.keeper.err = &auth.NeedsLoginError{Session: "acme-admin", Reason: auth.ReasonRefreshExpired}
	h.keys("r")
	h.requireContains("refresh acme-admin failed: needs a new login: refresh token expired")
}

func TestLoginForm(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.keys("n")
	h.typeText("new-session")
	h.keys("enter") // moves to the next empty field
	h.typeText("me@example.com")
	h.keys("enter")
	h.typeText("hunter2")
	h.requireNotContains("hunter2")
	h.keys("enter") // all filled: logs in
	if got := h.keeper.called(); len(got) != 1 || got[0] != "login new-session me@example.com" {
		t.Fatalf("keeper calls %q", got)
	}
	if h.m.screen != screenList {
		t.Fatal("still on the form after a good login")
	}
	if se, _ := h.m.list.selected(); se.Name != "new-session" {
		t.Fatalf("cursor on %q, want the new session", se.Name)
	}
	h.requireContains("logged in new-session")
}

// TestRelogin: n on a session that needs a login fills in its name and
// email, so only the password is left; on a healthy one the form is empty.
func TestRelogin(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.keys("G")
	h.requireContains("n log in again")
	h.keys("n") // viewer-dead needs a login
	h.requireContains("LOG IN AGAIN", "viewer-dead", "viewer@acme.example")
	h.typeText("pw")
	h.keys("enter")
	if got := h.keeper.called(); len(got) != 1 || got[0] != "login viewer-dead viewer@acme.example" {
		t.Fatalf("keeper calls %q", got)
	}

	h = newHarness(t, 100, 30)
	h.keys("n") // acme-admin is fine: a new login
	h.requireContains("NEW LOGIN")
	h.requireNotContains("LOG IN AGAIN")
	if v := h.m.login.fields[loginName].input.Value(); v != "" {
		t.Fatalf("name prefilled with %q for a new login", v)
	}
}

func TestLoginErrorsInline(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.keeper.err = fmt.Errorf("login: %w", auth.ErrInvalidCredentials)
	h.keys("n")
	h.typeText("s1")
	h.keys("tab")
	h.typeText("me@example.com")
	h.keys("tab")
	h.typeText("wrong")
	h.keys("ctrl+s")
	h.requireContains("✗ wrong email or password")
	if h.m.login.focus != loginPassword || h.m.login.fields[loginPassword].input.Value() != "" {
		t.Fatal("the password field should be focused and empty after a wrong password")
	}
	h.keys("esc")
	if h.m.screen != screenList {
		t.Fatal("esc did not leave the form")
	}
}

func TestLoginRateLimitCountdown(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.keeper.err = &auth.APIError{Op: "login", Kind: auth.ErrRateLimited, Status: 429, RetryAfter: 30 * time.Second}
	h.keys("n")
	h.typeText("s1")
	h.keys("tab")
	h.typeText("me@example.com")
	h.keys("tab")
	h.typeText("pw")
	h.keys("ctrl+s")
	h.m.login.retryAt = fixedNow.Add(30 * time.Second)
	h.send(tickMsg{now: fixedNow.Add(10 * time.Second)})
	h.requireContains("retry in 20s")
	h.keys("ctrl+s") // too early: not sent again
	if n := len(h.keeper.called()); n != 1 {
		t.Fatalf("%d login calls, want 1 (the second is refused until the retry time)", n)
	}
	h.send(tickMsg{now: fixedNow.Add(31 * time.Second)})
	h.requireNotContains("retry in")
}

func TestImportForm(t *testing.T) {
	body := fmt.Sprintf(`{"access_token":"secret-access-value","refresh_token":"secret-refresh-value","expires_in":%q,"refresh_expires_in":%q,"user":{"user_id":7,"email":"pasted@example.com","role_id":2,"org_unit_id":77}}`,
		fixedNow.Add(time.Hour).Format(time.RFC3339), fixedNow.Add(24*time.Hour).Format(time.RFC3339))
	// The response is the field after the name; a response pasted into any
	// other field lands there too, hidden, instead of being echoed.
	for _, move := range [][]string{{"tab"}, {}, {"tab", "tab"}, {"tab", "tab", "tab"}} {
		t.Run(fmt.Sprintf("tab×%d", len(move)), func(t *testing.T) {
			h := newHarness(t, 100, 30)
			h.keys("i")
			h.requireContains("IMPORT A TOKEN RESPONSE")
			h.typeText("imp")
			h.keys(move...)
			h.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(body), Paste: true})
			// The pasted response holds live tokens: never echoed, only described.
			h.requireNotContains("secret-access-value", "secret-refresh-value", "user_id")
			h.requireContains("pasted@example.com", auth.Fingerprint("secret-access-value"), auth.Fingerprint("secret-refresh-value"),
				"expires in 1h 00m", "expires in 1d 00h")
			h.keys("ctrl+s")
			got := h.keeper.called()
			// Not --keep-alive: a pasted pair is someone else's.
			if len(got) != 1 || got[0] != "import imp "+body {
				t.Fatalf("keeper calls %q", got)
			}
			h.requireContains("imported imp", "paused (watch-only", "press p")
		})
	}
}

func TestRawRevoke(t *testing.T) {
	h := newHarness(t, 100, 30)
	const tok = "leaked-refresh-token-value"
	h.keys("X")
	h.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(tok), Paste: true})
	h.requireNotContains(tok)
	h.requireContains(auth.Fingerprint(tok))
	h.keys("tab", "right") // choose refresh
	h.keys("ctrl+s")
	h.requireContains("Revoke this refresh token?", auth.Fingerprint(tok))
	if got := h.keeper.called(); len(got) != 0 {
		t.Fatalf("revoked before confirmation: %q", got)
	}
	h.keys("y")
	want := "revoke-token http://127.0.0.1:8787 refresh " + auth.Fingerprint(tok)
	if got := h.keeper.called(); len(got) != 1 || got[0] != want {
		t.Fatalf("keeper calls %q, want %q", got, want)
	}
	h.requireContains("revoked refresh token " + auth.Fingerprint(tok))
}

// X on a token a saved session holds: it goes to that session's OAuth URL
// (not the form's default), through the keeper, which marks the session,
// so its row says needs_login (revoked) rather than ok, and its next 401
// cannot read as a theft.
func TestRawRevokeOfASavedSessionsToken(t *testing.T) {
	h := newHarness(t, 200, 30)
	h.m.endpoints = auth.Endpoints{OAuthURL: auth.DefaultOAuthURL, APIURL: auth.DefaultAPIURL}
	se, _ := h.m.session("acme-admin")
	const tok = "the-refresh-token-of-acme-admin"
	se.Endpoints.OAuthURL = "http://127.0.0.1:9999"
	se.RefreshFP = auth.Fingerprint(tok)
	h.store.put(se, auth.Secrets{AccessToken: "a", RefreshToken: tok})
	h.send(tickMsg{now: fixedNow, stamp: "changed"}) // reload
	h.keys("X")
	h.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(tok), Paste: true})
	h.requireContains("refresh token of saved session acme-admin")
	h.keys("ctrl+s")
	h.requireContains("Revoke this refresh token?", "http://127.0.0.1:9999")
	h.keys("y")
	want := "revoke-token http://127.0.0.1:9999 refresh " + auth.Fingerprint(tok)
	if got := h.keeper.called(); len(got) != 1 || got[0] != want {
		t.Fatalf("keeper calls %q, want %q", got, want)
	}
	h.requireContains("session acme-admin now needs a new login", "needs_login (revoked)")
}

func TestHelpToggle(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.requireNotContains("revoke pasted token")
	h.keys("?")
	h.requireContains("revoke pasted token", "forget locally", "page down")
	requireFits(t, h.view(), 100, 30)
	h.keys("?")
	h.requireNotContains("revoke pasted token")
}

func TestNarrowDropsColumns(t *testing.T) {
	for _, w := range []int{40, 60, 80, 100, 120, 160} {
		h := newHarness(t, w, 24)
		requireFits(t, h.view(), w, 24)
		v := h.view()
		if !strings.Contains(v, "NAME") || !strings.Contains(v, "ACCESS") {
			t.Errorf("width %d lost NAME or ACCESS:\n%s", w, v)
		}
		if w >= 120 && (!strings.Contains(v, "ROLE") || !strings.Contains(v, "ORG")) {
			t.Errorf("width %d should show every column:\n%s", w, v)
		}
	}
}

// TestStatusHoldsActionResult: routine refreshes do not push the answer to
// a user's action off the status line at once; failures always show.
func TestStatusHoldsActionResult(t *testing.T) {
	h := newHarness(t, 160, 30)
	h.keys("c", "a")
	h.requireContains("sent acme-admin access token")
	h.send(keeperEventMsg{auth.Event{Time: fixedNow, Session: "support-desk", Kind: auth.EventRefreshed, NewFP: "sha256:00000009"}})
	h.requireContains("sent acme-admin access token")
	h.send(tickMsg{now: fixedNow.Add(statusHold)})
	h.send(keeperEventMsg{auth.Event{Time: fixedNow, Session: "support-desk", Kind: auth.EventRefreshed, NewFP: "sha256:0000000a"}})
	h.requireContains("support-desk refreshed")

	h.keys("c", "a")
	h.send(keeperEventMsg{auth.Event{Time: fixedNow, Session: "billing-retry", Kind: auth.EventNeedsLogin, Reason: auth.ReasonRejected}})
	h.requireContains("billing-retry needs a new login")
}

// TestTinyTerminals: every screen survives tiny and odd sizes without a
// line wider than the terminal.
func TestTinyTerminals(t *testing.T) {
	screens := [][]string{nil, {"enter"}, {"x"}, {"c"}, {"n"}, {"i"}, {"X"}, {"?"}, {"/"}}
	for _, sz := range []struct{ w, h int }{{60, 1}, {60, 2}, {100, 3}, {20, 5}, {30, 8}, {45, 12}, {80, 6}} {
		for _, keys := range screens {
			h := newHarness(t, sz.w, sz.h)
			h.keys(keys...)
			v := h.view()
			for i, l := range strings.Split(v, "\n") {
				if w := ansi.StringWidth(l); w > sz.w {
					t.Errorf("%dx%d %v: line %d is %d wide: %q", sz.w, sz.h, keys, i+1, w, l)
				}
			}
			if n := strings.Count(v, "\n") + 1; n > sz.h {
				t.Errorf("%dx%d %v: %d lines", sz.w, sz.h, keys, n)
			}
			if !strings.HasPrefix(v, "tokentop") {
				t.Errorf("%dx%d %v: the header is gone:\n%s", sz.w, sz.h, keys, v)
			}
		}
	}
}

// TestRotationByAnotherProcess: a script rotating a session while the TUI
// is open shows as the new fingerprint, never as our own older news.
func TestRotationByAnotherProcess(t *testing.T) {
	h := newHarness(t, 160, 30)
	h.send(keeperEventMsg{auth.Event{Time: fixedNow, Session: "acme-admin", Kind: auth.EventRefreshed, OldFP: "sha256:a10003e9", NewFP: "sha256:00000002"}})
	h.requireContains("new sha256:00000002")

	se := h.store.sessions["acme-admin"]
	se.AccessFP = "sha256:0000000c"
	h.store.put(se, h.store.secrets["acme-admin"])
	h.send(h.m.stampedTick(fixedNow.Add(time.Second)))
	h.requireContains("new sha256:0000000c", "acme-admin has a new access token sha256:0000000c")
	h.requireNotContains("new sha256:00000002")
}

// TestPauseClearsNote: after p the row says paused, not the last refresh.
func TestPauseClearsNote(t *testing.T) {
	h := newHarness(t, 160, 30)
	h.send(keeperEventMsg{auth.Event{Time: fixedNow, Session: "acme-admin", Kind: auth.EventRefreshed, OldFP: "sha256:a10003e9", NewFP: "sha256:00000002"}})
	se := h.store.sessions["acme-admin"]
	se.State, se.Paused = auth.StatePaused, true
	h.store.put(se, h.store.secrets["acme-admin"])
	h.send(keeperEventMsg{auth.Event{Time: fixedNow, Session: "acme-admin", Kind: auth.EventPaused, Message: "auto-refresh paused"}})
	h.requireNotContains("new sha256:00000002")
	if !strings.Contains(h.view(), "acme-admin") || !regexp.MustCompile(`acme-admin .*paused`).MatchString(h.view()) {
		t.Fatalf("row does not say paused:\n%s", h.view())
	}
}

// TestStatusHoldsTheAnswer: the answer to a user's action stays on the
// status line against the keeper's echo of it and routine news, but not
// against urgent news.
func TestStatusHoldsTheAnswer(t *testing.T) {
	h := newHarness(t, 160, 30)
	h.keys("j", "d", "y")
	h.requireContains("billing-retry forgotten locally")
	h.send(keeperEventMsg{auth.Event{Time: fixedNow, Session: "billing-retry", Kind: auth.EventForgotten, Message: "removed the local copy"}})
	h.send(keeperEventMsg{auth.Event{Time: fixedNow, Session: "acme-admin", Kind: auth.EventRefreshed, OldFP: "sha256:a10003e9", NewFP: "sha256:00000002"}})
	h.requireContains("billing-retry forgotten locally")
	h.send(keeperEventMsg{auth.Event{Time: fixedNow, Session: "acme-admin", Kind: auth.EventNeedsLogin, Reason: auth.ReasonRevoked}})
	h.requireContains("acme-admin needs a new login: revoked")
	// Urgent news keeps the hold: routine news still waits.
	h.send(keeperEventMsg{auth.Event{Time: fixedNow, Session: "support-desk", Kind: auth.EventRefreshed, OldFP: "sha256:a10007d2", NewFP: "sha256:00000003"}})
	h.requireContains("acme-admin needs a new login: revoked")
	// Once the hold is over, routine news shows again.
	h.send(tickMsg{now: fixedNow.Add(statusHold + time.Second)})
	h.send(keeperEventMsg{auth.Event{Time: fixedNow, Session: "support-desk", Kind: auth.EventRefreshed, OldFP: "sha256:a10007d2", NewFP: "sha256:00000004"}})
	h.requireContains("support-desk refreshed")
}

// The login form's name check is storage's rule: a name storage refuses is
// refused in the form, before anything is sent.
func TestFormNameCheckIsStoragesRule(t *testing.T) {
	for _, name := range []string{"ok-name", ".hidden", "-flag", "a b", strings.Repeat("x", 65), "x.y_z-1"} {
		if got, want := checkName(name) == "", storage.ValidateName(name) == nil; got != want {
			t.Errorf("checkName(%q) accepts = %v, storage accepts = %v", name, got, want)
		}
	}
}
