package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/tokentop/tokentop/internal/safetext"
)

// Inspection is what a token string is, for display. Nothing in it is secret
// except through Claims of a JWT (which the user asked to see).
//
// Every string in Header and Claims, object keys included, has been through
// safetext.Escape: a token is text from outside, and its claims are printed
// (and put in JSON) as they are.
type Inspection struct {
	Fingerprint string         `json:"fingerprint"`
	Length      int            `json:"length"`
	Format      string         `json:"format"`   // "jwt" or "opaque"
	Alphabet    string         `json:"alphabet"` // e.g. "base64url", "hex", "alphanumeric", "mixed"
	Header      map[string]any `json:"header,omitempty"`
	Claims      map[string]any `json:"claims,omitempty"`
	IssuedAt    time.Time      `json:"issued_at,omitzero"`
	NotBefore   time.Time      `json:"not_before,omitzero"`
	Expires     time.Time      `json:"expires,omitzero"`
	// SignatureVerified is always false: tokentop holds no keys.
	SignatureVerified bool     `json:"signature_verified"`
	Warnings          []string `json:"warnings,omitempty"`
}

// InspectOptions give context for warnings.
type InspectOptions struct {
	Now time.Time
	// ExpectedExpiry is the response's expires_in for this token; a JWT exp
	// that disagrees with it (by more than a few seconds) is warned about.
	ExpectedExpiry time.Time
}

// Alphabets reported in Inspection.Alphabet, from narrowest to widest.
const (
	AlphabetEmpty        = "empty"
	AlphabetHex          = "hex"
	AlphabetAlphanumeric = "alphanumeric"
	AlphabetBase64URL    = "base64url"
	AlphabetBase64       = "base64"
	AlphabetPrintable    = "printable"
	AlphabetBinary       = "binary"
)

const (
	// expiryTolerance is how far a JWT exp may differ from expires_in:
	// both are rounded differently (exp to seconds, expires_in to ms).
	expiryTolerance = 5 * time.Second
	// futureIatTolerance allows for ordinary clock skew before an iat in the
	// future is worth a warning.
	futureIatTolerance = time.Minute
	// maxInspectSegment bounds how much of a JWT is decoded for display.
	maxInspectSegment = 64 << 10
	// minClaimTime and maxClaimTime are 0001-01-01 and 9999-12-31T23:59:59Z
	// in Unix seconds.
	minClaimTime = -62135596800
	maxClaimTime = 253402300799
)

// Inspect describes a token. It never fails: anything that is not a JWT is
// opaque.
func Inspect(token string, opts InspectOptions) Inspection {
	in := Inspection{Fingerprint: Fingerprint(token), Length: len(token), Format: "opaque"}
	if token == "" {
		in.Alphabet = AlphabetEmpty
		in.warn("empty token")
		return in
	}
	tok := token
	if t := strings.TrimSpace(tok); len(t) > 7 && strings.EqualFold(t[:7], "bearer ") {
		in.warn(`starts with "Bearer": give only the token`)
		tok = strings.TrimLeft(t[7:], " ")
	}
	if strings.ContainsFunc(tok, unicode.IsSpace) {
		in.warn("contains whitespace or line breaks (damaged by copy and paste?); the server will not accept it as it is")
		tok = strings.Join(strings.Fields(tok), "")
	}
	if len(tok) >= 2 && (tok[0] == '"' && tok[len(tok)-1] == '"' || tok[0] == '\'' && tok[len(tok)-1] == '\'') {
		in.warn("wrapped in quotes: give only the token")
		tok = tok[1 : len(tok)-1]
	}
	in.Alphabet = classifyAlphabet(tok)
	if in.Alphabet == AlphabetBinary {
		in.warn("contains control, non-ASCII or invisible characters: not a token as issued")
	}
	if looksJWT(tok) {
		in.inspectJWT(tok, opts)
	}
	return in
}

func (in *Inspection) warn(format string, args ...any) {
	in.Warnings = append(in.Warnings, fmt.Sprintf(format, args...))
}

