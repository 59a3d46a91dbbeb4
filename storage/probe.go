package storage

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/tokentop/tokentop/auth"
)

// CanStore reports whether a new pair for the session name could be saved
// now (auth.SessionStore), without saving one: the store identity is at
// hand and the backend accepts a write. Decision: the check writes and
// deletes a throw-away item (keyring) or file (file backend), because only a
// write shows what a save will meet: no Secret Service, a locked keyring
// (which may raise an unlock prompt now, before a password is sent, rather
// than after), a read-only or damaged secrets file.
//
// It also refuses (ErrBackendMismatch) when name's current pair is kept in
// another backend than new pairs go to. Decision: refuse rather than replace
// it, since a --storage pointing elsewhere is more often a slip than a wish
// to move the session, and the other backend's pair would be left behind
// (or, deleted, be gone although still live at the server). To move a
// session, forget (or revoke) it, then log in again.
func (s *Store) CanStore(ctx context.Context, name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	cur, found, err := s.meta.get(ctx, name)
	if err != nil {
		return err
	}
	b, bn, err := s.secretsFor(name, cur, found)
	if err != nil {
		return err
	}
	if bn != s.opts.Backend {
		return fmt.Errorf("session %q keeps its tokens in the %s backend, but new pairs go to %s (--storage): "+
			"run the command with --storage %s to replace them there, or forget (or revoke) %s first to start it afresh in %s: %w: %w",
			name, bn, s.opts.Backend, bn, name, s.opts.Backend, ErrBackendMismatch, auth.ErrStoreUnavailable)
	}
	if _, err := s.identity(); err != nil {
		return err
	}
	return b.probe(ctx, name)
}

// probeItem is the throw-away account of a keyring probe: per process, so
// concurrent probes never delete each other's item, and starting with a
// dot, which no session name does.
func probeItem(storeID string) string {
	return keyringAccount(storeID, fmt.Sprintf(".probe-%d", os.Getpid()))
}

func (k *keyringSecrets) probe(ctx context.Context, name string) error {
	id, err := k.storeID()
	if err != nil {
		return err
	}
	acct := probeItem(id)
	// Errors name the session the probe is for: it is its save that would fail.
	if _, err := k.call(ctx, "set", name, func() (string, error) {
		return "", k.kr.Set(k.service, acct, `{"probe":true}`)
	}); err != nil {
		return err
	}
	if err := k.deleteAccount(ctx, name, acct); err != nil && !isItemMissing(err) {
		return err
	}
	return nil
}

func (b *fileSecrets) probe(_ context.Context, name string) error {
	// The save would refuse to replace a pair others could read.
	if err := b.keepOld(b.path(name)); err != nil {
		return err
	}
	dir := b.dir
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return fmt.Errorf("cannot write secrets to %s: %w: %w", dir, err, auth.ErrStoreUnavailable)
	}
	tmp := f.Name()
	cerr := f.Close()
	rerr := os.Remove(tmp)
	if err := errors.Join(cerr, rerr); err != nil {
		return fmt.Errorf("cannot write secrets to %s: %w: %w", dir, err, auth.ErrStoreUnavailable)
	}
	return nil
}

func (b *memSecrets) probe(context.Context, string) error { return nil }

// SecretsAvailable reports why the backend new pairs go to could not save
// one now, or nil (the TUI asks once at start, to say so in its header
// before anyone tries to log in or copy). It writes and deletes a
// throw-away item, as CanStore does, and names no session.
func (s *Store) SecretsAvailable(ctx context.Context) error {
	if _, err := s.identity(); err != nil {
		return err
	}
	return s.secrets.probe(ctx, "(availability check)")
}
