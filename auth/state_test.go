package auth_test

import (
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
)

// TestEffectiveState: the state every command and screen shows, from the
// stored one and the clock, with the server's clock ten minutes ahead of
// ours in every case (expiries are its instants).
func TestEffectiveState(t *testing.T) {
	now := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	const skew = 10 * time.Minute
	snow := now.Add(skew) // the server's now
	base := auth.Session{
		Name: "work", State: auth.StateOK, ClockSkew: skew,
		IssuedAt: snow.Add(-time.Hour), AccessExpiry: snow.Add(time.Hour), RefreshExpiry: snow.Add(24 * time.Hour),
	}
	cases := []struct {
		name   string
		edit   func(*auth.Session)
		state  auth.State
		reason auth.Reason
	}{
		{"ok", func(*auth.Session) {}, auth.StateOK, ""},
		{"no state stored", func(s *auth.Session) { s.State = "" }, auth.StateOK, ""},
		// By our clock it still has 5 minutes; by the server's it is gone.
		{"access expired by the server's clock", func(s *auth.Session) { s.AccessExpiry = now.Add(5 * time.Minute) }, auth.StateExpired, ""},
		{"refresh expired by the server's clock", func(s *auth.Session) { s.RefreshExpiry = now.Add(5 * time.Minute) }, auth.StateNeedsLogin, auth.ReasonRefreshExpired},
		{"needs login keeps its reason", func(s *auth.Session) {
			s.State, s.Reason, s.RefreshExpiry = auth.StateNeedsLogin, auth.ReasonRejected, snow.Add(-time.Hour)
		}, auth.StateNeedsLogin, auth.ReasonRejected},
		{"retrying stays retrying", func(s *auth.Session) { s.State = auth.StateRetrying; s.AccessExpiry = snow.Add(-time.Second) }, auth.StateRetrying, ""},
		{"paused", func(s *auth.Session) { s.State, s.Paused = auth.StatePaused, true }, auth.StatePaused, ""},
		{"paused flag on an ok record", func(s *auth.Session) { s.Paused = true }, auth.StatePaused, ""},
		// Nothing retries a paused session.
		{"paused while retrying", func(s *auth.Session) { s.State, s.Paused = auth.StateRetrying, true }, auth.StatePaused, ""},
		{"paused and access expired", func(s *auth.Session) {
			s.State, s.Paused, s.AccessExpiry = auth.StatePaused, true, snow.Add(-time.Second)
		}, auth.StateExpired, ""},
		{"paused and refresh expired", func(s *auth.Session) {
			s.State, s.Paused, s.AccessExpiry, s.RefreshExpiry = auth.StatePaused, true, snow.Add(-time.Hour), snow.Add(-time.Second)
		}, auth.StateNeedsLogin, auth.ReasonRefreshExpired},
		{"refreshing", func(s *auth.Session) { s.State = auth.StateRefreshing }, auth.StateRefreshing, ""},
	}
	for _, tc := range cases {
		s := base
		tc.edit(&s)
		state, reason := s.EffectiveState(now)
		if state != tc.state || reason != tc.reason {
			t.Errorf("%s: got %s (%s), want %s (%s)", tc.name, state, reason, tc.state, tc.reason)
		}
	}
}

func TestSkewNotable(t *testing.T) {
	for _, tc := range []struct {
		skew time.Duration
		want bool
	}{
		{0, false}, {auth.SkewThreshold, false}, {-auth.SkewThreshold, false},
		{auth.SkewThreshold + time.Second, true}, {-auth.SkewThreshold - time.Second, true}, {10 * time.Minute, true},
	} {
		if got := auth.SkewNotable(tc.skew); got != tc.want {
			t.Errorf("SkewNotable(%s) = %v, want %v", tc.skew, got, tc.want)
		}
	}
}
