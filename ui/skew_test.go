package ui

import (
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/present"
)

// Expiry instants are the server's clock: with the server 90 s ahead, a
// token that our clock says has 60 s left is already dead.
func TestCountdownsFollowServerClock(t *testing.T) {
	now := time.Date(2026, 4, 3, 12, 0, 0, 0, time.UTC)
	se := auth.Session{
		Name:          "ahead",
		IssuedAt:      now.Add(-20 * time.Minute),
		AccessExpiry:  now.Add(time.Minute),
		RefreshExpiry: now.Add(time.Hour),
		State:         auth.StateOK,
		ClockSkew:     90 * time.Second,
	}
	if got := accessUrgency(se, now); got != urgencyNow {
		t.Errorf("accessUrgency = %v, want urgencyNow (expired by the server's clock)", got)
	}
	if got, _ := stateText(se, now, nil); got != "expired" {
		t.Errorf("stateText = %q, want expired", got)
	}
	if got := present.Describe(se, now).Refresh.Countdown(); got != "58m 30s" {
		t.Errorf("refresh countdown = %q, want 58m 30s", got)
	}
	se.ClockSkew = 0
	if got, _ := stateText(se, now, nil); got == "expired" {
		t.Errorf("without skew the token is alive, stateText = %q", got)
	}
}
