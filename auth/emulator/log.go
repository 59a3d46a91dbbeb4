package emulator

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// fingerprint names a token without revealing it: "sha256:" and the first 8
// hex digits of its SHA-256, the same scheme the client shows.
func fingerprint(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return "sha256:" + hex.EncodeToString(sum[:4])
}

// reqLog collects what one request's log line says besides the basics. The
// handlers add fingerprints only, so the line can never carry a secret.
type reqLog struct {
	status int
	user   string
	notes  []string
}

// token records a token by kind and fingerprint, e.g. "in.refresh=sha256:…".
func (l *reqLog) token(label, tok string) {
	if tok == "" {
		return
	}
	l.notes = append(l.notes, label+"="+fingerprint(tok))
}

// note records a short remark (no secrets), e.g. "reuse".
func (l *reqLog) note(s string) { l.notes = append(l.notes, s) }

// writeLog writes one line for a finished request to Config.Log.
func (s *Server) writeLog(at time.Time, method, path, ip, reqID string, d time.Duration, l *reqLog) {
	if s.cfg.Log == nil {
		return
	}
	status := fmt.Sprint(l.status)
	switch l.status {
	case 0:
		status = "canceled"
	case statusDropped:
		status = "dropped"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s emulator: %s %s %s %s ip=%s req=%s", isoTime(at), method, sanitize(path), status,
		d.Round(time.Microsecond), ip, reqID)
	if l.user != "" {
		fmt.Fprintf(&b, " user=%s", sanitize(l.user))
	}
	for _, n := range l.notes {
		b.WriteByte(' ')
		b.WriteString(n)
	}
	b.WriteByte('\n')
	s.logMu.Lock()
	defer s.logMu.Unlock()
	_, _ = io.WriteString(s.cfg.Log, b.String())
}

// sanitize keeps request-controlled text from forging log lines or driving
// the terminal: C0, DEL and C1 controls (U+009B is a one-character CSI for
// many terminals), invisible format characters such as bidi overrides, and
// invalid UTF-8 all become '?'.
func sanitize(s string) string {
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			return '?'
		}
		return r
	}, s)
}
