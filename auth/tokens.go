package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tokentop/tokentop/internal/safetext"
)

// Bounds on what a token response may say. Anything outside them is a server
// bug or a hostile answer, and taking it at face value would schedule
// refreshes decades away or in the past.
var (
	minExpiry = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	maxExpiry = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

const (
	// maxLifetime bounds a numeric seconds-from-now expiry (about 100 years).
	maxLifetime = 100 * 365 * 24 * time.Hour
	// epochSecondsThreshold: a number this large (about 31 years) is no
	// sensible lifetime, so it is read as Unix seconds instead.
	epochSecondsThreshold = 1e9
	// epochMillisThreshold: larger still is read as Unix milliseconds.
	epochMillisThreshold = 1e12
	// maxTokenLen bounds one token; real ones are a few hundred bytes.
	maxTokenLen = 16 << 10
)

// ParseTokenResponse parses a login/refresh response body (flat or
// {"data": ...} enveloped; ISO-8601 or seconds-from-now expiries). now is the
// receive time used for numeric expiries and IssuedAt.
//
// Errors match ErrBadResponse and never contain token values.
func ParseTokenResponse(body []byte, now time.Time) (TokenSet, error) {
	return parseTokenResponse(body, now, 0, false)
}

// ParseSavedTokenResponse is ParseTokenResponse for a response saved earlier
// and imported now: its access token may already have expired (a support
// engineer pastes what a customer sent yesterday), so only the refresh
// token must still be alive. The keeper refreshes such a pair at once.
func ParseSavedTokenResponse(body []byte, now time.Time) (TokenSet, error) {
	return parseTokenResponse(body, now, 0, true)
}

// parseTokenResponse is ParseTokenResponse with the server's clock offset,
// so "already expired" is judged by the server's clock, which wrote the
// instants, rather than a possibly skewed local one.
// With saved, an access expiry in the past is accepted.
func parseTokenResponse(body []byte, now time.Time, offset time.Duration, saved bool) (TokenSet, error) {
	obj, err := decodeObject(body)
	if err != nil {
		return TokenSet{}, badResponse("token response: %v", err)
	}
	obj = unwrapEnvelope(obj, "access_token")

	var ts TokenSet
	ts.IssuedAt = now
	if ts.AccessToken, err = tokenField(obj, "access_token", true); err != nil {
		return TokenSet{}, err
	}
	if ts.RefreshToken, err = tokenField(obj, "refresh_token", true); err != nil {
		return TokenSet{}, err
	}
	if ts.FrontendToken, err = tokenField(obj, "frontend_token", false); err != nil {
		return TokenSet{}, err
	}
	ts.TokenType = "Bearer"
	if v, ok := obj["token_type"]; ok && v != nil {
		s, ok := v.(string)
		if !ok {
			return TokenSet{}, badResponse("token response: token_type is %s, want a string", jsonType(v))
		}
		if s = strings.TrimSpace(s); s != "" {
			ts.TokenType = s
		}
	}
	serverNow := now.Add(offset)
	if ts.AccessExpiry, err = expiryField(obj, "expires_in", now, serverNow, saved); err != nil {
		return TokenSet{}, err
	}
	if ts.RefreshExpiry, err = expiryField(obj, "refresh_expires_in", now, serverNow, saved); err != nil {
		return TokenSet{}, err
	}
	if saved && !ts.RefreshExpiry.After(serverNow) {
		return TokenSet{}, badResponse("token response: the refresh token expired at %s, so this pair can no longer be refreshed; log in instead",
			ts.RefreshExpiry.UTC().Format(time.RFC3339))
	}
	if v, ok := obj["user"]; ok && v != nil {
		m, ok := v.(map[string]any)
		if !ok {
			return TokenSet{}, badResponse("token response: user is %s, want an object", jsonType(v))
		}
		if ts.User, err = parseUser(m); err != nil {
			return TokenSet{}, badResponse("token response: %v", err)
		}
	}
	return ts, nil
}

func badResponse(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadResponse}, args...)...)
}

