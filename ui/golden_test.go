package ui

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/safetext"
)

// goldenSizes are the terminal sizes every screen is pinned at: narrow,
// usual and wide.
var goldenSizes = []struct{ w, h int }{{60, 20}, {120, 30}, {200, 40}}

// goldenSkew is the server's clock minus ours in every golden screen: the
// countdowns are on the server's clock, and a view that used ours would
// show.
const goldenSkew = -45 * time.Second

// skewed puts the server's clock goldenSkew from ours for every session.
func skewed(c *Config) {
	st := c.Store.(*fakeStore)
	for i := range c.Sessions {
		c.Sessions[i].ClockSkew = goldenSkew
		st.sessions[c.Sessions[i].Name] = c.Sessions[i]
	}
}

// TestGolden pins every screen's View at 60x20, 120x30 and 200x40 with a
// fixed, skewed clock and no colour. Regenerate with:
// go test ./ui -run TestGolden -update (and read each diff).
func TestGolden(t *testing.T) {
	screens := []struct {
		name  string
		opts  []harnessOpt
		setup func(h *harness)
	}{
		{name: "list", setup: func(h *harness) {
			// A refresh in flight and one just done, as the keeper reports them.
			h.send(keeperEventMsg{auth.Event{Time: fixedNow, Session: "support-desk", Kind: auth.EventRefreshing}})
			h.send(keeperEventMsg{auth.Event{Time: fixedNow, Session: "acme-admin", Kind: auth.EventRefreshed,
				OldFP: "sha256:a10003e9", NewFP: "sha256:a1b2c3d4", Status: 200, RequestID: "req-42"}})
		}},
		{name: "list_scrolled", setup: func(h *harness) { h.keys("G") }},
		{name: "list_many", opts: []harnessOpt{func(c *Config) {
			c.Sessions = manySessions(60)
			c.Sessions[3].LastError = "server error (HTTP 503)"
			c.Sessions[3].State = "retrying"
		}}, setup: func(h *harness) { h.keys("jjjjjjjjjjjj") }},
		{name: "list_sorted_expiry", setup: func(h *harness) { h.keys("o") }},
		{name: "list_sorted_state", setup: func(h *harness) { h.keys("oo") }},
		{name: "list_keyring_unavailable", opts: []harnessOpt{func(c *Config) {
			c.Store.(*fakeStore).backend = "keyring"
			c.Store.(*fakeStore).secretsErr = errors.New("the Secret Service is not running (no org.freedesktop.secrets on the session bus)")
		}}, setup: func(h *harness) { h.send(h.run(h.m.Init())...) }},
		{name: "list_filter", setup: func(h *harness) { h.keys("/"); h.typeText("acme") }},
		{name: "list_filter_applied", setup: func(h *harness) { h.keys("/"); h.typeText("2002"); h.keys("enter") }},
		{name: "list_empty", opts: []harnessOpt{func(c *Config) { c.Sessions = nil }}},
		{name: "list_help", setup: func(h *harness) { h.keys("?") }},
		{name: "list_file_skew", opts: []harnessOpt{func(c *Config) {
			c.Store.(*fakeStore).backend = "file"
			c.Sessions[0].ClockSkew = 42 * time.Second
		}}},
		{name: "list_demo", opts: []harnessOpt{func(c *Config) {
			c.DemoURL = "http://127.0.0.1:40123"
			c.Status = "demo: n logs in as demo@example.com / demo-password · curl http://127.0.0.1:40123/_emulator/stats"
		}}},
		{name: "reuse_banner", setup: func(h *harness) {
			h.send(keeperEventMsg{auth.Event{Time: fixedNow, Session: "acme-admin", Kind: auth.EventReuseSuspected, Status: 401, RequestID: "req-7"}})
		}},
		{name: "detail", setup: func(h *harness) {
			h.keys("enter")
			h.send(probeMsg{name: "acme-admin", at: fixedNow.Add(-5 * time.Second), result: auth.ProbeResult{
				Accepted: true, Status: 200, User: auth.User{UserID: 5001, Email: "admin@acme.example", RoleID: 1, OrgUnitID: 1001},
				Meta: auth.Meta{Status: 200, RequestID: "req-probe"}}})
		}},
		{name: "detail_bottom", setup: func(h *harness) {
			h.store.events["acme-admin"] = []auth.Event{
				{Time: time.Date(2025, 11, 3, 9, 15, 0, 0, time.UTC), Session: "acme-admin", Kind: auth.EventImported, NewFP: "sha256:9f000000"},
				{Time: fixedNow.Add(-50 * time.Hour), Session: "acme-admin", Kind: auth.EventPaused, Message: "paused"},
				{Time: fixedNow.Add(-2 * time.Hour), Session: "acme-admin", Kind: auth.EventLogin, NewFP: "sha256:a0000000"},
				{Time: fixedNow.Add(-30 * time.Second), Session: "acme-admin", Kind: auth.EventRefreshed, OldFP: "sha256:a0000000", NewFP: "sha256:a1001001", Status: 200, RequestID: "req-1"},
				{Time: fixedNow.Add(-10 * time.Second), Session: "acme-admin", Kind: auth.EventFailed, Message: "probe: token rejected", Status: 401},
			}
			h.keys("enter", "G")
		}},
		// A session imported from a hostile token response: claim names
		// and values, header, email, last error, probe answer and audit
		// events all try to set the clipboard, retitle the window, clear
		// the screen or reverse text. Every one shows escaped.
		{name: "detail_hostile", opts: []harnessOpt{hostileSession}, setup: func(h *harness) {
			h.keys("enter")
			h.send(probeMsg{name: "acme-admin", at: fixedNow.Add(-5 * time.Second), result: auth.ProbeResult{
				Accepted: false, Status: 401, Message: "nope " + hostileTitle,
				User: auth.User{UserID: 5001, Email: "a" + hostileOSC52 + "@x", RoleID: 1},
				Meta: auth.Meta{Status: 401, RequestID: "req" + hostileC1}}})
		}},
		{name: "detail_hostile_bottom", opts: []harnessOpt{hostileSession}, setup: func(h *harness) {
			h.keys("enter")
			h.send(probeMsg{name: "acme-admin", at: fixedNow.Add(-5 * time.Second), result: auth.ProbeResult{
				Accepted: false, Status: 401, Message: "nope " + hostileTitle,
				User: auth.User{UserID: 5001, Email: "a" + hostileOSC52 + "@x", RoleID: 1},
				Meta: auth.Meta{Status: 401, RequestID: "req" + hostileC1}}})
			h.keys("G")
		}},
		{name: "list_hostile", opts: []harnessOpt{hostileSession}, setup: func(h *harness) {
			h.send(keeperEventMsg{auth.Event{Time: fixedNow, Session: "acme-admin", Kind: auth.EventFailed,
				Message: "refresh: " + hostileClear + hostileBidi, RequestID: hostileTitle, Status: 500}})
		}},
		{name: "detail_opaque_revealed", setup: func(h *harness) { h.keys("j", "j", "j", "enter", "v") }},
		{name: "confirm_revoke", setup: func(h *harness) { h.keys("x") }},
		{name: "confirm_forget", setup: func(h *harness) { h.keys("j", "d") }},
		{name: "copy_menu", setup: func(h *harness) { h.keys("c") }},
		{name: "login", setup: func(h *harness) { h.keys("n") }},
		{name: "login_again", setup: func(h *harness) { h.keys("G", "n") }},
		{name: "login_errors", setup: func(h *harness) {
			h.keys("n")
			h.typeText("bad name!")
			h.keys("ctrl+s")
		}},
		{name: "login_rate_limited", setup: func(h *harness) {
			h.keeper.err = &auth.APIError{Op: "login", Kind: auth.ErrRateLimited, Status: 429, RetryAfter: 42 * time.Second}
			h.keys("n")
			h.typeText("acme")
			h.keys("tab")
			h.typeText("admin@acme.example")
			h.keys("tab")
			h.typeText("secret")
			h.keys("ctrl+s")
			// The countdown runs from the answer's time; pin it.
			h.m.login.retryAt = fixedNow.Add(42 * time.Second)
			h.send(tickMsg{now: fixedNow.Add(2 * time.Second)})
		}},
		{name: "import", setup: func(h *harness) { h.keys("i") }},
		{name: "import_expired_access", setup: func(h *harness) {
			h.keys("i")
			h.typeText("yesterday")
			h.keys("tab")
			h.send(tea.KeyMsg{Type: tea.KeyRunes, Paste: true, Runes: []rune(fmt.Sprintf(
				`{"access_token":"old-access","refresh_token":"live-refresh","expires_in":%q,"refresh_expires_in":%q,"user":{"user_id":7,"email":"pasted@example.com","role_id":2,"org_unit_id":77}}`,
				fixedNow.Add(-time.Hour).Format(time.RFC3339), fixedNow.Add(20*time.Hour).Format(time.RFC3339)))})
		}},
		{name: "import_error", setup: func(h *harness) {
			h.keys("i")
			h.typeText("new-one")
			h.keys("tab")
			h.typeText("not json")
			h.keys("ctrl+s")
		}},
		{name: "raw_revoke", setup: func(h *harness) {
			h.keys("X")
			h.typeText(testJWT(fmt.Sprintf(`{"exp":%d}`, fixedNow.Add(time.Hour).Unix())))
			h.keys("tab", "right")
		}},
		{name: "raw_revoke_confirm", setup: func(h *harness) {
			h.keys("X")
			h.typeText("leaked-opaque-token-value")
			h.keys("ctrl+s")
		}},
	}
	for _, sc := range screens {
		for _, sz := range goldenSizes {
			t.Run(fmt.Sprintf("%s/%dx%d", sc.name, sz.w, sz.h), func(t *testing.T) {
				h := newHarness(t, sz.w, sz.h, append([]harnessOpt{skewed}, sc.opts...)...)
				if sc.setup != nil {
					sc.setup(h)
				}
				v := h.view()
				requireFits(t, v, sz.w, sz.h)
				requireInertView(t, v)
				golden.RequireEqual(t, []byte(v))
			})
		}
	}
}

