package auth

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

var parseNow = time.Date(2026, 4, 3, 12, 0, 0, 0, time.UTC)

func TestParseTokenResponseAccepts(t *testing.T) {
	wantUser := User{UserID: 12345, Email: "user@example.com", RoleID: 2, OrgUnitID: 1001}
	tests := []struct {
		name          string
		body          string
		access        time.Time
		refresh       time.Time
		user          User
		frontend      string
		tokenTypeWant string
	}{
		{
			name: "flat ISO with ms and Z (documented)",
			body: `{"access_token":"A","refresh_token":"R","frontend_token":"a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6","token_type":"Bearer",
				"expires_in":"2026-04-06T12:34:56.789Z","refresh_expires_in":"2026-10-06T12:34:56.789Z",
				"user":{"user_id":12345,"email":"user@example.com","role_id":2,"org_unit_id":1001}}`,
			access:   time.Date(2026, 4, 6, 12, 34, 56, 789e6, time.UTC),
			refresh:  time.Date(2026, 10, 6, 12, 34, 56, 789e6, time.UTC),
			user:     wantUser,
			frontend: "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6",
		},
		{
			name: "enveloped, ISO without ms and with an offset",
			body: `{"code":200,"message":"Login successful","data":{"access_token":"A","refresh_token":"R",
				"expires_in":"2026-04-06T14:34:56+02:00","refresh_expires_in":"2026-10-06T12:34:56Z",
				"user":{"user_id":"12345","email":"user@example.com","role_id":"2","org_unit_id":1001}}}`,
			access:  time.Date(2026, 4, 6, 12, 34, 56, 0, time.UTC),
			refresh: time.Date(2026, 10, 6, 12, 34, 56, 0, time.UTC),
			user:    wantUser,
		},
		{
			name:    "numeric seconds from now",
			body:    `{"access_token":"A","refresh_token":"R","expires_in":604800,"refresh_expires_in":15552000}`,
			access:  parseNow.Add(7 * 24 * time.Hour),
			refresh: parseNow.Add(180 * 24 * time.Hour),
		},
		{
			name:    "numeric strings and fractional seconds",
			body:    `{"access_token":"A","refresh_token":"R","expires_in":"3600","refresh_expires_in":1.5}`,
			access:  parseNow.Add(time.Hour),
			refresh: parseNow.Add(1500 * time.Millisecond),
		},
		{
			name:    "unix epoch seconds and milliseconds",
			body:    `{"access_token":"A","refresh_token":"R","expires_in":1775822400,"refresh_expires_in":1791000000000}`,
			access:  time.Unix(1775822400, 0),
			refresh: time.UnixMilli(1791000000000),
		},
		{
			name:    "zone-less ISO is UTC; double envelope; BOM",
			body:    "\ufeff" + `{"data":{"data":{"access_token":"A","refresh_token":"R","expires_in":"2026-04-06T12:00:00.000","refresh_expires_in":"2026-10-06 12:00:00Z"}}}`,
			access:  time.Date(2026, 4, 6, 12, 0, 0, 0, time.UTC),
			refresh: time.Date(2026, 10, 6, 12, 0, 0, 0, time.UTC),
		},
		{
			name:          "other token_type kept; user ids as 1.0e0 floats",
			body:          `{"access_token":"A","refresh_token":"R","token_type":"bearer","expires_in":60,"refresh_expires_in":120,"user":{"user_id":1.2345e4,"role_id":2.0,"org_unit_id":1001,"email":"user@example.com"}}`,
			access:        parseNow.Add(time.Minute),
			refresh:       parseNow.Add(2 * time.Minute),
			user:          wantUser,
			tokenTypeWant: "bearer",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, err := ParseTokenResponse([]byte(tt.body), parseNow)
			if err != nil {
				t.Fatalf("ParseTokenResponse: %v", err)
			}
			if ts.AccessToken != "A" || ts.RefreshToken != "R" {
				t.Errorf("tokens = %q/%q, want A/R", ts.AccessToken, ts.RefreshToken)
			}
			if !ts.AccessExpiry.Equal(tt.access) || !ts.RefreshExpiry.Equal(tt.refresh) {
				t.Errorf("expiries = %v / %v, want %v / %v", ts.AccessExpiry, ts.RefreshExpiry, tt.access, tt.refresh)
			}
			if ts.User != tt.user {
				t.Errorf("user = %+v, want %+v", ts.User, tt.user)
			}
			if ts.FrontendToken != tt.frontend {
				t.Errorf("frontend = %q, want %q", ts.FrontendToken, tt.frontend)
			}
			wantType := tt.tokenTypeWant
			if wantType == "" {
				wantType = "Bearer"
			}
			if ts.TokenType != wantType {
				t.Errorf("token type = %q, want %q", ts.TokenType, wantType)
			}
			if !ts.IssuedAt.Equal(parseNow) {
				t.Errorf("IssuedAt = %v, want the receive time %v", ts.IssuedAt, parseNow)
			}
		})
	}
}

