package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tokentop/tokentop/auth"
)

// migrateTimeout bounds waiting for another process's migration.
const migrateTimeout = 30 * time.Second

// migrate moves what older versions kept in one file for every session
// (sessions.json, secrets.json, events.jsonl) into per-session files, once.
//
// Each step holds the legacy file's own lock (so an older tokentop writing
// it at the same moment is excluded), writes every per-session file that is
// not there yet, syncs, and only then renames the legacy file aside to
// NAME.migrated-TIME, which is kept. A crash at any point loses nothing: the
// legacy file is still in place and the next Open finishes the job, keeping
// the per-session files already written (they may have changed since).
// A damaged or newer-version sessions.json is refused, as before, and
// nothing is migrated.
func (s *Store) migrate(dir string, locks *procLocks) error {
	ctx, cancel := context.WithTimeout(context.Background(), migrateTimeout)
	defer cancel()
	stamp := s.opts.Now().UTC().Format("20060102T150405Z")
	if err := s.migrateIndex(ctx, dir, locks, stamp); err != nil {
		return err
	}
	if err := s.migrateSecrets(ctx, dir, locks, stamp); err != nil {
		return err
	}
	return s.migrateAudit(dir, stamp)
}

// aside renames a migrated legacy file out of the way, keeping it.
func aside(path, stamp string) error {
	if err := os.Rename(path, path+".migrated-"+stamp); err != nil {
		return fmt.Errorf("migrate %s: keep it aside: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

func (s *Store) migrateIndex(ctx context.Context, dir string, locks *procLocks, stamp string) error {
	li := newLegacyIndex(dir, s.trust)
	if _, err := os.Lstat(li.path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	unlock, err := s.trust.lockFile(ctx, locks, li.lockPath)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", li.path, err)
	}
	defer unlock()
	sessions, found, err := li.read()
	if err != nil || !found {
		return err // gone: another process migrated it meanwhile
	}
	for _, se := range sessions {
		err := s.meta.update(ctx, se.Name, func(_ auth.Session, exists bool) (auth.Session, recordOp, error) {
			if exists {
				return se, recordKeep, nil
			}
			return se, recordPut, nil
		})
		if err != nil {
			return fmt.Errorf("migrate %s: %w", li.path, err)
		}
	}
	return aside(li.path, stamp)
}

func (s *Store) migrateSecrets(ctx context.Context, dir string, locks *procLocks, stamp string) error {
	path := filepath.Join(dir, secretsFileName)
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	unlock, err := s.trust.lockFile(ctx, locks, filepath.Join(dir, secretsLockName))
	if err != nil {
		return fmt.Errorf("migrate %s: %w", path, err)
	}
	defer unlock()
	fh, err := s.trust.openFile(path, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("migrate %s: %w: %w", path, err, auth.ErrStoreUnavailable)
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return fmt.Errorf("migrate %s: %w", path, err)
	}
	if mode := fi.Mode().Perm(); mode&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %04o: run `chmod 600 %s` (and, if others could read it, revoke its sessions): %w",
			ErrInsecureFile, path, mode, path, auth.ErrStoreUnavailable)
	}
	var doc secretsDoc
	if err := json.NewDecoder(fh).Decode(&doc); err != nil || doc.Version < 1 {
		// Never quote the content: it holds tokens.
		return fmt.Errorf("secrets file %s is damaged (not a tokentop secrets document); tokentop will not change it: restore it from a backup or move it away and log in again: %w",
			path, auth.ErrStoreUnavailable)
	}
	if doc.Version > secretsVersion {
		return fmt.Errorf("secrets file %s was written by a newer tokentop (version %d): upgrade tokentop: %w", path, doc.Version, auth.ErrStoreUnavailable)
	}
	fs := newFileSecrets(dir, locks, s.trust)
	for name, st := range doc.Secrets {
		if ValidateName(name) != nil {
			continue
		}
		if _, err := os.Lstat(fs.path(name)); err == nil {
			continue // migrated before a crash, and maybe rotated since
		}
		if err := fs.set(ctx, name, st.secrets()); err != nil {
			return fmt.Errorf("migrate %s: %w", path, err)
		}
	}
	return aside(path, stamp)
}

// migrateAudit splits events.jsonl (and its rotated .1) into the
// per-session logs, older lines first, so each session keeps its history.
func (s *Store) migrateAudit(dir, stamp string) error {
	a := newFileAudit(dir, nil, s.trust)
	for _, p := range []string{filepath.Join(dir, auditFileName+".1"), filepath.Join(dir, auditFileName)} {
		data, err := s.trust.readFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("migrate %s: %w", p, err)
		}
		per := map[string]*bytes.Buffer{}
		for _, line := range bytes.Split(data, []byte("\n")) {
			var e struct {
				Session string `json:"session"`
			}
			if len(line) == 0 || json.Unmarshal(line, &e) != nil || (e.Session != "" && ValidateName(e.Session) != nil) {
				continue
			}
			b := per[e.Session]
			if b == nil {
				b = &bytes.Buffer{}
				per[e.Session] = b
			}
			b.Write(line)
			b.WriteByte('\n')
		}
		for name, b := range per {
			fh, err := s.trust.openFile(a.path(name), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
			if err != nil {
				return fmt.Errorf("migrate %s: %w", p, err)
			}
			_, err = fh.Write(b.Bytes())
			if cerr := fh.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("migrate %s: %w", p, err)
			}
		}
		// A crash before this rename appends the lines twice at the next
		// Open: a duplicated history line, never a lost one.
		if err := aside(p, stamp); err != nil {
			return err
		}
	}
	return nil
}