// requireFits checks the frame is exactly h lines, none wider than w: a
// line that wraps would scroll the whole screen.
func requireFits(t *testing.T, v string, w, h int) {
	t.Helper()
	lines := strings.Split(v, "\n")
	if len(lines) != h {
		t.Errorf("frame has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if lw := ansi.StringWidth(l); lw > w {
			t.Errorf("line %d is %d cells wide (max %d): %q", i+1, lw, w, l)
		}
	}
}

// The hostile pieces: OSC 52 (set the clipboard), OSC 0 (retitle the
// window), CSI 2J (clear the screen), the one-rune C1 CSI, and bidi
// overrides, isolates and marks.
const (
	hostileOSC52 = "\x1b]52;c;aGFja2Vk\x07"
	hostileTitle = "\x1b]0;owned\x07"
	hostileClear = "\x1b[2J"
	hostileC1    = "\u009b2J"
	hostileBidi  = "\u202egnp.exe\u202c\u2066x\u2069\u200f"
)

// hostileJWT carries every hostile piece in its header, claim names and
// claim values, nested ones too.
func hostileJWT(exp int64) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	header := map[string]any{"alg": "HS256", "typ": "JWT" + hostileClear, "kid": hostileC1}
	claims := map[string]any{
		hostileOSC52:          "clip",
		hostileTitle + "name": hostileClear,
		"sub":                 hostileC1 + hostileBidi,
		"roles":               []any{"ok", hostileBidi},
		"exp":                 exp,
	}
	return enc(header) + "." + enc(claims) + ".c2ln"
}

