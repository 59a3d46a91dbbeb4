// Package storage is where sessions live: secrets in a backend (keyring,
// file, memory), one metadata record per session, one lock per session, and
// one audit log per session. It implements auth.SessionStore and
// auth.AuditLog.
//
// Files in the config dir (0700): sessions/NAME.json (one session's
// metadata, never a secret, replaced atomically under its own short write
// lock sessions/.NAME.lock), locks/NAME.lock (the session lock a refresh
// holds), events/NAME.jsonl and NAME.jsonl.1 (the session's audit log,
// about 256 KiB each), store-id (the store's identity, which keyring
// accounts and stored pairs carry), rescue/NAME.json (a pair a refresh could
// not save, until the next run adopts it), and with the file backend
// secrets/NAME.json (0600). The single sessions.json, secrets.json and
// events.jsonl of older versions are migrated once (see migrate.go). With
// BackendMemory and no ConfigDir nothing touches disk.
//
// Each session records the backend holding its secrets, and they are read,
// saved and deleted there whatever backend the Store was opened with (see
// route.go); the opened backend is where new sessions go.
//
// Decisions: a damaged record or legacy file is left in place, copied aside
// once, and refused with an error naming both files; a newer-version one is
// left in place and refused. A secrets file readable by group or others is
// refused until chmod 600. The config dir and every file in it must belong
// to the user and not be writable by group or others, and no file is opened
// through a symlink (see trust.go). Audit events get their fingerprint
// fields and token-like text scrubbed before they are written.
package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tokentop/tokentop/auth"
)

// Backend names.
const (
	BackendKeyring = "keyring"
	BackendFile    = "file"
	BackendMemory  = "memory"
)

// DefaultKeyringTimeout bounds every keyring call when Options.KeyringTimeout is zero.
const DefaultKeyringTimeout = 5 * time.Second

// Options choose where sessions live.
type Options struct {
	// ConfigDir holds the session records, locks, audit logs (and secrets for
	// the file backend). Empty with BackendMemory: nothing touches disk.
	// Empty with another backend: DefaultConfigDir().
	ConfigDir      string
	Backend        string        // default BackendKeyring
	KeyringTimeout time.Duration // default 5s
	Now            func() time.Time
	// RuntimeDir is a private per-user directory on another file system
	// ($XDG_RUNTIME_DIR), the second place a pair the backend refused is
	// kept aside (see Rescue). Empty: only the config dir.
	RuntimeDir string
	// Etcd configures BackendEtcd (metadata, secrets, locks and the audit
	// log on a team's etcd cluster; only rescue files stay local).
	Etcd EtcdOptions
}

// metaBackend is the metadata: a record per session (files or memory).
type metaBackend interface {
	load(ctx context.Context) ([]auth.Session, error)
	get(ctx context.Context, name string) (auth.Session, bool, error)
	// update runs fn on one session's record (found: it exists) under that
	// record's write lock, and saves what fn returns as op says.
	update(ctx context.Context, name string, fn func(cur auth.Session, found bool) (auth.Session, recordOp, error)) error
	stamp(ctx context.Context) (string, error)
}

// sessionLocker hands out the per-session exclusive locks.
type sessionLocker interface {
	lock(ctx context.Context, name string) (func(), error)
	// tryLock takes the lock only if it is free now.
	tryLock(name string) (func(), bool)
}

// auditBackend is the audit log (events.jsonl or a memory ring).
type auditBackend interface {
	record(e auth.Event) error
	events(name string, limit int) ([]auth.Event, error)
}

// Store implements auth.SessionStore and auth.AuditLog. It is safe for
// concurrent use, and several processes may open the same config dir.
type Store struct {
	opts Options
	// secrets is where new sessions' pairs go (Options.Backend); backends
	// holds every backend a session of this Store may name (see secretsOf).
	secrets  secretBackend
	backends map[string]secretBackend
	meta     metaBackend
	locks    sessionLocker
	audit    auditBackend
	ident    *storeIdentity
	pending  legacyPending
	// warnings from Open: config dirs it tightened.
	warnings []string
	// dir is the config dir with symlinks resolved ("" for pure memory),
	// and trust the rule every file below it is held to.
	dir   string
	trust trust
	// etcdStore is the cluster connection of an etcd Store (nil otherwise).
	etcdStore *etcdStore
}

var (
	_ auth.SessionStore = (*Store)(nil)
	_ auth.AuditLog     = (*Store)(nil)
)

