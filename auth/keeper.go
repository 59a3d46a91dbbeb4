package auth

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// ErrNeedsLogin matches every error that means the session cannot be
// refreshed any more (see *NeedsLoginError for the reason).
var ErrNeedsLogin = errors.New("session needs a new login")

// ErrMinValid is returned by Token when even a fresh pair does not live as
// long as the caller asked for.
var ErrMinValid = errors.New("the server issues access tokens shorter than the requested minimum validity")

// ErrNotToken is returned by Import when the input is not a token response.
var ErrNotToken = errors.New("not a token response")

// NeedsLoginError says why a session needs a new login.
type NeedsLoginError struct {
	Session string
	Reason  Reason
	// Message explains the reason in words (never holds a token).
	Message string
	Err     error // the server's answer, if any
}

func (e *NeedsLoginError) Error() string {
	s := e.Session + ": " + ErrNeedsLogin.Error() + " (" + string(e.Reason) + ")"
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Is matches ErrNeedsLogin.
func (e *NeedsLoginError) Is(target error) bool { return target == ErrNeedsLogin }

// Unwrap returns the server's answer.
func (e *NeedsLoginError) Unwrap() error { return e.Err }

// RetryError is a transient refresh failure (rate limit, server error,
// network): the session is in StateRetrying until NextAttempt. It matches
// the cause (ErrRateLimited, ErrServer, ErrNetwork, ...) with errors.Is.
type RetryError struct {
	Session     string
	NextAttempt time.Time
	Err         error
}

func (e *RetryError) Error() string {
	return fmt.Sprintf("refresh %s: %v (next attempt %s)", e.Session, e.Err, e.NextAttempt.Format(time.RFC3339))
}

// Unwrap returns the cause.
func (e *RetryError) Unwrap() error { return e.Err }

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
	// EventBuffer is the capacity of the Events channel (default 256).
	EventBuffer int
	// PID identifies this process in refreshing markers and events
	// (default os.Getpid()).
	PID int
}

// Backoff bounds for transient failures.
const (
	backoffBase   = 2 * time.Second
	backoffMax    = 5 * time.Minute
	backoffMin    = time.Second
	expiryMargin  = 10 * time.Second
	skewThreshold = 5 * time.Second
)

// Keeper keeps sessions alive. All methods are safe for concurrent use.
type Keeper struct {
	cfg    KeeperConfig
	events chan Event
	// evMu serialises the drop-oldest dance on events.
	evMu    sync.Mutex
	dropped atomic.Uint64
	auditMu sync.Mutex
	// auditErr is the last error from the audit log (nil when fine).
	auditErr error
	// nudge wakes Run after this keeper changed metadata itself.
	nudge chan struct{}

	mu sync.Mutex
	// unsaved holds pairs the server issued that the store refused to
	// save: the refresh token in them is the only live one, so the next
	// attempt persists it before anything else.
	unsaved map[string]unsavedPair
	running bool
	// idle, when set (by tests, before Run), is called each time Run is
	// about to wait, with the time its wait was computed from.
	idle func(now time.Time, inflight int)
}

type unsavedPair struct {
	meta Session
	sec  Secrets
	// fromFP is the refresh fingerprint stored when the pair was issued.
	fromFP string
}

// NewKeeper builds a Keeper; call Run to start automatic refreshing.
func NewKeeper(cfg KeeperConfig) *Keeper {
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 4
	}
	if cfg.LockTimeout <= 0 {
		cfg.LockTimeout = 30 * time.Second
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.Jitter == nil {
		cfg.Jitter = rand.Float64
	}
	if cfg.EventBuffer <= 0 {
		cfg.EventBuffer = 256
	}
	if cfg.PID == 0 {
		cfg.PID = os.Getpid()
	}
	if cfg.Client == nil {
		cfg.Client = NewClient(nil, cfg.Clock)
	}
	return &Keeper{
		cfg:     cfg,
		events:  make(chan Event, cfg.EventBuffer),
		nudge:   make(chan struct{}, 1),
		unsaved: map[string]unsavedPair{},
	}
}