// hostileSession makes acme-admin a session imported from a hostile token
// response, with a damaged sessions.json and audit log to match.
func hostileSession(c *Config) {
	st := c.Store.(*fakeStore)
	se := c.Sessions[0]
	se.User.Email = "admin" + hostileOSC52 + "@acme.example"
	se.Email = se.User.Email
	se.LastError = "refresh: server error (HTTP 500: " + hostileClear + hostileBidi + ")"
	se.Endpoints.APIURL += hostileC1
	c.Sessions[0] = se
	st.sessions[se.Name] = se
	sec := st.secrets[se.Name]
	sec.AccessToken = hostileJWT(se.AccessExpiry.Unix())
	st.secrets[se.Name] = sec
	st.events[se.Name] = []auth.Event{
		{Time: fixedNow.Add(-time.Minute), Session: se.Name, Kind: auth.EventFailed, Status: 500,
			Message: "refresh: " + hostileTitle + hostileBidi, RequestID: "req" + hostileOSC52},
	}
}

// requireInertView fails when a view, drawn without colour, holds anything
// that would act on a terminal: every escape sequence in it came from data.
func requireInertView(t testing.TB, v string) {
	t.Helper()
	if !utf8.ValidString(v) {
		t.Fatalf("view is not UTF-8:\n%q", v)
	}
	for i, r := range v {
		if r != '\n' && safetext.Unsafe(r) {
			t.Fatalf("view holds %U at byte %d:\n%q", r, i, v)
		}
	}
}

// FuzzViewsAreInert: whatever a session's email, last error, token claims,
// audit events and the server's probe answer hold, the list, the status
// line and the inspector (top and bottom) draw nothing that would act on
// a terminal.
func FuzzViewsAreInert(f *testing.F) {
	f.Add("admin"+hostileOSC52+"@x", hostileClear+hostileBidi, `{"`+hostileTitle+`":"`+hostileC1+`"}`, "msg\x1b]0;t\x07")
	f.Add("\u2028\u0085", "\xff\xfe", `{"a":[{"b":"\u202e"}],"exp":1775822462}`, "\u061c")
	f.Fuzz(func(t *testing.T, email, lastErr, claims, message string) {
		enc := base64.RawURLEncoding.EncodeToString
		h := newHarness(t, 80, 24, func(c *Config) {
			st := c.Store.(*fakeStore)
			se := c.Sessions[0]
			se.Email, se.User.Email, se.LastError = email, email, lastErr
			c.Sessions[0] = se
			st.sessions[se.Name] = se
			sec := st.secrets[se.Name]
			sec.AccessToken = enc([]byte(`{"alg":"HS256","x":`+jsonString(message)+`}`)) + "." + enc([]byte(claims)) + ".c2ln"
			sec.RefreshToken = message
			st.secrets[se.Name] = sec
			st.events[se.Name] = []auth.Event{{Time: fixedNow, Session: se.Name, Kind: auth.EventKind(message), Message: message, RequestID: message}}
		})
		h.send(keeperEventMsg{auth.Event{Time: fixedNow, Session: "acme-admin", Kind: auth.EventFailed, Message: message, RequestID: message}})
		requireInertView(t, h.view())
		h.keys("enter")
		h.send(probeMsg{name: "acme-admin", at: fixedNow, result: auth.ProbeResult{Status: 401, Message: message,
			User: auth.User{Email: email}, Meta: auth.Meta{RequestID: message}}})
		requireInertView(t, h.view())
		h.keys("v", "G")
		requireInertView(t, h.view())
	})
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
