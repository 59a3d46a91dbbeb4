package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

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
	// A pair kept aside by a failed save is the live one: revoking the
	// stored pair would leave it valid at the server.
	if meta, _, _, _, err = k.settleKept(ctx, meta); err != nil {
		return rep, fmt.Errorf("revoke %s: %w", name, err)
	}
	sec, err := k.cfg.Store.Secrets(ctx, name)
	if err != nil {
		return rep, fmt.Errorf("revoke %s: %w", name, err)
	}
	// Each call sends one token; the server's answer to either may echo any.
	ctx = sec.held(ctx)
	rep.Refresh.Fingerprint = Fingerprint(sec.RefreshToken)
	rep.Refresh.Meta, rep.Refresh.Err = k.cfg.Client.Revoke(ctx, meta.Endpoints, sec.RefreshToken, RefreshToken)
	if rep.Refresh.Err == nil {
		k.emit(Event{Session: name, Kind: EventRevoked, OldFP: rep.Refresh.Fingerprint, OldRefreshFP: rep.Refresh.Fingerprint, RequestID: rep.Refresh.Meta.RequestID,
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
	if k.cfg.Rescue != nil {
		// A pair kept aside for it holds live tokens of a session the
		// user no longer wants here: not to be adopted by a later login.
		_ = k.cfg.Rescue.DropRescued(persistCtx(ctx), name)
	}
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
	res, err := k.cfg.Client.Probe(sec.held(ctx), meta.Endpoints, sec.AccessToken)
	if err != nil {
		return res, fmt.Errorf("session %s: %w", name, err) // the client's error starts with "probe"
	}
	k.noteSkew(meta, meta.ClockSkew, res.Meta)
	return res, nil
}

// ErrOtherServer is RevokeToken refusing to send a saved session's token to
// another server than the one that issued it.
var ErrOtherServer = errors.New("a saved session's token is only sent to the server that issued it")

// TokenRevocation is the outcome of RevokeToken.
type TokenRevocation struct {
	// Session is the saved session that held the token ("" when none).
	Session string
	// Endpoints are where the token was revoked.
	Endpoints Endpoints
	Meta      Meta
}

// RevokeToken revokes a raw token (the admin path: a pasted token, no stored
// session needed). A token a saved session holds is revoked at that
// session's OAuth URL (an ep.OAuthURL naming another server is refused: the
// revoke would "succeed" there and kill nothing), and the session is marked,
// under its lock, so that its later failures read "revoked by us" rather
// than theft. Any other token is revoked at ep, or at the production URL
// when ep.OAuthURL is empty.
func (k *Keeper) RevokeToken(ctx context.Context, ep Endpoints, token string, kind TokenKind) (TokenRevocation, error) {
	fp := Fingerprint(token)
	var rev TokenRevocation
	holder, held := k.holding(ctx, fp)
	switch {
	case held && ep.OAuthURL != "" && !sameURL(ep.OAuthURL, holder.Endpoints.OAuthURL):
		return rev, fmt.Errorf("revoke %s token %s: saved session %q holds it, issued by %s, and %w: nothing was sent to %s; "+
			"leave the OAuth URL out to revoke it at %s, or end the session with: tokentop revoke %s",
			kind, fp, holder.Name, holder.Endpoints.OAuthURL, ErrOtherServer, ep.OAuthURL, holder.Endpoints.OAuthURL, holder.Name)
	case held:
		ep = holder.Endpoints
	case ep.OAuthURL == "":
		ep.OAuthURL = DefaultOAuthURL
	}
	if ep.APIURL == "" {
		ep.APIURL = DefaultAPIURL
	}
	rev.Endpoints = ep
	m, err := k.cfg.Client.Revoke(ctx, ep, token, kind)
	rev.Meta = m
	if err != nil {
		return rev, fmt.Errorf("revoke %s token %s: %w", kind, fp, err)
	}
	rev.Session = k.markRevoked(ctx, fp, kind)
	k.emit(Event{Session: rev.Session, Kind: EventRevoked, OldFP: fp, RequestID: m.RequestID, Status: m.Status,
		Message: string(kind) + " token revoked at the server"})
	return rev, nil
}

// holding finds the saved session holding the token with fingerprint fp.
func (k *Keeper) holding(ctx context.Context, fp string) (Session, bool) {
	list, err := k.cfg.Store.List(ctx)
	if err != nil {
		return Session{}, false
	}
	for _, s := range list {
		if s.RefreshFP == fp || s.AccessFP == fp {
			return s, true
		}
	}
	return Session{}, false
}

// sameURL compares base URLs, ignoring a trailing slash.
func sameURL(a, b string) bool { return strings.TrimRight(a, "/") == strings.TrimRight(b, "/") }

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
