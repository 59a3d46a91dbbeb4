package present

import (
	"strings"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
)

func TestEventLines(t *testing.T) {
	now := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		e    auth.Event
		want string
	}{
		{auth.Event{Time: now, Session: "w", Kind: auth.EventScheduled, At: now.Add(90 * time.Second)},
			"2026-04-10T12:00:00Z w scheduled at 2026-04-10 12:01:30Z (in 1m 30s)"},
		{auth.Event{Time: now, Session: "w", Kind: auth.EventRefreshed, OldFP: "sha256:aaaaaaaa", NewFP: "sha256:bbbbbbbb", Status: 200, RequestID: "r1"},
			"2026-04-10T12:00:00Z w refreshed sha256:aaaaaaaa -> sha256:bbbbbbbb; HTTP 200; request r1"},
		{auth.Event{Time: now, Session: "w", Kind: auth.EventRetrying, At: now.Add(2 * time.Second), Status: 503, Message: "refresh: server error"},
			"2026-04-10T12:00:00Z w retrying next attempt at 2026-04-10 12:00:02Z (in 2s); HTTP 503; refresh: server error"},
		{auth.Event{Time: now, Session: "w", Kind: auth.EventNeedsLogin, Reason: auth.ReasonRotationLost, Message: "line one\nline two"},
			"2026-04-10T12:00:00Z w needs_login needs a new login (rotation_lost); line one line two"},
		{auth.Event{Time: now, Session: "w", Kind: auth.EventNeedsLogin, Reason: auth.ReasonRotationLost},
			"2026-04-10T12:00:00Z w needs_login needs a new login (rotation_lost); an earlier refresh was interrupted"},
		{auth.Event{Time: now, Session: "w", Kind: auth.EventScheduled, At: now.Add(-3 * time.Minute), Message: "next refresh"},
			"2026-04-10T12:00:00Z w scheduled next refresh now (due since 2026-04-10 11:57:00Z)\n"},
		{auth.Event{Time: now, Session: "w", Kind: auth.EventScheduled, At: now.Add(10 * time.Second), Message: "next refresh"},
			"2026-04-10T12:00:00Z w scheduled next refresh at 2026-04-10 12:00:10Z (in 10s)\n"},
		{auth.Event{Time: now, Session: "w", Kind: auth.EventAdopted, OldFP: "sha256:aaaaaaaa", NewFP: "sha256:bbbbbbbb",
			Message: "another process had refreshed already; its pair was adopted"},
			"2026-04-10T12:00:00Z w adopted sha256:aaaaaaaa -> sha256:bbbbbbbb; another process had refreshed already; its pair was adopted\n"},
		{auth.Event{Time: now, Session: "w", Kind: auth.EventAdopted, OldFP: "sha256:aaaaaaaa", NewFP: "sha256:bbbbbbbb"},
			"2026-04-10T12:00:00Z w adopted sha256:aaaaaaaa -> sha256:bbbbbbbb; saved by another process\n"},
		{auth.Event{Time: now, Session: "w", Kind: auth.EventReuseSuspected, OldFP: "sha256:cccccccc", Status: 401, RequestID: "r3",
			Message: "REFRESH TOKEN REUSE SUSPECTED: someone else may hold a copy of refresh token sha256:cccccccc"},
			"2026-04-10T12:00:00Z w reuse_suspected REFRESH TOKEN REUSE SUSPECTED: someone else may hold a copy of refresh token sha256:cccccccc; HTTP 401; request r3\n"},
		{auth.Event{Time: now, Session: "w", Kind: auth.EventNeedsLogin, Reason: auth.ReasonRefreshExpired},
			"2026-04-10T12:00:00Z w needs_login needs a new login (refresh_expired); the refresh token has expired"},
		{auth.Event{Time: now, Session: "w", Kind: auth.EventRetrying, Status: 429, RequestID: "r2", Message: "rate limited (HTTP 429; requestId r2)"},
			"2026-04-10T12:00:00Z w retrying rate limited (HTTP 429; requestId r2)\n"},
		{auth.Event{Time: now, Session: "w", Kind: auth.EventSkew, Skew: -7 * time.Second},
			"2026-04-10T12:00:00Z w skew server clock 7s behind; scheduling by server time"},
		{auth.Event{Time: now, Session: "w", Kind: auth.EventReuseSuspected},
			"2026-04-10T12:00:00Z w reuse_suspected WARNING"},
	}
	for _, tc := range cases {
		var b strings.Builder
		WriteEvent(&b, tc.e, now)
		line := b.String()
		if !strings.HasPrefix(line, tc.want) {
			t.Errorf("got  %q\nwant %q...", line, tc.want)
		}
		if strings.Count(line, "\n") != 1 {
			t.Errorf("not one line: %q", line)
		}
	}
}
