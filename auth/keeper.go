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
var ErrMinValid = errors.New("the requested minimum validity is longer than the server's access-token lifetime")

// ErrPaused matches a *PausedError.
var ErrPaused = errors.New("the session is paused")

// PausedError is Token asked for a paused session's access token when that
// token does not cover the wish: a paused session is watch-only, so it is
// not refreshed to meet it.
type PausedError struct {
	Session string
	// Left is how long the access token lives (by the server's clock),
	// MinValid what was asked for.
	Left, MinValid time.Duration
}

// Error says what is wrong, why nothing refreshed it, and what to do.
func (e *PausedError) Error() string {
	what := "its access token has expired"
	if e.Left > 0 {
		what = fmt.Sprintf("its access token has %s left, less than the %s asked for", e.Left.Truncate(time.Second), e.MinValid)
	}
	return fmt.Sprintf("session %q is paused (watch-only) and %s; nothing refreshes a paused session: "+
		"resume it to let tokentop refresh it (tokentop resume %s), knowing that a refresh rotates the pair and "+
		"logs out whoever else holds it", e.Session, what, e.Session)
}

// Is matches ErrPaused.
func (e *PausedError) Is(target error) bool { return target == ErrPaused }

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

// Error names the session, says it needs a new login, and why.
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

// Error names the session, the cause and when the next attempt is due.
func (e *RetryError) Error() string {
	return fmt.Sprintf("refresh %s: %v (next attempt %s)", e.Session, e.Err, e.NextAttempt.Format(time.RFC3339))
}

// Unwrap returns the cause.
func (e *RetryError) Unwrap() error { return e.Err }

// KeeperConfig wires a Keeper.
// DefaultLockTimeout is how long a keeper waits for a session lock another
// process holds (KeeperConfig.LockTimeout).
const DefaultLockTimeout = 30 * time.Second

type KeeperConfig struct {
	Store  SessionStore
	Client *Client
	Clock  Clock    // nil: SystemClock
	Audit  AuditLog // optional
	// MaxInFlight caps concurrent refreshes (default 4).
	MaxInFlight int
	// LockTimeout bounds waiting for a session lock (default
	// DefaultLockTimeout).
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
	// Rescue keeps aside a pair the store refused to save (optional; see
	// Rescuer). Without it such a pair lives only in this process's memory.
	Rescue Rescuer
	// SaveRetryFor bounds how long a refresh retries saving a pair the
	// store refused before it keeps the pair aside (0: DefaultSaveRetryFor;
	// negative: no retry).
	SaveRetryFor time.Duration
	// OnEvent, when set, sees every event as it is emitted, on the
	// emitting goroutine (it must not block): headless commands use it to
	// print what must be seen at once, such as a save being retried.
	OnEvent func(Event)
}