// Events delivers what happens, for the UI and headless commands. Sends never
// block the keeper: when nobody reads, old events are dropped.
func (k *Keeper) Events() <-chan Event { return k.events }

// DroppedEvents counts events dropped because the Events channel was full.
func (k *Keeper) DroppedEvents() uint64 { return k.dropped.Load() }

// AuditErr returns the last error the audit log returned, if any.
func (k *Keeper) AuditErr() error {
	k.auditMu.Lock()
	defer k.auditMu.Unlock()
	return k.auditErr
}

// emit records e in the audit log (synchronously, so the log is complete
// even if nobody reads Events) and then offers it on the channel,
// dropping the oldest event when the channel is full.
func (k *Keeper) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = k.cfg.Clock.Now()
	}
	if e.PID == 0 {
		e.PID = k.cfg.PID
	}
	if k.cfg.Audit != nil {
		if err := k.cfg.Audit.Record(e); err != nil {
			k.auditMu.Lock()
			k.auditErr = err
			k.auditMu.Unlock()
		}
	}
	k.evMu.Lock()
	defer k.evMu.Unlock()
	select {
	case k.events <- e:
		return
	default:
	}
	select {
	case <-k.events:
		k.dropped.Add(1)
	default:
	}
	select {
	case k.events <- e:
	default:
		k.dropped.Add(1)
	}
}

// wake tells a running loop to re-read metadata now rather than at the next
// stamp poll.
func (k *Keeper) wake() {
	select {
	case k.nudge <- struct{}{}:
	default:
	}
}

// lock takes the session lock, bounded by LockTimeout.
func (k *Keeper) lock(ctx context.Context, name string) (func(), error) {
	lctx, cancel := context.WithTimeout(ctx, k.cfg.LockTimeout)
	defer cancel()
	unlock, err := k.cfg.Store.Lock(lctx, name)
	if err != nil {
		return nil, fmt.Errorf("lock session %s: %w", name, err)
	}
	return unlock, nil
}

