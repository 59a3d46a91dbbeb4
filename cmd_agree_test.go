package main

import (
	"context"
	"encoding/json"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/timefmt"
	"github.com/tokentop/tokentop/storage"
	"github.com/tokentop/tokentop/ui"
)

// TestListInspectAndTUIAgree: `list --json`, `inspect --json` and the TUI's
// row say the same state, reason and seconds left for a session in every
// state, with the server's clock ten minutes ahead of ours (and one behind):
// expiry instants are the server's, and every view counts by its clock.
func TestListInspectAndTUIAgree(t *testing.T) {
	now := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	const skew = 10 * time.Minute
	snow := now.Add(skew) // the server's now
	c := newCLI(t, "file")
	c.now = func() time.Time { return now }
	st, err := storage.Open(storage.Options{ConfigDir: c.configDir, Backend: "file"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	base := auth.Session{
		Endpoints: auth.Endpoints{OAuthURL: "http://127.0.0.1:1", APIURL: "http://127.0.0.1:1/v3"},
		User:      auth.User{UserID: 4453, Email: "me@example.com", RoleID: 2, OrgUnitID: 70035},
		IssuedAt:  snow.Add(-time.Hour), AccessExpiry: snow.Add(time.Hour), RefreshExpiry: snow.Add(24 * time.Hour),
		State: auth.StateOK, ClockSkew: skew, CreatedAt: now.Add(-2 * time.Hour), UpdatedAt: now.Add(-time.Hour),
	}
	cases := []struct {
		name   string
		edit   func(*auth.Session)
		state  string // what all three must say
		reason string
	}{
		{"s-ok", func(*auth.Session) {}, "ok", ""},
		// 5 minutes left by our clock, 5 minutes gone by the server's.
		{"s-expired", func(s *auth.Session) { s.AccessExpiry = now.Add(5 * time.Minute) }, "expired", ""},
		{"s-paused", func(s *auth.Session) { s.State, s.Paused = auth.StatePaused, true }, "paused", ""},
		{"s-paused-expired", func(s *auth.Session) {
			s.State, s.Paused, s.AccessExpiry = auth.StatePaused, true, now.Add(5*time.Minute)
		}, "expired", ""},
		{"s-paused-dead", func(s *auth.Session) {
			s.State, s.Paused, s.AccessExpiry, s.RefreshExpiry = auth.StatePaused, true, now.Add(-time.Hour), now.Add(5*time.Minute)
		}, "needs_login", "refresh_expired"},
		{"s-retrying", func(s *auth.Session) {
			s.State, s.NextAttempt, s.LastError, s.Failures = auth.StateRetrying, now.Add(30*time.Second), "server error (HTTP 503)", 2
		}, "retrying", ""},
		{"s-interrupted", func(s *auth.Session) {
			s.State, s.RefreshingSince, s.RefreshingPID, s.RefreshingFP = auth.StateRefreshing, now.Add(-5*time.Minute), 4242, "sha256:0badf00d"
		}, "refreshing", ""},
		{"s-revoked", func(s *auth.Session) { s.State, s.Reason = auth.StateNeedsLogin, auth.ReasonRevoked }, "needs_login", "revoked"},
		{"s-rejected", func(s *auth.Session) { s.State, s.Reason = auth.StateNeedsLogin, auth.ReasonRejected }, "needs_login", "rejected"},
		{"s-lost", func(s *auth.Session) { s.State, s.Reason = auth.StateNeedsLogin, auth.ReasonRotationLost }, "needs_login", "rotation_lost"},
		{"s-behind", func(s *auth.Session) {
			s.ClockSkew = -skew
			// Past by our clock, 5 minutes left by the server's.
			s.AccessExpiry, s.RefreshExpiry = now.Add(-5*time.Minute), now.Add(time.Hour)
		}, "ok", ""},
	}
	ctx := context.Background()
	for _, tc := range cases {
		s := base
		s.Name = tc.name
		s.AccessFP, s.RefreshFP = auth.Fingerprint("access-"+tc.name), auth.Fingerprint("refresh-"+tc.name)
		tc.edit(&s)
		if err := st.Put(ctx, s, auth.Secrets{AccessToken: "access-" + tc.name, RefreshToken: "refresh-" + tc.name}); err != nil {
			t.Fatal(err)
		}
	}

	type secs struct {
		State   string `json:"state"`
		Reason  string `json:"reason"`
		Paused  bool   `json:"paused"`
		Access  int64  `json:"access_expires_in_seconds"`
		Refresh int64  `json:"refresh_expires_in_seconds"`
	}
	r := c.run("", "list", "--json")
	if r.code != 0 {
		t.Fatalf("list --json: exit %d: %s", r.code, r.stderr)
	}
	var list struct {
		Sessions []struct {
			Name string `json:"name"`
			secs
		} `json:"sessions"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatal(err)
	}
	listed := map[string]secs{}
	for _, s := range list.Sessions {
		listed[s.Name] = s.secs
	}

	// The TUI over the same store at the same instant, wide enough for
	// every column and the whole STATE.
	sessions, err := st.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r0 := lipgloss.NewRenderer(io.Discard)
	r0.SetColorProfile(termenv.Ascii)
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := ui.New(ui.Config{Store: st, Keeper: auth.NewKeeper(auth.KeeperConfig{Store: st}), Styles: ui.NewStyles(r0),
		Sessions: sessions, Now: now, Context: tctx, DisableTick: true})
	tm, _ := m.Update(tea.WindowSizeMsg{Width: 250, Height: 40})
	screen := tm.View()

	for _, tc := range cases {
		l, ok := listed[tc.name]
		if !ok {
			t.Fatalf("list --json lacks %s:\n%s", tc.name, r.stdout)
		}
		r := c.run("", "inspect", tc.name, "--json")
		if r.code != 0 {
			t.Fatalf("inspect %s --json: exit %d: %s", tc.name, r.code, r.stderr)
		}
		var in struct {
			Session secs `json:"session"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &in); err != nil {
			t.Fatal(err)
		}
		if l.State != tc.state || l.Reason != tc.reason {
			t.Errorf("%s: list says %s (%s), want %s (%s)", tc.name, l.State, l.Reason, tc.state, tc.reason)
		}
		if in.Session != l {
			t.Errorf("%s: inspect --json %+v, list --json %+v", tc.name, in.Session, l)
		}

		row := ""
		for _, line := range strings.Split(screen, "\n") {
			if regexp.MustCompile(`^[▸ ] ` + regexp.QuoteMeta(tc.name) + ` `).MatchString(line) {
				row = line
			}
		}
		if row == "" {
			t.Fatalf("no TUI row for %s:\n%s", tc.name, screen)
		}
		label := l.State
		if l.Reason != "" {
			label += " (" + l.Reason + ")"
		}
		for _, want := range []string{"  " + label, countdown(l.Access), countdown(l.Refresh)} {
			if !strings.Contains(row, want) {
				t.Errorf("%s: the TUI row lacks %q (list --json: %+v):\n%s", tc.name, want, l, row)
			}
		}
	}
}

// countdown is how the TUI shows a number of seconds left.
func countdown(secs int64) string {
	if secs <= 0 {
		return "expired"
	}
	return timefmt.Countdown(time.Duration(secs) * time.Second)
}
