// Package storage is where sessions live: secrets in a backend (keyring,
// file, memory), metadata in sessions.json, one lock per session, and the
// audit log. It implements auth.SessionStore and auth.AuditLog.
package storage

// SKELETON: the storage helper replaces this file. Signatures are the contract.

import (
	"context"
	"errors"
	"time"

	"github.com/tokentop/tokentop/auth"
)

var errTODO = errors.New("not implemented yet")

// Backend names.
const (
	BackendKeyring = "keyring"
	BackendFile    = "file"
	BackendMemory  = "memory"
)

// Options choose where sessions live.
type Options struct {
	// ConfigDir holds sessions.json, locks, events.jsonl (and secrets.json for
	// the file backend). Empty with BackendMemory: nothing touches disk.
	ConfigDir      string
	Backend        string        // default BackendKeyring
	KeyringTimeout time.Duration // default 5s
	Now            func() time.Time
}

// Store implements auth.SessionStore and auth.AuditLog.
type Store struct{ opts Options }

var _ auth.SessionStore = (*Store)(nil)

// DefaultConfigDir is os.UserConfigDir()/tokentop.
func DefaultConfigDir() (string, error) { return "", errTODO }

// ValidateName checks a session name: 1-64 of letters, digits, '.', '_', '-'.
func ValidateName(name string) error { return nil }

// Open prepares a Store. It never touches the keyring.
func Open(opts Options) (*Store, error) { return &Store{opts: opts}, nil }

// Close releases resources.
func (s *Store) Close() error { return nil }

// ConfigDir is where the files live ("" for pure memory).
func (s *Store) ConfigDir() string { return s.opts.ConfigDir }

func (s *Store) List(ctx context.Context) ([]auth.Session, error) { return nil, errTODO }
func (s *Store) Get(ctx context.Context, name string) (auth.Session, error) {
	return auth.Session{}, errTODO
}
func (s *Store) Secrets(ctx context.Context, name string) (auth.Secrets, error) {
	return auth.Secrets{}, errTODO
}
func (s *Store) Put(ctx context.Context, se auth.Session, sec auth.Secrets) error { return errTODO }
func (s *Store) PutMeta(ctx context.Context, se auth.Session) error              { return errTODO }
func (s *Store) Delete(ctx context.Context, name string) error                   { return errTODO }
func (s *Store) Lock(ctx context.Context, name string) (func(), error)           { return nil, errTODO }
func (s *Store) Stamp(ctx context.Context) (string, error)                       { return "", errTODO }
func (s *Store) Backend() string                                                 { return s.opts.Backend }

// Record appends an event to the audit log (auth.AuditLog).
func (s *Store) Record(e auth.Event) error { return errTODO }

// Events returns the newest audit events for one session (all when name is
// ""), oldest first, at most limit.
func (s *Store) Events(name string, limit int) ([]auth.Event, error) { return nil, errTODO }
