package ui

import (
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
)

// The timeline dates what is not from today: "03:10:00" alone would read
// as this morning for an event of last week.
func TestTimelineDatesOlderEvents(t *testing.T) {
	h := newHarness(t, 120, 60)
	h.store.events["acme-admin"] = []auth.Event{
		{Time: time.Date(2025, 12, 30, 8, 0, 0, 0, time.UTC), Session: "acme-admin", Kind: auth.EventLogin, NewFP: "sha256:a0000000"},
		{Time: fixedNow.Add(-26 * time.Hour), Session: "acme-admin", Kind: auth.EventRefreshed, OldFP: "sha256:a0000000", NewFP: "sha256:a1111111"},
		{Time: fixedNow.Add(-30 * time.Second), Session: "acme-admin", Kind: auth.EventRefreshed, OldFP: "sha256:a1111111", NewFP: "sha256:a1001001"},
	}
	h.keys("enter", "G")
	h.requireContains("2025-12-30    logged in", "Apr 09 10:00  refreshed sha256:a0000000", "11:59:30      refreshed sha256:a1111111")
}

func TestEventStamp(t *testing.T) {
	loc := time.FixedZone("X", 3*3600)
	now := time.Date(2026, 4, 10, 22, 30, 0, 0, time.UTC) // 01:30 on the 11th in loc
	for _, tt := range []struct {
		at   time.Time
		want string
	}{
		{now.Add(-time.Hour), "00:30:00"},         // the 11th in loc: today there
		{now.Add(-2 * time.Hour), "Apr 10 23:30"}, // the 10th in loc
		{time.Date(2025, 4, 10, 12, 0, 0, 0, time.UTC), "2025-04-10"},
		{time.Time{}, "--:--:--"},
	} {
		if got := eventStamp(tt.at, now, loc); got != tt.want {
			t.Errorf("eventStamp(%s) = %q, want %q", tt.at, got, tt.want)
		}
	}
}
