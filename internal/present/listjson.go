package present

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/safetext"
)

// WriteListJSON writes `list --json`: ListJSON, indented, through WriteJSON's
// rules. Sessions are encoded by appendSessionJSON when plain (nearly
// always), a chunk per CPU at a time, and written as they are done: at
// 10,000 sessions, encoding/json, safetext's scan and json.Indent over one
// 10 MB document took most of `list --json`'s time. The output is the same
// bytes either way (TestListJSONFastPathAgrees).
func WriteListJSON(w io.Writer, backend, configDir string, sessions []auth.Session, now time.Time) error {
	sessions = withBackends(sessions, backend)
	if err := writeListJSONFast(w, backend, configDir, sessions, now); err != errNotPlain {
		return err
	}
	out := ListJSON{Storage: backend, ConfigDir: configDir, Sessions: make([]SessionJSON, 0, len(sessions))}
	for _, s := range sessions {
		out.Sessions = append(out.Sessions, NewSessionJSON(s, now))
	}
	if err := WriteJSON(w, out); err != nil {
		return fmt.Errorf("write the session list: %w", err)
	}
	return nil
}

// errNotPlain: the list's header needs the general encoder.
var errNotPlain = errors.New("not plain")

// listJSONChunk is how many sessions a worker encodes at once.
const listJSONChunk = 256