// DefaultConfigDir is os.UserConfigDir()/tokentop.
func DefaultConfigDir() (string, error) {
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the user config directory: %w", err)
	}
	return filepath.Join(base, "tokentop"), nil
}

// Open prepares a Store. It never touches the keyring and never reads
// a session record (a damaged one is reported by List and Get, not here).
// The config dir must pass the trust rule (see prepareConfigDir); what Open
// tightened is reported by Warnings.
func Open(opts Options) (*Store, error) { return openWith(opts, currentTrust()) }

func openWith(opts Options, tr trust) (*Store, error) {
	if opts.Backend == "" {
		opts.Backend = BackendKeyring
	}
	if opts.KeyringTimeout <= 0 {
		opts.KeyringTimeout = DefaultKeyringTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	switch opts.Backend {
	case BackendKeyring, BackendFile, BackendMemory, BackendEtcd:
	default:
		return nil, fmt.Errorf("unknown storage backend %q: choose keyring, file, memory or etcd", opts.Backend)
	}
	if opts.ConfigDir == "" && opts.Backend != BackendMemory {
		d, err := DefaultConfigDir()
		if err != nil {
			return nil, err
		}
		opts.ConfigDir = d
	}
	ident, err := newStoreIdentity(opts.ConfigDir)
	if err != nil {
		return nil, err
	}
	s := &Store{opts: opts, ident: ident}
	if opts.ConfigDir == "" {
		// Pure memory: nothing touches disk at all.
		s.secrets = newMemSecrets()
		s.backends = map[string]secretBackend{BackendMemory: s.secrets}
		s.meta = newMemMeta()
		s.locks = memLocker{newProcLocks()}
		s.audit = newMemAudit(memAuditSize)
		return s, nil
	}
	dir, warnings, err := tr.prepareConfigDir(opts.ConfigDir)
	if err != nil {
		return nil, fmt.Errorf("open storage: %w", err)
	}
	s.warnings = warnings
	s.dir, s.trust = dir, tr
	if opts.Backend == BackendEtcd {
		return s.openEtcd()
	}
	s.ident.path, s.ident.read = filepath.Join(dir, storeIDFileName), tr.readFile
	locks := newProcLocks()
	for _, sub := range []string{recordsDirName, secretsDirName, auditDirName} {
		w, err := tr.subdir(filepath.Join(dir, sub))
		if err != nil {
			return nil, fmt.Errorf("open storage: %w", err)
		}
		s.warnings = append(s.warnings, w...)
	}
	s.meta = newFileRecords(dir, locks, tr)
	s.locks = fileLocker{dir: filepath.Join(dir, locksDirName), locks: locks, trust: tr}
	s.audit = newFileAudit(dir, locks, tr)
	// Sessions of one config dir may keep their secrets in different
	// backends (each records its own), so all of them are at hand; none
	// touches anything before it is used.
	s.backends = map[string]secretBackend{
		BackendFile:    newFileSecrets(dir, locks, tr),
		BackendKeyring: newKeyringSecrets(keyringService, opts.KeyringTimeout, s.identity),
	}
	if opts.Backend == BackendMemory {
		s.backends[BackendMemory] = newMemSecrets()
	}
	s.secrets = s.backends[opts.Backend]
	if err := s.migrate(dir, locks); err != nil {
		return nil, fmt.Errorf("open storage: %w", err)
	}
	return s, nil
}

// locksDirName holds one lock file per session.
const locksDirName = "locks"

// Close releases resources. The Store holds no open files between calls;
// an etcd Store closes its connection and frees its locks' lease.
func (s *Store) Close() error {
	if s.etcdStore != nil {
		return s.etcdStore.close()
	}
	return nil
}

// ConfigDir is where the files live ("" for pure memory).
func (s *Store) ConfigDir() string { return s.opts.ConfigDir }

// Backend names the secrets backend new sessions go to: "keyring", "file"
// or "memory". An existing session's secrets stay in the backend it
// records (auth.Session.SecretsBackend).
func (s *Store) Backend() string { return s.opts.Backend }

// identity is the store's identity (see storeIdentity), created in the
// config dir on first need.
func (s *Store) identity() (string, error) { return s.ident.get() }

// List returns all sessions' metadata sorted by name; no secret is read.
func (s *Store) List(ctx context.Context) ([]auth.Session, error) {
	list, err := s.meta.load(ctx)
	for i := range list {
		list[i].SecretsBackend = s.backendName(list[i])
	}
	return list, err
}

// ListBatches calls fn with every session's metadata, sorted by name, in
// batches: first sessions, then size at a time (a store without per-session
// records hands over one batch). It reads no secret. An error from fn stops
// it and is returned.
func (s *Store) ListBatches(ctx context.Context, first, size int, fn func([]auth.Session) error) error {
	fix := func(list []auth.Session) []auth.Session {
		for i := range list {
			list[i].SecretsBackend = s.backendName(list[i])
		}
		return list
	}
	if fr, ok := s.meta.(*fileRecords); ok {
		return fr.batches(ctx, first, size, func(list []auth.Session) error { return fn(fix(list)) })
	}
	list, err := s.meta.load(ctx)
	if err != nil {
		return err
	}
	return fn(fix(list))
}

// Scan calls a visitor with every session's metadata, as List would
// return them but in no particular order, from several goroutines at once:
// newVisitor is called once in each, and its visitor only there, with a
// session that is the visitor's only until it returns. It reads no secret.
// It is for callers that need not hold every session at once: `tokentop
// list` turns each into its row as it is read, while the directory is
// still being read. A visitor's error stops the scan and is returned.
func (s *Store) Scan(ctx context.Context, newVisitor func() func(*auth.Session) error) error {
	fixed := func() func(*auth.Session) error {
		visit := newVisitor()
		return func(se *auth.Session) error {
			se.SecretsBackend = s.backendName(*se)
			return visit(se)
		}
	}
	if fr, ok := s.meta.(*fileRecords); ok {
		return fr.scan(ctx, fixed)
	}
	list, err := s.meta.load(ctx)
	if err != nil {
		return err
	}
	visit := fixed()
	for i := range list {
		if err := visit(&list[i]); err != nil {
			return err
		}
	}
	return nil
}

// Get returns one session's metadata, or an error matching auth.ErrSessionNotFound.
func (s *Store) Get(ctx context.Context, name string) (auth.Session, error) {
	if err := ValidateName(name); err != nil {
		return auth.Session{}, err
	}
	se, ok, err := s.meta.get(ctx, name)
	if err != nil {
		return auth.Session{}, err
	}
	if !ok {
		return auth.Session{}, notFound(name)
	}
	se.SecretsBackend = s.backendName(se)
	return se, nil
}

func notFound(name string) error {
	return fmt.Errorf("session %q: %w: see `tokentop list`, or log in or import it", name, auth.ErrSessionNotFound)
}

// Secrets loads a session's tokens from the secrets backend, with their
// owner. A pair saved by another store or under another name is refused
// (*auth.NotOwnedError), so a returned Owner.StoreID is this store's.
func (s *Store) Secrets(ctx context.Context, name string) (auth.Secrets, error) {
	if err := ValidateName(name); err != nil {
		return auth.Secrets{}, err
	}
	se, found, err := s.meta.get(ctx, name)
	if err != nil {
		return auth.Secrets{}, err
	}
	b, bn, err := s.secretsOf(name, se, found)
	if err != nil {
		return auth.Secrets{}, err
	}
	sec, err := b.get(ctx, name)
	if isItemMissing(err) {
		sec, err = s.adoptLegacy(ctx, b, name, err)
	}
	if err != nil {
		return auth.Secrets{}, s.elsewhere(name, bn, err)
	}
	if err := s.checkOwner(name, sec.Owner); err != nil {
		return auth.Secrets{}, err
	}
	return sec, nil
}

// checkOwner refuses a pair saved by another store or for another name
// (a copied or hand-edited secrets file, say). A pair without an owner was
// saved before owners were recorded and is left to the caller to judge.
func (s *Store) checkOwner(name string, o auth.SecretsOwner) error {
	if o.StoreID != "" {
		id, err := s.identity()
		if err != nil {
			return err
		}
		if o.StoreID != id {
			return &auth.NotOwnedError{Session: name, Why: "they were saved by another tokentop config dir (store " +
				strconv.Quote(o.StoreID) + "), not this one (" + id + ")"}
		}
	}
	if o.Session != "" && o.Session != name {
		return &auth.NotOwnedError{Session: name, Why: "they were saved for the session " + strconv.Quote(o.Session)}
	}
	return nil
}

// Put saves secrets first, then metadata, so metadata never describes a pair
// that is not stored. The pair is saved with its owner: this store, the
// session's name and its user.
func (s *Store) Put(ctx context.Context, se auth.Session, sec auth.Secrets) error {
	if err := ValidateName(se.Name); err != nil {
		return err
	}
	id, err := s.identity()
	if err != nil {
		return err
	}
	sec.Owner = auth.SecretsOwner{StoreID: id, Session: se.Name, UserID: se.User.UserID}
	cur, found, err := s.meta.get(ctx, se.Name)
	if err != nil {
		return err
	}
	b, bn, err := s.secretsFor(se.Name, cur, found)
	if err != nil {
		return err
	}
	if err := b.set(ctx, se.Name, sec); err != nil {
		return s.elsewhere(se.Name, bn, err)
	}
	if fp, ok := s.pending.take(se.Name); ok {
		s.dropLegacy(ctx, b, se.Name, fp)
	}
	se.SecretsBackend = bn
	return s.meta.update(ctx, se.Name, func(auth.Session, bool) (auth.Session, recordOp, error) {
		return se, recordPut, nil
	})
}

// PutMeta saves metadata only (state, errors, counters). Where the
// secrets are is not metadata's to change: the record keeps its backend.
func (s *Store) PutMeta(ctx context.Context, se auth.Session) error {
	if err := ValidateName(se.Name); err != nil {
		return err
	}
	return s.meta.update(ctx, se.Name, func(old auth.Session, found bool) (auth.Session, recordOp, error) {
		if found {
			se.SecretsBackend = old.SecretsBackend
		}
		return se, recordPut, nil
	})
}

// Delete removes the metadata, then the secrets (in that order, so a crash
// between the two leaves an orphaned secret, never metadata without one).
// A missing secret is fine; when neither existed the error matches
// auth.ErrSessionNotFound.
func (s *Store) Delete(ctx context.Context, name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	existed := false
	var old auth.Session
	err := s.meta.update(ctx, name, func(se auth.Session, found bool) (auth.Session, recordOp, error) {
		if !found {
			return se, recordKeep, nil
		}
		existed, old = true, se
		return se, recordDelete, nil
	})
	if err != nil {
		return err
	}
	b, bn, err := s.secretsOf(name, old, existed)
	if errors.Is(err, errSecretsGone) {
		err = nil // nothing left to delete
	}
	if b == nil || err != nil {
		return err
	}
	if err := b.delete(ctx, name); err != nil {
		err = s.elsewhere(name, bn, err)
		if isItemMissing(err) && existed {
			// Never read since items were keyed by store: its legacy
			// item, if it holds exactly this session's pair, goes too.
			s.dropLegacy(ctx, b, name, old.RefreshFP)
		}
		if !errors.Is(err, auth.ErrSecretNotFound) {
			if existed {
				// The record, which said where the secrets are, is gone:
				// a retry finds them only in the backend it runs with.
				retry := "run forget again to retry"
				if bn != s.opts.Backend {
					retry = "run forget again with --storage " + bn + " to retry"
				}
				return fmt.Errorf("session %q removed from the index, but its secrets could not be deleted (%s): %w", name, retry, err)
			}
			return err
		}
		if !existed {
			return notFound(name)
		}
	}
	return nil
}

// Lock takes the session's exclusive lock (across processes when the Store
// has a config dir), waiting until ctx is done; then the error matches
// auth.ErrLockTimeout and names the session.
func (s *Store) Lock(ctx context.Context, name string) (func(), error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	unlock, err := s.locks.lock(ctx, name)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("lock session %q: %w (another tokentop process or task is working on it; try again): %w", name, auth.ErrLockTimeout, ctx.Err())
		}
		return nil, fmt.Errorf("lock session %q: %w", name, err)
	}
	return unlock, nil
}

// Stamp is a cheap value that changes whenever metadata changes.
func (s *Store) Stamp(ctx context.Context) (string, error) { return s.meta.stamp(ctx) }

// Record appends an event to the audit log (auth.AuditLog). Fingerprint
// fields that do not look like fingerprints, and token-like runs in the
// message, are replaced by fingerprints first (see scrubEvent).
func (s *Store) Record(e auth.Event) error {
	if e.Session != "" {
		if err := ValidateName(e.Session); err != nil {
			return fmt.Errorf("record event: %w", err)
		}
	}
	if e.Time.IsZero() {
		e.Time = s.opts.Now()
	}
	return s.audit.record(scrubEvent(e))
}

// Events returns the newest audit events for one session (all when name is
// ""), oldest first, at most limit (all when limit <= 0).
func (s *Store) Events(name string, limit int) ([]auth.Event, error) {
	if name != "" {
		if err := ValidateName(name); err != nil {
			return nil, err
		}
	}
	return s.audit.events(name, limit)
}

// memLocker is the in-process-only session lock of a pure memory Store.
type memLocker struct{ p *procLocks }

func (l memLocker) lock(ctx context.Context, name string) (func(), error) {
	return l.p.acquire(ctx, name)
}
