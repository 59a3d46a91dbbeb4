package present

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/safetext"
	"github.com/tokentop/tokentop/internal/timefmt"
)

// ListJSONWriter is `list --json`: ListJSON, indented, through WriteJSON's
// rules. Like ListTable, sessions are added in any order by several
// goroutines at once (each with its own Adder) and written sorted by name;
// each is encoded as it is added, by appendSessionJSON when plain (nearly
// always): at 10,000 sessions, encoding/json, safetext's scan and
// json.Indent over one 10 MB document took most of `list --json`'s time.
// The output is the same bytes either way (TestListJSONAgrees). Until it
// is written, a plain session is kept as its values only, each after a
// byte with its length (a third of its size: holding 10,000
// whole elements was 7 MB of new memory, a tenth of the time), and is
// expanded as it is written.
type ListJSONWriter struct {
	backend, configDir string
	now                time.Time
	rows               rowSets  // a row per session: its encoding, one cell
	literals           []string // what each length byte of an element kept by its values stands for
}

// NewListJSONWriter is an empty list of sessions at now, in configDir,
// where new sessions go to backend.
func NewListJSONWriter(backend, configDir string, now time.Time) *ListJSONWriter {
	l := &ListJSONWriter{backend: backend, configDir: configDir, now: now}
	appendSessionJSONAs(nil, &SessionJSON{}, plainJSON{ok: true, compact: true, slot: -1, literals: &l.literals})
	return l
}

// Adder returns a function that encodes and adds a session. One goroutine
// may use it at a time: each goroutine adding sessions takes its own.
func (l *ListJSONWriter) Adder() func(*auth.Session) error {
	rs := l.rows.add(1)
	// The instants' pointers point here rather than at nine new times a
	// session; each session's are written out before the next is made.
	var times [16]time.Time
	n := 0
	at := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		times[n] = t.UTC()
		n++
		return &times[n-1]
	}
	return func(s *auth.Session) error {
		n = 0
		sj := sessionJSON(s, l.now, at)
		sj.SecretsBackend = secretsBackend(s, l.backend)
		rs.beginRow()
		row, ok := appendSessionJSONAs(append(rs.row, compactMark), &sj, plainJSON{ok: true, compact: true, slot: -1})
		if !ok {
			// Not plain, or a value too long to keep by its values: whole.
			if row, ok = appendSessionJSON(rs.row, &sj); !ok {
				var err error
				if row, err = appendSessionJSONGeneral(rs.row, &sj); err != nil {
					return fmt.Errorf("write the session list: session %q: %w", s.Name, err)
				}
			}
		}
		rs.row = row
		rs.ends = append(doubled(rs.ends), int32(len(rs.row)))
		rs.endRow(s.Name)
		return nil
	}
}

// Len is the number of sessions added so far.
func (l *ListJSONWriter) Len() int { return l.rows.len() }

// Write writes the document, sessions sorted by name. Call it once every
// Adder is done.
func (l *ListJSONWriter) Write(w io.Writer) error {
	if l.Len() == 0 {
		out := ListJSON{Storage: l.backend, ConfigDir: l.configDir, Sessions: []SessionJSON{}}
		if err := WriteJSON(w, out); err != nil {
			return fmt.Errorf("write the session list: %w", err)
		}
		return nil
	}
	head := []byte("{\n  \"storage\": ")
	head, err := appendJSONString(head, l.backend)
	if err != nil {
		return fmt.Errorf("write the session list: %w", err)
	}
	head = append(head, ",\n  \"config_dir\": "...)
	if head, err = appendJSONString(head, l.configDir); err != nil {
		return fmt.Errorf("write the session list: %w", err)
	}
	head = append(head, ",\n  \"sessions\": [\n"...)
	bw := bufio.NewWriterSize(w, 64<<10)
	_, _ = bw.Write(head)
	l.rows.mu.Lock()
	defer l.rows.mu.Unlock()
	rows, order := l.rows.parts, l.rows.sorted()
	writeInOrder(bw, order, 64, func(b []byte, r rowRef) []byte {
		if r != order[0] {
			b = append(b, ",\n"...)
		}
		return expandSessionJSON(b, rows[r.part].cell(int(r.row), 0, 1), l.literals)
	})
	_, _ = bw.WriteString("\n  ]\n}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write the session list: %w", err)
	}
	return nil
}

