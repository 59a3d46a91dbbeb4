package storage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokentop/tokentop/auth"
)

// CanStore answers from a write of a throw-away item, and leaves nothing.
func TestCanStoreKeyring(t *testing.T) {
	kr := newMemKeyring()
	s := openWithKeyring(t, t.TempDir(), BackendKeyring, kr)
	ctx := context.Background()
	if err := s.CanStore(ctx, "prod"); err != nil {
		t.Fatalf("CanStore with a working keyring: %v", err)
	}
	if accts := kr.accounts(keyringService); len(accts) != 0 {
		t.Fatalf("the probe left keyring items %v", accts)
	}
	ks := s.backends[BackendKeyring].(*keyringSecrets)
	ks.busCheck = func() error { return errors.New("no D-Bus session bus") }
	err := s.CanStore(ctx, "prod")
	if !errors.Is(err, auth.ErrStoreUnavailable) || !errors.Is(err, ErrKeyringUnavailable) || !strings.Contains(err.Error(), `"prod"`) {
		t.Fatalf("CanStore without a Secret Service = %v, want ErrKeyringUnavailable naming the session", err)
	}
	// A locked keyring refuses writes: so does the probe.
	ks.busCheck = nil
	ks.kr = fakeKeyring{err: errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'")}
	if err := s.CanStore(ctx, "prod"); !errors.Is(err, ErrKeyringLocked) {
		t.Fatalf("CanStore with a locked keyring = %v, want ErrKeyringLocked", err)
	}
}

func TestCanStoreFile(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir, BackendFile)
	ctx := context.Background()
	if err := s.CanStore(ctx, "prod"); err != nil {
		t.Fatalf("CanStore: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, secretsDirName, ".probe-*")); len(left) != 0 {
		t.Fatalf("the probe left %v", left)
	}
	// A secrets file others can read is refused before anything is sent.
	putAs(t, s, "prod", 1, 1)
	if err := os.Chmod(filepath.Join(dir, secretsDirName, "prod.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.CanStore(ctx, "prod"); !errors.Is(err, ErrInsecureFile) || !errors.Is(err, auth.ErrStoreUnavailable) {
		t.Fatalf("CanStore over a 0644 secrets file = %v, want ErrInsecureFile", err)
	}
}

// A login or import over a session kept in another backend is refused,
// naming both backends and what to do; over one in the same backend, or
// over a record that names none, it is not.
func TestCanStoreRefusesAnotherBackendsSession(t *testing.T) {
	dir := t.TempDir()
	kr := newMemKeyring()
	k := openWithKeyring(t, dir, BackendKeyring, kr)
	f := openWithKeyring(t, dir, BackendFile, kr)
	ctx := context.Background()
	putAs(t, k, "s1", 1, 1)
	err := f.CanStore(ctx, "s1")
	if !errors.Is(err, ErrBackendMismatch) || !errors.Is(err, auth.ErrStoreUnavailable) ||
		!strings.Contains(err.Error(), "--storage keyring") || !strings.Contains(err.Error(), "forget") {
		t.Fatalf("CanStore over a keyring session from the file store = %v, want ErrBackendMismatch saying what to do", err)
	}
	if err := k.CanStore(ctx, "s1"); err != nil {
		t.Fatalf("CanStore over a session of the same backend: %v", err)
	}
	if err := f.CanStore(ctx, "s2"); err != nil {
		t.Fatalf("CanStore of a new session: %v", err)
	}
}

func TestSecretsAvailable(t *testing.T) {
	ctx := context.Background()
	if err := openDir(t, t.TempDir(), BackendFile).SecretsAvailable(ctx); err != nil {
		t.Fatalf("file backend: %v", err)
	}
	s := openDir(t, t.TempDir(), BackendKeyring)
	ks := s.secrets.(*keyringSecrets)
	ks.busCheck = func() error { return errors.New("no D-Bus session bus") }
	if err := s.SecretsAvailable(ctx); !errors.Is(err, auth.ErrStoreUnavailable) {
		t.Fatalf("keyring without a bus: %v, want ErrStoreUnavailable", err)
	}
}
