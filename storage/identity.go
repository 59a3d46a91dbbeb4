package storage

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/tokentop/tokentop/auth"
)

// storeIDFileName holds the store's identity in the config dir.
const storeIDFileName = "store-id"

// storeIDBytes is the identity's length before hex encoding: 128 random
// bits, so two config dirs never pick the same one.
const storeIDBytes = 16

// storeIdentity is a Store's identity: a random id that keyring accounts
// and stored pairs carry, so that a keyring item (shared by every config
// dir of the user) belongs to exactly one store. A config dir keeps it in
// store-id, created on first need; a pure memory Store has one per Store.
type storeIdentity struct {
	path string // the store-id file; "" for a pure memory Store
	// read reads store-id (nil: os.ReadFile); a Store sets the config
	// dir's trust rule, so the file is never read through a symlink.
	read func(path string) ([]byte, error)
	// fetch, when set, gives the identity instead of store-id: an etcd
	// Store's is the team's, kept in the cluster.
	fetch func() (string, error)

	mu sync.Mutex
	id string
}

func newStoreIdentity(dir string) (*storeIdentity, error) {
	if dir != "" {
		return &storeIdentity{path: filepath.Join(dir, storeIDFileName)}, nil
	}
	id, err := newStoreID()
	if err != nil {
		return nil, err
	}
	return &storeIdentity{id: id}, nil
}

func newStoreID() (string, error) {
	b := make([]byte, storeIDBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make a store identity: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// get returns the identity, reading store-id (or creating it) the first
// time. Errors match auth.ErrStoreUnavailable.
func (i *storeIdentity) get() (string, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.id != "" {
		return i.id, nil
	}
	if i.fetch != nil {
		id, err := i.fetch()
		if err == nil {
			i.id = id
		}
		return id, err
	}
	read := i.read
	if read == nil {
		read = os.ReadFile
	}
	id, err := readStoreID(read, i.path)
	if errors.Is(err, os.ErrNotExist) {
		id, err = createStoreID(read, i.path)
	}
	if err != nil {
		return "", err
	}
	i.id = id
	return id, nil
}

// validStoreID reports whether s looks like an identity this code wrote.
func validStoreID(s string) bool {
	if len(s) != 2*storeIDBytes {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// readStoreID reads an existing store-id; a missing file matches
// os.ErrNotExist. A damaged one is refused, never replaced: the identity
// names this config dir's keyring items, and a new one would orphan them.
func readStoreID(read func(string) ([]byte, error), path string) (string, error) {
	data, err := read(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		return "", fmt.Errorf("read the store identity %s: %w: %w", path, err, auth.ErrStoreUnavailable)
	}
	id := strings.TrimSpace(string(data))
	if !validStoreID(id) {
		return "", fmt.Errorf("the store identity %s is damaged (expected %d hex digits); tokentop will not replace it, "+
			"because it names this config dir's keyring items: restore it from a backup, or move it away "+
			"(the sessions whose tokens are in the keyring then need a new login): %w", path, 2*storeIDBytes, auth.ErrStoreUnavailable)
	}
	return id, nil
}

// createStoreID writes a new identity to path unless another process got
// there first, in which case that one is returned: the file is written in
// full under a temporary name and then hard-linked into place, which fails
// when path exists, so nobody ever reads a half-written id or replaces one
// that keyring items already carry.
func createStoreID(read func(string) ([]byte, error), path string) (string, error) {
	id, err := newStoreID()
	if err != nil {
		return "", err
	}
	dir, base := filepath.Split(path)
	tmp, err := os.CreateTemp(dir, tempPrefix(base)+"*")
	if err != nil {
		return "", fmt.Errorf("create the store identity %s: %w: %w", path, err, auth.ErrStoreUnavailable)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(id + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp.Name(), path)
	}
	if errors.Is(err, os.ErrExist) {
		return readStoreID(read, path)
	}
	if err != nil {
		return "", fmt.Errorf("create the store identity %s: %w: %w", path, err, auth.ErrStoreUnavailable)
	}
	if err := syncDir(dir); err != nil {
		return "", fmt.Errorf("create the store identity %s: %w: %w", path, err, auth.ErrStoreUnavailable)
	}
	return id, nil
}
