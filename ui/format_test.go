package ui

import (
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
)

func TestEventText(t *testing.T) {
	tests := []struct {
		e    auth.Event
		want string
	}{
		{auth.Event{Session: "a", Kind: auth.EventRefreshed, OldFP: "sha256:1", NewFP: "sha256:2", Status: 200, RequestID: "r1"},
			"a refreshed sha256:1 → sha256:2 HTTP 200 req r1"},
		{auth.Event{Session: "a", Kind: auth.EventImported, NewFP: "sha256:2", Message: "imported a token pair"}, "a imported sha256:2"},
		{auth.Event{Session: "a", Kind: auth.EventScheduled, Message: "next refresh"}, "a next refresh"},
		{auth.Event{Session: "a", Kind: auth.EventScheduled, Message: "next refresh", At: time.Date(2026, 4, 10, 12, 1, 0, 0, time.UTC)},
			"a next refresh at 12:01:00"},
		{auth.Event{Session: "a", Kind: auth.EventRetrying, Status: 503, Message: "server error", At: time.Date(2026, 4, 10, 12, 0, 7, 0, time.UTC)},
			"a retrying HTTP 503: server error; next try at 12:00:07"},
		{auth.Event{Session: "a", Kind: auth.EventForgotten, Message: "removed the local copy only; nothing was revoked at the server"},
			"a removed the local copy only; nothing was revoked at the server"},
		{auth.Event{Session: "a", Kind: auth.EventReuseSuspected, Status: 401, Reason: auth.ReasonRejected, Message: "REFRESH TOKEN REUSE SUSPECTED: rejected while valid"},
			"a REFRESH TOKEN REUSE SUSPECTED: rejected while valid HTTP 401"},
		{auth.Event{Session: "a", Kind: auth.EventReuseSuspected}, "a REFRESH TOKEN REUSE SUSPECTED"},
		{auth.Event{Session: "a", Kind: auth.EventNeedsLogin, Reason: auth.ReasonRefreshExpired, Message: "refresh token expired at 12:00"},
			"a needs a new login: refresh token expired: refresh token expired at 12:00"},
		{auth.Event{Session: "a", Kind: auth.EventSkew, Skew: -3 * time.Second}, "a server clock differs by -3s"},
		{auth.Event{Kind: auth.EventFailed, Message: "reading the session list: boom"}, "failed: reading the session list: boom"},
		{auth.Event{Session: "a", Kind: auth.EventRetrying, Status: 503, Message: "server error"}, "a retrying HTTP 503: server error"},
	}
	for _, tt := range tests {
		if got := eventText(tt.e, time.UTC); got != tt.want {
			t.Errorf("eventText(%s) = %q, want %q", tt.e.Kind, got, tt.want)
		}
	}
}

func TestRefreshUrgency(t *testing.T) {
	now := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	base := auth.Session{IssuedAt: now.Add(-time.Minute), AccessExpiry: now.Add(time.Minute)}
	tests := []struct {
		name    string
		state   auth.State
		refresh time.Duration
		want    urgency
	}{
		{"plenty left", auth.StateOK, 3 * time.Hour, urgencyOK},
		{"within two lifetimes", auth.StateOK, 3 * time.Minute, urgencySoon},
		{"within one lifetime", auth.StateOK, 90 * time.Second, urgencyNow},
		{"expired", auth.StateOK, -time.Second, urgencyNow},
		{"needs login: the token is dead whatever its expiry", auth.StateNeedsLogin, 3 * time.Hour, urgencyMuted},
		{"needs login and expired", auth.StateNeedsLogin, -time.Second, urgencyNow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			se := base
			se.State = tt.state
			se.RefreshExpiry = now.Add(tt.refresh)
			if got := refreshUrgency(se, now); got != tt.want {
				t.Errorf("refreshUrgency = %d, want %d", got, tt.want)
			}
		})
	}
}
