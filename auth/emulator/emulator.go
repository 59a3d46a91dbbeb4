// Package emulator is a faithful in-process Convirza V3 OAuth and profile
// server, for demo mode, tests and local development. It imports only the
// standard library, never the client side, so it cannot agree with the
// client's bugs. It is strict: it implements the behaviour the README
// documents ("The emulator") and nothing more liberal.
//
// The OAuth base URL is the server's root; the API base URL is {root}/v3.
//
// # Endpoints
//
// POST /oauth/token, body {"email","password"} ("username" is accepted for
// "email"; "email" wins when both are given):
//   - 200 token response (below); counts logins.
//   - 400 when the Content-Type is not application/json, the body is not one
//     JSON object of the right types, or email or password is missing/empty.
//   - 401 for an unknown email or a wrong password.
//   - 413 when the body exceeds 64 KiB.
//   - 429 with Retry-After (whole seconds until the oldest request leaves the
//     window) after Config.LoginRate requests in the last minute from the same
//     client IP (the RemoteAddr host; forwarding headers are not trusted).
//     Every request to this path counts, whatever its outcome, except those
//     refused by the limit itself.
//
// POST /oauth/refresh-token, body {"refresh_token"}:
//   - 200 token response with a new access, refresh and frontend token; the
//     presented refresh token is dead at once, the new one lives the session's
//     refresh lifetime from now, the old access token stays valid until its
//     own expiry. Counts refreshes.
//   - 400 for a bad content type or body, or a missing/empty refresh_token.
//   - 401 for an unknown, expired, revoked or already used refresh token;
//     counts refresh_rejections, and for an already used (rotated-away) token
//     also reuse_detected. Reuse does not kill the session's current pair.
//
// POST /oauth/revoke-token, body {"token","token_type":"access"|"refresh"}:
//   - 200 {"message":"Token revoked successfully"} whether or not the token
//     was known, live, expired or already revoked; counts revocations (every
//     200). token_type names the kind to look up: a token of the other kind is
//     left alone. Revoking one token of a pair leaves the other alone.
//   - 400 for a bad content type or body, a missing/empty token, or a
//     token_type that is neither "access" nor "refresh".
//
// GET /v3/auth/profile with "Authorization: Bearer <access_token>":
//   - 200 {"code":200,"message":"Success","data":{user},"request_id","timestamp"}.
//   - 401 when the header is missing or malformed, or the token is unknown,
//     expired or revoked.
//
// GET /_emulator/stats:
//   - 200 {"logins","refreshes","refresh_rejections","reuse_detected",
//     "revocations","active_sessions"}: counters since start; active_sessions
//     counts sessions whose current refresh token is live (not expired, not
//     revoked). Paths under /_emulator/ are never delayed or failed by the
//     fault injection, so tests can always observe.
//
// Any other path answers 404, a known path with another method 405 (with an
// Allow header).
//
// # Token response
//
//	{"access_token","refresh_token","frontend_token","token_type":"Bearer",
//	 "expires_in","refresh_expires_in","user":{"user_id","email","role_id","org_unit_id"}}
//
// expires_in and refresh_expires_in are absolute instants, ISO-8601 UTC with
// milliseconds and Z (2026-04-10T12:00:00.000Z). Tokens are opaque
// URL-safe strings (32 random bytes, base64url) or, with TokenFormat "jwt",
// HS256 JWTs with claims {"tokenId","iat","exp"} signed with a secret made
// per server (expiry instants then fall on whole seconds so that exp and
// expires_in agree). frontend_token is 32 characters of [a-z0-9].
//
// # Errors and headers
//
// Every error is the status plus
// {"statusCode","message","error","timestamp","path","requestId"}, where
// message is the status text and error says what was wrong. Every response
// carries X-Request-Id (equal to requestId / request_id) and a Date header
// from the emulator's clock (Config.Now shifted by ShiftClock), so clients can
// measure skew.
//
// # Faults
//
// Config.FailRate answers a random fraction of requests 500 (seeded by
// Config.Seed); Config.Latency delays every request (a cancelled request is
// dropped without an answer). At run time, FailNext, SetLatency, ShiftClock
// and DropNextRefreshResponses inject faults; Issue, Valid, ActiveSessions,
// DroppedResponses and Now help tests look inside.
//
// # Concurrency and memory
//
// One mutex guards the state; token lookups are map lookups. Expired
// tokens, dead sessions and idle rate-limit windows are pruned lazily (every
// 30 s of emulator time or when the tables double). Rotated-away refresh
// tokens are kept until their own expiry, to tell reuse from garbage; old
// access tokens stay valid, and stored, until theirs, as the contract says.
//
// # Log
//
// Config.Log gets one line per request: time, method, path, status,
// duration, client IP, request id, user email and the tokens involved as
// fingerprints ("sha256:" + 8 hex digits), never a token or a password.
package emulator

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// User is an account the emulator accepts.
type User struct {
	Email     string
	Password  string
	UserID    int64
	RoleID    int
	OrgUnitID int64
	// TokenFormat overrides Config.TokenFormat for this user's sessions
	// ("opaque" or "jwt"; empty: the server's format). The demo uses it to
	// show both kinds of token side by side on one emulator.
	TokenFormat string
}

