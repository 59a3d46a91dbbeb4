package storage

import (
	"bytes"
	"encoding/binary"
	"time"
	"unicode/utf8"

	"github.com/tokentop/tokentop/auth"
)

// decodeRecordFast decodes a record that has exactly the shape tokentop
// writes (compact JSON from encoding/json: known keys, plain strings,
// integers, booleans) without reflection. Listing 10,000 sessions spends
// most of its time decoding records, and this is several times faster than
// a general decoder. ok is false for anything else, an escape in a string,
// a key it does not know, a null, a fraction, bytes after the object, and
// the caller then uses the general decoder, which is the reference: for
// every input this accepts, it must give what the general decoder gives
// (TestDecodeRecordFastAgrees and FuzzDecodeRecordFast hold it to that, and
// fail when auth.Session gains a field this does not know).
//
// It decodes the session into se, which the caller owns (listing decodes
// straight into its result, so no session is copied); on !ok, se holds
// whatever was read before it gave up.
func decodeRecordFast(data []byte, se *auth.Session, in *interner) (version int, hasSession, ok bool) {
	d := recordScanner{b: data, in: in}
	ok = d.object(func(key []byte) bool {
		switch string(key) {
		case "version":
			n, ok := d.int()
			version = int(n)
			return ok && int64(version) == n
		case "session":
			hasSession = true
			return d.session(se)
		}
		return false
	})
	return version, hasSession, ok && d.end()
}

// recordScanner reads JSON from b at i; every method returns false, to
// give up, on anything outside the shape decodeRecordFast accepts.
type recordScanner struct {
	b  []byte
	i  int
	in *interner // nil: no interning
}

// interner hands out one string for equal values that recur from record
// to record (URLs, emails, states, backends): at 10,000 sessions, a fresh
// copy of each was a third of the allocations of a listing. One per
// goroutine; it stops growing at maxInterned.
type interner struct{ m map[string]string }

const maxInterned = 4096

func newInterner() *interner { return &interner{m: make(map[string]string)} }

func (in *interner) string(b []byte) string {
	if in == nil {
		return string(b)
	}
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(in.m) < maxInterned {
		in.m[s] = s
	}
	return s
}

func (d *recordScanner) skipSpace() {
	b, i := d.b, d.i
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	d.i = i
}

// end says whether only white space is left.
func (d *recordScanner) end() bool {
	d.skipSpace()
	return d.i == len(d.b)
}

func (d *recordScanner) byte(c byte) bool {
	d.skipSpace()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// object reads {"key": value, ...}, calling member at each value.
func (d *recordScanner) object(member func(key []byte) bool) bool {
	if !d.byte('{') {
		return false
	}
	if d.byte('}') {
		return true
	}
	for {
		key, ok := d.key()
		if !ok || !d.byte(':') || !member(key) {
			return false
		}
		if d.byte(',') {
			continue
		}
		return d.byte('}')
	}
}

// key reads an object key. A key is only ever compared with the names
// decodeRecordFast knows, all plain ASCII, so it is not checked: one with
// an escape, a control or non-ASCII byte matches none of them, and the
// caller gives up.
func (d *recordScanner) key() ([]byte, bool) {
	if !d.byte('"') {
		return nil, false
	}
	end := bytes.IndexByte(d.b[d.i:], '"')
	if end < 0 {
		return nil, false
	}
	k := d.b[d.i : d.i+end]
	d.i += end + 1
	return k, true
}

// raw reads a string value without escapes and returns its bytes (in b).
// Invalid UTF-8 gives up: the general decoder replaces it.
func (d *recordScanner) raw() ([]byte, bool) {
	s, ok := d.key() // the bytes up to the closing quote, unchecked
	if !ok {
		return nil, false
	}
	// Eight bytes at a time while none is special: the strings are most of
	// a record, and a byte at a time was a tenth of `tokentop list`.
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if specialWord(binary.LittleEndian.Uint64(s[i:])) {
			break
		}
	}
	ascii := true
	for _, c := range s[i:] {
		if c == '\\' || c < 0x20 {
			return nil, false
		}
		ascii = ascii && c < 0x80
	}
	return s, ascii || utf8.Valid(s)
}

// specialWord says whether one of the 8 bytes in w may be '"', '\\', below
// 0x20 or above 0x7f (the classic SWAR tests: true for every word that
// has one, and false for every word that has none).
func specialWord(w uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	zero := func(x uint64) uint64 { return (x - ones) &^ x & highs }
	return (w-ones*0x20)&^w&highs|zero(w^(ones*'"'))|zero(w^(ones*'\\'))|w&highs != 0
}

func (d *recordScanner) string(dst *string) bool {
	s, ok := d.raw()
	*dst = string(s)
	return ok
}

// common is string for a value that recurs across sessions.
func (d *recordScanner) common(dst *string) bool {
	s, ok := d.raw()
	*dst = d.in.string(s)
	return ok
}

func (d *recordScanner) time(dst *time.Time) bool {
	s, ok := d.raw()
	if !ok {
		return false
	}
	if t, ok := utcTime(s); ok {
		*dst = t
		return true
	}
	// UnmarshalText parses as UnmarshalJSON does (strict RFC 3339).
	return dst.UnmarshalText(s) == nil
}

