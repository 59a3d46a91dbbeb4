package auth

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tokentop/tokentop/internal/safetext"
)

// makeJWT builds header.payload.signature from raw JSON texts.
func makeJWT(header, claims, sig string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(claims)) + "." + sig
}

// docSampleToken is the refresh page's access_token, verbatim: the doc cut it
// short with an ellipsis, so it is not a whole JWT.
const docSampleToken = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbklkIjoi…fQ.xyz123"

// TestInspectRefreshSampleShape: a JWT shaped like the refresh page's sample
// (HS256; tokenId, iat 2024-03-04, exp 12 h later) decodes to its claims.
func TestInspectRefreshSampleShape(t *testing.T) {
	tok := makeJWT(`{"alg":"HS256","typ":"JWT"}`, `{"tokenId":"6f1c2a3b-4d5e-4f60-8a71-92b3c4d5e6f7","iat":1709510400,"exp":1709553600}`, "c2lnbmF0dXJl")
	if !strings.HasPrefix(tok, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbklkIjoi") {
		t.Fatalf("test token %q is not shaped like the doc sample", tok[:50])
	}
	iat := time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)
	in := Inspect(tok, InspectOptions{Now: iat.Add(time.Hour), ExpectedExpiry: iat.Add(12 * time.Hour)})
	if in.Format != "jwt" || in.Alphabet != AlphabetBase64URL || in.SignatureVerified {
		t.Errorf("format %q alphabet %q verified %v, want jwt, base64url, false", in.Format, in.Alphabet, in.SignatureVerified)
	}
	if in.Header["alg"] != "HS256" || in.Header["typ"] != "JWT" {
		t.Errorf("header = %v", in.Header)
	}
	if in.Claims["tokenId"] != "6f1c2a3b-4d5e-4f60-8a71-92b3c4d5e6f7" {
		t.Errorf("tokenId = %v", in.Claims["tokenId"])
	}
	if !in.IssuedAt.Equal(iat) || !in.Expires.Equal(iat.Add(12*time.Hour)) || !in.NotBefore.IsZero() {
		t.Errorf("iat %v exp %v nbf %v, want %v, +12h, zero", in.IssuedAt, in.Expires, in.NotBefore, iat)
	}
	if len(in.Warnings) != 0 {
		t.Errorf("warnings %q, want none", in.Warnings)
	}
	if in.Fingerprint != Fingerprint(tok) || in.Length != len(tok) {
		t.Errorf("fingerprint %q length %d", in.Fingerprint, in.Length)
	}
	out, err := json.Marshal(in)
	if err != nil || !strings.Contains(string(out), `"iat":1709510400`) || strings.Contains(string(out), "not_before") {
		t.Errorf("JSON = %s, %v", out, err)
	}
}

// TestInspectDocSampleLiteral: the truncated sample from the docs is handled
// gracefully: recognised as a JWT header with a damaged payload.
func TestInspectDocSampleLiteral(t *testing.T) {
	in := Inspect(docSampleToken, InspectOptions{Now: time.Now()})
	if in.Format != "jwt" || in.Header["alg"] != "HS256" || in.Claims != nil {
		t.Errorf("inspection = %+v, want a JWT header and no claims", in)
	}
	if in.Alphabet != AlphabetBinary {
		t.Errorf("alphabet %q, want binary (the ellipsis is not ASCII)", in.Alphabet)
	}
	if !hasWarning(in, "malformed JWT payload") || !hasWarning(in, "non-ASCII") {
		t.Errorf("warnings %q, want malformed payload and non-ASCII", in.Warnings)
	}
}

func hasWarning(in Inspection, sub string) bool {
	for _, w := range in.Warnings {
		if strings.Contains(w, sub) {
			return true
		}
	}
	return false
}

