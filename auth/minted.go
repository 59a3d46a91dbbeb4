package auth

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// revokeUnsaved revokes a pair the server minted for a login that could not
// be saved (cause): kept nowhere, it would stay live at the server for the
// refresh token's lifetime with nobody able to use or revoke it. Refresh
// token first, since it mints new access tokens. The returned error wraps
// cause and says what became of the pair.
func (k *Keeper) revokeUnsaved(ctx context.Context, name string, ep Endpoints, ts TokenSet, cause error) error {
	// The caller may have given up (Ctrl-C): the pair is live regardless.
	rctx := persistCtx(ctx)
	afp, rfp := Fingerprint(ts.AccessToken), Fingerprint(ts.RefreshToken)
	var failed []string
	for _, t := range []struct {
		kind  TokenKind
		token string
		fp    string
	}{{RefreshToken, ts.RefreshToken, rfp}, {AccessToken, ts.AccessToken, afp}} {
		m, err := k.cfg.Client.Revoke(rctx, ep, t.token, t.kind)
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s token %s: %v", t.kind, t.fp, err))
			k.emit(Event{Session: name, Kind: EventFailed, OldFP: t.fp, RequestID: m.RequestID, Status: m.Status,
				Message: "a login's pair could not be saved, and revoking its " + string(t.kind) + " token failed: " + err.Error()})
			continue
		}
		ev := Event{Session: name, Kind: EventRevoked, OldFP: t.fp, RequestID: m.RequestID, Status: m.Status,
			Message: "a login's pair could not be saved; its " + string(t.kind) + " token was revoked"}
		if t.kind == RefreshToken {
			ev.OldRefreshFP = t.fp
		}
		k.emit(ev)
	}
	if len(failed) == 0 {
		return fmt.Errorf("the server issued a pair (access %s, refresh %s), but saving it failed, so it was revoked: "+
			"nothing is left live; fix the storage and log in again: %w", afp, rfp, cause)
	}
	until := "it expires"
	if !ts.RefreshExpiry.IsZero() {
		until = ts.RefreshExpiry.UTC().Format(time.RFC3339)
	}
	return fmt.Errorf("the server issued a pair (access %s, refresh %s), but saving it failed, and revoking it failed too (%s): "+
		"it stays valid at the server until %s, and tokentop kept no copy: %w", afp, rfp, strings.Join(failed, "; "), until, cause)
}
