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
	var buf [32]byte
	return string(AppendRelative(buf[:0], t, now))
}

// AppendRelative appends Relative(t, now) to b.
func AppendRelative(b []byte, t, now time.Time) []byte {
	if t.IsZero() {
		return append(b, "never"...)
	}
	d := t.Sub(now)
	switch {
	case d >= time.Second:
		return appendCountdown(append(b, "in "...), d)
	case d <= -time.Second:
		return append(appendCountdown(b, -d), " ago"...)
	default:
		return append(b, "now"...)
	}
}

// Absolute renders an instant in UTC with seconds: "2026-04-10 12:00:00Z".
// The zero time renders as "-".
func Absolute(t time.Time) string {
	var buf [24]byte
	return string(AppendAbsolute(buf[:0], t))
}

// AppendAbsolute appends Absolute(t) to b.
func AppendAbsolute(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, '-')
	}
	if !FourDigitYear(t) {
		return t.UTC().AppendFormat(b, "2006-01-02 15:04:05Z")
	}
	return append(appendDateTime(b, t, ' '), 'Z')
}

// AppendRFC3339Nano is t.AppendFormat(b, time.RFC3339Nano), for `list
// --json`'s nine instants per session; digits by hand for UTC times of
// years 0-9999, AppendFormat for the rest.
func AppendRFC3339Nano(b []byte, t time.Time) []byte {
	if t.Location() != time.UTC || !FourDigitYear(t) {
		return t.AppendFormat(b, time.RFC3339Nano)
	}
	b = appendDateTime(b, t, 'T')
	if ns := uint(t.Nanosecond()); ns != 0 {
		frac := [10]byte{'.'}
		put2(frac[1:3], ns/1e7)
		put2(frac[3:5], ns/1e5%100)
		put2(frac[5:7], ns/1e3%100)
		put2(frac[7:9], ns/10%100)
		frac[9] = byte('0' + ns%10)
		n := len(frac)
		for frac[n-1] == '0' {
			n--
		}
		b = append(b, frac[:n]...)
	}
	return append(b, 'Z')
}

// The instants of years 0 and 10000 (UTC), in seconds since 1970.
const (
	yearZero        = -62167219200
	yearTenThousand = 253402300800
)

// FourDigitYear says whether t falls in the years 0-9999 (UTC), which
// timefmt writes digit by digit.
func FourDigitYear(t time.Time) bool {
	s := t.Unix()
	return s >= yearZero && s < yearTenThousand
}

// appendDateTime appends "2006-01-02" sep "15:04:05" for t in UTC (years
// 0-9999), digits by hand, not Format: `tokentop list` writes two instants
// per session, and `list --json` nine. The date comes from the seconds
// since 1970 in one step (the inverse of storage's days_from_civil), where
// t.Date, t.Clock and t.Year each did the conversion again; the arithmetic
// is unsigned, counted from 0000-03-01 less one 400-year era so that it
// never goes below zero.
func appendDateTime(b []byte, t time.Time, sep byte) []byte {
	secs := uint64(t.Unix() - yearZero) // the years written here start at 0
	// Days since -0400-03-01, in 400-year eras of 146,097 days, years
	// starting in March so the leap day is the last of the year.
	days, rem := secs/86400+146097-60, uint(secs%86400)
	era := days / 146097
	doe := uint(days - era*146097)
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	mo := mp + 3
	if mo > 12 {
		mo -= 12
	}
	y := int(yoe) + int(era)*400 - 400 // -1 for January and February of year 0
	if mo <= 2 {
		y++
	}
	dt := [19]byte{4: '-', 7: '-', 10: sep, 13: ':', 16: ':'}
	put2(dt[0:2], uint(y)/100)
	put2(dt[2:4], uint(y)%100)
	put2(dt[5:7], mo)
	put2(dt[8:10], d)
	put2(dt[11:13], rem/3600)
	put2(dt[14:16], rem/60%60)
	put2(dt[17:19], rem%60)
	return append(b, dt[:]...)
}

// twoDigits are "00" to "99", one after another.
const twoDigits = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// put2 writes n (below 100) into b[0:2].
func put2(b []byte, n uint) {
	b[0], b[1] = twoDigits[2*n], twoDigits[2*n+1]
}
