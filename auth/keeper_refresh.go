package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// refresh locks the session, re-reads it and decides again (ARCHITECTURE.md,
// refresh rule 2): it adopts a pair that another process saved since before
// was read, returns the stored pair when good says it already suffices, and
// otherwise rotates it. good == nil means "rotate unless another process just did".
// ctx stops it up to the moment the request may leave (nothing changes);
// from there rotate no longer listens to it, so a stopping keeper finishes
// and saves what it sent, and a stopped one sends nothing new.
func (k *Keeper) refresh(ctx context.Context, before Session, good func(Session, time.Time) bool) (RefreshResult, Secrets, error) {
	name := before.Name
	res := RefreshResult{Old: before, New: before}
	unlock, err := k.lock(ctx, name)
	if err != nil {
		return res, Secrets{}, fmt.Errorf("refresh %s: %w", name, err)
	}
	defer unlock()

	cur, err := k.cfg.Store.Get(ctx, name)
	if err != nil {
		return res, Secrets{}, fmt.Errorf("refresh %s: %w", name, err)
	}
	now := k.cfg.Clock.Now()
	if settled, sec, note, ok, err := k.settleKept(ctx, cur); err != nil {
		return res, Secrets{}, fmt.Errorf("refresh %s: %w", name, err)
	} else if ok {
		res.New, res.Note = settled, note
		if good == nil || good(settled, now) {
			return res, sec, nil
		}
		cur = settled
	}
	res.New = cur
	if cur.State == StateNeedsLogin {
		return res, Secrets{}, needsLoginFromMeta(cur)
	}
	rotatedElsewhere := cur.RefreshFP != before.RefreshFP && !cur.refreshMarked()
	if good == nil && rotatedElsewhere || good != nil && good(cur, now) {
		sec, err := k.cfg.Store.Secrets(ctx, name)
		if err != nil && !errors.Is(err, ErrSecretUnusable) { // rotate records an unusable one
			return res, Secrets{}, fmt.Errorf("refresh %s: %w", name, err)
		}
		// Only a pair whose secrets match the metadata can be handed out;
		// otherwise fall through and rotate from the stored secrets.
		if err == nil && Fingerprint(sec.AccessToken) == cur.AccessFP && Fingerprint(sec.RefreshToken) == cur.RefreshFP {
			if rotatedElsewhere {
				// Adopted says it all; Note is kept for the unusual.
				res.Adopted = true
				k.emit(Event{Session: name, Kind: EventAdopted, OldFP: before.AccessFP, NewFP: cur.AccessFP,
					OldRefreshFP: before.RefreshFP, NewRefreshFP: cur.RefreshFP,
					Message: "another process had refreshed already; its pair was adopted"})
			}
			return res, sec, nil
		}
	}
	return k.rotate(ctx, cur, res)
}

// settleKept stores a pair that an earlier refresh could not save, kept
// aside in a rescue file or held in this process, before anything uses the
// stored pair: the kept one is the live pair at the server, and sending or
// revoking the stored one instead would end or miss the session. ok says
// one was stored (then cur and sec are it, and note says which). The caller
// holds the session lock.
func (k *Keeper) settleKept(ctx context.Context, cur Session) (_ Session, _ Secrets, note string, ok bool, err error) {
	var sec Secrets
	rescued, rsec, adopted, err := k.adoptRescued(persistCtx(ctx), cur)
	if err != nil {
		// The pair kept aside replaced the stored one at the server:
		// using the stored refresh token now would end the session.
		return cur, Secrets{}, "", false, err
	}
	if adopted {
		cur, sec, ok = rescued, rsec, true
		note = "saved the pair that an earlier refresh had kept aside because saving it failed"
	}
	saved, ssec, held, err := k.saveUnsaved(ctx, cur)
	if err != nil {
		// The server retired the stored refresh token when it issued the
		// held pair: using it now would end the session we still hold.
		return cur, Secrets{}, "", false, err
	}
	if held {
		cur, sec, ok = saved, ssec, true
		note = "saved the pair from an earlier refresh whose save had failed"
	}
	return cur, sec, note, ok, nil
}