// decodeObject decodes exactly one JSON object, keeping numbers exact.
func decodeObject(body []byte) (map[string]any, error) {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, errors.New("empty body")
	}
	if trimmed[0] != '{' {
		// The body is never quoted: a form-encoded answer would hold tokens.
		if trimmed[0] == '<' {
			return nil, errors.New("got an HTML page, not a JSON object")
		}
		return nil, errors.New("got plain text, not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", jsonErrText(err))
	}
	if dec.More() {
		return nil, errors.New("invalid JSON: trailing data after the object")
	}
	if obj == nil {
		return nil, errors.New("not a JSON object")
	}
	return obj, nil
}

// jsonErrText describes a decoding error without quoting the input, which
// may contain a token.
func jsonErrText(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "truncated"
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s where %s was expected", te.Value, te.Type)
	}
	return "malformed"
}

// unwrapEnvelope returns obj["data"] when obj is a {"code","message","data"}
// envelope around the object that holds key; otherwise obj itself.
func unwrapEnvelope(obj map[string]any, key string) map[string]any {
	for range 2 { // {"data":{"data":{...}}} has been seen from proxies
		if _, ok := obj[key]; ok {
			return obj
		}
		inner, ok := obj["data"].(map[string]any)
		if !ok {
			return obj
		}
		obj = inner
	}
	return obj
}

// tokenField reads a token string. Its value never appears in an error.
func tokenField(obj map[string]any, key string, required bool) (string, error) {
	v, ok := obj[key]
	if !ok || v == nil {
		if required {
			return "", badResponse("token response: missing %s", key)
		}
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", badResponse("token response: %s is %s, want a string", key, jsonType(v))
	}
	switch {
	case s == "" && required:
		return "", badResponse("token response: %s is empty", key)
	case len(s) > maxTokenLen:
		return "", badResponse("token response: %s is %d bytes, longer than %d", key, len(s), maxTokenLen)
	case strings.TrimSpace(s) != s || strings.ContainsFunc(s, isControlOrSpace):
		return "", badResponse("token response: %s contains whitespace or control characters", key)
	}
	return s, nil
}

func isControlOrSpace(r rune) bool { return r <= ' ' || r == 0x7f || r == '\u00a0' || r == '\ufeff' }

// expiryField reads an expiry: an ISO-8601 instant, or seconds from now as a
// number or numeric string. Instants must lie after serverNow and within
// 2000..2200.
// With allowPast, an instant before serverNow is accepted.
func expiryField(obj map[string]any, key string, now, serverNow time.Time, allowPast bool) (time.Time, error) {
	v, ok := obj[key]
	if !ok || v == nil {
		return time.Time{}, badResponse("token response: missing %s", key)
	}
	t, err := parseExpiry(v, now)
	if err != nil {
		return time.Time{}, badResponse("token response: %s: %v", key, err)
	}
	switch {
	case t.Before(minExpiry) || !t.Before(maxExpiry):
		return time.Time{}, badResponse("token response: %s: %s is not a plausible expiry (outside 2000..2200)", key, t.UTC().Format(time.RFC3339))
	case !allowPast && !t.After(serverNow):
		return time.Time{}, badResponse("token response: %s: %s is already past (server time %s); check the clocks", key, t.UTC().Format(time.RFC3339), serverNow.UTC().Format(time.RFC3339))
	}
	return t, nil
}

// parseExpiry converts one expiry value to an instant.
func parseExpiry(v any, now time.Time) (time.Time, error) {
	switch x := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("number %s out of range", snippet(string(x), 30))
		}
		return secondsExpiry(f, now)
	case float64:
		return secondsExpiry(x, now)
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return time.Time{}, errors.New("empty")
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return secondsExpiry(f, now)
		}
		if t, ok := parseInstant(s); ok {
			return t, nil
		}
		return time.Time{}, fmt.Errorf("%q is neither an ISO-8601 instant nor a number of seconds", snippet(s, 40))
	default:
		return time.Time{}, fmt.Errorf("is %s, want an ISO-8601 string or seconds", jsonType(v))
	}
}