// utcTime parses the form encoding/json writes for a UTC time,
// 2006-01-02T15:04:05[.fraction]Z, with every field in range, and leaves
// every other form to UnmarshalText: parsing the ten times of a record
// was half of decoding it.
func utcTime(s []byte) (time.Time, bool) {
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[len(s)-1] != 'Z' {
		return time.Time{}, false
	}
	num := func(b []byte) (int, bool) {
		n := 0
		for _, c := range b {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(s[0:4])
	month, ok2 := num(s[5:7])
	day, ok3 := num(s[8:10])
	hour, ok4 := num(s[11:13])
	minute, ok5 := num(s[14:16])
	sec, ok6 := num(s[17:19])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 ||
		month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	nsec := 0
	if frac := s[19 : len(s)-1]; len(frac) > 0 {
		if len(frac) < 2 || len(frac) > 10 || frac[0] != '.' {
			return time.Time{}, false
		}
		n, ok := num(frac[1:])
		if !ok {
			return time.Time{}, false
		}
		for range 10 - len(frac) {
			n *= 10
		}
		nsec = n
	}
	// time.Unix, not time.Date: no normalising, and UTC() leaves the same
	// location Parse does.
	secs := daysFromCivil(year, month, day)*86400 + int64(hour*3600+minute*60+sec)
	return time.Unix(secs, int64(nsec)).UTC(), true
}

// daysIn is the number of days in month of year (proleptic Gregorian).
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is the number of days from 1970-01-01 to year-month-day
// (proleptic Gregorian, year >= 0): the era arithmetic of the well-known
// days_from_civil algorithm, with March as the first month of the year.
func daysFromCivil(year, month, day int) int64 {
	if month <= 2 {
		year--
	}
	era := year / 400
	if year < 0 {
		era = (year - 399) / 400
	}
	yoe := year - era*400
	mp := (month + 9) % 12
	doy := (153*mp+2)/5 + day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// int reads an integer that fits an int64 (and so, on 64-bit, an int).
func (d *recordScanner) int() (int64, bool) {
	d.skipSpace()
	neg := d.i < len(d.b) && d.b[d.i] == '-'
	if neg {
		d.i++
	}
	start := d.i
	var n uint64
	for ; d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9'; d.i++ {
		if n > (1<<63-1)/10 {
			return 0, false
		}
		n = n*10 + uint64(d.b[d.i]-'0')
	}
	digits := d.i - start
	switch {
	case digits == 0, digits > 1 && d.b[start] == '0', n > 1<<63-1:
		return 0, false
	case d.i < len(d.b) && (d.b[d.i] == '.' || d.b[d.i] == 'e' || d.b[d.i] == 'E'):
		return 0, false
	}
	if neg {
		return -int64(n), true
	}
	return int64(n), true
}

func (d *recordScanner) intTo(dst *int) bool {
	n, ok := d.int()
	*dst = int(n)
	return ok && int64(*dst) == n
}

func (d *recordScanner) bool(dst *bool) bool {
	d.skipSpace()
	switch {
	case len(d.b)-d.i >= 4 && string(d.b[d.i:d.i+4]) == "true":
		*dst, d.i = true, d.i+4
	case len(d.b)-d.i >= 5 && string(d.b[d.i:d.i+5]) == "false":
		*dst, d.i = false, d.i+5
	default:
		return false
	}
	return true
}

// session reads auth.Session's fields, by their JSON names.
func (d *recordScanner) session(se *auth.Session) bool {
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "name":
			return d.string(&se.Name)
		case "endpoints":
			return d.object(func(key []byte) bool {
				switch string(key) {
				case "oauth_url":
					return d.common(&se.Endpoints.OAuthURL)
				case "api_url":
					return d.common(&se.Endpoints.APIURL)
				}
				return false
			})
		case "email":
			return d.common(&se.Email)
		case "user":
			return d.object(func(key []byte) bool {
				var ok bool
				switch string(key) {
				case "user_id":
					se.User.UserID, ok = d.int()
				case "email":
					ok = d.common(&se.User.Email)
				case "role_id":
					ok = d.intTo(&se.User.RoleID)
				case "org_unit_id":
					se.User.OrgUnitID, ok = d.int()
				}
				return ok
			})
		case "access_expires_at":
			return d.time(&se.AccessExpiry)
		case "refresh_expires_at":
			return d.time(&se.RefreshExpiry)
		case "issued_at":
			return d.time(&se.IssuedAt)
		case "access_fingerprint":
			return d.string(&se.AccessFP)
		case "refresh_fingerprint":
			return d.string(&se.RefreshFP)
		case "frontend_fingerprint":
			return d.string(&se.FrontendFP)
		case "token_format":
			return d.common(&se.TokenFormat)
		case "state":
			s, ok := d.raw()
			se.State = auth.State(d.in.string(s))
			return ok
		case "reason":
			s, ok := d.raw()
			se.Reason = auth.Reason(d.in.string(s))
			return ok
		case "last_error":
			return d.common(&se.LastError)
		case "next_attempt":
			return d.time(&se.NextAttempt)
		case "retry_after_until":
			return d.time(&se.RetryAfterUntil)
		case "paused":
			return d.bool(&se.Paused)
		case "created_at":
			return d.time(&se.CreatedAt)
		case "updated_at":
			return d.time(&se.UpdatedAt)
		case "last_refresh":
			return d.time(&se.LastRefresh)
		case "refreshes":
			return d.intTo(&se.Refreshes)
		case "failures":
			return d.intTo(&se.Failures)
		case "clock_skew_ns":
			n, ok := d.int()
			se.ClockSkew = time.Duration(n)
			return ok
		case "refreshing_since":
			return d.time(&se.RefreshingSince)
		case "refreshing_pid":
			return d.intTo(&se.RefreshingPID)
		case "refreshing_fingerprint":
			return d.string(&se.RefreshingFP)
		case "revoked_refresh_fingerprint":
			return d.string(&se.RevokedRefreshFP)
		case "secrets_backend":
			return d.common(&se.SecretsBackend)
		}
		return false
	})
}
