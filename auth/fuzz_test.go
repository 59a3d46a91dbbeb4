package auth

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tokentop/tokentop/internal/safetext"
)

var fuzzNow = time.Date(2026, 4, 3, 12, 0, 0, 0, time.UTC)

// FuzzParseTokenResponse: any body either parses into a sane token set that
// survives a round trip through the canonical flat form, or fails with
// ErrBadResponse without quoting the access token.
func FuzzParseTokenResponse(f *testing.F) {
	for _, seed := range []string{
		goodTokenBody(fuzzNow),
		`{"access_token":"A","refresh_token":"R","expires_in":604800,"refresh_expires_in":"15552000"}`,
		`{"code":200,"message":"Login successful","data":{"access_token":"acc","refresh_token":"ref","expires_in":"2026-04-10T12:00:00.000Z","refresh_expires_in":"2026-10-01T12:00:00.000+02:00","user":{"user_id":"4453","email":"user@example.com","role_id":1,"org_unit_id":70035}}}`,
		`{"access_token":"A","refresh_token":"R","expires_in":1775822400,"refresh_expires_in":1791000000000}`,
		`{"access_token":"A","refresh_token":"R","expires_in":"NaN","refresh_expires_in":-1}`,
		`{"access_token":"A","refresh_token":"R","expires_in":1e999,"refresh_expires_in":"9999-12-31T23:59:59Z"}`,
		`{"access_token":["SECRETSECRET"],"user":[]}`,
		`<html><body>502</body></html>`,
		`{"access_token":"SECRETSECRET","refresh_token":`,
		`{"data":{"data":{"data":{}}}}`,
		"\ufeff{}",
		``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ts, err := ParseTokenResponse(body, fuzzNow)
		if err != nil {
			if !errors.Is(err, ErrBadResponse) {
				t.Fatalf("error %v does not match ErrBadResponse", err)
			}
			var probe struct {
				AccessToken string `json:"access_token"`
				Data        struct {
					AccessToken string `json:"access_token"`
				} `json:"data"`
			}
			_ = json.Unmarshal(body, &probe)
			for _, tok := range []string{probe.AccessToken, probe.Data.AccessToken} {
				if len(tok) >= 8 && strings.Contains(err.Error(), tok) {
					t.Fatalf("error %q quotes the access token", err)
				}
			}
			return
		}
		if ts.AccessToken == "" || ts.RefreshToken == "" || strings.ContainsFunc(ts.AccessToken+ts.RefreshToken+ts.FrontendToken, unicode.IsSpace) {
			t.Fatalf("accepted unusable tokens: %v", ts.Secrets())
		}
		for _, e := range []time.Time{ts.AccessExpiry, ts.RefreshExpiry} {
			if !e.After(fuzzNow) || e.Year() >= 2200 {
				t.Fatalf("accepted implausible expiry %v", e)
			}
		}
		if !ts.IssuedAt.Equal(fuzzNow) {
			t.Fatalf("IssuedAt = %v", ts.IssuedAt)
		}
		canon, err := json.Marshal(map[string]any{
			"access_token": ts.AccessToken, "refresh_token": ts.RefreshToken, "frontend_token": ts.FrontendToken,
			"token_type": ts.TokenType, "expires_in": ts.AccessExpiry.Format(time.RFC3339Nano),
			"refresh_expires_in": ts.RefreshExpiry.Format(time.RFC3339Nano), "user": ts.User,
		})
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseTokenResponse(canon, fuzzNow)
		if err != nil {
			t.Fatalf("canonical form %s does not parse: %v", canon, err)
		}
		if again.AccessToken != ts.AccessToken || again.RefreshToken != ts.RefreshToken || again.FrontendToken != ts.FrontendToken ||
			again.TokenType != ts.TokenType || again.User != ts.User ||
			!again.AccessExpiry.Equal(ts.AccessExpiry) || !again.RefreshExpiry.Equal(ts.RefreshExpiry) {
			t.Fatalf("round trip changed the set:\n%+v\n%+v", ts, again)
		}
	})
}

