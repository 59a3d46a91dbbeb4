package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/auth/emulator"
)

// unwritableStore cannot save anything, and says so when asked beforehand,
// as a store without a Secret Service does.
type unwritableStore struct{ auth.SessionStore }

var errNoSecretService = fmt.Errorf("keyring: no Secret Service available: %w", auth.ErrStoreUnavailable)

func (unwritableStore) CanStore(context.Context, string) error { return errNoSecretService }
func (unwritableStore) Put(context.Context, auth.Session, auth.Secrets) error {
	return errNoSecretService
}

// A login whose pair could not be stored sends nothing: no password goes
// out, no pair is minted (none left live, no rate-limited attempt spent).
func TestLoginChecksStorageBeforeSending(t *testing.T) {
	e := newEnv(t, envOpt{keeper: func(c *auth.KeeperConfig) { c.Store = unwritableStore{c.Store} }})
	u := emulator.DefaultUser()
	_, err := e.k.Login(context.Background(), "s", e.ep, u.Email, u.Password)
	if !errors.Is(err, auth.ErrStoreUnavailable) || !strings.Contains(err.Error(), "nothing was sent") {
		t.Fatalf("Login with unusable storage = %v, want ErrStoreUnavailable saying nothing was sent", err)
	}
	if st := e.emu.Stats(); st.Logins != 0 || st.ActiveSessions != 0 {
		t.Fatalf("the login reached the server: %+v", st)
	}
}

// Import checks storage before it reads the response, so the error is
// about storage, not about the input.
func TestImportChecksStorageFirst(t *testing.T) {
	e := newEnv(t, envOpt{keeper: func(c *auth.KeeperConfig) { c.Store = unwritableStore{c.Store} }})
	_, err := e.k.Import(context.Background(), "s", e.ep, []byte(`{"not": "a token response"}`), auth.ImportOptions{})
	if !errors.Is(err, auth.ErrStoreUnavailable) || errors.Is(err, auth.ErrNotToken) {
		t.Fatalf("Import with unusable storage = %v, want the storage error first", err)
	}
}

// When the save fails anyway after the server minted a pair, the pair is
// revoked (refresh token first) and the error says so: nothing is left
// live that nobody holds.
func TestLoginRevokesThePairItCannotSave(t *testing.T) {
	var fs *flakyStore
	e := newEnv(t, envOpt{keeper: func(c *auth.KeeperConfig) {
		fs = &flakyStore{SessionStore: c.Store, failPuts: 1}
		c.Store = fs
	}})
	u := emulator.DefaultUser()
	_, err := e.k.Login(context.Background(), "s", e.ep, u.Email, u.Password)
	if !errors.Is(err, auth.ErrStoreUnavailable) || !strings.Contains(err.Error(), "revoked: nothing is left live") {
		t.Fatalf("Login whose save fails = %v, want ErrStoreUnavailable saying the pair was revoked", err)
	}
	st := e.emu.Stats()
	if st.Logins != 1 || st.Revocations != 2 || st.ActiveSessions != 0 {
		t.Fatalf("stats %+v: want the minted pair revoked, both tokens", st)
	}
	toks := e.tap.tokens()
	for _, tok := range toks {
		if e.emu.Valid(tok, emulator.KindAccess) || e.emu.Valid(tok, emulator.KindRefresh) {
			t.Fatalf("a minted token (%s) is still valid", auth.Fingerprint(tok))
		}
	}
	if e.audit.Count("s", auth.EventRevoked) != 2 {
		t.Fatalf("audit %v: want both revocations recorded", e.audit.Kinds("s"))
	}
	if _, err := e.store.Get(context.Background(), "s"); !errors.Is(err, auth.ErrSessionNotFound) {
		t.Fatalf("a session was left behind: %v", err)
	}
}

// If revoking fails too, the error says what stays live and until when.
func TestLoginSaveAndRevokeBothFail(t *testing.T) {
	var fs *flakyStore
	e := newEnv(t, envOpt{keeper: func(c *auth.KeeperConfig) {
		fs = &flakyStore{SessionStore: c.Store, failPuts: 1}
		c.Store = fs
	}})
	e.setIntercept(func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
		if strings.Contains(r.URL.Path, "revoke") {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	u := emulator.DefaultUser()
	_, err := e.k.Login(context.Background(), "s", e.ep, u.Email, u.Password)
	if !errors.Is(err, auth.ErrStoreUnavailable) || !strings.Contains(err.Error(), "revoking it failed too") ||
		!strings.Contains(err.Error(), "stays valid at the server until") {
		t.Fatalf("Login whose save and revoke fail = %v", err)
	}
	if st := e.emu.Stats(); st.ActiveSessions != 1 {
		t.Fatalf("stats %+v", st)
	}
	_ = time.Second
}