// rotate sends the stored refresh token and saves the answer. The caller
// holds the session lock.
func (k *Keeper) rotate(ctx context.Context, cur Session, res RefreshResult) (RefreshResult, Secrets, error) {
	name := cur.Name
	sec, err := k.cfg.Store.Secrets(ctx, name)
	if errors.Is(err, ErrSecretUnusable) {
		return k.needsLogin(ctx, cur, res, ReasonSecretUnusable,
			"the secret storage item holds no usable token pair (empty, damaged or written by something else), so there is nothing to refresh with", nil, Meta{})
	}
	if err != nil {
		return res, Secrets{}, fmt.Errorf("refresh %s: %w", name, err)
	}
	now := k.cfg.Clock.Now()
	sentFP := Fingerprint(sec.RefreshToken)
	var notes []string
	// Put writes secrets before metadata, so a process stopped between the
	// two leaves newer secrets under older metadata: the secrets then hold
	// the only live refresh token, and metadata's expiries do not apply.
	metaBehind := sentFP != cur.RefreshFP
	if metaBehind {
		// ...unless they are somebody else's: adopt them only when they
		// provably belong to this session.
		if err := ownedBy(cur, sec.Owner); err != nil {
			return res, Secrets{}, fmt.Errorf("refresh %s: %w", name, err)
		}
		notes = append(notes, "the stored metadata was behind the stored tokens (an interrupted save); refreshed from the stored tokens")
	}
	if !metaBehind && !cur.RefreshExpiry.IsZero() && !cur.ServerNow(now).Before(cur.RefreshExpiry) {
		msg := fmt.Sprintf("the refresh token expired at %s", cur.RefreshExpiry.UTC().Format(time.RFC3339))
		return k.needsLogin(ctx, cur, res, ReasonRefreshExpired, msg, nil, Meta{})
	}

	if until := cur.RetryAfterUntil; now.Before(until) {
		// The server said when to come back; asking sooner, from this
		// process or any other, only earns another 429.
		// An *APIError like the answer that set it, so callers word it
		// as the rate limit it is.
		return res, Secrets{}, &RetryError{Session: name, NextAttempt: until, Err: &APIError{
			Op: "refresh", Kind: ErrRateLimited, Status: http.StatusTooManyRequests, RetryAfter: until.Sub(now).Round(time.Second),
			Message: "from the last answer; nothing is sent until its Retry-After ends at " + until.UTC().Format(time.RFC3339)}}
	}

	interrupted := cur.refreshMarked()
	var intr string
	if interrupted {
		intr = fmt.Sprintf("a previous refresh (pid %d at %s) was interrupted, possibly after sending",
			cur.RefreshingPID, cur.RefreshingSince.UTC().Format(time.RFC3339))
	}
	mark := cur
	mark.State = StateRefreshing
	mark.RefreshingSince, mark.RefreshingPID, mark.RefreshingFP = now, k.cfg.PID, sentFP
	mark.UpdatedAt = now
	if err := k.cfg.Store.PutMeta(ctx, mark); err != nil {
		return res, Secrets{}, fmt.Errorf("refresh %s: mark the refresh in metadata (nothing was sent): %w", name, err)
	}
	// Exchanging tells a stopping process to wait. It is set before the
	// last look at ctx: a stop that comes after that look finds it set and
	// waits for the exchange, one that came before finds nothing sent.
	k.beginExchange(name)
	defer k.endExchange(name)
	if cerr := ctx.Err(); cerr != nil {
		// Stopped before anything left: undo the mark, the pair is as it was.
		_ = k.cfg.Store.PutMeta(persistCtx(ctx), cur)
		return res, Secrets{}, fmt.Errorf("refresh %s: stopped before the request was sent (nothing changed): %w", name, cerr)
	}
	k.emit(Event{Session: name, Kind: EventRefreshing, OldFP: cur.AccessFP, OldRefreshFP: sentFP, Message: intr})

	// From here the request may reach the server, which then retires the
	// stored refresh token: no cancel, signal or quit abandons the exchange
	// (the client's own timeout bounds it), and the answer is saved before
	// the caller hears of it.
	ctx = persistCtx(ctx)
	held := sec.held(ctx) // the answer may echo the access token too
	ts, m, err := k.cfg.Client.Refresh(held, cur.Endpoints, sec.RefreshToken)
	lost := maybeSent(err)
	if lost {
		// The server may have rotated and its answer is gone. Presenting
		// the same token again either succeeds (it never arrived) or is
		// refused, which then means the rotation was lost, not stolen.
		notes = append(notes, "the answer to the first attempt was lost after sending; retried once with the same token")
		ts, m, err = k.cfg.Client.Refresh(held, cur.Endpoints, sec.RefreshToken)
	}
	if err == nil {
		if interrupted {
			notes = append(notes, intr+"; it was recovered: the stored refresh token was still valid")
			res.Recovered = true
		}
		return k.saveRotated(ctx, cur, res, ts, m, notes)
	}

	if errors.Is(err, ErrRefreshRejected) {
		// Refresh rule 3 (ARCHITECTURE.md): re-read first; a newer pair saved by anyone is adopted.
		if again, gerr := k.cfg.Store.Get(persistCtx(ctx), name); gerr == nil &&
			again.RefreshFP != cur.RefreshFP && again.RefreshFP != sentFP && again.RefreshFP != "" {
			if s, serr := k.cfg.Store.Secrets(persistCtx(ctx), name); serr == nil && Fingerprint(s.RefreshToken) == again.RefreshFP {
				res.New, res.Adopted = again, true
				res.Note = "the refresh was refused, but a newer pair had been saved meanwhile; it was adopted"
				k.emit(Event{Session: name, Kind: EventAdopted, OldFP: cur.AccessFP, NewFP: again.AccessFP,
					OldRefreshFP: sentFP, NewRefreshFP: again.RefreshFP, Message: res.Note})
				return res, s, nil
			}
		}
		m := metaOf(err, m)
		serverNow := cur.ServerNow(now)
		if !m.ServerTime.IsZero() {
			serverNow = now.Add(m.ClockOffset)
		}
		var reason Reason
		var msg string
		switch {
		case !metaBehind && !cur.RefreshExpiry.IsZero() && !serverNow.Before(cur.RefreshExpiry):
			reason = ReasonRefreshExpired
			msg = fmt.Sprintf("the refresh token expired at %s", cur.RefreshExpiry.UTC().Format(time.RFC3339))
		case cur.RevokedRefreshFP != "" && cur.RevokedRefreshFP == sentFP:
			reason, msg = ReasonRevoked, "the refresh token was revoked by tokentop"
		case lost:
			reason = ReasonRotationLost
			msg = "the server rotated the pair but its answer never arrived, and the retry with the same token was refused: " +
				"rotation lost in transit, not stolen"
		case interrupted:
			reason = ReasonRotationLost
			msg = intr + ", and the server had already rotated the pair: rotation lost in transit, not stolen"
		default:
			reason = ReasonRejected
			msg = "the server rejected the refresh token while it should still be valid: someone else may have used this refresh token; " +
				"revoke the session (tokentop revoke " + name + ") and log in again"
		}
		return k.needsLogin(ctx, cur, res, reason, msg, err, m)
	}
	return k.retryLater(ctx, cur, res, err, m, lost, sentFP)
}