func TestParseTokenResponseRejects(t *testing.T) {
	const ok = `"access_token":"SECRET-ACCESS","refresh_token":"SECRET-REFRESH"`
	tests := []struct {
		name string
		body string
		want string // substring of the error
	}{
		{"empty", ``, "empty body"},
		{"HTML", `<html><body>502 Bad Gateway</body></html>`, "HTML page"},
		{"plain text", `access_token=SECRET-ACCESS&expires_in=3600`, "plain text"},
		{"truncated", `{` + ok + `,"expires_in":"2026-`, "truncated"},
		{"array", `[1,2]`, "not a JSON object"},
		{"null", `null`, "not a JSON object"},
		{"trailing garbage", `{` + ok + `} {}`, "trailing"},
		{"missing access", `{"refresh_token":"R","expires_in":60,"refresh_expires_in":60}`, "missing access_token"},
		{"missing refresh", `{"access_token":"A","expires_in":60,"refresh_expires_in":60}`, "missing refresh_token"},
		{"missing expires_in", `{` + ok + `,"refresh_expires_in":60}`, "missing expires_in"},
		{"missing refresh_expires_in", `{` + ok + `,"expires_in":60}`, "missing refresh_expires_in"},
		{"access token a number", `{"access_token":12,"refresh_token":"R","expires_in":60,"refresh_expires_in":60}`, "access_token is a number"},
		{"empty access token", `{"access_token":"","refresh_token":"R","expires_in":60,"refresh_expires_in":60}`, "access_token is empty"},
		{"token with newline", `{"access_token":"SECRET-ACCESS\n","refresh_token":"R","expires_in":60,"refresh_expires_in":60}`, "whitespace"},
		{"expiry boolean", `{` + ok + `,"expires_in":true,"refresh_expires_in":60}`, "is a boolean"},
		{"expiry object", `{` + ok + `,"expires_in":{},"refresh_expires_in":60}`, "is an object"},
		{"expiry garbage", `{` + ok + `,"expires_in":"soon","refresh_expires_in":60}`, "neither an ISO-8601"},
		{"expiry NaN", `{` + ok + `,"expires_in":"NaN","refresh_expires_in":60}`, "not a finite number"},
		{"expiry Inf", `{` + ok + `,"expires_in":"-Inf","refresh_expires_in":60}`, "not a finite number"},
		{"expiry negative", `{` + ok + `,"expires_in":-5,"refresh_expires_in":60}`, "not a lifetime"},
		{"expiry zero", `{` + ok + `,"expires_in":0,"refresh_expires_in":60}`, "not a lifetime"},
		{"expiry huge", `{` + ok + `,"expires_in":1e300,"refresh_expires_in":60}`, "too large"},
		{"expiry beyond float", `{` + ok + `,"expires_in":1e999,"refresh_expires_in":60}`, "out of range"},
		{"expiry 1999", `{` + ok + `,"expires_in":"1999-12-31T23:59:59Z","refresh_expires_in":60}`, "not a plausible expiry"},
		{"expiry 2200", `{` + ok + `,"expires_in":"2200-01-01T00:00:00Z","refresh_expires_in":60}`, "not a plausible expiry"},
		{"expiry already past", `{` + ok + `,"expires_in":"2026-04-03T11:59:59Z","refresh_expires_in":60}`, "already past"},
		{"expiry epoch in the past", `{` + ok + `,"expires_in":1000000000,"refresh_expires_in":60}`, "already past"},
		{"user an array", `{` + ok + `,"expires_in":60,"refresh_expires_in":60,"user":[]}`, "user is an array"},
		{"user_id not a number", `{` + ok + `,"expires_in":60,"refresh_expires_in":60,"user":{"user_id":"abc"}}`, "not an integer"},
		{"user_id fractional", `{` + ok + `,"expires_in":60,"refresh_expires_in":60,"user":{"user_id":1.5}}`, "not an integer"},
		{"role_id bool", `{` + ok + `,"expires_in":60,"refresh_expires_in":60,"user":{"role_id":true}}`, "want an integer"},
		{"email number", `{` + ok + `,"expires_in":60,"refresh_expires_in":60,"user":{"email":5}}`, "email is a number"},
		{"token_type number", `{` + ok + `,"token_type":1,"expires_in":60,"refresh_expires_in":60}`, "token_type is a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTokenResponse([]byte(tt.body), parseNow)
			if err == nil {
				t.Fatal("ParseTokenResponse accepted a bad response")
			}
			if !errors.Is(err, ErrBadResponse) {
				t.Errorf("error %v does not match ErrBadResponse", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error leaks a token: %q", err)
			}
		})
	}
}

