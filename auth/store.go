package auth

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// State is where a session stands, as persisted in metadata and shown by
// list and the UI.
type State string

// Session states.
const (
	StateOK         State = "ok"          // access token valid, refresh scheduled
	StateRefreshing State = "refreshing"  // a refresh is in flight
	StateRetrying   State = "retrying"    // last attempt failed transiently; see NextAttempt
	StateNeedsLogin State = "needs_login" // refresh impossible; see Reason
	StatePaused     State = "paused"      // auto-refresh switched off by the user
	StateExpired    State = "expired"     // access token expired and not refreshed (e.g. paused)
)

// Reason says why a session needs a new login.
type Reason string

// Needs-login reasons (ARCHITECTURE.md, refresh rules 3 and 4).
const (
	ReasonNone           Reason = ""
	ReasonRefreshExpired Reason = "refresh_expired" // the refresh token's instant has passed
	ReasonRevoked        Reason = "revoked"         // we revoked it ourselves
	ReasonRejected       Reason = "rejected"        // 401 while it should be valid: possible reuse by someone else
	ReasonRotationLost   Reason = "rotation_lost"   // request sent, answer lost, retry refused: lost in transit
)

// Session is everything known about a stored session that is not secret.
// The list screen and `tokentop list` render from this alone.
type Session struct {
	Name      string    `json:"name"`
	Endpoints Endpoints `json:"endpoints"`
	Email     string    `json:"email,omitempty"`
	User      User      `json:"user"`

	AccessExpiry  time.Time `json:"access_expires_at"`
	RefreshExpiry time.Time `json:"refresh_expires_at"`
	// IssuedAt is when the current pair was obtained; with AccessExpiry it
	// gives the access lifetime that sizes the refresh window.
	IssuedAt time.Time `json:"issued_at"`

	AccessFP   string `json:"access_fingerprint"`
	RefreshFP  string `json:"refresh_fingerprint"`
	FrontendFP string `json:"frontend_fingerprint,omitempty"`
	// TokenFormat is "jwt" or "opaque", from the inspector, for display.
	TokenFormat string `json:"token_format,omitempty"`

	State       State     `json:"state"`
	Reason      Reason    `json:"reason,omitempty"`
	LastError   string    `json:"last_error,omitempty"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	// RetryAfterUntil is when the server's last Retry-After ends: no
	// process sends a refresh before it (ARCHITECTURE.md, refresh rule 5).
	RetryAfterUntil time.Time `json:"retry_after_until,omitzero"`
	Paused          bool      `json:"paused,omitempty"`

	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	LastRefresh time.Time `json:"last_refresh,omitzero"`
	Refreshes   int       `json:"refreshes"`
	Failures    int       `json:"failures"`
	// ClockSkew is the server clock minus ours, from the last exchange.
	ClockSkew time.Duration `json:"clock_skew_ns,omitempty"`

	// RefreshingSince, RefreshingPID and RefreshingFP mark a refresh whose
	// outcome is unknown: set (under the session lock) before the request is
	// sent, cleared once the answer is saved. Found set by the next holder
	// of the lock, they mean the request may have rotated the pair at the
	// server without the answer being saved (process killed, answer lost).
	RefreshingSince time.Time `json:"refreshing_since,omitzero"`
	RefreshingPID   int       `json:"refreshing_pid,omitempty"`
	RefreshingFP    string    `json:"refreshing_fingerprint,omitempty"`
	// RevokedRefreshFP is the fingerprint of a refresh token tokentop
	// revoked itself, so a later 401 is explained as revoked, not stolen.
	RevokedRefreshFP string `json:"revoked_refresh_fingerprint,omitempty"`

	// SecretsBackend names the backend holding the session's secrets
	// ("keyring", "file" or "memory"). The store sets it when it saves a
	// pair and fills it in on load; what callers put there is ignored.
	SecretsBackend string `json:"secrets_backend,omitempty"`
}

// Errors a SessionStore returns (wrapped, match with errors.Is).
var (
	ErrSessionNotFound  = errors.New("no such session")
	ErrSecretNotFound   = errors.New("secret not found in storage")
	ErrStoreUnavailable = errors.New("secret storage unavailable")
	ErrLockTimeout      = errors.New("timed out waiting for the session lock")
	ErrInvalidName      = errors.New("invalid session name")
	// ErrNotOwned matches a *NotOwnedError.
	ErrNotOwned = errors.New("the stored tokens do not provably belong to this session")
)

// NotOwnedError is a stored pair that cannot be shown to belong to the
// session asking for it: saved by another store (config dir), under another
// session name, or for another user than the session's metadata names. It
// is left as it is and not used. It also matches ErrSecretNotFound: the
// session's own pair is not there, so it needs a new login.
type NotOwnedError struct {
	Session string
	Why     string // in words, never a token
}

// Error names the session, says why the pair is not its own and what to do.
func (e *NotOwnedError) Error() string {
	return "session " + strconv.Quote(e.Session) + ": " + ErrNotOwned.Error() + " (" + e.Why +
		"); they were left as they are and not used: log in again or import"
}

// Is matches ErrNotOwned and ErrSecretNotFound.
func (e *NotOwnedError) Is(target error) bool {
	return target == ErrNotOwned || target == ErrSecretNotFound
}

// SessionStore is where sessions live. storage implements it; tests may use
// storage's memory backend. Implementations are safe for concurrent use.
type SessionStore interface {
	// List returns all sessions' metadata, sorted by name. It never touches
	// secret storage.
	List(ctx context.Context) ([]Session, error)
	// Get returns one session's metadata, or ErrSessionNotFound.
	Get(ctx context.Context, name string) (Session, error)
	// Secrets loads a session's tokens from secret storage.
	Secrets(ctx context.Context, name string) (Secrets, error)
	// Put saves secrets first, then metadata, so metadata never describes a
	// pair that is not stored.
	Put(ctx context.Context, s Session, sec Secrets) error
	// PutMeta saves metadata only (state, errors, counters).
	PutMeta(ctx context.Context, s Session) error
	// Delete removes the secrets and the metadata.
	Delete(ctx context.Context, name string) error
	// Lock takes the session's exclusive lock, shared across processes,
	// waiting until ctx is done (then ErrLockTimeout). Call unlock to release.
	Lock(ctx context.Context, name string) (unlock func(), err error)
	// Stamp is a cheap value that changes whenever metadata changes (used to
	// notice other processes' writes without re-reading everything).
	Stamp(ctx context.Context) (string, error)
	// Backend names the secrets backend new sessions go to: "keyring",
	// "file" or "memory". An existing session's secrets stay in the backend
	// it records (Session.SecretsBackend).
	Backend() string
	// CanStore reports whether a new pair for the session name could be
	// saved now, without saving one: login asks before it sends a password,
	// so a store that cannot keep the answer never leaves a minted pair
	// live with nobody holding it. It also refuses when name's current pair
	// is in another backend than new pairs go to.
	CanStore(ctx context.Context, name string) error
}

// AuditLog records events, append-only. It must never be given a token.
type AuditLog interface {
	Record(e Event) error
}

// Watcher is implemented by stores that report which sessions changed, so
// that a long-running keeper or screen re-reads one record per change
// instead of listing every session.
type Watcher interface {
	// Watch reports the names of sessions whose metadata any process
	// wrote or removed, until ctx is done, then closes the channel. ""
	// means changes may have been missed: list again. An error means the
	// store cannot watch: poll Stamp instead.
	Watch(ctx context.Context) (<-chan string, error)
}