// ownedBy says why stored secrets with owner o, which metadata cur does not
// describe, cannot be shown to be cur's (nil when they can). The store
// refuses pairs saved by another store or under another name, so an owner
// with a store id was saved by this store for this name; what is left to
// check is the user.
func ownedBy(cur Session, o SecretsOwner) error {
	switch {
	case o.StoreID == "":
		return &NotOwnedError{Session: cur.Name, Why: "the stored tokens are newer than the metadata and were saved " +
			"by an older tokentop, which did not record whose they are"}
	case o.UserID != cur.User.UserID:
		return &NotOwnedError{Session: cur.Name, Why: fmt.Sprintf("the stored tokens are newer than the metadata and were "+
			"saved for user %d, but the session is user %d's (a login over it was interrupted?)", o.UserID, cur.User.UserID)}
	}
	return nil
}

// maybeSent reports whether a failed refresh may have rotated the pair at the
// server: the request went out and no usable answer came back.
func maybeSent(err error) bool {
	var ne *NetworkError
	if errors.As(err, &ne) {
		return ne.MaybeSent
	}
	var ae *APIError
	// A 2xx we could not read: the server did rotate.
	return errors.As(err, &ae) && ae.Kind == ErrBadResponse && ae.Status >= 200 && ae.Status < 300
}