// classifyAlphabet names the narrowest alphabet that holds all of s.
func classifyAlphabet(s string) string {
	hex, alnum, b64url, b64 := true, true, true, true
	body := strings.TrimRight(s, "=") // padding is allowed only at the end
	if len(s)-len(body) > 2 {
		b64url, b64 = false, false
	}
	padded := len(body) != len(s)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f {
			return AlphabetBinary
		}
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		isDigit := c >= '0' && c <= '9'
		isHexLetter := c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
		isLetter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !isDigit && !isHexLetter {
			hex = false
		}
		if !isDigit && !isLetter {
			alnum = false
			if c != '-' && c != '_' {
				b64url = false
			}
			if c != '+' && c != '/' {
				b64 = false
			}
		}
	}
	switch {
	case hex && !padded:
		return AlphabetHex
	case alnum && !padded:
		return AlphabetAlphanumeric
	case b64url:
		return AlphabetBase64URL
	case b64:
		return AlphabetBase64
	}
	return AlphabetPrintable
}

// looksJWT: three dot-separated segments whose first decodes to a JSON
// object (the header); anything else is opaque.
func looksJWT(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || parts[0] == "" || len(parts[0]) > maxInspectSegment {
		return false
	}
	b, err := decodeSegment(parts[0])
	return err == nil && bytes.HasPrefix(bytes.TrimSpace(b), []byte("{"))
}

// decodeSegment decodes base64url, with or without padding.
func decodeSegment(seg string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
}

func (in *Inspection) inspectJWT(tok string, opts InspectOptions) {
	parts := strings.Split(tok, ".")
	hdr, err := decodeJSONSegment(parts[0])
	if err != nil {
		in.warn("looks like a JWT, but its header is %v; treated as opaque", err)
		return
	}
	alg, _ := hdr["alg"].(string)
	if alg == "" {
		in.warn(`looks like a JWT, but its header has no "alg"; treated as opaque`)
		return
	}
	in.Format = "jwt"
	if in.Alphabet != AlphabetBinary && segmentsBase64URL(parts) {
		in.Alphabet = AlphabetBase64URL
	}
	var escaped bool
	in.Header = safeObject(hdr, &escaped)
	defer func() {
		if escaped {
			in.warn(`header or claims hold control, bidi or invisible characters (a hostile token?): shown escaped, as \xNN or \uNNNN`)
		}
	}()
	if strings.EqualFold(alg, "none") {
		in.warn("alg: none: the token is unsigned, anyone could have written it")
		if parts[2] != "" {
			in.warn("alg: none but a signature segment is present")
		}
	} else if parts[2] == "" {
		in.warn("no signature segment although alg is %s", snippet(alg, 20))
	} else if _, err := decodeSegment(parts[2]); err != nil {
		in.warn("malformed signature segment (not base64url)")
	}

	claims, err := decodeJSONSegment(parts[1])
	if err != nil {
		in.warn("malformed JWT payload: %v", err)
		return
	}
	in.Claims = safeObject(claims, &escaped)
	var ok bool
	if in.IssuedAt, ok = in.claimTime(claims, "iat"); ok && !opts.Now.IsZero() && in.IssuedAt.Sub(opts.Now) > futureIatTolerance {
		in.warn("issued in the future (iat %s, now %s): clock skew?", stamp(in.IssuedAt), stamp(opts.Now))
	}
	if in.NotBefore, ok = in.claimTime(claims, "nbf"); ok && !opts.Now.IsZero() && in.NotBefore.After(opts.Now) {
		in.warn("not valid yet: nbf %s is %s from now", stamp(in.NotBefore), in.NotBefore.Sub(opts.Now).Round(time.Second))
	}
	in.Expires, ok = in.claimTime(claims, "exp")
	if _, present := claims["exp"]; !present {
		in.warn("no exp claim: the token does not say when it expires")
	}
	if !ok {
		return
	}
	if !opts.Now.IsZero() && !in.Expires.After(opts.Now) {
		in.warn("already expired: exp %s was %s ago", stamp(in.Expires), opts.Now.Sub(in.Expires).Round(time.Second))
	}
	if !opts.ExpectedExpiry.IsZero() {
		if d := in.Expires.Sub(opts.ExpectedExpiry); d > expiryTolerance || d < -expiryTolerance {
			in.warn("exp %s disagrees with the response's expires_in %s by %s", stamp(in.Expires), stamp(opts.ExpectedExpiry), d.Abs().Round(time.Second))
		}
	}
	if !in.IssuedAt.IsZero() && !in.Expires.After(in.IssuedAt) {
		in.warn("exp is not after iat")
	}
}