func TestParseTokenResponseUsesServerClockForPast(t *testing.T) {
	// The server's clock is an hour behind ours: an expiry 30 minutes ago by
	// our clock is 30 minutes ahead by the server's, which wrote it.
	body := []byte(`{"access_token":"A","refresh_token":"R","expires_in":"2026-04-03T11:30:00Z","refresh_expires_in":"2026-10-01T00:00:00Z"}`)
	if _, err := parseTokenResponse(body, parseNow, -time.Hour, false); err != nil {
		t.Fatalf("with the server an hour behind: %v", err)
	}
	if _, err := parseTokenResponse(body, parseNow, 0, false); err == nil {
		t.Fatal("with no skew the past expiry was accepted")
	}
}

func TestServerMessage(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		secrets []string
		msg, id string
	}{
		{"ERR shape", `{"statusCode":401,"message":"Unauthorized","error":"Invalid or expired token","timestamp":"2024-03-18T10:30:00.000Z","path":"/v3/users/list","requestId":"abc123-def456-ghi789"}`,
			nil, "Unauthorized: Invalid or expired token", "abc123-def456-ghi789"},
		{"OAuth shape", `{"error":"invalid_grant","error_description":"Refresh token expired"}`, nil, "invalid_grant: Refresh token expired", ""},
		{"envelope", `{"code":400,"message":"Bad things","request_id":"r-1"}`, nil, "Bad things", "r-1"},
		{"NestJS validation list", `{"statusCode":400,"message":["email must be an email","password should not be empty"],"error":"Bad Request"}`,
			nil, "email must be an email; password should not be empty: Bad Request", ""},
		{"duplicate message and error", `{"message":"Unauthorized","error":"unauthorized"}`, nil, "Unauthorized", ""},
		{"plain text", "upstream connect error\r\n\tor disconnect  ", nil, "upstream connect error or disconnect", ""},
		{"HTML page", `<!DOCTYPE html><html><head><title>502 Bad Gateway</title><style>body{color:red}</style><script>alert(1)</script></head><body><h1>Bad&nbsp;Gateway</h1><!-- nginx --></body></html>`,
			nil, "502 Bad Gateway Bad Gateway", ""},
		{"terminal escapes shown escaped", "bad \x1b[31mred\x1b[0m\x07 thing", nil, `bad \x1b[31mred\x1b[0m\x07 thing`, ""},
		{"C1 and bidi controls shown escaped", "bad \u009b2J \u202eevil\u2066", nil, `bad \u009b2J \u202eevil\u2066`, ""},
		{"OSC 52 in the request id", `{"message":"no","requestId":"r\u001b]52;c;aGk=\u0007"}`, nil, "no", `r\x1b]52;c;aGk=\x07`},
		{"echoed token split by a newline", "refresh token tok-SECRET\n-123 is invalid", []string{"tok-SECRET-123"}, "refresh token [redacted] is invalid", ""},
		{"echoed token split by CRLF and indentation in JSON", `{"message":"bad token tok-SECRET\r\n    -123"}`, []string{"tok-SECRET-123"}, "bad token [redacted]", ""},
		{"echoed token split by a NUL", "token tok-SE\x00CRET-123 bad", []string{"tok-SECRET-123"}, "token [redacted] bad", ""},
		{"every secret held, not only the first", "revoke failed for tok-ACCESS-1 (pair tok-REFRESH-2\n)", []string{"tok-ACCESS-1", "tok-REFRESH-2"},
			"revoke failed for [redacted] (pair [redacted] )", ""},
		{"echoed token redacted", `{"message":"refresh token tok-SECRET-123 is invalid","requestId":"x"}`, []string{"tok-SECRET-123"}, "refresh token [redacted] is invalid", "x"},
		{"echoed password redacted in text", "wrong password hunter2 for user", []string{"hunter2"}, "wrong password [redacted] for user", ""},
		{"password with a space rejoined by whitespace collapsing", "bad password my\n\tpass word", []string{"my pass word"}, "bad password [redacted]", ""},
		{"secret split by a zero-width space", "token abc\u200bdef123 rejected", []string{"abcdef123"}, "token [redacted] rejected", ""},
		{"secret split by an HTML tag", "<p>password is my<b> </b>pass</p>", []string{"my pass"}, "password is [redacted]", ""},
		{"secret as an HTML entity", "<p>token &#97;bc123</p>", []string{"abc123"}, "token [redacted]", ""},
		{"url-escaped token redacted", `{"message":"bad token a%2Bb%2Fc"}`, []string{"a+b/c"}, "bad token [redacted]", ""},
		{"empty", ``, nil, "", ""},
		{"truncated JSON never quoted (it may hold tokens nobody sent)", `{"access_token":"new-TOKEN-value","message":"oo`, nil,
			"malformed JSON body (47 bytes), not shown: it may hold tokens", ""},
		{"JSON array", `["new-TOKEN-value"]`, nil, "malformed JSON body (19 bytes), not shown: it may hold tokens", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, id := serverMessage([]byte(tt.body), tt.secrets...)
			if msg != tt.msg || id != tt.id {
				t.Errorf("serverMessage = %q, %q; want %q, %q", msg, id, tt.msg, tt.id)
			}
		})
	}
}