// appendJSONString appends v as WriteJSON writes a string member.
func appendJSONString(b []byte, v string) ([]byte, error) {
	if out, ok := appendPlainString(b, v); ok {
		return out, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	doc, err := safetext.JSON(raw, "")
	if err != nil {
		return b, err
	}
	return append(b, doc...), nil
}

// WriteListJSON writes sessions with a ListJSONWriter.
func WriteListJSON(w io.Writer, backend, configDir string, sessions []auth.Session, now time.Time) error {
	l := NewListJSONWriter(backend, configDir, now)
	add := l.Adder()
	for i := range sessions {
		if err := add(&sessions[i]); err != nil {
			return err
		}
	}
	return l.Write(w)
}

// expandSessionJSON appends the element that el encodes: el itself when
// it is a whole one, and when it is kept by its values (it starts with
// compactMark), its values with the literals between them.
func expandSessionJSON(b, el []byte, literals []string) []byte {
	if len(el) == 0 || el[0] != compactMark {
		return append(b, el...)
	}
	el = el[1:]
	for _, lit := range literals {
		n := int(el[0])
		b = append(append(b, lit...), el[1:1+n]...)
		el = el[1+n:]
	}
	return b
}

// appendSessionJSONGeneral appends WriteJSON's encoding of s alone,
// indented as it would be in the list.
func appendSessionJSONGeneral(b []byte, s *SessionJSON) ([]byte, error) {
	// A copy, so s itself does not escape (and the common case needs no
	// allocation for it).
	c := *s
	raw, err := json.Marshal(&c)
	if err != nil {
		return b, err
	}
	doc, err := safetext.JSON(raw, "")
	if err != nil {
		return b, err
	}
	var ind bytes.Buffer
	if err := json.Indent(&ind, doc, "    ", "  "); err != nil {
		return b, err
	}
	b = append(b, "    "...)
	return append(b, ind.Bytes()...), nil
}

// appendSessionJSON appends s as an element of ListJSON.Sessions, exactly as
// WriteJSON writes it (encoding/json, then indented by two spaces, at
// depth 2), and says whether it could: every string must be printable
// ASCII that JSON and safetext leave alone (no '"', '\\', '<', '>', '&'),
// every time within years 0-9999, and the skew a plain decimal. A field
// added to SessionJSON and not here fails TestListJSONFastPathAgrees.
func appendSessionJSON(b []byte, s *SessionJSON) ([]byte, bool) {
	return appendSessionJSONAs(b, s, plainJSON{ok: true})
}

// appendSessionJSONAs is appendSessionJSON writing its literals as e.lit
// does.
func appendSessionJSONAs(b []byte, s *SessionJSON, e plainJSON) ([]byte, bool) {
	// Each member's separator, indentation and key are one literal: the
	// order and the depth never change.
	b = e.lit(b, "    {\n      \"name\": ")
	b = e.str(b, s.Name)
	b = e.lit(b, ",\n      \"email\": ")
	b = e.str(b, s.Email)
	b = e.lit(b, ",\n      \"user\": {\n        \"user_id\": ")
	b = strconv.AppendInt(b, s.User.UserID, 10)
	b = e.lit(b, ",\n        \"email\": ")
	b = e.str(b, s.User.Email)
	b = e.lit(b, ",\n        \"role_id\": ")
	b = strconv.AppendInt(b, int64(s.User.RoleID), 10)
	b = e.lit(b, ",\n        \"org_unit_id\": ")
	b = strconv.AppendInt(b, s.User.OrgUnitID, 10)
	b = e.lit(b, "\n      }")
	b = e.lit(b, ",\n      \"role\": ")
	b = e.str(b, s.Role)
	b = e.lit(b, ",\n      \"org_unit_id\": ")
	b = strconv.AppendInt(b, s.OrgUnitID, 10)
	b = e.lit(b, ",\n      \"oauth_url\": ")
	b = e.str(b, s.OAuthURL)
	b = e.lit(b, ",\n      \"api_url\": ")
	b = e.str(b, s.APIURL)
	b = e.lit(b, ",\n      \"access_expires_at\": ")
	b = e.time(b, s.AccessExpiresAt)
	b = e.lit(b, ",\n      \"refresh_expires_at\": ")
	b = e.time(b, s.RefreshExpiresAt)
	b = e.lit(b, ",\n      \"access_expires_in_seconds\": ")
	b = strconv.AppendInt(b, s.AccessExpiresInSeconds, 10)
	b = e.lit(b, ",\n      \"refresh_expires_in_seconds\": ")
	b = strconv.AppendInt(b, s.RefreshExpiresInSeconds, 10)
	b = e.lit(b, ",\n      \"issued_at\": ")
	b = e.time(b, s.IssuedAt)
	b = e.lit(b, ",\n      \"state\": ")
	b = e.str(b, s.State)
	b = e.lit(b, ",\n      \"stored_state\": ")
	b = e.str(b, s.StoredState)
	b = e.lit(b, ",\n      \"reason\": ")
	b = e.str(b, s.Reason)
	b = e.lit(b, ",\n      \"last_error\": ")
	b = e.str(b, s.LastError)
	b = e.lit(b, ",\n      \"next_attempt\": ")
	b = e.time(b, s.NextAttempt)
	b = e.lit(b, ",\n      \"paused\": ")
	b = strconv.AppendBool(b, s.Paused)
	b = e.lit(b, ",\n      \"refresh_interrupted\": ")
	b = strconv.AppendBool(b, s.RefreshInterrupted)
	b = e.lit(b, ",\n      \"auto_refresh_at\": ")
	b = e.time(b, s.AutoRefreshAt)
	b = e.lit(b, ",\n      \"last_refresh\": ")
	b = e.time(b, s.LastRefresh)
	b = e.lit(b, ",\n      \"refreshes\": ")
	b = strconv.AppendInt(b, int64(s.Refreshes), 10)
	b = e.lit(b, ",\n      \"failures\": ")
	b = strconv.AppendInt(b, int64(s.Failures), 10)
	b = e.lit(b, ",\n      \"clock_skew_seconds\": ")
	b = e.float(b, s.ClockSkewSeconds)
	b = e.lit(b, ",\n      \"access_fingerprint\": ")
	b = e.str(b, s.AccessFingerprint)
	b = e.lit(b, ",\n      \"refresh_fingerprint\": ")
	b = e.str(b, s.RefreshFingerprint)
	b = e.lit(b, ",\n      \"token_format\": ")
	b = e.str(b, s.TokenFormat)
	b = e.lit(b, ",\n      \"created_at\": ")
	b = e.time(b, s.CreatedAt)
	b = e.lit(b, ",\n      \"updated_at\": ")
	b = e.time(b, s.UpdatedAt)
	b = e.lit(b, ",\n      \"secrets_backend\": ")
	b = e.str(b, s.SecretsBackend)
	b = e.lit(b, "\n    }")
	return b, e.ok
}

// plainJSON appends values encoding/json would write as they are; ok
// turns false at the first one it would not. Its literals (the keys, the
// punctuation and the indentation between the values) are appended whole,
// or, when compact, as one byte each that says how long the value after it
// is (ok turns false for one over 255 bytes), so an element can be kept as
// little more than its values and expanded later (expandSessionJSON); when
// literals is not nil they are collected there.
type plainJSON struct {
	ok       bool
	compact  bool
	slot     int // compact: where the last literal's byte is (-1: none yet)
	literals *[]string
}

// compactMark starts an element kept by values (see plainJSON); a whole
// one starts with a space.
const compactMark = 0xff

func (e *plainJSON) lit(b []byte, s string) []byte {
	if e.literals != nil {
		*e.literals = append(*e.literals, s)
	}
	if !e.compact {
		return append(b, s...)
	}
	if e.slot >= 0 {
		n := len(b) - e.slot - 1
		e.ok = e.ok && n <= 255
		b[e.slot] = byte(n)
	}
	e.slot = len(b)
	return append(b, 0)
}

func (e *plainJSON) str(b []byte, v string) []byte {
	b, ok := appendPlainString(b, v)
	e.ok = e.ok && ok
	return b
}

func (e *plainJSON) time(b []byte, t *time.Time) []byte {
	if t == nil {
		return append(b, "null"...)
	}
	if !timefmt.FourDigitYear(*t) {
		e.ok = false // encoding/json refuses it; let it say so
		return b
	}
	b = append(b, '"')
	b = timefmt.AppendRFC3339Nano(b, *t)
	return append(b, '"')
}

// float is encoding/json's form where it is plain decimal ('f', shortest);
// exponents, NaN and infinities are left to encoding/json.
func (e *plainJSON) float(b []byte, f float64) []byte {
	if a := math.Abs(f); math.IsNaN(f) || math.IsInf(f, 0) || a != 0 && (a < 1e-6 || a >= 1e21) {
		e.ok = false
		return b
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// plainWord says whether all 8 bytes of w are ones appendPlainString
// takes, with the classic exact word tests: (x-ones)&^x&highs is not zero
// exactly when some byte of x is zero, and (x-ones*n)&^x&highs exactly when
// some byte is below n (n up to 0x80).
func plainWord(w uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	zero := func(x uint64) uint64 { return (x - ones) &^ x & highs }
	return (w-ones*0x20)&^w&highs|w&highs|zero(w^ones*0x7f)|zero(w^ones*'"')|zero(w^ones*'\\')|
		zero(w^ones*'<')|zero(w^ones*'>')|zero(w^ones*'&') == 0
}

// appendPlainString appends s quoted when encoding/json would write it as it
// is and safetext would leave it alone: printable ASCII other than '"',
// '\\' and the three encoding/json escapes for HTML.
func appendPlainString(b []byte, s string) ([]byte, bool) {
	i := 0
	// Eight bytes at a time: list --json checks 16 strings a session.
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if !plainWord(w) {
			return b, false
		}
	}
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x7f, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return b, false
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), true
}