// Backoff bounds for transient failures.
const (
	backoffBase  = 2 * time.Second
	backoffMax   = 5 * time.Minute
	backoffMin   = time.Second
	expiryMargin = 10 * time.Second
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
	// exchanging counts, per session, refresh requests that may have
	// reached the server and whose answer is not yet saved; settled is
	// closed when it empties (see Exchanging and Settled).
	exchanging map[string]int
	settled    chan struct{}
	running    bool
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
		cfg.LockTimeout = DefaultLockTimeout
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
	if cfg.SaveRetryFor == 0 {
		cfg.SaveRetryFor = DefaultSaveRetryFor
	}
	return &Keeper{
		cfg:        cfg,
		events:     make(chan Event, cfg.EventBuffer),
		nudge:      make(chan struct{}, 1),
		unsaved:    map[string]unsavedPair{},
		exchanging: map[string]int{},
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
	if k.cfg.OnEvent != nil {
		k.cfg.OnEvent(e)
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

// lock takes the session lock, bounded by LockTimeout. The store's error
// already names the lock and the session; callers add the operation.
func (k *Keeper) lock(ctx context.Context, name string) (func(), error) {
	lctx, cancel := context.WithTimeout(ctx, k.cfg.LockTimeout)
	defer cancel()
	return k.cfg.Store.Lock(lctx, name)
}

// persistCtx detaches store writes from the caller's cancellation: once the
// server has rotated, the new pair must be saved even if the caller gave up.
func persistCtx(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

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
	if meta.Paused {
		return k.pausedToken(ctx, meta, now, minValid)
	}
	// A wish no pair can meet must not burn a rotation on every call. The
	// lifetime is known once a refresh issued the pair (an imported pair's
	// IssuedAt is only when it was imported).
	if life := meta.AccessExpiry.Sub(meta.IssuedAt); !meta.LastRefresh.IsZero() && life > 0 && minValid > life {
		return Secrets{}, meta, fmt.Errorf("token %s: %w (tokens live %s, %s was asked for)",
			name, ErrMinValid, life.Round(time.Second), minValid)
	}
	left := meta.AccessLeft(now)
	// Fast path: no lock and no network, the common case for scripts.
	// A session in retrying state whose next attempt is due takes the slow
	// path even with a fresh token: under the lock it may have a pair to
	// save (one an earlier process kept aside) before anything else.
	settle := meta.State == StateRetrying && !now.Before(meta.NextAttempt)
	usable := meta.Fresh(now, minValid) && !settle ||
		// A refresh is already failing and will be retried at NextAttempt:
		// do not hammer the server while the current token still serves.
		(meta.State == StateRetrying && now.Before(meta.NextAttempt) && left > 0 && left >= minValid)
	if usable {
		sec, err := k.cfg.Store.Secrets(ctx, name)
		switch {
		case errors.Is(err, ErrSecretUnusable):
			// The slow path records that the session needs a new login.
		case err != nil:
			return Secrets{}, meta, fmt.Errorf("token %s: %w", name, err)
		case Fingerprint(sec.AccessToken) == meta.AccessFP:
			return sec, meta, nil
		}
		// Metadata and secrets disagree (a write in between): take the
		// slow path, which re-reads both under the lock.
	}
	good := func(s Session, now time.Time) bool { return s.Fresh(now, minValid) }
	res, sec, err := k.refresh(ctx, meta, good)
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
		return Secrets{}, res.New, fmt.Errorf("token %s: %w (a fresh token lives %s, %s was asked for)",
			name, ErrMinValid, l.Round(time.Second), minValid)
	}
	return sec, res.New, nil
}

// pausedToken hands out a paused session's access token while it covers
// minValid, and never refreshes it.
func (k *Keeper) pausedToken(ctx context.Context, meta Session, now time.Time, minValid time.Duration) (Secrets, Session, error) {
	if left := meta.AccessLeft(now); left <= 0 || left < minValid {
		return Secrets{}, meta, &PausedError{Session: meta.Name, Left: left, MinValid: minValid}
	}
	sec, err := k.cfg.Store.Secrets(ctx, meta.Name)
	if err != nil {
		return Secrets{}, meta, fmt.Errorf("token %s: %w", meta.Name, err)
	}
	if Fingerprint(sec.AccessToken) != meta.AccessFP {
		// Another process saved a new pair between the two reads (someone
		// resumed and refreshed it, or imported over it): ask again.
		return Secrets{}, meta, fmt.Errorf("token %s: the session changed while it was read; try again", meta.Name)
	}
	return sec, meta, nil
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
	res, _, err := k.refresh(ctx, meta, nil)
	return res, err
}

// Login creates or replaces the session name with a fresh login.
func (k *Keeper) Login(ctx context.Context, name string, ep Endpoints, email, password string) (Session, error) {
	prev, err := k.existing(ctx, name)
	if err != nil {
		return Session{}, fmt.Errorf("login %s: %w", name, err)
	}
	if err := k.cfg.Store.CanStore(ctx, name); err != nil {
		return Session{}, fmt.Errorf("login %s: nothing was sent: %w", name, err)
	}
	ts, m, err := k.cfg.Client.Login(ctx, ep, email, password)
	if err != nil {
		return Session{}, fmt.Errorf("login %s: %w", name, err)
	}
	s, err := k.store(ctx, name, ep, ts, m, prev, prev.Paused, EventLogin, "logged in as "+ts.User.Email)
	if err != nil {
		return Session{}, fmt.Errorf("login %s: %w", name, k.revokeUnsaved(ctx, name, ep, ts, err))
	}
	return s, nil
}

// ImportOptions are how an imported pair is kept.
type ImportOptions struct {
	// KeepAlive lets tokentop refresh the pair from the start. Without it
	// the session starts paused (watch-only): an imported pair is usually
	// someone else's, such as a customer's integration, which a rotation
	// here would log out.
	KeepAlive bool
}

// Import stores a token response (as login or refresh return it) as session
// name, paused unless opts.KeepAlive.
func (k *Keeper) Import(ctx context.Context, name string, ep Endpoints, response []byte, opts ImportOptions) (Session, error) {
	prev, err := k.existing(ctx, name)
	if err != nil {
		return Session{}, fmt.Errorf("import %s: %w", name, err)
	}
	if err := k.cfg.Store.CanStore(ctx, name); err != nil {
		return Session{}, fmt.Errorf("import %s: %w", name, err)
	}
	if err := CheckEndpoints(ep); err != nil {
		return Session{}, fmt.Errorf("import %s: %w", name, err)
	}
	ts, err := ParseSavedTokenResponse(response, k.cfg.Clock.Now())
	if err != nil {
		return Session{}, fmt.Errorf("import %s: %w: expected the JSON body that /oauth/token or /oauth/refresh-token returns, "+
			"with access_token, refresh_token and expires_in (flat or inside \"data\"): %w", name, ErrNotToken, err)
	}
	if ts.AccessToken == "" || ts.RefreshToken == "" {
		return Session{}, fmt.Errorf("import %s: %w: both access_token and refresh_token are required", name, ErrNotToken)
	}
	// A saved response does not say when it was issued; a JWT's iat does.
	// Without it the lifetime, and so the refresh window (ARCHITECTURE.md, refresh rule 1), would be
	// counted from the import and come out too short.
	if iat := Inspect(ts.AccessToken, InspectOptions{Now: ts.IssuedAt}).IssuedAt; !iat.IsZero() &&
		iat.Before(ts.IssuedAt) && ts.AccessExpiry.After(iat) {
		ts.IssuedAt = iat
	}
	msg := "imported a token pair, paused (watch-only: nothing refreshes it until it is resumed)"
	if opts.KeepAlive {
		msg = "imported a token pair, kept alive"
	}
	s, err := k.store(ctx, name, ep, ts, Meta{}, prev, !opts.KeepAlive, EventImported, msg)
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
// previous one; paused says whether auto-refresh starts off.
func (k *Keeper) store(ctx context.Context, name string, ep Endpoints, ts TokenSet, m Meta, prev Session, paused bool, kind EventKind, msg string) (Session, error) {
	now := k.cfg.Clock.Now()
	s := sessionFrom(Session{Name: name, Endpoints: ep, Paused: paused}, ts, now)
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
	if prev.Name != "" && prev.RefreshFP != s.RefreshFP {
		msg += " (replacing the previous pair " + prev.AccessFP + ", which was not revoked)"
	}
	k.emit(Event{Session: name, Kind: kind, OldFP: prev.AccessFP, NewFP: s.AccessFP, OldRefreshFP: prev.RefreshFP, NewRefreshFP: s.RefreshFP,
		RequestID: m.RequestID, Status: m.Status, Message: msg})
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
	if !SkewNotable(off) {
		return
	}
	if SkewNotable(prevSkew) && abs(off-prevSkew) <= time.Second {
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

// needsLoginFromMeta rebuilds the error for a session already marked.
func needsLoginFromMeta(s Session) error {
	return &NeedsLoginError{Session: s.Name, Reason: s.Reason, Message: s.LastError}
}