func TestInspectJWTWarnings(t *testing.T) {
	const hs = `{"alg":"HS256","typ":"JWT"}`
	now := time.Unix(1709510400, 0).UTC()
	exp := now.Add(time.Hour)
	tests := []struct {
		name   string
		token  string
		opts   InspectOptions
		warn   []string // substrings, each must appear
		noWarn bool
		check  func(t *testing.T, in Inspection)
	}{
		{"valid, no context", makeJWT(hs, `{"iat":1709510400,"exp":1709514000}`, "sig"), InspectOptions{}, nil, true, nil},
		{"alg none", makeJWT(`{"alg":"none"}`, `{"exp":1709514000}`, ""), InspectOptions{Now: now}, []string{"alg: none"}, false, nil},
		{"alg none with a signature", makeJWT(`{"alg":"none"}`, `{"exp":1709514000}`, "abc"), InspectOptions{Now: now}, []string{"alg: none", "signature segment is present"}, false, nil},
		{"missing signature", makeJWT(hs, `{"exp":1709514000}`, ""), InspectOptions{Now: now}, []string{"no signature segment"}, false, nil},
		{"bad signature segment", makeJWT(hs, `{"exp":1709514000}`, "a+b/"), InspectOptions{Now: now}, []string{"malformed signature"}, false, nil},
		{"exp disagrees with expires_in", makeJWT(hs, `{"exp":1709514000}`, "sig"), InspectOptions{Now: now, ExpectedExpiry: exp.Add(10 * time.Second)}, []string{"disagrees with the response's expires_in", "by 10s"}, false, nil},
		{"exp within tolerance of expires_in", makeJWT(hs, `{"exp":1709514000}`, "sig"), InspectOptions{Now: now, ExpectedExpiry: exp.Add(-4 * time.Second)}, nil, true, nil},
		{"already expired", makeJWT(hs, `{"exp":1709514000}`, "sig"), InspectOptions{Now: exp.Add(90 * time.Second)}, []string{"already expired", "1m30s ago"}, false, nil},
		{"expires exactly now", makeJWT(hs, `{"exp":1709514000}`, "sig"), InspectOptions{Now: exp}, []string{"already expired"}, false, nil},
		{"not yet valid", makeJWT(hs, `{"nbf":1709514000,"exp":1709517600}`, "sig"), InspectOptions{Now: now}, []string{"not valid yet", "1h0m0s from now"}, false, nil},
		{"issued in the future", makeJWT(hs, `{"iat":1709514000,"exp":1709517600}`, "sig"), InspectOptions{Now: now}, []string{"issued in the future"}, false, nil},
		{"no exp", makeJWT(hs, `{"tokenId":"x"}`, "sig"), InspectOptions{Now: now}, []string{"no exp claim"}, false, nil},
		{"exp before iat", makeJWT(hs, `{"iat":1709514000,"exp":1709510400}`, "sig"), InspectOptions{}, []string{"exp is not after iat"}, false, nil},
		{"exp a string of digits", makeJWT(hs, `{"exp":"1709514000"}`, "sig"), InspectOptions{Now: now}, nil, true, func(t *testing.T, in Inspection) {
			if !in.Expires.Equal(exp) {
				t.Errorf("exp = %v, want %v", in.Expires, exp)
			}
		}},
		{"fractional times", makeJWT(hs, `{"iat":1709510400.25,"exp":1.7095140005e9}`, "sig"), InspectOptions{}, nil, true, func(t *testing.T, in Inspection) {
			if !in.IssuedAt.Equal(now.Add(250*time.Millisecond)) || !in.Expires.Equal(exp.Add(500*time.Millisecond)) {
				t.Errorf("iat %v exp %v", in.IssuedAt, in.Expires)
			}
		}},
		{"exp a boolean", makeJWT(hs, `{"exp":true}`, "sig"), InspectOptions{Now: now}, []string{"exp claim is a boolean"}, false, nil},
		{"exp absurd", makeJWT(hs, `{"exp":1e300}`, "sig"), InspectOptions{Now: now}, []string{"is not a valid time"}, false, nil},
		{"exp NaN string", makeJWT(hs, `{"exp":"NaN"}`, "sig"), InspectOptions{Now: now}, []string{"is not a valid time"}, false, nil},
		{"payload not JSON", makeJWT(hs, `not json`, "sig"), InspectOptions{}, []string{"malformed JWT payload: not a JSON object"}, false, nil},
		{"payload not base64url", "eyJhbGciOiJIUzI1NiJ9.@@@.sig", InspectOptions{}, []string{"malformed JWT payload: not base64url"}, false, nil},
		{"padded segments", strings.TrimSuffix(base64.URLEncoding.EncodeToString([]byte(`{"alg":"HS256"}`)), "") + "." + base64.URLEncoding.EncodeToString([]byte(`{"exp":1709514000}`)) + ".sig", InspectOptions{Now: now}, nil, true, func(t *testing.T, in Inspection) {
			if in.Format != "jwt" || !in.Expires.Equal(exp) {
				t.Errorf("padded JWT: %+v", in)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Inspect(tt.token, tt.opts)
			if in.Format != "jwt" {
				t.Fatalf("format %q, want jwt (warnings %q)", in.Format, in.Warnings)
			}
			if tt.noWarn && len(in.Warnings) != 0 {
				t.Errorf("warnings %q, want none", in.Warnings)
			}
			for _, w := range tt.warn {
				if !hasWarning(in, w) {
					t.Errorf("warnings %q lack %q", in.Warnings, w)
				}
			}
			if tt.check != nil {
				tt.check(t, in)
			}
		})
	}
}

func TestInspectOpaque(t *testing.T) {
	tests := []struct {
		name     string
		token    string
		alphabet string
		warn     string // "" means no warnings
	}{
		{"empty", "", AlphabetEmpty, "empty token"},
		{"hex", "946e347b48ce41d1aae6756ddc552d18", AlphabetHex, ""},
		{"frontend token", "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6", AlphabetAlphanumeric, ""},
		{"refresh sample", "xyz789refresh012345678901234567890", AlphabetAlphanumeric, ""},
		{"base64url", "Zm9v-YmFy_YmF6", AlphabetBase64URL, ""},
		{"base64url padded", "Zm9vYg==", AlphabetBase64URL, ""},
		{"base64", "Zm9v+YmFy/YmF6==", AlphabetBase64, ""},
		{"uuid", "946e347b-48ce-41d1-aae6-756ddc552d18", AlphabetBase64URL, ""},
		{"printable", "abc.def!ghi", AlphabetPrintable, ""},
		{"too much padding", "Zm9v===", AlphabetPrintable, ""},
		{"two dots but no JSON header", "abc.def.ghi", AlphabetPrintable, ""},
		{"header not an object", base64.RawURLEncoding.EncodeToString([]byte(`[1]`)) + ".e30.x", AlphabetPrintable, ""},
		{"header without alg", base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"JWT"}`)) + ".e30.x", AlphabetPrintable, `no "alg"`},
		{"control characters", "abc\x00def", AlphabetBinary, "control"},
		{"escape sequence", "abc\x1b[2Jdef", AlphabetBinary, "control"},
		{"non-ASCII", "abcdéf", AlphabetBinary, "non-ASCII"},
		{"trailing newline", "946e347b48ce41d1\n", AlphabetHex, "whitespace or line breaks"},
		{"wrapped line", "946e347b48ce\r\n41d1", AlphabetHex, "whitespace or line breaks"},
		{"Bearer prefix", "Bearer 946e347b48ce41d1", AlphabetHex, `starts with "Bearer"`},
		{"quoted", `"946e347b48ce41d1"`, AlphabetHex, "quotes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Inspect(tt.token, InspectOptions{Now: time.Now()})
			if in.Format != "opaque" || in.Alphabet != tt.alphabet {
				t.Errorf("format %q alphabet %q, want opaque %q", in.Format, in.Alphabet, tt.alphabet)
			}
			if in.Fingerprint != Fingerprint(tt.token) || in.Length != len(tt.token) {
				t.Errorf("fingerprint %q length %d", in.Fingerprint, in.Length)
			}
			switch {
			case tt.warn == "" && len(in.Warnings) != 0:
				t.Errorf("warnings %q, want none", in.Warnings)
			case tt.warn != "" && !hasWarning(in, tt.warn):
				t.Errorf("warnings %q lack %q", in.Warnings, tt.warn)
			}
			if in.Header != nil || in.Claims != nil || in.SignatureVerified {
				t.Errorf("opaque token has JWT parts: %+v", in)
			}
		})
	}
}

// TestInspectWarningsNeverEchoTheToken: warnings are shown on screen, so
// they must not quote the token.
func TestInspectWarningsNeverEchoTheToken(t *testing.T) {
	for _, tok := range []string{"SECRETSECRET\n", "Bearer SECRETSECRET", "SECRET\x00SECRET", docSampleToken + "SECRET", `"SECRETSECRET"`} {
		for _, w := range Inspect(tok, InspectOptions{}).Warnings {
			if strings.Contains(w, "SECRET") {
				t.Errorf("warning %q quotes the token", w)
			}
		}
	}
}

func TestInspectionClaimNamesSorted(t *testing.T) {
	in := Inspection{Claims: map[string]any{"tokenId": "x", "exp": 2, "iat": 1}}
	if got := strings.Join(in.ClaimNames(), ","); got != "exp,iat,tokenId" {
		t.Fatalf("ClaimNames = %s", got)
	}
	if got := (Inspection{}).ClaimNames(); len(got) != 0 {
		t.Fatalf("ClaimNames of an opaque token = %v", got)
	}
}

// hostileClaims is a JWT payload whose claim names and values would set the
// clipboard (OSC 52), retitle the window (OSC 0), clear the screen (CSI 2J,
// also as the one-rune C1 CSI) and reverse text (bidi overrides), nested
// too, if printed raw.
const hostileClaims = `{"\u001b]52;c;aGFja2Vk\u0007":"x","\u001b]0;owned\u0007name":1,"sub":"\u009b2J\u202egnp.exe\u202c",` +
	`"roles":["ok","\u2066admin\u2069"],"org":{"\u001b[2J":"\u200fx\u061c","n":[{"\u200e":"\u007f"}]},` +
	`"exp":1709553600,"iat":1709510400}`

const hostileHeader = `{"alg":"HS256","typ":"JWT\u001b[31m","kid":"\u009d8;;http://evil\u009c"}`

// assertInertText fails when s holds a rune that could act on a terminal.
func assertInertText(t testing.TB, what, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("%s is not UTF-8: %q", what, s)
	}
	for i, r := range s {
		if r == '\n' {
			continue
		}
		if safetext.Unsafe(r) {
			t.Fatalf("%s holds %U at byte %d: %q", what, r, i, s)
		}
	}
}

// assertInertJSON fails when a JSON document holds a control, C1 or bidi
// rune, raw or as a \u escape a decoder (jq -r) would turn back.
func assertInertJSON(t testing.TB, what string, doc []byte) {
	t.Helper()
	assertInertText(t, what, string(doc))
	var v any
	dec := json.NewDecoder(strings.NewReader(string(doc)))
	dec.UseNumber() // numbers beyond float64 are still JSON
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: not JSON: %v", what, err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			assertInertText(t, what+" (decoded)", strings.ReplaceAll(x, "\n", `\n`))
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for k, e := range x {
				assertInertText(t, what+" (decoded key)", strings.ReplaceAll(k, "\n", `\n`))
				walk(e)
			}
		}
	}
	walk(v)
}

func TestInspectHostileClaimsAreInert(t *testing.T) {
	in := Inspect(makeJWT(hostileHeader, hostileClaims, "c2ln"), InspectOptions{Now: time.Unix(1709520000, 0)})
	if in.Format != "jwt" {
		t.Fatalf("format %q, warnings %v", in.Format, in.Warnings)
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	assertInertJSON(t, "inspection JSON", b)
	for _, c := range in.ClaimNames() {
		assertInertText(t, "claim name", c)
	}
	want := map[string]any{
		`\x1b]52;c;aGFja2Vk\x07`: "x",
		`sub`:                    `\u009b2J\u202egnp.exe\u202c`,
	}
	for k, v := range want {
		if in.Claims[k] != v {
			t.Errorf("claim %q = %#v, want %#v", k, in.Claims[k], v)
		}
	}
	if got := in.Header["typ"]; got != `JWT\x1b[31m` {
		t.Errorf("header typ = %#v", got)
	}
	if !in.Expires.Equal(time.Unix(1709553600, 0)) {
		t.Errorf("exp %v: escaping must not change what the claims mean", in.Expires)
	}
	if !strings.Contains(strings.Join(in.Warnings, "\n"), "shown escaped") {
		t.Errorf("no warning that claims were escaped: %v", in.Warnings)
	}
}

func TestInspectEscapedKeysDoNotOverwriteClaims(t *testing.T) {
	in := Inspect(makeJWT(`{"alg":"HS256"}`, `{"a\\x1b":"literal","a\u001b":"escape"}`, "c2ln"), InspectOptions{})
	if in.Claims[`a\x1b`] != "literal" || in.Claims[`a\x1b (2)`] != "escape" {
		t.Errorf("claims %#v: want both, the escaped one renamed", in.Claims)
	}
}