func TestServerMessageTruncatesAfterRedacting(t *testing.T) {
	secret := strings.Repeat("S", 300)
	msg, _ := serverMessage([]byte("token "+secret+" rejected"), secret)
	if strings.Contains(msg, "SSS") {
		t.Errorf("a prefix of the secret survived: %q", msg)
	}
	long, _ := serverMessage([]byte(strings.Repeat("word ", 500)))
	if n := len([]rune(long)); n > maxMessageLen+1 || !strings.HasSuffix(long, "…") {
		t.Errorf("long message not truncated to %d runes with an ellipsis: %d runes", maxMessageLen, n)
	}
}

func TestParseSavedTokenResponse(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		wantErr    string
	}{
		{"access expired, refresh alive",
			`{"access_token":"A","refresh_token":"R","expires_in":"2026-04-03T11:00:00Z","refresh_expires_in":"2026-10-01T00:00:00Z"}`, ""},
		{"both alive",
			`{"access_token":"A","refresh_token":"R","expires_in":"2026-04-04T00:00:00Z","refresh_expires_in":"2026-10-01T00:00:00Z"}`, ""},
		{"refresh expired",
			`{"access_token":"A","refresh_token":"R","expires_in":"2026-04-01T00:00:00Z","refresh_expires_in":"2026-04-02T00:00:00Z"}`,
			"can no longer be refreshed; log in instead"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts, err := ParseSavedTokenResponse([]byte(tc.body), parseNow)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseSavedTokenResponse: %v", err)
				}
				if ts.AccessToken != "A" || ts.RefreshToken != "R" {
					t.Fatalf("tokens not parsed: %v", ts.Secrets())
				}
				return
			}
			if err == nil || !errors.Is(err, ErrBadResponse) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want ErrBadResponse saying %q", err, tc.wantErr)
			}
		})
	}
	// A fresh login or refresh response with a past expiry stays an error.
	if _, err := ParseTokenResponse([]byte(`{"access_token":"A","refresh_token":"R","expires_in":"2026-04-03T11:00:00Z","refresh_expires_in":"2026-10-01T00:00:00Z"}`), parseNow); err == nil {
		t.Fatal("ParseTokenResponse accepted an expired access token")
	}
}

// A token set printed by mistake (%v in a log line, %+v in a test failure,
// nested in another struct) shows fingerprints, never a token.
func TestTokenSetFormattingRedacts(t *testing.T) {
	ts := TokenSet{AccessToken: "access-SECRET-1", RefreshToken: "refresh-SECRET-2", FrontendToken: "frontendsecret3",
		AccessExpiry: time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC), User: User{UserID: 42}}
	wrapped := struct{ Pair TokenSet }{ts}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{ts, &ts, wrapped} {
			out := fmt.Sprintf(verb, v)
			if strings.Contains(out, "SECRET") || strings.Contains(out, "frontendsecret") {
				t.Errorf("%s of %T shows a token: %s", verb, v, out)
			}
			if !strings.Contains(out, Fingerprint(ts.RefreshToken)) {
				t.Errorf("%s of %T lacks the refresh fingerprint: %s", verb, v, out)
			}
		}
	}
}
