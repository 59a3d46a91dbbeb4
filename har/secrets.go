package har

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/tokentop/tokentop/auth"
)

// Kind is what a secret is.
type Kind string

// Kinds of secret. Access, refresh and frontend tokens are Convirza's;
// KindToken is a token-shaped value (a JWT) whose role the file does not say.
const (
	KindAccess   Kind = "access"
	KindRefresh  Kind = "refresh"
	KindFrontend Kind = "frontend"
	KindToken    Kind = "token"
	KindPassword Kind = "password"
	KindCookie   Kind = "cookie"
)

// placeholderPrefix starts every placeholder Sanitize writes:
// "tokentop:KIND:sha256:8hex". ':' is outside the token alphabet, so a
// placeholder is never mistaken for a token, and analysing a sanitised file
// recognises it and reports the fingerprint it carries.
const placeholderPrefix = "tokentop:"

// Placeholder is the stable stand-in for a secret of kind k.
func Placeholder(k Kind, value string) string {
	return placeholderPrefix + string(k) + ":" + auth.Fingerprint(value)
}

// parsePlaceholder reads "tokentop:KIND:sha256:8hex" at the start of s and
// returns its kind, fingerprint and length.
func parsePlaceholder(s string) (Kind, string, int, bool) {
	if !strings.HasPrefix(s, placeholderPrefix) {
		return "", "", 0, false
	}
	rest := s[len(placeholderPrefix):]
	i := strings.IndexByte(rest, ':')
	if i <= 0 || i > 10 {
		return "", "", 0, false
	}
	k := Kind(rest[:i])
	switch k {
	case KindAccess, KindRefresh, KindFrontend, KindToken, KindPassword, KindCookie:
	default:
		return "", "", 0, false
	}
	fp := rest[i+1:]
	const fpLen = len("sha256:") + 8
	if len(fp) < fpLen || !strings.HasPrefix(fp, "sha256:") || !isHex(fp[7:fpLen]) {
		return "", "", 0, false
	}
	return k, fp[:fpLen], len(placeholderPrefix) + i + 1 + fpLen, true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// identify names a secret value: the fingerprint it carries if it is a
// placeholder, else its own. placeholder says which.
func identify(value string) (fp string, k Kind, placeholder bool) {
	if pk, pfp, n, ok := parsePlaceholder(value); ok && n == len(value) {
		return pfp, pk, true
	}
	return auth.Fingerprint(value), "", false
}

// tokenChar is the alphabet of tokens found in free text: base64url, JWT
// dots, and the frontend token's [a-z0-9]. Std-base64 tokens ('+', '/',
// '=') are found where the protocol puts them, and then by exact search.
func tokenChar(c byte) bool { return tokenChars[c] }

// tokenChars is tokenChar's table: one load per byte on bodies of
// hundreds of megabytes.
var tokenChars = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
	}
	return
}()

// minTokenRun is the shortest run of token characters worth looking up.
// Real tokens are 32 characters or more; shorter runs are words and ids.
const minTokenRun = 20

// span is one token found in a text, by byte offsets.
type span struct {
	start, end int
	fp         string
	kind       Kind
	value      string // "" for a placeholder
}

// scan finds in b every known token (by value), every JWT-shaped run, and
// every placeholder. known maps a token's value to its kind; it is only
// read. Spans come in order and do not overlap.
func scan(b []byte, known map[string]Kind, exact []string) []span {
	var out []span
	for i := 0; i < len(b); {
		c := b[i]
		if c == 't' && bytes.HasPrefix(b[i:], []byte(placeholderPrefix)) {
			if k, fp, n, ok := parsePlaceholder(string(b[i:min(len(b), i+48)])); ok {
				out = append(out, span{start: i, end: i + n, fp: fp, kind: k})
				i += n
				continue
			}
		}
		if !tokenChar(c) {
			i++
			continue
		}
		j := i + 1
		for j < len(b) && tokenChar(b[j]) {
			j++
		}
		if j-i >= minTokenRun {
			run := b[i:j]
			if k, ok := known[string(run)]; ok {
				v := string(run)
				out = append(out, span{start: i, end: j, fp: auth.Fingerprint(v), kind: k, value: v})
			} else if looksJWT(run) {
				v := string(run)
				out = append(out, span{start: i, end: j, fp: auth.Fingerprint(v), kind: KindToken, value: v})
			}
		}
		i = j
	}
	for _, v := range exact {
		for off := 0; ; {
			k := bytes.Index(b[off:], []byte(v))
			if k < 0 {
				break
			}
			s := span{start: off + k, end: off + k + len(v), fp: auth.Fingerprint(v), kind: known[v], value: v}
			out = insertSpan(out, s)
			off = s.end
		}
	}
	return out
}

// insertSpan adds s in order unless it overlaps a span already found.
func insertSpan(spans []span, s span) []span {
	i := 0
	for i < len(spans) && spans[i].end <= s.start {
		i++
	}
	if i < len(spans) && spans[i].start < s.end {
		return spans
	}
	spans = append(spans, span{})
	copy(spans[i+1:], spans[i:])
	spans[i] = s
	return spans
}

// looksJWT: three base64url segments, the first two decoding to JSON
// objects (a header and claims), as issued by the emulator's jwt format and
// by most servers.
func looksJWT(run []byte) bool {
	if !bytes.HasPrefix(run, []byte("eyJ")) || bytes.Count(run, []byte(".")) != 2 {
		return false
	}
	head := run[:bytes.IndexByte(run, '.')]
	dec, err := base64.RawURLEncoding.DecodeString(string(bytes.TrimRight(head, "=")))
	return err == nil && json.Valid(dec)
}
