package storage

import (
	"errors"
	"fmt"

	"github.com/tokentop/tokentop/auth"
)

// Each session records the backend that holds its secrets
// (auth.Session.SecretsBackend), and every read, save and delete of its
// secrets goes there, whatever backend the Store was opened with: the
// opened backend only decides where new sessions go. Otherwise one config
// dir opened once with the keyring and once with the file backend would
// hand out two different pairs for one name, each run rewriting the
// metadata for its own.
//
// Decision: a record saved before sessions recorded their backend names
// none, and means the backend the Store was opened with, which is what
// such records always meant; the first save records it.

// errSecretsGone is matched when a session's secrets were kept in the
// memory of another process.
var errSecretsGone = errors.New("its tokens were kept in the memory of the process that saved them, and went with it")

// backendName is the backend holding se's secrets.
func (s *Store) backendName(se auth.Session) string {
	if se.SecretsBackend == "" {
		return s.opts.Backend
	}
	return se.SecretsBackend
}

// secretsOf is the backend to read or delete name's secrets in, and its
// name; se and found are name's record. A session without a record is
// looked for in the opened backend.
func (s *Store) secretsOf(name string, se auth.Session, found bool) (secretBackend, string, error) {
	bn := s.opts.Backend
	if found {
		bn = s.backendName(se)
	}
	if b, ok := s.backends[bn]; ok {
		return b, bn, nil
	}
	if bn == BackendMemory {
		return nil, bn, fmt.Errorf("session %q: %w: %w; log in again or import", name, auth.ErrSecretNotFound, errSecretsGone)
	}
	return nil, bn, fmt.Errorf("session %q keeps its tokens in a backend named %q, which this tokentop does not know "+
		"(a newer tokentop saved it?): upgrade tokentop: %w", name, bn, auth.ErrStoreUnavailable)
}

// secretsFor is the backend to save name's new pair in, and its name: where
// its record says its secrets are, or for a new session the opened backend.
// A pair kept in another process's memory is gone, so the new one goes to
// the opened backend.
func (s *Store) secretsFor(name string, cur auth.Session, found bool) (secretBackend, string, error) {
	b, bn, err := s.secretsOf(name, cur, found)
	if errors.Is(err, errSecretsGone) {
		return s.secrets, s.opts.Backend, nil
	}
	return b, bn, err
}

// elsewhere adds to a failure in backend bn, when that is not the opened
// backend, where the session's secrets are and why: --storage pointing
// elsewhere does not move them.
func (s *Store) elsewhere(name, bn string, err error) error {
	if err == nil || bn == s.opts.Backend {
		return err
	}
	return fmt.Errorf("session %q keeps its tokens in the %s backend (where it was saved; --storage %s only chooses "+
		"where new sessions go): %w", name, bn, s.opts.Backend, err)
}