// serverIssuedAt is when a pair was issued by the server's clock, which
// wrote its expiry instants: lifetime = expiry - issued must not include skew.
func serverIssuedAt(localNow time.Time, m Meta) time.Time { return localNow.Add(m.ClockOffset) }

// metaOf prefers the exchange metadata carried by an *APIError.
func metaOf(err error, m Meta) Meta {
	var ae *APIError
	if errors.As(err, &ae) && ae.Meta.Status != 0 {
		return ae.Meta
	}
	return m
}

// saveRotated persists a freshly rotated pair (secrets first) and reports it.
func (k *Keeper) saveRotated(ctx context.Context, cur Session, res RefreshResult, ts TokenSet, m Meta, notes []string) (RefreshResult, Secrets, error) {
	now := k.cfg.Clock.Now()
	s := sessionFrom(cur, ts, now)
	s.Refreshes++
	s.LastRefresh = now
	if !m.ServerTime.IsZero() {
		s.ClockSkew = m.ClockOffset
		s.IssuedAt = serverIssuedAt(now, m)
	}
	sec := ts.Secrets()
	if err := k.persist(ctx, cur, s, sec); err != nil {
		return res, Secrets{}, err
	}
	res.New = s
	res.Note = strings.Join(notes, "; ")
	k.emit(Event{Session: s.Name, Kind: EventRefreshed, OldFP: cur.AccessFP, NewFP: s.AccessFP,
		OldRefreshFP: cur.RefreshFP, NewRefreshFP: s.RefreshFP,
		RequestID: m.RequestID, Status: m.Status, Message: res.Note})
	k.noteSkew(s, cur.ClockSkew, m)
	return res, sec, nil
}

// persist saves a new pair. The server has already retired the old refresh
// token, so a failed save would lose the session: retry for a while (see
// saveIssued), then keep the pair both in memory, for this process's next
// attempt, and aside through the Rescuer, for the next process, since this
// one may exit before it gets another chance.
func (k *Keeper) persist(ctx context.Context, cur, s Session, sec Secrets) error {
	pctx := persistCtx(ctx)
	err := k.saveIssued(pctx, s, sec)
	if err == nil {
		return nil
	}
	k.mu.Lock()
	k.unsaved[s.Name] = unsavedPair{meta: s, sec: sec, fromFP: cur.RefreshFP}
	k.mu.Unlock()
	return k.rescue(pctx, cur, s, sec, err)
}

// saveUnsaved retries saving a pair that persist could not store, if the
// store still holds the pair it replaced. The caller holds the lock. It
// reports ok when it saved one, and an error when one is held but the store
// still refuses it: the stored refresh token is then dead at the server and
// must not be sent.
func (k *Keeper) saveUnsaved(ctx context.Context, cur Session) (Session, Secrets, bool, error) {
	k.mu.Lock()
	p, ok := k.unsaved[cur.Name]
	k.mu.Unlock()
	if !ok {
		return cur, Secrets{}, false, nil
	}
	if cur.RefreshFP != p.fromFP {
		// Someone stored another pair (a login, an import): ours is moot.
		k.mu.Lock()
		delete(k.unsaved, cur.Name)
		k.mu.Unlock()
		return cur, Secrets{}, false, nil
	}
	// Keep what changed in metadata meanwhile (a pause).
	p.meta.Paused = cur.Paused
	p.meta.State = restingState(p.meta)
	if err := k.cfg.Store.Put(persistCtx(ctx), p.meta, p.sec); err != nil {
		return cur, Secrets{}, false, fmt.Errorf("the pair an earlier refresh could not save is still unsaved "+
			"(it is held in memory; keep this process running): %w", err)
	}
	k.mu.Lock()
	delete(k.unsaved, cur.Name)
	k.mu.Unlock()
	if k.cfg.Rescue != nil {
		// Its copy kept aside is moot now.
		_ = k.cfg.Rescue.DropRescued(persistCtx(ctx), cur.Name)
	}
	k.emit(Event{Session: cur.Name, Kind: EventRefreshed, OldFP: cur.AccessFP, NewFP: p.meta.AccessFP,
		OldRefreshFP: cur.RefreshFP, NewRefreshFP: p.meta.RefreshFP,
		Message: "saved the pair from an earlier refresh whose save had failed"})
	return p.meta, p.sec, true, nil
}