// secondsExpiry turns a number into an instant: seconds from now, or, when
// too large to be a lifetime, Unix seconds or milliseconds.
func secondsExpiry(f float64, now time.Time) (time.Time, error) {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return time.Time{}, errors.New("not a finite number")
	case f <= 0:
		return time.Time{}, fmt.Errorf("%g seconds is not a lifetime", f)
	case f >= epochMillisThreshold:
		if f > 1e16 {
			return time.Time{}, fmt.Errorf("%g is too large", f)
		}
		return time.UnixMilli(int64(f)).UTC(), nil
	case f >= epochSecondsThreshold:
		return time.Unix(int64(f), 0).UTC(), nil
	}
	d := time.Duration(f * float64(time.Second))
	if d > maxLifetime {
		return time.Time{}, fmt.Errorf("%g seconds is too long a lifetime", f)
	}
	return now.Add(d), nil
}

// instantLayouts are the ISO-8601 shapes accepted; those without a zone are
// read as UTC, which is what the API documents.
var instantLayouts = []struct {
	layout string
	zoned  bool
}{
	{time.RFC3339Nano, true},
	{"2006-01-02T15:04:05.999999999Z0700", true},
	{"2006-01-02 15:04:05.999999999Z07:00", true},
	{"2006-01-02T15:04:05.999999999", false},
	{"2006-01-02 15:04:05.999999999", false},
}