// Config configures a Server. Zero values take the documented defaults.
type Config struct {
	AccessTTL   time.Duration // default 7 days
	RefreshTTL  time.Duration // default 180 days
	TokenFormat string        // "opaque" (default) or "jwt"
	Users       []User        // default: DefaultUser()
	LoginRate   int           // /oauth/token requests per minute per client IP; 0: 10; <0: unlimited
	FailRate    float64       // fraction of requests answered 500 at random
	Latency     time.Duration // added to every request
	Now         func() time.Time
	Log         io.Writer // one line per request, tokens as fingerprints; nil: silent
	Seed        uint64    // seed for FailRate's random choices; 0: a random seed
}

// Default lifetimes and limits.
const (
	DefaultAccessTTL  = 7 * 24 * time.Hour
	DefaultRefreshTTL = 180 * 24 * time.Hour
	DefaultLoginRate  = 10
)

// Token formats accepted in Config.TokenFormat.
const (
	FormatOpaque = "opaque"
	FormatJWT    = "jwt"
)

// Token kinds, as in revoke's token_type and Valid.
const (
	KindAccess  = "access"
	KindRefresh = "refresh"
)

// DefaultUser is the account used when Config.Users is empty (a function, so
// that nobody can change it for everyone).
func DefaultUser() User {
	return User{Email: "demo@example.com", Password: "demo-password", UserID: 12345, RoleID: 1, OrgUnitID: 1001}
}

// Stats are counters since start (GET /_emulator/stats).
type Stats struct {
	Logins            int `json:"logins"`
	Refreshes         int `json:"refreshes"`
	RefreshRejections int `json:"refresh_rejections"`
	ReuseDetected     int `json:"reuse_detected"`
	Revocations       int `json:"revocations"`
	ActiveSessions    int `json:"active_sessions"`
}

// ErrBadUser is wrapped by ParseUser's errors.
var ErrBadUser = errors.New("bad user spec")

// ParseUser parses EMAIL:PASSWORD[:ROLE_ID[:ORG_UNIT_ID]]. ROLE_ID is 1
// (Admin), 2 (Standard) or 3 (ReadOnly), default 1; ORG_UNIT_ID is a positive
// integer, default 1001. UserID is left 0: New numbers such users.
func ParseUser(spec string) (User, error) {
	parts := strings.Split(spec, ":")
	if len(parts) < 2 || len(parts) > 4 {
		return User{}, fmt.Errorf("%w %q: want EMAIL:PASSWORD[:ROLE_ID[:ORG_UNIT_ID]] (the password may not contain ':')", ErrBadUser, redactSpec(spec))
	}
	u := User{Email: strings.TrimSpace(parts[0]), Password: parts[1], RoleID: 1, OrgUnitID: 1001}
	if u.Email == "" || !strings.Contains(u.Email, "@") {
		return User{}, fmt.Errorf("%w %q: EMAIL must be an address like someone@example.com", ErrBadUser, redactSpec(spec))
	}
	if u.Password == "" {
		return User{}, fmt.Errorf("%w for %s: PASSWORD is empty", ErrBadUser, u.Email)
	}
	if len(parts) >= 3 {
		r, err := strconv.Atoi(parts[2])
		if err != nil || r < 1 || r > 3 {
			// The value is not quoted: with a ':' in the password it is a
			// piece of the password.
			return User{}, fmt.Errorf("%w for %s: ROLE_ID (the third field) must be 1 (Admin), 2 (Standard) or 3 (ReadOnly); the password may not contain ':'", ErrBadUser, u.Email)
		}
		u.RoleID = r
	}
	if len(parts) == 4 {
		o, err := strconv.ParseInt(parts[3], 10, 64)
		if err != nil || o < 1 {
			return User{}, fmt.Errorf("%w for %s: ORG_UNIT_ID (the fourth field) must be a positive integer; the password may not contain ':'", ErrBadUser, u.Email)
		}
		u.OrgUnitID = o
	}
	return u, nil
}

// redactSpec hides everything after the email in error messages: a
// password may itself hold ':', so no later field is safe to show.
func redactSpec(spec string) string {
	email, _, ok := strings.Cut(spec, ":")
	if !ok {
		return spec
	}
	return email + ":***"
}
