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
	"github.com/tokentop/tokentop/internal/timefmt"
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
	// Each member's separator, indentation and key are one literal: the
	// order and the depth never change.
	e := plainJSON{ok: true}
	b = append(b, "    {\n      \"name\": "...)
	b = e.str(b, s.Name)
	b = append(b, ",\n      \"email\": "...)
	b = e.str(b, s.Email)
	b = append(b, ",\n      \"user\": {\n        \"user_id\": "...)
	b = strconv.AppendInt(b, s.User.UserID, 10)
	b = append(b, ",\n        \"email\": "...)
	b = e.str(b, s.User.Email)
	b = append(b, ",\n        \"role_id\": "...)
	b = strconv.AppendInt(b, int64(s.User.RoleID), 10)
	b = append(b, ",\n        \"org_unit_id\": "...)
	b = strconv.AppendInt(b, s.User.OrgUnitID, 10)
	b = append(b, "\n      }"...)
	b = append(b, ",\n      \"role\": "...)
	b = e.str(b, s.Role)
	b = append(b, ",\n      \"org_unit_id\": "...)
	b = strconv.AppendInt(b, s.OrgUnitID, 10)
	b = append(b, ",\n      \"oauth_url\": "...)
	b = e.str(b, s.OAuthURL)
	b = append(b, ",\n      \"api_url\": "...)
	b = e.str(b, s.APIURL)
	b = append(b, ",\n      \"access_expires_at\": "...)
	b = e.time(b, s.AccessExpiresAt)
	b = append(b, ",\n      \"refresh_expires_at\": "...)
	b = e.time(b, s.RefreshExpiresAt)
	b = append(b, ",\n      \"access_expires_in_seconds\": "...)
	b = strconv.AppendInt(b, s.AccessExpiresInSeconds, 10)
	b = append(b, ",\n      \"refresh_expires_in_seconds\": "...)
	b = strconv.AppendInt(b, s.RefreshExpiresInSeconds, 10)
	b = append(b, ",\n      \"issued_at\": "...)
	b = e.time(b, s.IssuedAt)
	b = append(b, ",\n      \"state\": "...)
	b = e.str(b, s.State)
	b = append(b, ",\n      \"stored_state\": "...)
	b = e.str(b, s.StoredState)
	b = append(b, ",\n      \"reason\": "...)
	b = e.str(b, s.Reason)
	b = append(b, ",\n      \"last_error\": "...)
	b = e.str(b, s.LastError)
	b = append(b, ",\n      \"next_attempt\": "...)
	b = e.time(b, s.NextAttempt)
	b = append(b, ",\n      \"paused\": "...)
	b = strconv.AppendBool(b, s.Paused)
	b = append(b, ",\n      \"refresh_interrupted\": "...)
	b = strconv.AppendBool(b, s.RefreshInterrupted)
	b = append(b, ",\n      \"auto_refresh_at\": "...)
	b = e.time(b, s.AutoRefreshAt)
	b = append(b, ",\n      \"last_refresh\": "...)
	b = e.time(b, s.LastRefresh)
	b = append(b, ",\n      \"refreshes\": "...)
	b = strconv.AppendInt(b, int64(s.Refreshes), 10)
	b = append(b, ",\n      \"failures\": "...)
	b = strconv.AppendInt(b, int64(s.Failures), 10)
	b = append(b, ",\n      \"clock_skew_seconds\": "...)
	b = e.float(b, s.ClockSkewSeconds)
	b = append(b, ",\n      \"access_fingerprint\": "...)
	b = e.str(b, s.AccessFingerprint)
	b = append(b, ",\n      \"refresh_fingerprint\": "...)
	b = e.str(b, s.RefreshFingerprint)
	b = append(b, ",\n      \"token_format\": "...)
	b = e.str(b, s.TokenFormat)
	b = append(b, ",\n      \"created_at\": "...)
	b = e.time(b, s.CreatedAt)
	b = append(b, ",\n      \"updated_at\": "...)
	b = e.time(b, s.UpdatedAt)
	b = append(b, ",\n      \"secrets_backend\": "...)
	b = e.str(b, s.SecretsBackend)
	b = append(b, "\n    }"...)
	return b, e.ok
}

// plainJSON appends values encoding/json would write as they are; ok
// turns false at the first one it would not.
type plainJSON struct{ ok bool }

func (e *plainJSON) str(b []byte, v string) []byte {
	b, ok := appendPlainString(b, v)
	e.ok = e.ok && ok
	return b
}

func (e *plainJSON) time(b []byte, t *time.Time) []byte {
	if t == nil {
		return append(b, "null"...)
	}
	if y := t.Year(); y < 0 || y > 9999 {
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
