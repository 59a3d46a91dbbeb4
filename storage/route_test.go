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

// openWithKeyring opens dir with backend, its keyring backend being kr.
func openWithKeyring(t testing.TB, dir, backend string, kr keyringAPI) *Store {
	t.Helper()
	s := openDir(t, dir, backend)
	ks := s.backends[BackendKeyring].(*keyringSecrets)
	ks.kr, ks.busCheck = kr, nil
	return s
}

// fileHas reports whether secrets.json in dir holds a pair for name.
func fileHas(t testing.TB, dir, name string) bool {
	t.Helper()
	_, err := os.Stat(filepath.Join(dir, secretsDirName, name+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

// The case: one config dir used with the keyring and with --storage
// file. Each session's secrets stay where they were saved, whichever
// backend the store was opened with, so both see one pair per name.
func TestSessionSecretsStayInTheirBackend(t *testing.T) {
	dir := t.TempDir()
	kr := newMemKeyring()
	k := openWithKeyring(t, dir, BackendKeyring, kr)
	f := openWithKeyring(t, dir, BackendFile, kr)
	ctx := context.Background()

	ana := putAs(t, k, "s1", 1, 1)
	if se, err := f.Get(ctx, "s1"); err != nil || se.SecretsBackend != BackendKeyring {
		t.Fatalf("s1 seen by the file store: %+v, %v; want secrets_backend keyring", se, err)
	}
	if got, err := f.Secrets(ctx, "s1"); err != nil || got.Tokens() != ana {
		t.Fatalf("s1's secrets through the file store = %v, %v; want the keyring's pair", got, err)
	}
	// A save through the file store (a refresh) goes to the keyring too.
	ana2 := putAs(t, f, "s1", 1, 2)
	if fileHas(t, dir, "s1") {
		t.Fatal("s1's new pair was written to secrets.json, not to the keyring where s1 lives")
	}
	if got, err := k.Secrets(ctx, "s1"); err != nil || got.Tokens() != ana2 {
		t.Fatalf("s1 through the keyring store after the file store saved = %v, %v", got, err)
	}

	bob := putAs(t, f, "s2", 2, 1)
	if !fileHas(t, dir, "s2") {
		t.Fatal("a new session of the file store is not in secrets.json")
	}
	if got, err := k.Secrets(ctx, "s2"); err != nil || got.Tokens() != bob {
		t.Fatalf("s2 through the keyring store = %v, %v; want the file's pair", got, err)
	}
	// Metadata-only writes (state, counters) never move a session.
	se, err := k.Get(ctx, "s2")
	if err != nil {
		t.Fatal(err)
	}
	se.SecretsBackend, se.State = "", auth.StatePaused
	if err := k.PutMeta(ctx, se); err != nil {
		t.Fatal(err)
	}
	list, err := k.List(ctx)
	if err != nil || len(list) != 2 || list[0].SecretsBackend != BackendKeyring || list[1].SecretsBackend != BackendFile {
		t.Fatalf("List = %+v, %v; want s1 in the keyring and s2 in the file", list, err)
	}

	// Forget through either store removes the pair where it is.
	if err := f.Delete(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	if accts := kr.accounts(keyringService); len(accts) != 0 {
		t.Fatalf("forgetting s1 through the file store left keyring items %v", accts)
	}
	if err := k.Delete(ctx, "s2"); err != nil {
		t.Fatal(err)
	}
	if fileHas(t, dir, "s2") {
		t.Fatal("forgetting s2 through the keyring store left it in secrets.json")
	}
}

// A session whose backend is unavailable is refused with that backend
// named (exit 4), not looked for in the one --storage names.
func TestRecordedBackendUnavailable(t *testing.T) {
	dir := t.TempDir()
	kr := newMemKeyring()
	putAs(t, openWithKeyring(t, dir, BackendKeyring, kr), "s1", 1, 1)
	f := openDir(t, dir, BackendFile)
	ks := f.backends[BackendKeyring].(*keyringSecrets)
	ks.kr, ks.busCheck = kr, func() error { return errors.New("no D-Bus session bus") }
	_, err := f.Secrets(context.Background(), "s1")
	if !errors.Is(err, auth.ErrStoreUnavailable) || !errors.Is(err, ErrKeyringUnavailable) ||
		!strings.Contains(err.Error(), "keeps its tokens in the keyring") {
		t.Fatalf("Secrets of a keyring session with no keyring, opened with file = %v", err)
	}
	if fileHas(t, dir, "s1") {
		t.Fatal("s1 looked for (or saved) in secrets.json")
	}
	// A forget that cannot reach the keyring has removed the record, and
	// with it where the tokens are: the error says which backend to retry
	// with, and retrying there removes the leftover.
	err = f.Delete(context.Background(), "s1")
	if !errors.Is(err, auth.ErrStoreUnavailable) || !strings.Contains(err.Error(), "--storage keyring") {
		t.Fatalf("Delete of a keyring session with no keyring, opened with file = %v, want the retry to name --storage keyring", err)
	}
	if err := openWithKeyring(t, dir, BackendKeyring, kr).Delete(context.Background(), "s1"); err != nil {
		t.Fatalf("retried forget through the keyring: %v", err)
	}
	if accts := kr.accounts(keyringService); len(accts) != 0 {
		t.Fatalf("leftover keyring items %v", accts)
	}
}

// Records saved before sessions recorded their backend mean the backend
// the store is opened with; the first save records it.
func TestLegacyRecordMeansTheOpenedBackend(t *testing.T) {
	dir := t.TempDir()
	f := openDir(t, dir, BackendFile)
	ctx := context.Background()
	sec := putAs(t, f, "old", 1, 1)
	// As an older tokentop wrote it: no secrets_backend.
	if err := f.meta.update(ctx, "old", func(se auth.Session, _ bool) (auth.Session, recordOp, error) {
		se.SecretsBackend = ""
		return se, recordPut, nil
	}); err != nil {
		t.Fatal(err)
	}
	if se, err := f.Get(ctx, "old"); err != nil || se.SecretsBackend != BackendFile {
		t.Fatalf("legacy record = %+v, %v; want secrets_backend file (the opened backend)", se, err)
	}
	if got, err := f.Secrets(ctx, "old"); err != nil || got.Tokens() != sec {
		t.Fatalf("legacy record's secrets = %v, %v", got, err)
	}
	putAs(t, f, "old", 1, 2)
	raw, _, err := f.meta.get(ctx, "old")
	if err != nil || raw.SecretsBackend != BackendFile {
		t.Fatalf("after a save the record says %q (%v), want file", raw.SecretsBackend, err)
	}
}

// A session whose secrets were in another process's memory: reading says
// they are gone (exit 3), a new pair goes to the opened backend, and a
// forget just removes the record.
func TestMemorySessionSeenFromAnotherStore(t *testing.T) {
	dir := t.TempDir()
	putAs(t, openDir(t, dir, BackendMemory), "m", 1, 1)
	f := openDir(t, dir, BackendFile)
	ctx := context.Background()
	_, err := f.Secrets(ctx, "m")
	if !errors.Is(err, auth.ErrSecretNotFound) || !strings.Contains(err.Error(), "memory") {
		t.Fatalf("Secrets of another process's memory session = %v", err)
	}
	sec := putAs(t, f, "m", 1, 2)
	if got, err := f.Secrets(ctx, "m"); err != nil || got.Tokens() != sec {
		t.Fatalf("after a new pair: %v, %v", got, err)
	}
	if se, _ := f.Get(ctx, "m"); se.SecretsBackend != BackendFile {
		t.Fatalf("the new pair is recorded in %q", se.SecretsBackend)
	}
	putAs(t, openDir(t, dir, BackendMemory), "gone", 1, 1)
	if err := f.Delete(ctx, "gone"); err != nil {
		t.Fatalf("forget of another process's memory session: %v", err)
	}
}
