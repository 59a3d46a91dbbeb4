package token

import (
	"strings"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
)

// TestNotes: what `token` tells on stderr beside the token.
func TestNotes(t *testing.T) {
	cases := []struct {
		e    auth.Event
		want string // "" when the event is routine and stays quiet
	}{
		{auth.Event{Session: "w", Kind: auth.EventRefreshed, OldFP: "sha256:aaaaaaaa", NewFP: "sha256:bbbbbbbb"}, ""},
		{auth.Event{Session: "w", Kind: auth.EventRefreshing}, ""},
		{auth.Event{Session: "w", Kind: auth.EventAdopted, Message: "another process had refreshed already; its pair was adopted"}, ""},
		{auth.Event{Session: "w", Kind: auth.EventRefreshed, Message: "a previous refresh (pid 7) was interrupted; it was recovered"},
			`tokentop: note: session "w": a previous refresh (pid 7) was interrupted; it was recovered` + "\n"},
		{auth.Event{Session: "w", Kind: auth.EventRetrying, Message: "refresh: server error (HTTP 503)"},
			`tokentop: note: session "w": the refresh failed, so this is the current token, still valid: refresh: server error (HTTP 503)` + "\n"},
		{auth.Event{Session: "w", Kind: auth.EventSkew, Message: "the server clock is 2m0s ahead of ours"},
			`tokentop: note: session "w": the server clock is 2m0s ahead of ours` + "\n"},
	}
	for _, tc := range cases {
		ch := make(chan auth.Event, 1)
		ch <- tc.e
		var b strings.Builder
		writeNotes(&b, ch)
		if b.String() != tc.want {
			t.Errorf("%s: got %q, want %q", tc.e.Kind, b.String(), tc.want)
		}
	}
}

func TestRefreshOutput(t *testing.T) {
	now := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	old := auth.Session{AccessFP: "sha256:aaaaaaaa", RefreshFP: "sha256:bbbbbbbb", AccessExpiry: now.Add(10 * time.Second), RefreshExpiry: now.Add(time.Hour)}
	nw := auth.Session{AccessFP: "sha256:cccccccc", RefreshFP: "sha256:dddddddd", AccessExpiry: now.Add(7 * 24 * time.Hour), RefreshExpiry: now.Add(180 * 24 * time.Hour)}
	cases := []struct {
		res  auth.RefreshResult
		want []string
	}{
		{auth.RefreshResult{Old: old, New: nw}, []string{
			"w: refreshed\n",
			"access   old sha256:aaaaaaaa  expires in 10s (2026-04-10 12:00:10Z)",
			"new sha256:cccccccc  expires in 7d 00h (2026-04-17 12:00:00Z)",
			"refresh  old sha256:bbbbbbbb  expires in 1h 00m",
			"new sha256:dddddddd  expires in 180d 00h",
		}},
		{auth.RefreshResult{Old: old, New: nw, Adopted: true, Note: "another process had refreshed already"}, []string{
			"adopted a pair another process saved", "note: another process had refreshed already",
		}},
		{auth.RefreshResult{Old: old, New: nw, Recovered: true}, []string{"interrupted earlier refresh was recovered"}},
		{auth.RefreshResult{Old: old, New: nw, Recovered: true, Note: "a previous refresh (pid 7) was interrupted; it was recovered"},
			[]string{"w: refreshed\n", "note: a previous refresh (pid 7) was interrupted; it was recovered"}},
	}
	for _, tc := range cases {
		var b strings.Builder
		writeRefresh(&b, "w", tc.res, now)
		if n := strings.Count(b.String(), "recovered"); n > 1 {
			t.Errorf("says \"recovered\" %d times:\n%s", n, b.String())
		}
		for _, want := range tc.want {
			if !strings.Contains(b.String(), want) {
				t.Errorf("output lacks %q:\n%s", want, b.String())
			}
		}
	}
}
