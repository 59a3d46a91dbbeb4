package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tokentop/tokentop/auth"
)

// File backend names in the config dir.
const (
	secretsFileName = "secrets.json"
	secretsLockName = "secrets.lock"
	secretsVersion  = 1
)

// secretsDoc is the on-disk form of secrets.json.
type secretsDoc struct {
	Version int                      `json:"version"`
	Secrets map[string]storedSecrets `json:"secrets"`
}

// fileSecrets keeps every pair in one file, <config-dir>/secrets.json, mode
// 0600 in a 0700 directory, chosen explicitly with --storage file. Writes
// are read-modify-write under a flock on secrets.lock and replace the file
// atomically.
//
// Decision: a secrets.json readable by group or others is refused (not just
// warned about) until the user fixes the mode, because its tokens may
// already have been read and we should not keep using them silently. The
// error matches auth.ErrStoreUnavailable and ErrInsecureFile. A damaged
// file is likewise refused and never overwritten.
type fileSecrets struct {
	path     string
	lockPath string
	locks    *procLocks
	trust    trust
}

func newFileSecrets(dir string, locks *procLocks, tr trust) *fileSecrets {
	return &fileSecrets{
		path:     filepath.Join(dir, secretsFileName),
		lockPath: filepath.Join(dir, secretsLockName),
		locks:    locks,
		trust:    tr,
	}
}

// read loads all pairs; a missing file is empty.
func (b *fileSecrets) read() (map[string]storedSecrets, error) {
	fh, err := b.trust.openFile(b.path, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]storedSecrets{}, nil
	}
	if errors.Is(err, ErrUntrusted) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("read secrets file %s: %w: %w", b.path, err, auth.ErrStoreUnavailable)
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("read secrets file %s: %w: %w", b.path, err, auth.ErrStoreUnavailable)
	}
	if mode := fi.Mode().Perm(); mode&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o: run `chmod 600 %s` (and, if others could read it, revoke its sessions): %w",
			ErrInsecureFile, b.path, mode, b.path, auth.ErrStoreUnavailable)
	}
	var doc secretsDoc
	dec := json.NewDecoder(fh)
	if err := dec.Decode(&doc); err != nil || doc.Version < 1 {
		// Never quote the content: it holds tokens.
		return nil, fmt.Errorf("secrets file %s is damaged (not a tokentop secrets document); tokentop will not change it: restore it from a backup or move it away and log in again: %w",
			b.path, auth.ErrStoreUnavailable)
	}
	if doc.Version > secretsVersion {
		return nil, fmt.Errorf("secrets file %s was written by a newer tokentop (version %d): upgrade tokentop: %w", b.path, doc.Version, auth.ErrStoreUnavailable)
	}
	if doc.Secrets == nil {
		doc.Secrets = map[string]storedSecrets{}
	}
	return doc.Secrets, nil
}

func (b *fileSecrets) get(_ context.Context, name string) (auth.Secrets, error) {
	m, err := b.read()
	if err != nil {
		return auth.Secrets{}, err
	}
	sec, ok := m[name]
	if !ok {
		return auth.Secrets{}, fmt.Errorf("session %q: %w in %s: log in again or import", name, auth.ErrSecretNotFound, b.path)
	}
	return sec.secrets(), nil
}

// modify runs fn on the pairs under the file lock and saves the result.
func (b *fileSecrets) modify(ctx context.Context, fn func(map[string]storedSecrets) error) error {
	unlock, err := b.trust.lockFile(ctx, b.locks, b.lockPath)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("waiting for %s: %w: %w", b.lockPath, auth.ErrLockTimeout, ctx.Err())
		}
		return err
	}
	defer unlock()
	removeStaleTemps(b.path)
	m, err := b.read()
	if err != nil {
		return err
	}
	if err := fn(m); err != nil {
		return err
	}
	data, err := json.MarshalIndent(secretsDoc{Version: secretsVersion, Secrets: m}, "", " ")
	if err != nil {
		return fmt.Errorf("encode secrets file: %w", err)
	}
	if err := writeFileAtomic(b.path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("save secrets: %w: %w", err, auth.ErrStoreUnavailable)
	}
	return nil
}

func (b *fileSecrets) set(ctx context.Context, name string, sec auth.Secrets) error {
	if _, err := encodeSecrets(name, sec); err != nil {
		return err
	}
	return b.modify(ctx, func(m map[string]storedSecrets) error {
		m[name] = toStored(sec)
		return nil
	})
}

func (b *fileSecrets) delete(ctx context.Context, name string) error {
	return b.modify(ctx, func(m map[string]storedSecrets) error {
		if _, ok := m[name]; !ok {
			return fmt.Errorf("session %q: %w in %s", name, auth.ErrSecretNotFound, b.path)
		}
		delete(m, name)
		return nil
	})
}

// SecretsPath is the file holding the tokens with the file backend, "" with
// any other backend.
func (s *Store) SecretsPath() string {
	if fs, ok := s.secrets.(*fileSecrets); ok {
		return fs.path
	}
	return ""
}