func parseInstant(s string) (time.Time, bool) {
	for _, l := range instantLayouts {
		var t time.Time
		var err error
		if l.zoned {
			t, err = time.Parse(l.layout, s)
		} else {
			t, err = time.ParseInLocation(l.layout, s, time.UTC)
		}
		if err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// parseUser reads a user object; ids may be numbers or numeric strings.
func parseUser(m map[string]any) (User, error) {
	var u User
	var err error
	if u.UserID, err = intField(m, "user_id"); err != nil {
		return User{}, err
	}
	if u.UserID == 0 { // some endpoints say "id"
		if u.UserID, err = intField(m, "id"); err != nil {
			return User{}, err
		}
	}
	role, err := intField(m, "role_id")
	if err != nil {
		return User{}, err
	}
	if role < 0 || role > math.MaxInt32 {
		return User{}, fmt.Errorf("user.role_id %d out of range", role)
	}
	u.RoleID = int(role)
	if u.OrgUnitID, err = intField(m, "org_unit_id"); err != nil {
		return User{}, err
	}
	if v, ok := m["email"]; ok && v != nil {
		s, ok := v.(string)
		if !ok {
			return User{}, fmt.Errorf("user.email is %s, want a string", jsonType(v))
		}
		u.Email = sanitizeText(s, 254)
	}
	return u, nil
}

// intField reads an integer given as a JSON number or a numeric string;
// absent or null is zero.
func intField(m map[string]any, key string) (int64, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return 0, nil
	}
	var s string
	switch x := v.(type) {
	case json.Number:
		s = string(x)
	case string:
		s = strings.TrimSpace(x)
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return 0, fmt.Errorf("user.%s is %s, want an integer", key, jsonType(v))
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	// 123.0 and 1.23e2 are integers too.
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("user.%s %q is not an integer", key, snippet(s, 30))
	}
	return int64(f), nil
}

// jsonType names a decoded JSON value's type for error messages.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// envelopeCode is the "code" of a {"code","message"} envelope without a
// token or user in it, or 0.
func envelopeCode(body []byte) int {
	b := bytes.TrimSpace(body)
	// Cheap test first: this runs on every successful answer.
	if len(b) == 0 || b[0] != '{' || !bytes.Contains(b, []byte(`"code"`)) {
		return 0
	}
	obj, err := decodeObject(b)
	if err != nil {
		return 0
	}
	if inner, ok := obj["data"].(map[string]any); ok && (inner["access_token"] != nil || inner["user_id"] != nil || inner["user"] != nil) {
		return 0
	}
	if obj["access_token"] != nil || obj["user_id"] != nil {
		return 0
	}
	n, ok := obj["code"].(json.Number)
	if !ok {
		return 0
	}
	code, err := strconv.Atoi(string(n))
	if err != nil {
		return 0
	}
	return code
}

// maxMessageLen bounds a server message carried in an error.
const maxMessageLen = 200

// serverMessage extracts a human message and request id from an error (or
// any) body: the ERR shape {"statusCode","message","error","requestId"},
// OAuth {"error","error_description"}, the envelope {"code","message",
// "request_id"}, or a sanitised snippet of plain text or HTML. secrets are
// redacted before anything is truncated, so no prefix of one survives.
func serverMessage(body []byte, secrets ...string) (msg, requestID string) {
	obj, err := decodeObject(body)
	if err != nil {
		text := string(bytes.TrimSpace(body))
		if strings.HasPrefix(text, "{") || strings.HasPrefix(text, "[") {
			// Broken JSON (truncated, or cut at the 1 MiB cap) may hold
			// tokens the server issued, which no redaction knows about.
			return fmt.Sprintf("malformed JSON body (%d bytes), not shown: it may hold tokens", len(text)), ""
		}
		if looksHTML(text) {
			text = stripTags(text)
		}
		return cleanMessage(text, secrets, maxMessageLen), ""
	}
	if env, ok := obj["data"].(map[string]any); ok && obj["message"] == nil && obj["error"] == nil {
		obj = env
	}
	var parts []string
	add := func(s string) {
		s = strings.TrimSpace(s)
		if s == "" {
			return
		}
		for _, p := range parts {
			if strings.EqualFold(p, s) {
				return
			}
		}
		parts = append(parts, s)
	}
	add(textValue(obj["message"]))
	add(textValue(obj["error"]))
	add(textValue(obj["error_description"]))
	if len(parts) == 0 {
		add(textValue(obj["detail"]))
		add(textValue(obj["title"]))
	}
	msg = cleanMessage(strings.Join(parts, ": "), secrets, maxMessageLen)
	for _, k := range []string{"requestId", "request_id", "requestID"} {
		if id := textValue(obj[k]); id != "" {
			requestID = cleanMessage(id, secrets, 100)
			break
		}
	}
	return msg, requestID
}

// textValue renders a message field: a string, a list of strings (NestJS
// validation errors), or a nested {"message"} object.
func textValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return string(x)
	case []any:
		var ss []string
		for _, e := range x {
			if s := textValue(e); s != "" {
				ss = append(ss, s)
			}
			if len(ss) == 5 {
				break
			}
		}
		return strings.Join(ss, "; ")
	case map[string]any:
		return textValue(x["message"])
	}
	return ""
}

// redact replaces every occurrence of each secret (and its URL- and
// HTML-escaped forms) by "[redacted]". Whitespace, control and format
// characters are ignored while matching, on both sides: a server that
// wraps an echoed token across lines, or a zero-width space inside it,
// does not hide it, and neither does a password with spaces in it that the
// server reflowed.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		for _, form := range []string{sec, url.QueryEscape(sec), url.PathEscape(sec), html.EscapeString(sec)} {
			s = redactForm(s, form)
		}
	}
	return s
}

// stripIgnorable returns s without ignorable runes, and where each of its
// bytes came from in s. Bytes that are not UTF-8 are kept as they are.
func stripIgnorable(s string) (string, []int) {
	var b strings.Builder
	at := make([]int, 0, len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if n == 1 && r == utf8.RuneError || !ignorable(r) {
			b.WriteString(s[i : i+n])
			for j := range n {
				at = append(at, i+j)
			}
		}
		i += n
	}
	return b.String(), at
}

