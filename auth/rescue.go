package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ErrSecretUnusable matches a stored secret that exists but holds no usable
// token pair (empty, damaged, written by something else): the session needs
// a new login, and retrying cannot help.
var ErrSecretUnusable = errors.New("the stored secret holds no usable token pair")

// ReasonSecretUnusable: the secret storage item exists but holds no usable pair.
const ReasonSecretUnusable Reason = "secret_unusable"

// RescuedPair is a pair the server issued that the store refused to save,
// kept aside by a Rescuer so that a process exiting does not drop the only
// live refresh token.
type RescuedPair struct {
	Session Session `json:"session"`
	Secrets Secrets `json:"secrets"`
	// FromRefreshFP is the stored refresh token's fingerprint when the pair
	// was issued: the pair replaces that one and no other.
	FromRefreshFP string    `json:"from_refresh_fingerprint"`
	Cause         string    `json:"cause"`
	At            time.Time `json:"at"`
	PID           int       `json:"pid"`
}

// Rescuer keeps pairs the store could not save somewhere else, private to the
// user, until a later process adopts them into the store.
type Rescuer interface {
	// Rescue keeps p and says where, for the message that tells the user.
	Rescue(ctx context.Context, p RescuedPair) (where string, err error)
	// Rescued returns the pair kept for session name, if any, and where.
	Rescued(ctx context.Context, name string) (p RescuedPair, where string, ok bool, err error)
	// DropRescued deletes the pair kept for session name (none is fine).
	DropRescued(ctx context.Context, name string) error
}

// Defaults for saving a pair the store refused.
const (
	// DefaultSaveRetryFor bounds how long a refresh keeps trying to save a
	// pair the server issued before it keeps the pair aside.
	DefaultSaveRetryFor = 60 * time.Second
	saveRetryFirst      = 500 * time.Millisecond
	saveRetryMax        = 8 * time.Second
)

// beginExchange marks name as having a refresh request that may have left:
// from here until endExchange, stopping the process could lose the pair.
func (k *Keeper) beginExchange(name string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.exchanging) == 0 {
		k.settled = make(chan struct{})
	}
	k.exchanging[name]++
}

func (k *Keeper) endExchange(name string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.exchanging[name]--; k.exchanging[name] <= 0 {
		delete(k.exchanging, name)
	}
	if len(k.exchanging) == 0 && k.settled != nil {
		close(k.settled)
		k.settled = nil
	}
}

