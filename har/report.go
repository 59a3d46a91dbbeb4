package har

import "time"

// Report is what Analyze found in a HAR. Every string in it that came from
// the file has been through safetext.Escape; it holds no token value (use
// Value for those).
type Report struct {
	Entries   int        `json:"entries"`
	OAuthURLs []string   `json:"oauth_urls"` // base URLs (up to /oauth/) of the OAuth exchanges, in order of appearance
	APIURLs   []string   `json:"api_urls"`   // API base URLs (up to /v3) seen with a bearer token
	Tokens    []*Token   `json:"tokens"`
	Exchanges []Exchange `json:"exchanges"`
	Families  []Family   `json:"families"`
	Findings  []Finding  `json:"findings"`
	// Secrets counts the distinct raw secrets in the file by kind (none
	// in a sanitised file: its placeholders are not secrets).
	Secrets map[Kind]int `json:"secrets"`

	values    map[string]string // fingerprint → token value
	passwords map[string]bool   // raw passwords
	cookies   map[string]bool   // raw cookie values
}

// Ref points at an entry: its index in log.entries (from 0) and its
// startedDateTime.
type Ref struct {
	Index int       `json:"index"`
	Time  time.Time `json:"time"`
}

// Seen is where a token was met.
type Seen struct {
	Ref
	Where string `json:"where"` // e.g. "request header Authorization", "response body"
}

// Token is one token met in the file, by fingerprint.
type Token struct {
	Fingerprint  string    `json:"fingerprint"`
	Kind         Kind      `json:"kind"`
	First        Seen      `json:"first_seen"`
	Last         Seen      `json:"last_seen"`
	Entries      int       `json:"entries"` // how many entries carry it
	Expiry       time.Time `json:"expiry,omitzero"`
	ExpirySource string    `json:"expiry_source,omitempty"` // "response" or "jwt"
	IssuedBy     *Ref      `json:"issued_by,omitempty"`
	Family       int       `json:"family,omitempty"`
	// Sanitised: the file holds a placeholder, not the token: it cannot be
	// probed or revoked from this file.
	Sanitised bool `json:"sanitised,omitempty"`
	// Probe is "LIVE", "dead" or what went wrong, when asked (--probe).
	Probe string `json:"probe,omitempty"`
}

// Exchange kinds.
const (
	ExLogin   = "login"
	ExRefresh = "refresh"
	ExRevoke  = "revoke"
)

// Exchange is one login, refresh or revoke in the file.
type Exchange struct {
	Ref
	Kind       string        `json:"kind"`
	Duration   time.Duration `json:"duration_ns"`
	Status     int           `json:"status"`
	RequestID  string        `json:"request_id,omitempty"`
	Family     int           `json:"family,omitempty"`
	Email      string        `json:"email,omitempty"`     // login
	Sent       string        `json:"sent,omitempty"`      // refresh: the refresh token presented; revoke: the token revoked
	SentKind   Kind          `json:"sent_kind,omitempty"` // revoke: the token_type
	Access     string        `json:"access,omitempty"`    // the pair received
	Refresh    string        `json:"refresh,omitempty"`
	Frontend   string        `json:"frontend,omitempty"`
	RetryAfter string        `json:"retry_after,omitempty"`
	Message    string        `json:"message,omitempty"` // the server's error message
}

// OK says the exchange succeeded.
func (x Exchange) OK() bool { return x.Status >= 200 && x.Status < 300 }

// Family is one chain of rotations: a login and the refreshes that follow
// from its tokens, or refreshes of a token issued before the file begins.
type Family struct {
	ID        int    `json:"id"`
	Start     Ref    `json:"start"`
	User      string `json:"user,omitempty"`
	FromLogin bool   `json:"from_login"`
	Exchanges []int  `json:"exchanges"` // indices into Report.Exchanges
}

// Finding kinds, as in --json.
const (
	FindRefreshReuse          = "refresh_reuse"
	FindConcurrentRefresh     = "concurrent_refresh"
	FindExpiredAccessUsed     = "expired_access_used"
	FindRejectedAfterRotation = "rejected_after_rotation"
	FindClockSkew             = "clock_skew"
	FindLoginFailed           = "login_failed"
	FindRateLimited           = "rate_limited"
	FindServerError           = "server_error"
	FindSecretsInFile         = "secrets_in_file"
)

// Finding is one thing that went wrong, with the entries that prove it.
type Finding struct {
	Kind    string `json:"kind"`
	Summary string `json:"summary"`
	Entries []Ref  `json:"entries"`
	// More counts proving entries left out of Entries.
	More int `json:"more,omitempty"`
}

// maxFindingEntries bounds the entries listed per finding: a HAR of a
// day's session may prove one skew with thousands of entries.
const maxFindingEntries = 20

func (f *Finding) add(r Ref) {
	if len(f.Entries) < maxFindingEntries {
		f.Entries = append(f.Entries, r)
	} else {
		f.More++
	}
}

// Value returns the token whose fingerprint is fp, or "" when the file
// held only a placeholder for it.
func (r *Report) Value(fp string) string { return r.values[fp] }

// Token returns the token with fingerprint fp, or nil.
func (r *Report) Token(fp string) *Token {
	for _, t := range r.Tokens {
		if t.Fingerprint == fp {
			return t
		}
	}
	return nil
}