// ignorable is what redact skips when matching: it carries no meaning of
// its own in a message, and a server or proxy may insert it anywhere.
func ignorable(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}

// redactForm replaces each occurrence of form in s, ignoring ignorable runes
// (see redact); the replaced span runs from the first to the last rune of
// the match in s, so whatever was inserted inside it goes too.
func redactForm(s, form string) string {
	f, _ := stripIgnorable(form)
	if f == "" {
		// Nothing but ignorable runes (a password of control characters):
		// only the exact form can be matched.
		return strings.ReplaceAll(s, form, "[redacted]")
	}
	t, at := stripIgnorable(s)
	if !strings.Contains(t, f) {
		return s
	}
	var b strings.Builder
	last := 0 // end in s of what has been written
	for from := 0; ; {
		j := strings.Index(t[from:], f)
		if j < 0 {
			break
		}
		start, end := at[from+j], at[from+j+len(f)-1]+1
		b.WriteString(s[last:start])
		b.WriteString("[redacted]")
		last = end
		from += j + len(f)
	}
	b.WriteString(s[last:])
	return b.String()
}

func looksHTML(s string) bool {
	l := strings.ToLower(s[:min(len(s), 512)])
	return strings.HasPrefix(l, "<") || strings.Contains(l, "<html") || strings.Contains(l, "<body") || strings.Contains(l, "<!doctype")
}

// stripTags removes tags, comments, and script and style contents from an
// HTML page, keeping its text (the <title> of an error page is the best bit).
func stripTags(s string) string {
	var b strings.Builder
	lower := strings.ToLower(s)
	for i := 0; i < len(s); {
		if s[i] != '<' {
			j := strings.IndexByte(s[i:], '<')
			if j < 0 {
				j = len(s) - i
			}
			b.WriteString(s[i : i+j])
			i += j
			continue
		}
		skipTo := ""
		switch {
		case strings.HasPrefix(lower[i:], "<!--"):
			skipTo = "-->"
		case strings.HasPrefix(lower[i:], "<script"):
			skipTo = "</script>"
		case strings.HasPrefix(lower[i:], "<style"):
			skipTo = "</style>"
		}
		if skipTo != "" {
			j := strings.Index(lower[i:], skipTo)
			if j < 0 {
				break
			}
			i += j + len(skipTo)
			b.WriteByte(' ')
			continue
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			break
		}
		i += j + 1
		b.WriteByte(' ')
	}
	return html.UnescapeString(b.String())
}

// sanitizeText makes server-provided text safe for one line of a terminal:
// whitespace collapsed, every other control, format or bidi character shown
// escaped (safetext.Escape), at most max runes (and an ellipsis).
func sanitizeText(s string, max int) string { return truncateRunes(normalizeText(s), max) }

// normalizeText collapses runs of whitespace (line breaks included) into
// single spaces, trims the ends, and escapes what safetext.Escape escapes,
// so the text is one inert line.
func normalizeText(s string) string {
	return safetext.Escape(strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " "))
}

// truncateRunes cuts s to max runes, marking the cut with an ellipsis.
func truncateRunes(s string, max int) string {
	n := 0
	for i := range s {
		if n == max {
			return strings.TrimRight(s[:i], " ") + "…"
		}
		n++
	}
	return s
}

// cleanMessage turns server text into a safe one-line message: secrets are
// redacted (across whitespace and control characters, see redact), the text
// is normalised, redacted once more in case escaping spelled out a secret,
// and only then truncated, so no prefix of a secret survives.
func cleanMessage(s string, secrets []string, max int) string {
	s = normalizeText(redact(s, secrets))
	return truncateRunes(redact(s, secrets), max)
}

// snippet is a short sanitised excerpt of s, for error messages about values
// that are not secret.
func snippet(s string, max int) string { return sanitizeText(s, max) }