// writeListJSONFast writes the list, or nothing and errNotPlain when the
// header is not plain. A session that is not plain is encoded alone by the
// general path, which gives the same bytes it would inside the document.
func writeListJSONFast(w io.Writer, backend, configDir string, sessions []auth.Session, now time.Time) error {
	if len(sessions) == 0 {
		return errNotPlain
	}
	head := []byte("{\n  \"storage\": ")
	head, ok1 := appendPlainString(head, backend)
	head = append(head, ",\n  \"config_dir\": "...)
	head, ok2 := appendPlainString(head, configDir)
	head = append(head, ",\n  \"sessions\": [\n"...)
	if !ok1 || !ok2 {
		return errNotPlain
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	_, _ = bw.Write(head)
	workers := runtime.GOMAXPROCS(0)
	bufs := make([][]byte, workers)
	errs := make([]error, workers)
	// Rounds of one chunk per worker, written in order; the buffers are
	// reused, so memory stays a few chunks whatever the count.
	for round := 0; round*workers*listJSONChunk < len(sessions); round++ {
		var wg sync.WaitGroup
		for k := range workers {
			lo := min((round*workers+k)*listJSONChunk, len(sessions))
			hi := min(lo+listJSONChunk, len(sessions))
			wg.Add(1)
			go func() {
				defer wg.Done()
				b := bufs[k][:0]
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
				for i := lo; i < hi && errs[k] == nil; i++ {
					if i > 0 {
						b = append(b, ",\n"...)
					}
					n = 0 // the last session's instants are written out
					sj := sessionJSON(sessions[i], now, at)
					b, errs[k] = appendSessionJSONAny(b, &sj)
				}
				bufs[k] = b
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("write the session list: %w", err)
		}
		for _, b := range bufs {
			_, _ = bw.Write(b)
		}
	}
	_, _ = bw.WriteString("\n  ]\n}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write the session list: %w", err)
	}
	return nil
}

// appendSessionJSONAny is appendSessionJSON, or for a session that is not
// plain, WriteJSON's encoding of it alone, indented as it would be in the
// list.
func appendSessionJSONAny(b []byte, s *SessionJSON) ([]byte, error) {
	if out, ok := appendSessionJSON(b, s); ok {
		return out, nil
	}
	raw, err := json.Marshal(s)
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
	e := jsonAppender{b: b, ok: true, indent: "\n      "}
	e.b = append(e.b, "    {"...)
	e.str("name", s.Name)
	e.str("email", s.Email)
	e.key("user")
	e.b = append(e.b, '{')
	e.indent, e.some = "\n        ", false
	e.int("user_id", s.User.UserID)
	e.str("email", s.User.Email)
	e.int("role_id", int64(s.User.RoleID))
	e.int("org_unit_id", s.User.OrgUnitID)
	e.indent = "\n      "
	e.b = append(e.b, e.indent...)
	e.b = append(e.b, '}')
	e.str("role", s.Role)
	e.int("org_unit_id", s.OrgUnitID)
	e.str("oauth_url", s.OAuthURL)
	e.str("api_url", s.APIURL)
	e.time("access_expires_at", s.AccessExpiresAt)
	e.time("refresh_expires_at", s.RefreshExpiresAt)
	e.int("access_expires_in_seconds", s.AccessExpiresInSeconds)
	e.int("refresh_expires_in_seconds", s.RefreshExpiresInSeconds)
	e.time("issued_at", s.IssuedAt)
	e.str("state", s.State)
	e.str("stored_state", s.StoredState)
	e.str("reason", s.Reason)
	e.str("last_error", s.LastError)
	e.time("next_attempt", s.NextAttempt)
	e.bool("paused", s.Paused)
	e.bool("refresh_interrupted", s.RefreshInterrupted)
	e.time("auto_refresh_at", s.AutoRefreshAt)
	e.time("last_refresh", s.LastRefresh)
	e.int("refreshes", int64(s.Refreshes))
	e.int("failures", int64(s.Failures))
	e.float("clock_skew_seconds", s.ClockSkewSeconds)
	e.str("access_fingerprint", s.AccessFingerprint)
	e.str("refresh_fingerprint", s.RefreshFingerprint)
	e.str("token_format", s.TokenFormat)
	e.time("created_at", s.CreatedAt)
	e.time("updated_at", s.UpdatedAt)
	e.str("secrets_backend", s.SecretsBackend)
	e.b = append(e.b, "\n    }"...)
	return e.b, e.ok
}

// jsonAppender writes one indented object's members; ok turns false at the
// first value that is not plain.
type jsonAppender struct {
	b      []byte
	ok     bool
	indent string // newline and the members' indentation
	some   bool   // a member was written at this depth
}

func (e *jsonAppender) key(k string) {
	if e.some {
		e.b = append(e.b, ',')
	}
	e.some = true
	e.b = append(e.b, e.indent...)
	e.b = append(e.b, '"')
	e.b = append(e.b, k...)
	e.b = append(e.b, "\": "...)
}

func (e *jsonAppender) str(k, v string) {
	e.key(k)
	var ok bool
	e.b, ok = appendPlainString(e.b, v)
	e.ok = e.ok && ok
}

func (e *jsonAppender) int(k string, v int64) {
	e.key(k)
	e.b = strconv.AppendInt(e.b, v, 10)
}

func (e *jsonAppender) bool(k string, v bool) {
	e.key(k)
	e.b = strconv.AppendBool(e.b, v)
}

func (e *jsonAppender) time(k string, t *time.Time) {
	e.key(k)
	if t == nil {
		e.b = append(e.b, "null"...)
		return
	}
	if y := t.Year(); y < 0 || y > 9999 {
		e.ok = false // encoding/json refuses it; let it say so
		return
	}
	e.b = append(e.b, '"')
	e.b = appendRFC3339Nano(e.b, *t)
	e.b = append(e.b, '"')
}

// appendRFC3339Nano is t.AppendFormat(b, time.RFC3339Nano) for a UTC time
// of years 0-9999, digits by hand (nine instants per session); other
// times go through AppendFormat.
func appendRFC3339Nano(b []byte, t time.Time) []byte {
	if t.Location() != time.UTC {
		return t.AppendFormat(b, time.RFC3339Nano)
	}
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	put := func(b []byte, n, width int) {
		for i := width - 1; i >= 0; i-- {
			b[i] = byte('0' + n%10)
			n /= 10
		}
	}
	date := [19]byte{4: '-', 7: '-', 10: 'T', 13: ':', 16: ':'}
	put(date[0:], y, 4)
	put(date[5:], int(mo), 2)
	put(date[8:], d, 2)
	put(date[11:], h, 2)
	put(date[14:], mi, 2)
	put(date[17:], s, 2)
	b = append(b, date[:]...)
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		put(frac[1:], ns, 9)
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		b = append(b, frac[:n]...)
	}
	return append(b, 'Z')
}

// float is encoding/json's form where it is plain decimal ('f', shortest);
// exponents, NaN and infinities are left to encoding/json.
func (e *jsonAppender) float(k string, f float64) {
	e.key(k)
	if a := math.Abs(f); math.IsNaN(f) || math.IsInf(f, 0) || a != 0 && (a < 1e-6 || a >= 1e21) {
		e.ok = false
		return
	}
	e.b = strconv.AppendFloat(e.b, f, 'f', -1, 64)
}

// appendPlainString appends s quoted when encoding/json would write it as it
// is and safetext would leave it alone: printable ASCII other than '"',
// '\\' and the three encoding/json escapes for HTML.
func appendPlainString(b []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x7f, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return b, false
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), true
}