// needsLogin records that the session cannot be refreshed any more.
func (k *Keeper) needsLogin(ctx context.Context, cur Session, res RefreshResult, reason Reason, msg string, cause error, m Meta) (RefreshResult, Secrets, error) {
	now := k.cfg.Clock.Now()
	s := cur
	s.State, s.Reason, s.LastError = StateNeedsLogin, reason, msg
	s.NextAttempt = time.Time{}
	s.Failures++
	s.UpdatedAt = now
	s.clearMarker()
	if !m.ServerTime.IsZero() {
		s.ClockSkew = m.ClockOffset
	}
	perr := k.cfg.Store.PutMeta(persistCtx(ctx), s)
	res.New = s
	if reason == ReasonRejected {
		// Short: the needs-login event that follows explains and advises.
		k.emit(Event{Session: s.Name, Kind: EventReuseSuspected, OldFP: cur.RefreshFP, OldRefreshFP: cur.RefreshFP, RequestID: m.RequestID,
			Status: m.Status, Reason: reason, Message: "REFRESH TOKEN REUSE SUSPECTED: someone else may hold a copy of refresh token " + cur.RefreshFP})
	}
	k.emit(Event{Session: s.Name, Kind: EventNeedsLogin, OldFP: cur.AccessFP, OldRefreshFP: cur.RefreshFP, RequestID: m.RequestID,
		Status: m.Status, Reason: reason, Message: msg})
	k.noteSkew(s, cur.ClockSkew, m)
	var err error = &NeedsLoginError{Session: s.Name, Reason: reason, Message: msg, Err: cause}
	if perr != nil {
		err = fmt.Errorf("%w (recording it failed: %w)", err, perr)
	}
	return res, Secrets{}, err
}

// retryLater records a transient failure (rules 4 and 5) and when to try
// again.
func (k *Keeper) retryLater(ctx context.Context, cur Session, res RefreshResult, cause error, m Meta, lost bool, sentFP string) (RefreshResult, Secrets, error) {
	now := k.cfg.Clock.Now()
	m = metaOf(cause, m)
	var retryAfter time.Duration
	var ae *APIError
	if errors.As(cause, &ae) {
		retryAfter = ae.RetryAfter
	}
	s := cur
	if !m.ServerTime.IsZero() {
		s.ClockSkew = m.ClockOffset
	}
	s.Failures++
	next := now.Add(k.backoff(s.Failures, retryAfter, s, now))
	s.State, s.Reason, s.LastError, s.NextAttempt = StateRetrying, ReasonNone, cause.Error(), next
	s.RetryAfterUntil = time.Time{}
	if retryAfter > 0 {
		s.RetryAfterUntil = now.Add(retryAfter)
	}
	s.UpdatedAt = now
	// Keep (or set) the marker while a rotation may have happened unseen:
	// the next attempt must read a 401 as "lost in transit", not theft.
	if lost {
		s.RefreshingSince, s.RefreshingPID, s.RefreshingFP = now, k.cfg.PID, sentFP
	} else if !cur.refreshMarked() {
		s.clearMarker()
	}
	perr := k.cfg.Store.PutMeta(persistCtx(ctx), s)
	res.New = s
	k.emit(Event{Session: s.Name, Kind: EventRetrying, OldFP: cur.AccessFP, RequestID: m.RequestID, Status: m.Status,
		At: next, Message: cause.Error()})
	k.noteSkew(s, cur.ClockSkew, m)
	var err error = &RetryError{Session: s.Name, NextAttempt: next, Err: cause}
	if perr != nil {
		err = fmt.Errorf("%w (recording it failed: %w)", err, perr)
	}
	return res, Secrets{}, err
}

// backoff is the delay before attempt number failures+1: exponential with
// jitter, capped, preferably before the access token dies, and never sooner
// than the server's Retry-After.
func (k *Keeper) backoff(failures int, retryAfter time.Duration, s Session, now time.Time) time.Duration {
	d := backoffMax
	if failures >= 1 && failures < 20 {
		d = min(backoffBase<<(failures-1), backoffMax)
	}
	// Spread the retries of many sessions and processes over [d/2, d).
	d = d/2 + time.Duration(k.cfg.Jitter()*float64(d/2))
	if left := s.AccessLeft(now) - expiryMargin; left > 0 && d > left {
		d = left
	}
	d = max(d, backoffMin, retryAfter)
	return d
}
