package keepalive

import (
	"strings"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
)

// TestEventPrinterSaysTheRetryOnce: the scheduler's "scheduled" event
// for the retry that the "retrying" line announced is not printed again;
// a later rescheduling (another process wrote) still is.
func TestEventPrinterSaysTheRetryOnce(t *testing.T) {
	now := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	next := now.Add(3 * time.Second)
	var b strings.Builder
	p := eventPrinter{w: &b, retryAt: map[string]time.Time{}}
	for _, e := range []auth.Event{
		{Time: now, Session: "w", Kind: auth.EventRetrying, At: next, Status: 503, Message: "refresh: server error"},
		{Time: now, Session: "v", Kind: auth.EventScheduled, At: next, Message: "next refresh"},
		{Time: now, Session: "w", Kind: auth.EventScheduled, At: next, Message: "next retry"},
		{Time: now, Session: "w", Kind: auth.EventScheduled, At: next.Add(time.Minute), Message: "next refresh"},
	} {
		p.print(e, now)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 3 || strings.Contains(b.String(), "next retry") ||
		!strings.Contains(lines[1], "v scheduled") || !strings.Contains(lines[2], "w scheduled next refresh") {
		t.Errorf("printed:\n%s", b.String())
	}
}
