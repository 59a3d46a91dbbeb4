package keepalive

import (
	"bytes"
	"errors"
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

// The store going out of reach prints one line however often it is
// reported, and coming back one more.
func TestHealthPrinterSaysLossAndReturnOnce(t *testing.T) {
	var b bytes.Buffer
	p := healthPrinter{w: &b}
	t0 := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	p.print(nil, t0) // in reach from the start: nothing to say
	p.print(errors.New("reach the store: etcd at http://10.0.0.1:2379 did not answer\x1b]2;x\x07"), t0.Add(time.Second))
	p.print(errors.New("still down"), t0.Add(3*time.Second))
	p.print(nil, t0.Add(43*time.Second))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), b.String())
	}
	if !strings.Contains(lines[0], "disconnected from the store, retrying; the tokens already held are still served: reach the store: etcd at http://10.0.0.1:2379") ||
		strings.ContainsAny(lines[0], "\x1b\x07") {
		t.Errorf("first line %q", lines[0])
	}
	if !strings.Contains(lines[1], "reconnected to the store after 42s") {
		t.Errorf("second line %q", lines[1])
	}
}