// persistCtx detaches store writes from the caller's cancellation: once the
// server has rotated, the new pair must be saved even if the caller gave up.
func persistCtx(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

// RefreshWindow is how long before access expiry a refresh is due: 20% of the
// lifetime, at least 30s, never more than half the lifetime.
func RefreshWindow(lifetime time.Duration) time.Duration {
	if lifetime <= 0 {
		return 0
	}
	w := lifetime / 5
	if w < 30*time.Second {
		w = 30 * time.Second
	}
	if w > lifetime/2 {
		w = lifetime / 2
	}
	return w
}

// Window is the session's refresh window (from its access lifetime).
func (s Session) Window() time.Duration {
	if s.IssuedAt.IsZero() || s.AccessExpiry.IsZero() {
		return 0
	}
	return RefreshWindow(s.AccessExpiry.Sub(s.IssuedAt))
}

// ServerNow is local now corrected by the session's measured clock skew:
// expiry instants are the server's, so they are compared with this.
func (s Session) ServerNow(localNow time.Time) time.Time { return localNow.Add(s.ClockSkew) }

// AccessLeft is how long the access token lives from localNow (server time).
func (s Session) AccessLeft(localNow time.Time) time.Duration {
	return s.AccessExpiry.Sub(s.ServerNow(localNow))
}

// RefreshDue is the local-clock instant at which the refresh window opens:
// a server ahead of us means refreshing earlier by our clock.
func (s Session) RefreshDue() time.Time {
	return s.AccessExpiry.Add(-s.Window()).Add(-s.ClockSkew)
}

// Fresh reports whether the access token is outside its refresh window and
// has at least minValid left at localNow.
func (s Session) Fresh(localNow time.Time, minValid time.Duration) bool {
	left := s.AccessLeft(localNow)
	return left > s.Window() && left >= minValid && left > 0
}

// staleMarker is how old a refreshing marker must be before a reader that
// cannot take the lock (a list, a screen) calls the refresh interrupted.
const staleMarker = time.Minute

// RefreshInterrupted reports whether the session shows a refresh that
// started more than a minute before localNow and never finished (its process
// was killed, or its answer was lost): the next refresh settles whether the
// server rotated. A holder of the session lock treats any marker so, since
// the process that set it must have released the lock.
func (s Session) RefreshInterrupted(localNow time.Time) bool {
	return s.refreshMarked() && localNow.Sub(s.RefreshingSince) > staleMarker
}

// refreshMarked reports whether a refresh was started and its outcome is
// unknown (killed mid-refresh, or the answer was lost).
func (s Session) refreshMarked() bool { return !s.RefreshingSince.IsZero() }

func (s *Session) clearMarker() {
	s.RefreshingSince, s.RefreshingPID, s.RefreshingFP = time.Time{}, 0, ""
}

// restingState is the state of a healthy session.
func restingState(s Session) State {
	if s.Paused {
		return StatePaused
	}
	return StateOK
}

// sessionFrom builds metadata for a freshly issued pair, keeping what
// belongs to the session rather than the pair (name, endpoints, creation,
// pause, counters) from prev.
func sessionFrom(prev Session, ts TokenSet, now time.Time) Session {
	s := prev
	s.User = ts.User
	if ts.User.Email != "" {
		s.Email = ts.User.Email
	}
	s.AccessExpiry = ts.AccessExpiry
	s.RefreshExpiry = ts.RefreshExpiry
	s.IssuedAt = ts.IssuedAt
	if s.IssuedAt.IsZero() {
		s.IssuedAt = now
	}
	s.AccessFP = Fingerprint(ts.AccessToken)
	s.RefreshFP = Fingerprint(ts.RefreshToken)
	s.FrontendFP = Fingerprint(ts.FrontendToken)
	s.TokenFormat = Inspect(ts.AccessToken, InspectOptions{Now: now, ExpectedExpiry: ts.AccessExpiry}).Format
	s.State = restingState(s)
	s.Reason = ReasonNone
	s.LastError = ""
	s.NextAttempt = time.Time{}
	s.Failures = 0
	s.RevokedRefreshFP = ""
	s.clearMarker()
	if s.CreatedAt.IsZero() {
		s.CreatedAt = now
	}
	s.UpdatedAt = now
	return s
}

// Token returns secrets whose access token is valid for at least minValid and
// outside the refresh window, refreshing first (under the lock) when needed.
func (k *Keeper) Token(ctx context.Context, name string, minValid time.Duration) (Secrets, Session, error) {
	now := k.cfg.Clock.Now()
	meta, err := k.cfg.Store.Get(ctx, name)
	if err != nil {
		return Secrets{}, Session{}, fmt.Errorf("token %s: %w", name, err)
	}
	if meta.State == StateNeedsLogin {
		return Secrets{}, meta, needsLoginFromMeta(meta)
	}
	// A wish no pair can meet must not burn a rotation on every call. The
	// lifetime is known once a refresh issued the pair (an imported pair's
	// IssuedAt is only when it was imported).
	if life := meta.AccessExpiry.Sub(meta.IssuedAt); !meta.LastRefresh.IsZero() && life > 0 && minValid > life {
		return Secrets{}, meta, fmt.Errorf("token %s: %w: the server issues tokens that live %s, %s was asked for",
			name, ErrMinValid, life.Round(time.Second), minValid)
	}
	left := meta.AccessLeft(now)
	// Fast path: no lock and no network, the common case for scripts.
	usable := meta.Fresh(now, minValid) ||
		// A refresh is already failing and will be retried at NextAttempt:
		// do not hammer the server while the current token still serves.
		(meta.State == StateRetrying && now.Before(meta.NextAttempt) && left > 0 && left >= minValid)
	if usable {
		sec, err := k.cfg.Store.Secrets(ctx, name)
		if err != nil {
			return Secrets{}, meta, fmt.Errorf("token %s: %w", name, err)
		}
		if Fingerprint(sec.AccessToken) == meta.AccessFP {
			return sec, meta, nil
		}
		// Metadata and secrets disagree (a write in between): take the
		// slow path, which re-reads both under the lock.
	}
	good := func(s Session, now time.Time) bool { return s.Fresh(now, minValid) }
	res, sec, err := k.refresh(ctx, meta, good, false)
	if err != nil {
		var re *RetryError
		if errors.As(err, &re) && res.Old.AccessFP != "" {
			// The refresh failed transiently but the current token still
			// covers what was asked: hand it out.
			now := k.cfg.Clock.Now()
			if l := res.Old.AccessLeft(now); l > 0 && l >= minValid {
				if s, serr := k.cfg.Store.Secrets(ctx, name); serr == nil && Fingerprint(s.AccessToken) == res.Old.AccessFP {
					return s, res.Old, nil
				}
			}
		}
		return Secrets{}, res.New, err
	}
	if l := res.New.AccessLeft(k.cfg.Clock.Now()); l < minValid {
		return Secrets{}, res.New, fmt.Errorf("token %s: %w: a fresh token lives %s, %s was asked for",
			name, ErrMinValid, l.Round(time.Second), minValid)
	}
	return sec, res.New, nil
}

// RefreshResult is the outcome of one refresh.
type RefreshResult struct {
	Old, New Session
	Adopted  bool // another process had rotated already; its pair was adopted
	// Recovered says that an earlier refresh had been interrupted (its
	// outcome unknown) and this one settled it.
	Recovered bool
	// Note explains anything unusual about this refresh, for display.
	Note string
}

// Refresh rotates the session's pair now (under the session lock).
func (k *Keeper) Refresh(ctx context.Context, name string) (RefreshResult, error) {
	meta, err := k.cfg.Store.Get(ctx, name)
	if err != nil {
		return RefreshResult{}, fmt.Errorf("refresh %s: %w", name, err)
	}
	res, _, err := k.refresh(ctx, meta, nil, false)
	return res, err
}

// Login creates or replaces the session name with a fresh login.
func (k *Keeper) Login(ctx context.Context, name string, ep Endpoints, email, password string) (Session, error) {
	prev, err := k.existing(ctx, name)
	if err != nil {
		return Session{}, fmt.Errorf("login %s: %w", name, err)
	}
	ts, m, err := k.cfg.Client.Login(ctx, ep, email, password)
	if err != nil {
		return Session{}, fmt.Errorf("login %s: %w", name, err)
	}
	s, err := k.store(ctx, name, ep, ts, m, prev, EventLogin, "logged in as "+ts.User.Email)
	if err != nil {
		return Session{}, fmt.Errorf("login %s: %w", name, err)
	}
	return s, nil
}

// Import stores a token response (as login or refresh return it) as session name.
func (k *Keeper) Import(ctx context.Context, name string, ep Endpoints, response []byte) (Session, error) {
	prev, err := k.existing(ctx, name)
	if err != nil {
		return Session{}, fmt.Errorf("import %s: %w", name, err)
	}
	if err := CheckEndpoints(ep); err != nil {
		return Session{}, fmt.Errorf("import %s: %w", name, err)
	}
	ts, err := ParseTokenResponse(response, k.cfg.Clock.Now())
	if err != nil {
		return Session{}, fmt.Errorf("import %s: %w: expected the JSON body that /oauth/token or /oauth/refresh-token returns, "+
			"with access_token, refresh_token and expires_in (flat or inside \"data\"): %w", name, ErrNotToken, err)
	}
	if ts.AccessToken == "" || ts.RefreshToken == "" {
		return Session{}, fmt.Errorf("import %s: %w: both access_token and refresh_token are required", name, ErrNotToken)
	}
	s, err := k.store(ctx, name, ep, ts, Meta{}, prev, EventImported, "imported a token pair")
	if err != nil {
		return Session{}, fmt.Errorf("import %s: %w", name, err)
	}
	return s, nil
}

// existing validates name through the store and returns its current
// metadata (zero when there is none).
func (k *Keeper) existing(ctx context.Context, name string) (Session, error) {
	prev, err := k.cfg.Store.Get(ctx, name)
	switch {
	case err == nil:
		return prev, nil
	case errors.Is(err, ErrSessionNotFound):
		return Session{}, nil
	default:
		return Session{}, err
	}
}

// store saves a new pair from login or import under the lock, replacing any
// previous one.
func (k *Keeper) store(ctx context.Context, name string, ep Endpoints, ts TokenSet, m Meta, prev Session, kind EventKind, msg string) (Session, error) {
	now := k.cfg.Clock.Now()
	s := sessionFrom(Session{Name: name, Endpoints: ep, Paused: prev.Paused}, ts, now)
	s.CreatedAt = now
	if !m.ServerTime.IsZero() {
		s.ClockSkew = m.ClockOffset
		s.IssuedAt = serverIssuedAt(now, m)
	}
	unlock, err := k.lock(ctx, name)
	if err != nil {
		return Session{}, err
	}
	defer unlock()
	if err := k.cfg.Store.Put(persistCtx(ctx), s, ts.Secrets()); err != nil {
		return Session{}, fmt.Errorf("save the session: %w", err)
	}
	k.mu.Lock()
	delete(k.unsaved, name)
	k.mu.Unlock()
	if prev.Name != "" {
		msg += " (replacing the previous pair " + prev.AccessFP + ", which was not revoked)"
	}
	k.emit(Event{Session: name, Kind: kind, OldFP: prev.AccessFP, NewFP: s.AccessFP, RequestID: m.RequestID, Status: m.Status, Message: msg})
	k.noteSkew(s, 0, m)
	k.wake()
	return s, nil
}

// noteSkew emits EventSkew when the server clock is off by more than a few
// seconds and that is news (it was not, or it moved by over a second).
func (k *Keeper) noteSkew(s Session, prevSkew time.Duration, m Meta) {
	if m.ServerTime.IsZero() {
		return
	}
	off := m.ClockOffset
	if abs(off) <= skewThreshold {
		return
	}
	if abs(prevSkew) > skewThreshold && abs(off-prevSkew) <= time.Second {
		return
	}
	dir := "ahead of"
	if off < 0 {
		dir = "behind"
	}
	k.emit(Event{Session: s.Name, Kind: EventSkew, Skew: off, RequestID: m.RequestID,
		Message: fmt.Sprintf("the server clock is %s %s ours; refreshes are scheduled by server time", abs(off).Round(time.Second), dir)})
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
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
	var rep RevokeReport
	unlock, err := k.lock(ctx, name)
	if err != nil {
		return rep, fmt.Errorf("revoke %s: %w", name, err)
	}
	defer unlock()
	meta, err := k.cfg.Store.Get(ctx, name)
	if err != nil {
		return rep, fmt.Errorf("revoke %s: %w", name, err)
	}
	sec, err := k.cfg.Store.Secrets(ctx, name)
	if err != nil {
		return rep, fmt.Errorf("revoke %s: %w", name, err)
	}
	rep.Refresh.Fingerprint = Fingerprint(sec.RefreshToken)
	rep.Refresh.Meta, rep.Refresh.Err = k.cfg.Client.Revoke(ctx, meta.Endpoints, sec.RefreshToken, RefreshToken)
	if rep.Refresh.Err == nil {
		k.emit(Event{Session: name, Kind: EventRevoked, OldFP: rep.Refresh.Fingerprint, RequestID: rep.Refresh.Meta.RequestID,
			Status: rep.Refresh.Meta.Status, Message: "refresh token revoked at the server"})
		// Remember it, so that a later 401 is explained as our own doing
		// even if the access token cannot be revoked now.
		meta.RevokedRefreshFP = rep.Refresh.Fingerprint
		meta.State, meta.Reason = StateNeedsLogin, ReasonRevoked
		meta.LastError = "the refresh token was revoked by tokentop"
		meta.NextAttempt = time.Time{}
		meta.UpdatedAt = k.cfg.Clock.Now()
		if err := k.cfg.Store.PutMeta(persistCtx(ctx), meta); err != nil {
			rep.Refresh.Err = fmt.Errorf("revoked, but recording that failed: %w", err)
		}
	} else {
		k.emit(Event{Session: name, Kind: EventFailed, OldFP: rep.Refresh.Fingerprint, RequestID: rep.Refresh.Meta.RequestID,
			Status: rep.Refresh.Meta.Status, Message: "revoking the refresh token failed: " + rep.Refresh.Err.Error()})
	}
	rep.Access.Fingerprint = Fingerprint(sec.AccessToken)
	rep.Access.Meta, rep.Access.Err = k.cfg.Client.Revoke(ctx, meta.Endpoints, sec.AccessToken, AccessToken)
	if rep.Access.Err == nil {
		k.emit(Event{Session: name, Kind: EventRevoked, OldFP: rep.Access.Fingerprint, RequestID: rep.Access.Meta.RequestID,
			Status: rep.Access.Meta.Status, Message: "access token revoked at the server"})
	} else {
		k.emit(Event{Session: name, Kind: EventFailed, OldFP: rep.Access.Fingerprint, RequestID: rep.Access.Meta.RequestID,
			Status: rep.Access.Meta.Status, Message: "revoking the access token failed: " + rep.Access.Err.Error()})
	}
	k.wake()
	if rep.Refresh.Err != nil || rep.Access.Err != nil {
		return rep, fmt.Errorf("revoke %s: %w (the session is kept; nothing was forgotten)", name, errors.Join(rep.Refresh.Err, rep.Access.Err))
	}
	if err := k.cfg.Store.Delete(persistCtx(ctx), name); err != nil {
		return rep, fmt.Errorf("revoke %s: both tokens revoked, but removing the local copy failed: %w", name, err)
	}
	rep.Forgotten = true
	k.emit(Event{Session: name, Kind: EventForgotten, OldFP: rep.Access.Fingerprint, Message: "removed the local copy after revoking both tokens"})
	return rep, nil
}

// Forget removes the local copy only; nothing is revoked.
func (k *Keeper) Forget(ctx context.Context, name string) error {
	unlock, err := k.lock(ctx, name)
	if err != nil {
		return fmt.Errorf("forget %s: %w", name, err)
	}
	defer unlock()
	meta, err := k.cfg.Store.Get(ctx, name)
	if err != nil {
		return fmt.Errorf("forget %s: %w", name, err)
	}
	if err := k.cfg.Store.Delete(ctx, name); err != nil {
		return fmt.Errorf("forget %s: %w", name, err)
	}
	k.mu.Lock()
	delete(k.unsaved, name)
	k.mu.Unlock()
	k.emit(Event{Session: name, Kind: EventForgotten, OldFP: meta.AccessFP,
		Message: "removed the local copy only; nothing was revoked at the server"})
	k.wake()
	return nil
}

// SetPaused switches auto-refresh off or on for a session.
func (k *Keeper) SetPaused(ctx context.Context, name string, paused bool) error {
	unlock, err := k.lock(ctx, name)
	if err != nil {
		return fmt.Errorf("pause %s: %w", name, err)
	}
	defer unlock()
	meta, err := k.cfg.Store.Get(ctx, name)
	if err != nil {
		return fmt.Errorf("pause %s: %w", name, err)
	}
	if meta.Paused == paused {
		return nil
	}
	meta.Paused = paused
	meta.UpdatedAt = k.cfg.Clock.Now()
	// A session that needs a login keeps saying so, paused or not; a
	// retrying one resumes retrying.
	switch {
	case meta.State == StateNeedsLogin || meta.State == StateRetrying:
	case paused:
		meta.State = StatePaused
	case meta.AccessLeft(meta.UpdatedAt) <= 0:
		meta.State = StateExpired
	default:
		meta.State = StateOK
	}
	if err := k.cfg.Store.PutMeta(ctx, meta); err != nil {
		return fmt.Errorf("pause %s: %w", name, err)
	}
	kind, msg := EventResumed, "auto-refresh resumed"
	if paused {
		kind, msg = EventPaused, "auto-refresh paused"
	}
	k.emit(Event{Session: name, Kind: kind, Message: msg})
	k.wake()
	return nil
}

// Probe asks the server whether the session's access token is accepted now.
func (k *Keeper) Probe(ctx context.Context, name string) (ProbeResult, error) {
	meta, err := k.cfg.Store.Get(ctx, name)
	if err != nil {
		return ProbeResult{}, fmt.Errorf("probe %s: %w", name, err)
	}
	sec, err := k.cfg.Store.Secrets(ctx, name)
	if err != nil {
		return ProbeResult{}, fmt.Errorf("probe %s: %w", name, err)
	}
	res, err := k.cfg.Client.Probe(ctx, meta.Endpoints, sec.AccessToken)
	if err != nil {
		return res, fmt.Errorf("probe %s: %w", name, err)
	}
	k.noteSkew(meta, meta.ClockSkew, res.Meta)
	return res, nil
}

// needsLoginFromMeta rebuilds the error for a session already marked.
func needsLoginFromMeta(s Session) error {
	return &NeedsLoginError{Session: s.Name, Reason: s.Reason, Message: s.LastError}
}

// RevokeToken revokes a raw token at ep (the admin path: a pasted token, no
// stored session needed). If a stored session holds it, that session is
// marked, under its lock, so that its later failures read "revoked by us"
// rather than theft; the name of that session is returned ("" when none).
func (k *Keeper) RevokeToken(ctx context.Context, ep Endpoints, token string, kind TokenKind) (string, Meta, error) {
	fp := Fingerprint(token)
	m, err := k.cfg.Client.Revoke(ctx, ep, token, kind)
	if err != nil {
		return "", m, fmt.Errorf("revoke %s token %s: %w", kind, fp, err)
	}
	name := k.markRevoked(ctx, fp, kind)
	k.emit(Event{Session: name, Kind: EventRevoked, OldFP: fp, RequestID: m.RequestID, Status: m.Status,
		Message: string(kind) + " token revoked at the server"})
	return name, m, nil
}

// markRevoked records a revoked token in the stored session holding it.
func (k *Keeper) markRevoked(ctx context.Context, fp string, kind TokenKind) string {
	list, err := k.cfg.Store.List(ctx)
	if err != nil {
		return ""
	}
	for _, s := range list {
		if s.RefreshFP != fp && s.AccessFP != fp {
			continue
		}
		if kind != RefreshToken || s.RefreshFP != fp {
			// An access token alone: the session can still refresh.
			return s.Name
		}
		unlock, err := k.lock(ctx, s.Name)
		if err != nil {
			return s.Name
		}
		defer unlock()
		cur, err := k.cfg.Store.Get(ctx, s.Name)
		if err != nil || cur.RefreshFP != fp {
			return s.Name
		}
		cur.RevokedRefreshFP = fp
		cur.State, cur.Reason = StateNeedsLogin, ReasonRevoked
		cur.LastError = "the refresh token was revoked by tokentop"
		cur.NextAttempt = time.Time{}
		cur.UpdatedAt = k.cfg.Clock.Now()
		_ = k.cfg.Store.PutMeta(persistCtx(ctx), cur)
		k.wake()
		return s.Name
	}
	return ""
}
