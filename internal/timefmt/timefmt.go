// Package timefmt formats countdowns and instants the same way in the
// command line and the TUI.
package timefmt

import (
	"strconv"
	"time"
)

// Countdown renders a non-negative duration compactly with its two largest
// units: "6d 23h", "1h 02m", "4m 05s", "12s". Negative durations render as 0s.
func Countdown(d time.Duration) string {
	var buf [24]byte
	return string(appendCountdown(buf[:0], d))
}

// appendCountdown appends Countdown(d) to b. strconv into a buffer on the
// stack, not fmt: `tokentop list` formats two of these per session.
func appendCountdown(b []byte, d time.Duration) []byte {
	if d < 0 {
		d = 0
	}
	d = d.Truncate(time.Second)
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	h := d / time.Hour
	d -= h * time.Hour
	m := d / time.Minute
	d -= m * time.Minute
	s := d / time.Second
	two := func(b []byte, n time.Duration, unit byte) []byte {
		if n < 10 {
			b = append(b, '0')
		}
		return append(strconv.AppendInt(b, int64(n), 10), unit)
	}
	switch {
	case days > 0:
		return two(append(strconv.AppendInt(b, int64(days), 10), 'd', ' '), h, 'h')
	case h > 0:
		return two(append(strconv.AppendInt(b, int64(h), 10), 'h', ' '), m, 'm')
	case m > 0:
		return two(append(strconv.AppendInt(b, int64(m), 10), 'm', ' '), s, 's')
	}
	return append(strconv.AppendInt(b, int64(s), 10), 's')
}

// Relative renders t relative to now: "in 4m 05s", "3h 10m ago", "now".
// The zero time renders as "never".
func Relative(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	var buf [32]byte
	d := t.Sub(now)
	switch {
	case d >= time.Second:
		return string(appendCountdown(append(buf[:0], "in "...), d))
	case d <= -time.Second:
		return string(append(appendCountdown(buf[:0], -d), " ago"...))
	default:
		return "now"
	}
}

// Absolute renders an instant in UTC with seconds: "2026-04-10 12:00:00Z".
// The zero time renders as "-".
func Absolute(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.Format("2006-01-02 15:04:05Z")
	}
	// Digits by hand, not Format: `tokentop list` writes two per session.
	h, mi, sec := t.Clock()
	b := [20]byte{4: '-', 7: '-', 10: ' ', 13: ':', 16: ':', 19: 'Z'}
	put := func(at, n, width int) {
		for i := at + width - 1; i >= at; i-- {
			b[i] = byte('0' + n%10)
			n /= 10
		}
	}
	put(0, y, 4)
	put(5, int(mo), 2)
	put(8, d, 2)
	put(11, h, 2)
	put(14, mi, 2)
	put(17, sec, 2)
	return string(b[:])
}
