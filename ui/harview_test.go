package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/tokentop/tokentop/har"
)

// hostileHAR is a small, fixed HAR (so fingerprints and times are the same
// on every run) with a login, two refreshes of one token (a reuse), a 429
// and an API call, whose URLs, headers, e-mail and request ids carry
// terminal control sequences.
func hostileHARBytes(t testing.TB) []byte {
	t0 := time.Date(2026, 4, 10, 11, 0, 0, 0, time.UTC)
	type nv = map[string]string
	entry := func(i int, method, url string, reqHeaders []nv, post string, status int, respHeaders []nv, body string) map[string]any {
		e := map[string]any{
			"startedDateTime": t0.Add(time.Duration(i) * 7 * time.Second).Format(time.RFC3339Nano),
			"time":            120,
			"request":         map[string]any{"method": method, "url": url, "headers": reqHeaders, "cookies": []nv{}, "queryString": []nv{}},
			"response": map[string]any{"status": status, "headers": append(respHeaders, nv{"name": "Date", "value": t0.Add(time.Duration(i) * 7 * time.Second).Format(time.RFC1123)}),
				"cookies": []nv{}, "content": map[string]any{"size": len(body), "mimeType": "application/json", "text": body}},
		}
		if post != "" {
			e["request"].(map[string]any)["postData"] = map[string]any{"mimeType": "application/json", "text": post}
		}
		return e
	}
	pair := func(n int) string {
		return fmt.Sprintf(`{"access_token":"access%02d-AAAAAAAAAAAAAAAAAAAAAAAAAAAA","refresh_token":"refresh%02d-RRRRRRRRRRRRRRRRRRRRRRRRRRRR","frontend_token":"front%02dffffffffffffffffffffffff","expires_in":%q,"refresh_expires_in":%q}`,
			n, n, n, t0.Add(time.Hour).Format(time.RFC3339), t0.Add(48*time.Hour).Format(time.RFC3339))
	}
	oauth := "https://platform-oauth.convirza.com"
	rid := func(s string) []nv { return []nv{{"name": "X-Request-Id", "value": s}} }
	entries := []any{
		entry(0, "POST", oauth+"/oauth/token", nil, `{"email":`+jsonQuote("admin"+hostileOSC52+"@acme.example")+`,"password":"hunter2-hunter2"}`, 200, rid("req-1"+hostileTitle), pair(1)),
		entry(1, "POST", oauth+"/oauth/refresh-token", nil, `{"refresh_token":"refresh01-RRRRRRRRRRRRRRRRRRRRRRRRRRRR"}`, 200, rid("req-2"+hostileBidi), pair(2)),
		entry(2, "POST", oauth+"/oauth/refresh-token", nil, `{"refresh_token":"refresh01-RRRRRRRRRRRRRRRRRRRRRRRRRRRR"}`, 401, rid("req-3"+hostileClear), `{"message":"Invalid refresh token`+hostileC1+`"}`),
		entry(3, "POST", oauth+"/oauth/refresh-token", nil, `{"refresh_token":"refresh02-RRRRRRRRRRRRRRRRRRRRRRRRRRRR"}`, 429, []nv{{"name": "Retry-After", "value": "30" + hostileOSC52}}, `{}`),
		entry(4, "GET", "https://platform-api.convirza.com/v3/calls?q="+hostileClear+hostileBidi,
			[]nv{{"name": "Authorization", "value": "Bearer access02-AAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, {"name": "X-Evil" + hostileTitle, "value": hostileC1}}, "", 200, nil, `{"data":[]}`),
	}
	doc, err := json.Marshal(map[string]any{"log": map[string]any{"version": "1.2", "creator": map[string]any{"name": "test"}, "entries": entries}})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func hostileHAR(t testing.TB) *har.Report {
	rep, err := har.Analyze(bytes.NewReader(hostileHARBytes(t)))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func jsonQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func harKeyMsg(k string) tea.KeyMsg {
	switch k {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "pgdown":
		return tea.KeyMsg{Type: tea.KeyPgDown}
	case "pgup":
		return tea.KeyMsg{Type: tea.KeyPgUp}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

func harViewAt(t *testing.T, w, h int, keys ...string) (*HarView, bool) {
	v := NewHarView(asciiStyles(), "customer"+hostileTitle+".har", hostileHAR(t))
	v.Update(tea.WindowSizeMsg{Width: w, Height: h})
	quit := false
	for _, k := range keys {
		_, cmd := v.Update(harKeyMsg(k))
		if cmd != nil {
			if _, ok := cmd().(tea.QuitMsg); ok {
				quit = true
			}
		}
	}
	return v, quit
}

// TestHarViewGolden pins the HAR view at 60x20, 120x30 and 200x40, with a
// hostile HAR: nothing from the file may act on the terminal.
func TestHarViewGolden(t *testing.T) {
	for _, sc := range []struct {
		name string
		keys []string
	}{
		{"timeline", nil},
		{"timeline_detail", []string{"down", "enter"}},
		{"tokens", []string{"2"}},
		{"tokens_detail", []string{"tab", "down", "down", "enter"}},
		{"findings", []string{"3"}},
		{"findings_detail", []string{"3", "enter"}},
		{"filter", []string{"2", "/", "r", "e", "f"}},
		{"filter_applied", []string{"2", "/", "r", "e", "f", "enter"}},
		{"help", []string{"?"}},
	} {
		for _, sz := range goldenSizes {
			t.Run(fmt.Sprintf("%s/%dx%d", sc.name, sz.w, sz.h), func(t *testing.T) {
				v, _ := harViewAt(t, sz.w, sz.h, sc.keys...)
				out := v.View()
				requireFits(t, out, sz.w, sz.h)
				requireInertView(t, out)
				golden.RequireEqual(t, []byte(out))
			})
		}
	}
}

func TestHarViewKeys(t *testing.T) {
	v, _ := harViewAt(t, 120, 30)
	if v.pane != paneTimeline || len(v.rows[paneTimeline]) != 4 || len(v.rows[paneFindings]) == 0 {
		t.Fatalf("pane %d, %d exchanges, %d findings", v.pane, len(v.rows[paneTimeline]), len(v.rows[paneFindings]))
	}
	v, _ = harViewAt(t, 120, 30, "down", "down", "down", "down", "down")
	if v.cursor[paneTimeline] != 3 {
		t.Errorf("cursor %d after 5 downs over 4 rows, want 3", v.cursor[paneTimeline])
	}
	v, _ = harViewAt(t, 120, 30, "tab", "tab", "tab")
	if v.pane != paneTimeline {
		t.Errorf("tab x3 gave pane %d", v.pane)
	}
	v, _ = harViewAt(t, 120, 30, "2", "/", "r", "e", "f", "r", "e", "s", "h", "enter")
	for _, r := range v.visible() {
		if !strings.Contains(r.cells, "refresh") {
			t.Errorf("filter kept %q", r.cells)
		}
	}
	if v, _ = harViewAt(t, 120, 30, "2", "/", "x", "esc"); v.applied != "" || len(v.visible()) != len(v.rows[paneTokens]) {
		t.Errorf("esc did not clear the filter")
	}
	if _, quit := harViewAt(t, 120, 30, "/", "q"); quit {
		t.Error("q in the filter quit")
	}
	if _, quit := harViewAt(t, 120, 30, "q"); !quit {
		t.Error("q did not quit")
	}
	v, _ = harViewAt(t, 60, 10, "3", "enter", "esc")
	if v.detail {
		t.Error("esc did not close the details")
	}
}

// TestMainTUIOpensAHARFile: H asks for a path, reads the file off the
// Update loop, shows its report inside the TUI, and esc goes back.
func TestMainTUIOpensAHARFile(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/customer.har"
	if err := os.WriteFile(path, hostileHARBytes(t), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, 120, 30)
	h.keys("H")
	h.requireContains("OPEN A HAR FILE")
	h.keys("enter")
	h.requireContains("type the path of the HAR file")
	h.typeText(dir + "/missing.har")
	h.keys("enter")
	h.requireContains("no such file")
	for range len(dir + "/missing.har") {
		h.keys("backspace")
	}
	h.typeText(path)
	h.keys("enter")
	h.requireContains("tokentop har  customer.har", "1 Timeline (4)", "refresh")
	requireFits(t, h.view(), 120, 30)
	requireInertView(t, h.view())
	h.keys("3")
	h.requireContains("refresh_reuse")
	h.keys("esc")
	h.requireNotContains("tokentop har  customer.har")
	h.requireContains("acme-admin")
}
