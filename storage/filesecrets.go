package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tokentop/tokentop/auth"
)

// File backend names in the config dir.
const (
	secretsDirName  = "secrets"
	secretsFileName = "secrets.json" // the single file of older versions
	secretsLockName = "secrets.lock"
	secretsVersion  = 1
)

// secretsDoc is the on-disk form of the legacy secrets.json.
type secretsDoc struct {
	Version int                      `json:"version"`
	Secrets map[string]storedSecrets `json:"secrets"`
}

// secretFileDoc is the on-disk form of one session's pair.
type secretFileDoc struct {
	Version int `json:"version"`
	storedSecrets
}

// fileSecrets keeps each session's pair in its own file,
// <config-dir>/secrets/NAME.json, mode 0600 in 0700 directories, chosen
// explicitly with --storage file. A save replaces the file atomically, so
// one session's refresh writes only its own pair.
//
// Decision: a secrets file readable by group or others is refused (not just
// warned about) until the user fixes the mode, because its tokens may
// already have been read and we should not keep using them silently. The
// error matches auth.ErrStoreUnavailable and ErrInsecureFile. A damaged
// file is likewise refused and never overwritten.
type fileSecrets struct {
	dir   string
	locks *procLocks
	trust trust
}

func newFileSecrets(dir string, locks *procLocks, tr trust) *fileSecrets {
	return &fileSecrets{dir: filepath.Join(dir, secretsDirName), locks: locks, trust: tr}
}

func (b *fileSecrets) path(name string) string { return filepath.Join(b.dir, name+".json") }

func (b *fileSecrets) get(_ context.Context, name string) (auth.Secrets, error) {
	path := b.path(name)
	fh, err := b.trust.openFile(path, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return auth.Secrets{}, fmt.Errorf("session %q: %w in %s: log in again or import", name, auth.ErrSecretNotFound, b.dir)
	}
	if errors.Is(err, ErrUntrusted) {
		return auth.Secrets{}, err
	}
	if err != nil {
		return auth.Secrets{}, fmt.Errorf("read secrets file %s: %w: %w", path, err, auth.ErrStoreUnavailable)
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return auth.Secrets{}, fmt.Errorf("read secrets file %s: %w: %w", path, err, auth.ErrStoreUnavailable)
	}
	if mode := fi.Mode().Perm(); mode&0o077 != 0 {
		return auth.Secrets{}, fmt.Errorf("%w: %s has mode %04o: run `chmod 600 %s` (and, if others could read it, revoke its session): %w",
			ErrInsecureFile, path, mode, path, auth.ErrStoreUnavailable)
	}
	data, err := io.ReadAll(io.LimitReader(fh, 4*maxSecretBytes))
	if err != nil {
		return auth.Secrets{}, fmt.Errorf("read secrets file %s: %w: %w", path, err, auth.ErrStoreUnavailable)
	}
	var doc secretFileDoc
	if err := json.Unmarshal(data, &doc); err != nil || doc.Version < 1 {
		// Never quote the content: it holds tokens.
		return auth.Secrets{}, fmt.Errorf("secrets file %s is damaged (not a tokentop secrets document, %d bytes); tokentop will not change it: log in again or import: %w",
			path, len(data), auth.ErrSecretUnusable)
	}
	if doc.Version > secretsVersion {
		return auth.Secrets{}, fmt.Errorf("secrets file %s was written by a newer tokentop (version %d): upgrade tokentop: %w", path, doc.Version, auth.ErrStoreUnavailable)
	}
	if doc.AccessToken == "" || doc.RefreshToken == "" {
		return auth.Secrets{}, fmt.Errorf("stored secrets for session %q lack the access or refresh token: log in again or import: %w", name, auth.ErrSecretUnusable)
	}
	return doc.secrets(), nil
}

func (b *fileSecrets) set(ctx context.Context, name string, sec auth.Secrets) error {
	if _, err := encodeSecrets(name, sec); err != nil {
		return err
	}
	data, err := json.Marshal(secretFileDoc{Version: secretsVersion, storedSecrets: toStored(sec)})
	if err != nil {
		return fmt.Errorf("encode secrets of session %q: %w", name, err)
	}
	path := b.path(name)
	// The lock is held only for this write: a refresh holds the session
	// lock, and the pair's file has its own.
	lockPath := filepath.Join(b.dir, "."+name+".lock")
	unlock, err := b.trust.lockFile(ctx, b.locks, lockPath)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("save secrets: waiting for %s: %w: %w", lockPath, auth.ErrLockTimeout, ctx.Err())
		}
		return fmt.Errorf("save secrets: %w", err)
	}
	defer unlock()
	if err := b.keepOld(path); err != nil {
		return err
	}
	if err := writeFileLocked(path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("save secrets: %w: %w", err, auth.ErrStoreUnavailable)
	}
	return nil
}

func (b *fileSecrets) delete(_ context.Context, name string) error {
	path := b.path(name)
	if err := os.Remove(path); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("session %q: %w in %s", name, auth.ErrSecretNotFound, b.dir)
	} else if err != nil {
		return fmt.Errorf("delete secrets file %s: %w: %w", path, err, auth.ErrStoreUnavailable)
	}
	return syncDir(b.dir)
}

// SecretsPath is the directory holding the tokens with the file backend, ""
// with any other backend.
func (s *Store) SecretsPath() string {
	if fs, ok := s.secrets.(*fileSecrets); ok {
		return fs.dir
	}
	return ""
}

// keepOld checks the pair a save is about to replace: one that others could
// read is refused, as for reading (its tokens may have leaked: say so rather
// than paper over it), and one that is damaged is copied aside first, since
// it may hold the only copy of a live token.
func (b *fileSecrets) keepOld(path string) error {
	fh, err := b.trust.openFile(path, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("save secrets: %w: %w", err, auth.ErrStoreUnavailable)
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return fmt.Errorf("save secrets: %w: %w", err, auth.ErrStoreUnavailable)
	}
	if mode := fi.Mode().Perm(); mode&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %04o: run `chmod 600 %s` (and, if others could read it, revoke its session): %w",
			ErrInsecureFile, path, mode, path, auth.ErrStoreUnavailable)
	}
	data, err := io.ReadAll(io.LimitReader(fh, 4*maxSecretBytes))
	if err != nil {
		return fmt.Errorf("save secrets: %w: %w", err, auth.ErrStoreUnavailable)
	}
	var doc secretFileDoc
	if json.Unmarshal(data, &doc) == nil && doc.Version >= 1 {
		return nil
	}
	if err := keepCopy(path+".damaged", data); err != nil {
		return fmt.Errorf("save secrets: keep the damaged %s aside first: %w: %w", path, err, auth.ErrStoreUnavailable)
	}
	return nil
}
