package timefmt

import (
	"testing"
	"time"
)

func TestCountdown(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0s"},
		{0, "0s"},
		{999 * time.Millisecond, "0s"},
		{12 * time.Second, "12s"},
		{2*time.Minute + 10*time.Second, "2m 10s"},
		{time.Hour + 10*time.Minute, "1h 10m"},
		{4*time.Minute + 5*time.Second, "4m 05s"},
		{time.Hour + 2*time.Minute + 59*time.Second, "1h 02m"},
		{6*24*time.Hour + 23*time.Hour + 59*time.Minute, "6d 23h"},
		{180 * 24 * time.Hour, "180d 00h"},
	} {
		if got := Countdown(tc.d); got != tc.want {
			t.Errorf("Countdown(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestRelative(t *testing.T) {
	now := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Time{}, "never"},
		{now, "now"},
		{now.Add(90 * time.Second), "in 1m 30s"},
		{now.Add(-3 * time.Hour), "3h 00m ago"},
	} {
		if got := Relative(tc.t, now); got != tc.want {
			t.Errorf("Relative(%v) = %q, want %q", tc.t, got, tc.want)
		}
	}
	if got := Absolute(now.In(time.FixedZone("X", 3600))); got != "2026-04-01 12:00:00Z" {
		t.Errorf("Absolute = %q", got)
	}
	if got := Absolute(time.Time{}); got != "-" {
		t.Errorf("Absolute(zero) = %q", got)
	}
}

// Absolute writes its digits by hand; they are time.Format's.
func TestAbsoluteIsFormat(t *testing.T) {
	at := time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tm := range []time.Time{
		time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC), time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), at,
		time.Date(2026, 12, 1, 6, 25, 44, 0, time.FixedZone("", -7*3600)),
		// Era and leap-year edges of the arithmetic.
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(0, 2, 29, 23, 59, 59, 0, time.UTC), time.Date(0, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(400, 2, 29, 12, 0, 0, 0, time.UTC), time.Date(1600, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(1900, 2, 28, 0, 0, 0, 0, time.UTC),
		time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(2100, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 2, 28, 0, 0, 0, 0, time.UTC),
	} {
		if got, want := Absolute(tm), tm.UTC().Format("2006-01-02 15:04:05Z"); got != want {
			t.Errorf("Absolute(%v) = %q, want %q", tm, got, want)
		}
	}
	for i := range 100000 { // across years 0-9999, and a little beyond
		tm := time.Unix(int64(i)*63018038201%(10100*365*86400)-62167219200-50*86400, 0).In(time.FixedZone("", 3600))
		if got, want := Absolute(tm), tm.UTC().Format("2006-01-02 15:04:05Z"); got != want {
			t.Fatalf("Absolute(%v) = %q, want %q", tm, got, want)
		}
	}
}

// AppendRFC3339Nano is AppendFormat(time.RFC3339Nano), digit for digit.
func TestAppendRFC3339Nano(t *testing.T) {
	check := func(tm time.Time) {
		t.Helper()
		if got, want := string(AppendRFC3339Nano(nil, tm)), tm.Format(time.RFC3339Nano); got != want {
			t.Fatalf("AppendRFC3339Nano(%v) = %s, want %s", tm, got, want)
		}
	}
	for _, tm := range []time.Time{
		time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC), time.Date(2026, 4, 10, 12, 0, 0, 100, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 1, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2026, 4, 10, 12, 0, 0, 5e8, time.FixedZone("", 3600)), time.Date(2026, 4, 10, 12, 0, 0, 0, time.Local),
	} {
		check(tm)
	}
	for i := range 100000 {
		check(time.Unix(int64(i)*63018038201%(9000*365*86400)-62135596800, int64(i)*7919*1000%1e9).UTC())
	}
}
