package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/auth/emulator"
)

// bob is a second emulator user, for pairs that are not the session's.
var bob = emulator.User{Email: "bob@example.com", Password: "bob-password", UserID: 777, RoleID: 2, OrgUnitID: 2002}

// metaBehind leaves the session name with the stored secrets of a newer
// pair (issued to email) and metadata still describing the older one, as a
// save stopped between its two writes does. It returns that older metadata.
func (e *env) metaBehind(name, email string, uid int64) auth.Session {
	e.t.Helper()
	ctx := context.Background()
	old := e.get(name)
	body, err := e.emu.Issue(email, time.Hour, 24*time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	e.tap.noteBody(body)
	ts, err := auth.ParseSavedTokenResponse(body, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	newer := old
	newer.User = auth.User{UserID: uid, Email: email}
	newer.AccessFP, newer.RefreshFP = auth.Fingerprint(ts.AccessToken), auth.Fingerprint(ts.RefreshToken)
	if err := e.store.Put(ctx, newer, ts.Secrets()); err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.PutMeta(ctx, old); err != nil {
		e.t.Fatal(err)
	}
	return old
}

// Secrets ahead of metadata for the same user (a refresh whose metadata
// write never happened) are this session's newest pair: refreshed from.
func TestMetaBehindSameUserAdopted(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.seed("s", time.Hour, 24*time.Hour)
	e.metaBehind("s", emulator.DefaultUser().Email, emulator.DefaultUser().UserID)
	res, err := e.k.Refresh(context.Background(), "s")
	if err != nil {
		t.Fatalf("Refresh with metadata behind: %v", err)
	}
	if e.emu.Stats().Refreshes != 1 || res.New.User.UserID != emulator.DefaultUser().UserID {
		t.Fatalf("stats %+v, new user %d", e.emu.Stats(), res.New.User.UserID)
	}
}

// Secrets ahead of metadata that were saved for another user are not
// provably this session's: nothing is sent, nothing is adopted, and the
// error says why (and matches ErrNotOwned and ErrSecretNotFound).
func TestMetaBehindForeignUserRefused(t *testing.T) {
	e := newEnv(t, envOpt{emu: emulator.Config{Users: []emulator.User{emulator.DefaultUser(), bob}}})
	e.seed("s", time.Hour, 24*time.Hour)
	old := e.metaBehind("s", bob.Email, bob.UserID)
	_, err := e.k.Refresh(context.Background(), "s")
	if !errors.Is(err, auth.ErrNotOwned) || !errors.Is(err, auth.ErrSecretNotFound) {
		t.Fatalf("Refresh with another user's pair stored = %v, want ErrNotOwned", err)
	}
	if st := e.emu.Stats(); st.Refreshes != 0 {
		t.Fatalf("the foreign pair was sent: stats %+v", st)
	}
	if got := e.get("s"); got.User.UserID != old.User.UserID || got.RefreshFP != old.RefreshFP {
		t.Fatalf("metadata changed to %+v", got)
	}
	// The token command takes the same path.
	if _, _, err := e.k.Token(context.Background(), "s", 0); !errors.Is(err, auth.ErrNotOwned) {
		t.Fatalf("Token = %v, want ErrNotOwned", err)
	}
}

// ownerlessStore hands out secrets without an owner, as a pair saved by a
// tokentop that did not record owners reads back.
type ownerlessStore struct{ auth.SessionStore }

func (o ownerlessStore) Secrets(ctx context.Context, name string) (auth.Secrets, error) {
	sec, err := o.SessionStore.Secrets(ctx, name)
	return sec.Tokens(), err
}

// Secrets ahead of metadata without an owner cannot be shown to be the
// session's either: refused, nothing sent.
func TestMetaBehindOwnerlessRefused(t *testing.T) {
	e := newEnv(t, envOpt{keeper: func(c *auth.KeeperConfig) { c.Store = ownerlessStore{c.Store} }})
	e.seed("s", time.Hour, 24*time.Hour)
	e.metaBehind("s", emulator.DefaultUser().Email, emulator.DefaultUser().UserID)
	if _, err := e.k.Refresh(context.Background(), "s"); !errors.Is(err, auth.ErrNotOwned) {
		t.Fatalf("Refresh from an ownerless pair ahead of metadata = %v, want ErrNotOwned", err)
	}
	if st := e.emu.Stats(); st.Refreshes != 0 {
		t.Fatalf("the pair was sent: stats %+v", st)
	}
	// With metadata in step, an ownerless pair is used as before.
	e2 := newEnv(t, envOpt{keeper: func(c *auth.KeeperConfig) { c.Store = ownerlessStore{c.Store} }})
	e2.seed("s", time.Hour, 24*time.Hour)
	if _, err := e2.k.Refresh(context.Background(), "s"); err != nil {
		t.Fatalf("Refresh of an ownerless pair in step with metadata: %v", err)
	}
}
