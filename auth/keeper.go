package auth

// SKELETON: the keeper helper replaces this file. Signatures are the contract.

import (
	"context"
	"errors"
	"time"
)

// ErrNeedsLogin matches every error that means the session cannot be
// refreshed any more (see *NeedsLoginError for the reason).
var ErrNeedsLogin = errors.New("session needs a new login")

// NeedsLoginError says why a session needs a new login.
type NeedsLoginError struct {
	Session string
	Reason  Reason
	Err     error // the server's answer, if any
}

func (e *NeedsLoginError) Error() string {
	return e.Session + ": " + ErrNeedsLogin.Error() + " (" + string(e.Reason) + ")"
}

// Is matches ErrNeedsLogin.
func (e *NeedsLoginError) Is(target error) bool { return target == ErrNeedsLogin }

// Unwrap returns the server's answer.
func (e *NeedsLoginError) Unwrap() error { return e.Err }

// KeeperConfig wires a Keeper.
type KeeperConfig struct {
	Store  SessionStore
	Client *Client
	Clock  Clock    // nil: SystemClock
	Audit  AuditLog // optional
	// MaxInFlight caps concurrent refreshes (default 4).
	MaxInFlight int
	// LockTimeout bounds waiting for a session lock (default 30s).
	LockTimeout time.Duration
	// PollInterval is how often Run looks for other processes' writes
	// through Store.Stamp (default 1s).
	PollInterval time.Duration
	// Jitter returns a number in [0,1) for backoff; nil uses math/rand.
	Jitter func() float64
}

// Keeper keeps sessions alive. All methods are safe for concurrent use.
type Keeper struct{ cfg KeeperConfig }

// NewKeeper builds a Keeper; call Run to start automatic refreshing.
func NewKeeper(cfg KeeperConfig) *Keeper { return &Keeper{cfg: cfg} }

// Events delivers what happens, for the UI and headless commands. Sends never
// block the keeper: when nobody reads, old events are dropped.
func (k *Keeper) Events() <-chan Event { return nil }

// Run refreshes sessions (all, or only names) at their refresh window until
// ctx is done, then returns after in-flight refreshes finish.
func (k *Keeper) Run(ctx context.Context, names ...string) error { return errTODO }

// RefreshResult is the outcome of one refresh.
type RefreshResult struct {
	Old, New Session
	Adopted  bool // another process had rotated already; its pair was adopted
}

// Refresh rotates the session's pair now (under the session lock).
func (k *Keeper) Refresh(ctx context.Context, name string) (RefreshResult, error) {
	return RefreshResult{}, errTODO
}

// Token returns secrets whose access token is valid for at least minValid and
// outside the refresh window, refreshing first (under the lock) when needed.
func (k *Keeper) Token(ctx context.Context, name string, minValid time.Duration) (Secrets, Session, error) {
	return Secrets{}, Session{}, errTODO
}

// Login creates or replaces the session name with a fresh login.
func (k *Keeper) Login(ctx context.Context, name string, ep Endpoints, email, password string) (Session, error) {
	return Session{}, errTODO
}

// Import stores a token response (as login or refresh return it) as session name.
func (k *Keeper) Import(ctx context.Context, name string, ep Endpoints, response []byte) (Session, error) {
	return Session{}, errTODO
}

// RevokeOutcome is the server's answer for one token.
type RevokeOutcome struct {
	Fingerprint string
	Meta        Meta
	Err         error
}

// RevokeReport is the outcome of revoking a session.
type RevokeReport struct {
	Refresh, Access RevokeOutcome
	Forgotten       bool // both succeeded and the local copy was removed
}

// Revoke revokes the refresh token, then the access token, and forgets the
// session only when both succeeded.
func (k *Keeper) Revoke(ctx context.Context, name string) (RevokeReport, error) {
	return RevokeReport{}, errTODO
}

// Forget removes the local copy only; nothing is revoked.
func (k *Keeper) Forget(ctx context.Context, name string) error { return errTODO }

// SetPaused switches auto-refresh off or on for a session.
func (k *Keeper) SetPaused(ctx context.Context, name string, paused bool) error { return errTODO }

// Probe asks the server whether the session's access token is accepted now.
func (k *Keeper) Probe(ctx context.Context, name string) (ProbeResult, error) {
	return ProbeResult{}, errTODO
}

// RefreshWindow is how long before access expiry a refresh is due: 20% of the
// lifetime, at least 30s, never more than half the lifetime.
func RefreshWindow(lifetime time.Duration) time.Duration { return lifetime / 5 }
