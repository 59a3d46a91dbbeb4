package emulator

import (
	"testing"
	"time"
)

// Memory stays bounded: expired tokens, rotated-away refresh tokens past
// their expiry, dead sessions and idle rate-limit windows are dropped.
func TestPruneExpired(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := New(Config{Now: func() time.Time { return now }, AccessTTL: time.Minute, RefreshTTL: time.Hour})
	for range 3000 {
		body, err := s.Issue(DefaultUser().Email, 0, 0)
		if err != nil || len(body) == 0 {
			t.Fatal(err)
		}
	}
	s.mu.Lock()
	s.allowLoginLocked("192.0.2.1", now)
	n := len(s.access) + len(s.refresh)
	s.mu.Unlock()
	if n != 6000 {
		t.Fatalf("%d entries before expiry, want 6000", n)
	}
	now = now.Add(2 * time.Hour)
	if _, err := s.Issue(DefaultUser().Email, 0, 0); err != nil { // triggers the sweep
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.access) != 1 || len(s.refresh) != 1 || len(s.sessions) != 1 || len(s.limiter) != 0 {
		t.Errorf("after expiry: %d access, %d refresh, %d sessions, %d limiter entries; want 1, 1, 1, 0",
			len(s.access), len(s.refresh), len(s.sessions), len(s.limiter))
	}
}

func TestFingerprint(t *testing.T) {
	// echo -n abc | sha256sum → ba7816bf…
	if got := fingerprint("abc"); got != "sha256:ba7816bf" {
		t.Errorf("fingerprint(abc) = %s", got)
	}
}

func TestCeilTo(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in, want time.Time
		unit     time.Duration
	}{
		{base, base, time.Second},
		{base.Add(time.Nanosecond), base.Add(time.Second), time.Second},
		{base.Add(1500 * time.Microsecond), base.Add(2 * time.Millisecond), time.Millisecond},
	} {
		if got := ceilTo(tc.in, tc.unit); !got.Equal(tc.want) {
			t.Errorf("ceilTo(%v, %v) = %v, want %v", tc.in, tc.unit, got, tc.want)
		}
	}
}
