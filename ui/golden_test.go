package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/tokentop/tokentop/auth"
)

// goldenSizes are the two terminal sizes every screen is pinned at.
var goldenSizes = []struct{ w, h int }{{100, 30}, {60, 20}}

// TestGolden pins every screen's View at 100x30 and 60x20 with a fixed
// clock and no colour. Regenerate with: go test ./ui -run TestGolden -update
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
				{Time: fixedNow.Add(-2 * time.Hour), Session: "acme-admin", Kind: auth.EventLogin, NewFP: "sha256:a0000000"},
				{Time: fixedNow.Add(-30 * time.Second), Session: "acme-admin", Kind: auth.EventRefreshed, OldFP: "sha256:a0000000", NewFP: "sha256:a1001001", Status: 200, RequestID: "req-1"},
				{Time: fixedNow.Add(-10 * time.Second), Session: "acme-admin", Kind: auth.EventFailed, Message: "probe: token rejected", Status: 401},
			}
			h.keys("enter", "G")
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
				h := newHarness(t, sz.w, sz.h, sc.opts...)
				if sc.setup != nil {
					sc.setup(h)
				}
				v := h.view()
				requireFits(t, v, sz.w, sz.h)
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