// FuzzInspect: Inspect never panics, always fingerprints, names a known
// format and alphabet, produces JSON, and never quotes the token in a warning.
func FuzzInspect(f *testing.F) {
	for _, seed := range []string{
		docSampleToken,
		makeJWT(`{"alg":"HS256","typ":"JWT"}`, `{"tokenId":"6f1c2a3b-4d5e-4f60-8a71-92b3c4d5e6f7","iat":1709510400,"exp":1709553600}`, "c2ln"),
		makeJWT(`{"alg":"none"}`, `{"exp":1e300,"nbf":"x","iat":-1e20}`, ""),
		makeJWT(`{"alg":"RS256"}`, `{"exp":1709553600.5,"nbf":1709510400}`, "a+b"),
		"eyJhbGciOiJIUzI1NiJ9..",
		"946e347b-48ce-41d1-aae6-756ddc552d18",
		"a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6",
		"Bearer abc\n",
		"\"quoted\"",
		"\x00\x1b[31m",
		makeJWT(hostileHeader, hostileClaims, "c2ln"),
		"",
	} {
		f.Add(seed, int64(1709520000), int64(1709553600))
	}
	f.Fuzz(func(t *testing.T, token string, now, expected int64) {
		in := Inspect(token, InspectOptions{Now: time.Unix(now, 0), ExpectedExpiry: time.Unix(expected, 0)})
		if in.Fingerprint != Fingerprint(token) || in.Length != len(token) {
			t.Fatalf("fingerprint %q length %d", in.Fingerprint, in.Length)
		}
		switch in.Format {
		case "jwt":
			if alg, _ := in.Header["alg"].(string); alg == "" {
				t.Fatalf("jwt without alg: %v", in.Header)
			}
		case "opaque":
			if in.Header != nil || in.Claims != nil {
				t.Fatal("opaque token with JWT parts")
			}
		default:
			t.Fatalf("format %q", in.Format)
		}
		switch in.Alphabet {
		case AlphabetEmpty, AlphabetHex, AlphabetAlphanumeric, AlphabetBase64URL, AlphabetBase64, AlphabetPrintable, AlphabetBinary:
		default:
			t.Fatalf("alphabet %q", in.Alphabet)
		}
		if in.SignatureVerified {
			t.Fatal("signature verified without a key")
		}
		doc, err := json.Marshal(in)
		if err != nil {
			t.Fatalf("JSON: %v", err)
		}
		// What inspect prints: nothing in it may act on a terminal.
		assertInertJSON(t, "inspection", doc)
		for _, w := range in.Warnings {
			assertInertText(t, "warning", strings.ReplaceAll(w, "\n", `\n`))
		}
		if len(token) >= 24 && !strings.ContainsFunc(token, unicode.IsSpace) {
			for _, w := range in.Warnings {
				if strings.Contains(w, token) {
					t.Fatalf("warning %q quotes the token", w)
				}
			}
		}
	})
}

// FuzzServerMessage: whatever the server says, the message is one clean
// line of bounded length that never contains the secret sent.
func FuzzServerMessage(f *testing.F) {
	for _, seed := range [][2]string{
		{`{"statusCode":401,"message":"Unauthorized","error":"token hunter2-token is bad","requestId":"hunter2-token"}`, "hunter2-token"},
		{`<html><title>bad pass</title><body>my<b> </b>pass word</body></html>`, "my pass word"},
		{"token abc\u200bdef123 rejected", "abcdef123"},
		{`{"error":"invalid_grant","error_description":"refresh token a%2Bb%2Fc%3D expired"}`, "a+b/c="},
		{`{"message":["one","two"],"error":{"message":"nested secret-xyz"}}`, "secret-xyz"},
		{"plain \x1b[31mred\x1b[0m text", "red"},
	} {
		f.Add([]byte(seed[0]), seed[1])
	}
	f.Fuzz(func(t *testing.T, body []byte, secret string) {
		msg, id := serverMessage(body, secret)
		for _, out := range []string{msg, id} {
			if strings.ContainsFunc(out, func(r rune) bool { return unicode.IsControl(r) || safetext.Unsafe(r) }) {
				t.Fatalf("output %q has control, format or bidi characters", out)
			}
			if n := utf8.RuneCountInString(out); n > maxMessageLen+1 {
				t.Fatalf("output is %d runes", n)
			}
			// Short secrets can occur by chance in any text ("[redacted]"
			// itself holds "a"); a leak is a secret of some length.
			for _, form := range []string{secret, normalizeText(secret)} {
				if utf8.RuneCountInString(form) >= 6 && !strings.Contains("[redacted]", form) && strings.Contains(out, form) {
					t.Fatalf("output %q contains the secret %q", out, form)
				}
			}
		}
	})
}
