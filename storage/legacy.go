package storage

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/gofrs/flock"

	"github.com/tokentop/tokentop/auth"
)

// legacySecrets is a backend that may hold items saved before items were
// keyed by store identity (the keyring: account = session name alone).
// Such an item may belong to any config dir of the user.
type legacySecrets interface {
	getLegacy(ctx context.Context, name string) (auth.Secrets, error)
	deleteLegacy(ctx context.Context, name string) error
}

// legacyPending remembers legacy items that were adopted while someone else
// held the session lock, so could not be moved then: the next Put (made
// under the lock) deletes them once the new item is saved. Keyed by
// session name; the value is the refresh fingerprint of the adopted pair,
// so a legacy item that changed meanwhile is not deleted.
type legacyPending struct {
	mu sync.Mutex
	m  map[string]string
}

func (p *legacyPending) add(name, refreshFP string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]string{}
	}
	p.m[name] = refreshFP
}

func (p *legacyPending) take(name string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fp, ok := p.m[name]
	delete(p.m, name)
	return fp, ok
}

// isItemMissing reports whether err says that a keyring item does not exist
// (not that it exists and cannot be decoded, nor that the keyring failed).
func isItemMissing(err error) bool {
	var ke *KeyringError
	return errors.As(err, &ke) && ke.Kind == auth.ErrSecretNotFound
}

// legacyBelongs reports whether a legacy item provably holds this store's
// pair of the session se: it carries this store's identity, or its tokens
// are exactly the ones se's metadata describes. Anything else may be
// another config dir's session of the same name.
func legacyBelongs(legacy auth.Secrets, se auth.Session, found bool, storeID string) bool {
	if !found {
		return false
	}
	if legacy.Owner.StoreID != "" {
		return legacy.Owner.StoreID == storeID && (legacy.Owner.Session == "" || legacy.Owner.Session == se.Name)
	}
	return se.AccessFP != "" && se.RefreshFP != "" &&
		auth.Fingerprint(legacy.AccessToken) == se.AccessFP && auth.Fingerprint(legacy.RefreshToken) == se.RefreshFP
}

// adoptLegacy is Secrets for a session whose item is missing from b: a
// legacy item of the same name that provably belongs to the session is
// adopted (saved as this store's item, then deleted, in that order, so a
// crash in between leaves two copies, never none). One that does not is
// left alone. missing is the error for the missing item.
func (s *Store) adoptLegacy(ctx context.Context, b secretBackend, name string, missing error) (auth.Secrets, error) {
	lb, ok := b.(legacySecrets)
	if !ok {
		return auth.Secrets{}, missing
	}
	legacy, err := lb.getLegacy(ctx, name)
	if isItemMissing(err) {
		return auth.Secrets{}, missing
	}
	if err != nil {
		return auth.Secrets{}, err
	}
	id, err := s.identity()
	if err != nil {
		return auth.Secrets{}, err
	}
	se, found, err := s.meta.get(ctx, name)
	if err != nil {
		return auth.Secrets{}, err
	}
	if !legacyBelongs(legacy, se, found, id) {
		return auth.Secrets{}, fmt.Errorf("%w (a keyring item saved by an older tokentop under the name %q alone exists, "+
			"but its tokens are not the ones this session's metadata describes, so it may be another config dir's session "+
			"of the same name: it was left alone)", missing, name)
	}
	legacy.Owner = auth.SecretsOwner{StoreID: id, Session: name, UserID: se.User.UserID}
	// Moving the item writes it: under the session lock only, or a refresh
	// saved meanwhile could be overwritten by this older pair. When the
	// lock is busy (perhaps held by this very caller) the pair is used as
	// it is and the next save moves it.
	unlock, ok := s.locks.tryLock(name)
	if !ok {
		s.pending.add(name, auth.Fingerprint(legacy.RefreshToken))
		return legacy, nil
	}
	defer unlock()
	if err := b.set(ctx, name, legacy); err == nil {
		// Failing to delete leaves a copy that is never read again (this
		// store's item comes first): not worth failing the read for.
		_ = lb.deleteLegacy(ctx, name)
	}
	return legacy, nil
}

// dropLegacy deletes name's legacy item after a save, or a delete, of the
// session in b, if it provably held this store's pair: refreshFP is the
// refresh fingerprint it was seen (or is known) to hold.
func (s *Store) dropLegacy(ctx context.Context, b secretBackend, name, refreshFP string) {
	lb, ok := b.(legacySecrets)
	if !ok || refreshFP == "" {
		return
	}
	legacy, err := lb.getLegacy(ctx, name)
	if err != nil || auth.Fingerprint(legacy.RefreshToken) != refreshFP {
		return
	}
	_ = lb.deleteLegacy(ctx, name)
}

// tryAcquire takes key if it is free, without waiting.
func (p *procLocks) tryAcquire(key string) (func(), bool) {
	p.mu.Lock()
	ch, ok := p.m[key]
	if !ok {
		ch = make(chan struct{}, 1)
		p.m[key] = ch
	}
	p.mu.Unlock()
	select {
	case ch <- struct{}{}:
	default:
		return nil, false
	}
	var once sync.Once
	return func() { once.Do(func() { <-ch }) }, true
}

// tryLockFile is lockFile without waiting: ok is false when this process
// or another holds path.
func tryLockFile(p *procLocks, path string) (func(), bool) {
	release, ok := p.tryAcquire(path)
	if !ok {
		return nil, false
	}
	fl := flock.New(path, flock.SetPermissions(0o600))
	if locked, err := fl.TryLock(); err != nil || !locked {
		release()
		return nil, false
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			_ = fl.Unlock()
			release()
		})
	}, true
}

func (l fileLocker) tryLock(name string) (func(), bool) {
	return tryLockFile(l.locks, filepath.Join(l.dir, name+".lock"))
}

func (l memLocker) tryLock(name string) (func(), bool) { return l.p.tryAcquire(name) }