// segmentsBase64URL reports whether every segment is unpadded base64url.
func segmentsBase64URL(parts []string) bool {
	for _, p := range parts {
		switch classifyAlphabet(p) {
		case AlphabetEmpty, AlphabetHex, AlphabetAlphanumeric, AlphabetBase64URL:
		default:
			return false
		}
		if strings.HasSuffix(p, "=") {
			return false
		}
	}
	return true
}

// decodeJSONSegment decodes one JWT segment into a JSON object, keeping
// numbers exact.
func decodeJSONSegment(seg string) (map[string]any, error) {
	if len(seg) > maxInspectSegment {
		return nil, fmt.Errorf("longer than %d bytes, not decoded", maxInspectSegment)
	}
	b, err := decodeSegment(seg)
	if err != nil {
		return nil, fmt.Errorf("not base64url")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil || dec.More() {
		return nil, fmt.Errorf("not a JSON object")
	}
	return m, nil
}

// claimTime reads a NumericDate claim (seconds since the epoch, integer or
// fractional, or a numeric string), warning when present but unusable.
func (in *Inspection) claimTime(claims map[string]any, name string) (time.Time, bool) {
	v, ok := claims[name]
	if !ok {
		return time.Time{}, false
	}
	var s string
	switch x := v.(type) {
	case json.Number:
		s = string(x)
	case string:
		s = strings.TrimSpace(x)
	default:
		in.warn("%s claim is %s, not a number of seconds", name, jsonType(v))
		return time.Time{}, false
	}
	f, err := strconv.ParseFloat(s, 64)
	// Years 1..9999 are what RFC 3339 (and so --json output) can express.
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < minClaimTime || f > maxClaimTime {
		in.warn("%s claim %q is not a valid time", name, snippet(s, 30))
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), true
}

// safeObject is m with every string in it, keys included and nested values
// too, passed through safetext.Escape; escaped is set when that changed
// anything. A key that escapes to one already taken gets " (2)", " (3)"...
// rather than overwrite that claim.
func safeObject(m map[string]any, escaped *bool) map[string]any {
	out := make(map[string]any, len(m))
	var hostile []string
	for k, v := range m {
		if safetext.Needs(k) {
			hostile = append(hostile, k)
			continue
		}
		out[k] = safeValue(v, escaped)
	}
	sort.Strings(hostile) // the suffixes do not depend on map order
	for _, k := range hostile {
		*escaped = true
		key := safetext.Escape(k)
		for n := 2; ; n++ {
			if _, taken := out[key]; !taken {
				break
			}
			key = fmt.Sprintf("%s (%d)", safetext.Escape(k), n)
		}
		out[key] = safeValue(m[k], escaped)
	}
	return out
}

func safeValue(v any, escaped *bool) any {
	switch x := v.(type) {
	case string:
		if safetext.Needs(x) {
			*escaped = true
			return safetext.Escape(x)
		}
		return x
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = safeValue(e, escaped)
		}
		return out
	case map[string]any:
		return safeObject(x, escaped)
	}
	return v
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// ClaimNames returns the JWT's claim names in sorted order, for display.
func (in Inspection) ClaimNames() []string {
	names := make([]string, 0, len(in.Claims))
	for c := range in.Claims {
		names = append(names, c)
	}
	sort.Strings(names)
	return names
}