// Exchanging names, sorted, the sessions whose refresh request may have
// reached the server and whose new pair is not yet saved: a process that
// stops now could lose them. Callers stopping on a signal or a quit key
// wait for Settled instead.
func (k *Keeper) Exchanging() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	names := make([]string, 0, len(k.exchanging))
	for n := range k.exchanging {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Settled returns a channel that is closed once no refresh exchange is in
// flight (at once when none is).
func (k *Keeper) Settled() <-chan struct{} {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.settled == nil {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	return k.settled
}

// ExchangeWarning says, for a user about to stop the process, which refreshes
// are still in flight and what forcing the stop would lose; "" when none is.
func ExchangeWarning(names []string) string {
	if len(names) == 0 {
		return ""
	}
	list := strings.Join(names, ", ")
	return fmt.Sprintf("finishing the refresh of %s: the server may already have issued a new pair, which is saved before exiting; "+
		"stopping again now abandons it, and %s would then need a new login", list, list)
}

// saveIssued saves a pair the server has just issued, retrying with backoff
// for up to SaveRetryFor while the store refuses (a stalled keyring, a full
// disk), since the refresh token it replaced is already dead at the server.
func (k *Keeper) saveIssued(ctx context.Context, s Session, sec Secrets) error {
	err := k.cfg.Store.Put(ctx, s, sec)
	if err == nil || k.cfg.SaveRetryFor < 0 {
		return err
	}
	deadline := k.cfg.Clock.Now().Add(k.cfg.SaveRetryFor)
	delay := saveRetryFirst
	for attempt := 1; ; attempt++ {
		now := k.cfg.Clock.Now()
		if !now.Before(deadline) {
			return err
		}
		if attempt == 1 {
			k.emit(Event{Session: s.Name, Kind: EventSaveRetrying, NewFP: s.AccessFP, NewRefreshFP: s.RefreshFP, At: deadline,
				Message: fmt.Sprintf("the server issued a new pair but saving it failed (%v); retrying until %s",
					err, deadline.Local().Format(time.TimeOnly))})
		}
		t := k.cfg.Clock.NewTimer(min(delay, deadline.Sub(now)))
		<-t.C()
		delay = min(delay*2, saveRetryMax)
		if err = k.cfg.Store.Put(ctx, s, sec); err == nil {
			return nil
		}
	}
}

// rescue keeps a pair the store refused aside (see Rescuer) and records in
// metadata, when it can, where it is. It returns the error that explains
// the outcome to the caller.
func (k *Keeper) rescue(ctx context.Context, cur, s Session, sec Secrets, cause error) error {
	now := k.cfg.Clock.Now()
	if k.cfg.Rescue == nil {
		msg := fmt.Sprintf("the server issued a new pair but saving it failed (%v), and this store has nowhere "+
			"to keep it aside: it is held in memory and saved at the next attempt while this process runs", cause)
		k.emit(Event{Session: s.Name, Kind: EventFailed, OldFP: cur.AccessFP, NewFP: s.AccessFP,
			OldRefreshFP: cur.RefreshFP, NewRefreshFP: s.RefreshFP, Message: msg})
		return fmt.Errorf("refresh %s: %s: %w", s.Name, msg, cause)
	}
	where, rerr := k.cfg.Rescue.Rescue(ctx, RescuedPair{Session: s, Secrets: sec, FromRefreshFP: cur.RefreshFP,
		Cause: cause.Error(), At: now, PID: k.cfg.PID})
	if rerr != nil {
		msg := fmt.Sprintf("the server issued a new pair, saving it failed (%v) and keeping it aside failed too (%v): "+
			"it is held in memory while this process runs; if it exits first, %s needs a new login", cause, rerr, s.Name)
		k.emit(Event{Session: s.Name, Kind: EventFailed, OldFP: cur.AccessFP, NewFP: s.AccessFP,
			OldRefreshFP: cur.RefreshFP, NewRefreshFP: s.RefreshFP, Message: msg})
		m := cur
		m.State, m.LastError, m.UpdatedAt = StateRetrying, msg, now
		m.NextAttempt = now
		_ = k.cfg.Store.PutMeta(ctx, m)
		return fmt.Errorf("refresh %s: %s: %w", s.Name, msg, cause)
	}
	msg := fmt.Sprintf("new pair kept in %s (private to you): saving it failed (%v); "+
		"the next tokentop command for %s saves it and deletes that file", where, cause, s.Name)
	k.emit(Event{Session: s.Name, Kind: EventRescued, OldFP: cur.AccessFP, NewFP: s.AccessFP,
		OldRefreshFP: cur.RefreshFP, NewRefreshFP: s.RefreshFP, Message: msg})
	// The refresh's outcome is known (rotated, kept aside): the marker would
	// make the next run blame a rotation lost in transit.
	m := cur
	m.clearMarker()
	m.State, m.LastError, m.UpdatedAt, m.NextAttempt = StateRetrying, msg, now, now
	_ = k.cfg.Store.PutMeta(ctx, m)
	return &RescuedError{Session: s.Name, Where: where, Err: cause}
}

// RescuedError says that a refresh succeeded at the server but its pair is
// kept aside (see Rescuer) because the store refused it. It matches the
// store's error with errors.Is.
type RescuedError struct {
	Session string
	Where   string
	Err     error
}

// Error says where the pair is and what happens next.
func (e *RescuedError) Error() string {
	return fmt.Sprintf("refresh %s: the new pair could not be saved (%v); it is kept in %s and the next tokentop command for %s saves it",
		e.Session, e.Err, e.Where, e.Session)
}

// Unwrap returns the store's error.
func (e *RescuedError) Unwrap() error { return e.Err }

// adoptRescued saves a pair an earlier process kept aside, when the store
// still holds the pair it replaced. The caller holds the session lock. ok
// reports that cur is now the rescued pair.
func (k *Keeper) adoptRescued(ctx context.Context, cur Session) (Session, Secrets, bool, error) {
	if k.cfg.Rescue == nil {
		return cur, Secrets{}, false, nil
	}
	p, where, ok, err := k.cfg.Rescue.Rescued(ctx, cur.Name)
	if err != nil || !ok {
		// An unreadable rescue file is reported by its own error; the
		// stored pair is still the best there is.
		return cur, Secrets{}, false, err
	}
	switch cur.RefreshFP {
	case p.Session.RefreshFP:
		// Saved already (the failing process got through in the end).
		return cur, Secrets{}, false, k.cfg.Rescue.DropRescued(ctx, cur.Name)
	case p.FromRefreshFP:
	default:
		// A login or import replaced the pair since: the rescued one is moot.
		k.emit(Event{Session: cur.Name, Kind: EventFailed, OldFP: p.Session.AccessFP, OldRefreshFP: p.Session.RefreshFP,
			Message: "a pair kept aside in " + where + " was dropped: the session was logged in or imported again since"})
		return cur, Secrets{}, false, k.cfg.Rescue.DropRescued(ctx, cur.Name)
	}
	s := p.Session
	s.Paused = cur.Paused
	s.State = restingState(s)
	s.LastError = ""
	s.NextAttempt = time.Time{}
	s.clearMarker()
	if err := k.cfg.Store.Put(ctx, s, p.Secrets); err != nil {
		return cur, Secrets{}, false, fmt.Errorf("the pair kept in %s (a refresh at %s could not save it: %q) still cannot be saved: %w",
			where, p.At.UTC().Format(time.RFC3339), p.Cause, err) // Cause is read from the file: quoted, it forges no line
	}
	if err := k.cfg.Rescue.DropRescued(ctx, cur.Name); err != nil {
		k.emit(Event{Session: cur.Name, Kind: EventFailed, Message: "saved the pair kept in " + where + " but could not delete that file: " + err.Error()})
	}
	k.emit(Event{Session: cur.Name, Kind: EventRefreshed, OldFP: cur.AccessFP, NewFP: s.AccessFP,
		OldRefreshFP: cur.RefreshFP, NewRefreshFP: s.RefreshFP,
		Message: fmt.Sprintf("saved the pair that a refresh at %s (pid %d) kept in %s because saving it had failed (%q)",
			p.At.UTC().Format(time.RFC3339), p.PID, where, p.Cause)})
	return s, p.Secrets, true, nil
}
