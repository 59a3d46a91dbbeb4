// Package auth speaks the Convirza V3 authentication protocol and keeps token
// pairs alive. It knows nothing of terminals, keyrings or files: storage
// implements the interfaces defined here, and the UI consumes its events.
package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// Default production base URLs.
const (
	DefaultOAuthURL = "https://platform-oauth.convirza.com"
	DefaultAPIURL   = "https://platform-api.convirza.com/v3"
)

// Endpoints are the two base URLs a session talks to.
type Endpoints struct {
	OAuthURL string `json:"oauth_url"`
	APIURL   string `json:"api_url"`
}

// User is the profile the server returns with a token pair.
type User struct {
	UserID    int64  `json:"user_id"`
	Email     string `json:"email"`
	RoleID    int    `json:"role_id"`
	OrgUnitID int64  `json:"org_unit_id"`
}

// RoleName names a Convirza role id (1 Admin, 2 Standard, 3 ReadOnly).
func RoleName(id int) string {
	switch id {
	case 1:
		return "Admin"
	case 2:
		return "Standard"
	case 3:
		return "ReadOnly"
	case 0:
		return ""
	default:
		return "role " + strconv.Itoa(id)
	}
}

// TokenSet is one token pair as issued by login or refresh, with absolute
// expiry instants (already converted from ISO-8601 or seconds-from-now).
type TokenSet struct {
	AccessToken   string
	RefreshToken  string
	FrontendToken string
	TokenType     string
	AccessExpiry  time.Time
	RefreshExpiry time.Time
	User          User
	// IssuedAt is when the pair was received, by the local clock (the
	// exchange's Meta.ClockOffset converts it to the server's clock, which
	// wrote the expiry instants).
	IssuedAt time.Time
}

// String shows the set with its tokens as fingerprints, so a stray %v or
// %+v (a log line, a test failure) cannot leak them.
func (t TokenSet) String() string {
	return "TokenSet{access " + Fingerprint(t.AccessToken) + " until " + t.AccessExpiry.UTC().Format(time.RFC3339) +
		", refresh " + Fingerprint(t.RefreshToken) + " until " + t.RefreshExpiry.UTC().Format(time.RFC3339) +
		", frontend " + Fingerprint(t.FrontendToken) + ", user " + strconv.FormatInt(t.User.UserID, 10) + "}"
}

// GoString redacts like String (%#v).
func (t TokenSet) GoString() string { return t.String() }

// Secrets returns the secret part of the set, as stored in the keyring.
func (t TokenSet) Secrets() Secrets {
	return Secrets{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, FrontendToken: t.FrontendToken}
}

// Secrets are the values that must only ever live in secret storage.
// Its String and GoString methods redact, so a stray %v cannot leak them.
type Secrets struct {
	AccessToken   string `json:"access_token"`
	RefreshToken  string `json:"refresh_token"`
	FrontendToken string `json:"frontend_token,omitempty"`
	// Owner is whom the store saved the pair for. The store fills it in on
	// every save (what callers put there is ignored) and returns it on load;
	// it is not part of the tokens and never leaves the store as JSON.
	Owner SecretsOwner `json:"-"`
}

// SecretsOwner ties a stored pair to one session of one store, so a pair
// is only ever used by the session it was saved for. A store refuses to
// load a pair saved by another store or for another session name, so a
// loaded pair with StoreID set was saved by this store for this name. A
// zero Owner means the pair was saved before stores recorded owners.
type SecretsOwner struct {
	StoreID string // the store's identity (one per config dir)
	Session string // the session name it was saved under
	UserID  int64  // the user the session's metadata named when it was saved
}

// Tokens is s without its Owner: the tokens alone, for comparing pairs.
func (s Secrets) Tokens() Secrets {
	s.Owner = SecretsOwner{}
	return s
}

// String redacts the secrets to their fingerprints.
func (s Secrets) String() string {
	return "Secrets{access " + Fingerprint(s.AccessToken) + ", refresh " + Fingerprint(s.RefreshToken) + "}"
}

// GoString redacts like String.
func (s Secrets) GoString() string { return s.String() }

// held is ctx carrying all three tokens for redaction (see WithHeldSecrets).
func (s Secrets) held(ctx context.Context) context.Context {
	return WithHeldSecrets(ctx, s.AccessToken, s.RefreshToken, s.FrontendToken)
}

// Meta describes one HTTP exchange: what the server said about itself.
type Meta struct {
	Status    int
	RequestID string
	// ServerTime is the server's Date header (zero when absent).
	ServerTime time.Time
	// ClockOffset is ServerTime minus the local time at receipt
	// (positive when the server is ahead); zero when ServerTime is zero.
	ClockOffset time.Duration
}

// Fingerprint is "sha256:" and the first 8 hex digits of the token's SHA-256:
// safe to show, log and compare. The empty token has the empty fingerprint.
func Fingerprint(token string) string {
	if token == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(token))
	return "sha256:" + hex.EncodeToString(sum[:4])
}
