package storage

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/zalando/go-keyring"

	"github.com/tokentop/tokentop/auth"
)

// memKeyring is one keyring shared by several Stores (as the user's Secret
// Service is shared by every config dir): values by service and account.
type memKeyring struct {
	mu   sync.Mutex
	vals map[string]string
}

func newMemKeyring() *memKeyring { return &memKeyring{vals: map[string]string{}} }

func (m *memKeyring) Get(service, user string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.vals[service+"\x00"+user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (m *memKeyring) Set(service, user, pass string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.vals[service+"\x00"+user] = pass
	return nil
}

func (m *memKeyring) Delete(service, user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.vals[service+"\x00"+user]; !ok {
		return keyring.ErrNotFound
	}
	delete(m.vals, service+"\x00"+user)
	return nil
}

// accounts lists the accounts of service, sorted.
func (m *memKeyring) accounts(service string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k := range m.vals {
		if s, a, _ := strings.Cut(k, "\x00"); s == service {
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

// openSharedKeyring opens a keyring Store in dir whose keyring is kr.
func openSharedKeyring(t testing.TB, dir string, kr keyringAPI) *Store {
	t.Helper()
	s := openDir(t, dir, BackendKeyring)
	ks := s.secrets.(*keyringSecrets)
	ks.kr, ks.busCheck = kr, nil
	return s
}

// putAs saves a pair for user id uid as session name.
func putAs(t testing.TB, s *Store, name string, uid int64, gen int) auth.Secrets {
	t.Helper()
	sec := testSecrets(name+"-"+string(rune('a'+uid%26)), gen)
	se := testSession(name, sec, testNow)
	se.User.UserID = uid
	if err := s.Put(context.Background(), se, sec); err != nil {
		t.Fatalf("Put %s for user %d: %v", name, uid, err)
	}
	return sec
}

// Two config dirs, each with a session "prod" (ana in A, bob in B), share
// one keyring: each keeps its own pair, and forgetting one leaves the other.
func TestKeyringItemsBelongToOneStore(t *testing.T) {
	kr := newMemKeyring()
	a := openSharedKeyring(t, t.TempDir(), kr)
	b := openSharedKeyring(t, t.TempDir(), kr)
	ctx := context.Background()
	ana := putAs(t, a, "prod", 1, 1)
	bob := putAs(t, b, "prod", 2, 1)
	if ana.AccessToken == bob.AccessToken {
		t.Fatal("test pairs are not distinct")
	}
	gotA, err := a.Secrets(ctx, "prod")
	if err != nil || gotA.AccessToken != ana.AccessToken || gotA.RefreshToken != ana.RefreshToken {
		t.Fatalf("A's prod = %v, %v; want ana's pair %v (the keyring item is shared with B)", gotA, err, ana)
	}
	gotB, err := b.Secrets(ctx, "prod")
	if err != nil || gotB.AccessToken != bob.AccessToken {
		t.Fatalf("B's prod = %v, %v; want bob's pair %v", gotB, err, bob)
	}
	if n := len(kr.accounts(keyringService)); n != 2 {
		t.Fatalf("keyring holds %d items (%v), want one per config dir", n, kr.accounts(keyringService))
	}
	if err := b.Delete(ctx, "prod"); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Secrets(ctx, "prod"); err != nil || got.AccessToken != ana.AccessToken {
		t.Fatalf("A's prod after B forgot its own = %v, %v", got, err)
	}
	// The identity is kept in the config dir: reopening finds the same items.
	a2 := openSharedKeyring(t, a.ConfigDir(), kr)
	if got, err := a2.Secrets(ctx, "prod"); err != nil || got.AccessToken != ana.AccessToken {
		t.Fatalf("A reopened: prod = %v, %v", got, err)
	}
}

// Two pure memory stores (no config dir) never share an item either.
func TestMemoryStoresHaveDistinctIdentities(t *testing.T) {
	a, b := openMemory(t), openMemory(t)
	ida, err := a.identity()
	if err != nil {
		t.Fatal(err)
	}
	idb, err := b.identity()
	if err != nil {
		t.Fatal(err)
	}
	if !validStoreID(ida) || ida == idb {
		t.Fatalf("memory store identities %q and %q, want distinct and well-formed", ida, idb)
	}
}

// The identity file: created once, 0600, kept across opens, the same for
// processes racing to create it, and a damaged one refused, never replaced.
func TestStoreIDFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, storeIDFileName)
	// Racing creators (separate identities, as separate processes) agree.
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := (&storeIdentity{path: path}).get()
			if err != nil {
				t.Error(err)
			}
			ids[i] = id
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] || !validStoreID(id) {
			t.Fatalf("racing creators got %v, want one well-formed id", ids)
		}
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("store-id: %v, %v; want mode 0600", fi, err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".store-id.tmp-*")); len(left) != 0 {
		t.Fatalf("temp files left: %v", left)
	}
	s := openDir(t, dir, BackendFile)
	if id, err := s.identity(); err != nil || id != ids[0] {
		t.Fatalf("reopened store identity = %q, %v; want %q", id, err, ids[0])
	}

	damaged := []byte("not an id\n")
	if err := os.WriteFile(path, damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	s = openDir(t, dir, BackendFile)
	sec := testSecrets("d", 1)
	err = s.Put(context.Background(), testSession("d", sec, testNow), sec)
	if !errors.Is(err, auth.ErrStoreUnavailable) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "move it away") {
		t.Fatalf("Put with a damaged store-id = %v, want ErrStoreUnavailable naming the file and what to do", err)
	}
	if got, _ := os.ReadFile(path); string(got) != string(damaged) {
		t.Fatalf("damaged store-id was changed to %q", got)
	}
}

// legacyItem saves sec as an older tokentop did: account = the name alone,
// value = the bare pair.
func legacyItem(t testing.TB, kr *memKeyring, name string, sec auth.Secrets) {
	t.Helper()
	data, err := json.Marshal(sec)
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.Set(keyringService, name, string(data)); err != nil {
		t.Fatal(err)
	}
}

// legacyMeta writes metadata only, as an older tokentop left it.
func legacyMeta(t testing.TB, s *Store, se auth.Session) {
	t.Helper()
	if err := s.PutMeta(context.Background(), se); err != nil {
		t.Fatal(err)
	}
}

// A legacy item holding exactly the pair this session's metadata
// describes is this session's: on first use it moves to this store's
// account (saved there, then deleted under the old one).
func TestLegacyKeyringItemAdopted(t *testing.T) {
	kr := newMemKeyring()
	a := openSharedKeyring(t, t.TempDir(), kr)
	ctx := context.Background()
	sec := testSecrets("prod", 1)
	legacyItem(t, kr, "prod", sec)
	legacyMeta(t, a, testSession("prod", sec, testNow))

	got, err := a.Secrets(ctx, "prod")
	if err != nil || got.Tokens() != sec {
		t.Fatalf("Secrets of a legacy session = %v, %v; want its pair", got, err)
	}
	id, _ := a.identity()
	if accts := kr.accounts(keyringService); len(accts) != 1 || accts[0] != keyringAccount(id, "prod") {
		t.Fatalf("keyring accounts after the first read = %v, want only %q", accts, keyringAccount(id, "prod"))
	}
	// Migrated once: it now reads as this store's item, with its owner.
	got, err = a.Secrets(ctx, "prod")
	if err != nil || got.Tokens() != sec || got.Owner.StoreID != id || got.Owner.UserID != 42 {
		t.Fatalf("Secrets after migration = %v (owner %+v), %v", got, got.Owner, err)
	}
}

// The case: an older tokentop let config dir B's "prod" (bob)
// overwrite A's (ana) in the one shared item. A's metadata describes ana's
// pair, so A leaves bob's item alone and says why; B adopts it.
func TestLegacyKeyringItemOfAnotherConfigDirLeftAlone(t *testing.T) {
	kr := newMemKeyring()
	a := openSharedKeyring(t, t.TempDir(), kr)
	b := openSharedKeyring(t, t.TempDir(), kr)
	ctx := context.Background()
	ana, bob := testSecrets("ana", 1), testSecrets("bob", 1)
	legacyMeta(t, a, testSession("prod", ana, testNow))
	legacyMeta(t, b, testSession("prod", bob, testNow))
	legacyItem(t, kr, "prod", bob)

	_, err := a.Secrets(ctx, "prod")
	if !errors.Is(err, auth.ErrSecretNotFound) || !strings.Contains(err.Error(), "left alone") {
		t.Fatalf("A's Secrets with B's legacy item = %v, want not found, saying the item was left alone", err)
	}
	if accts := kr.accounts(keyringService); len(accts) != 1 || accts[0] != "prod" {
		t.Fatalf("A touched the legacy item: accounts %v", accts)
	}
	// Forgetting A's session does not delete B's pair either.
	if err := a.Delete(ctx, "prod"); err != nil && !errors.Is(err, auth.ErrSecretNotFound) {
		t.Fatal(err)
	}
	if v, err := kr.Get(keyringService, "prod"); err != nil || !strings.Contains(v, bob.RefreshToken) {
		t.Fatalf("A's forget removed B's legacy item: %v", err)
	}
	got, err := b.Secrets(ctx, "prod")
	if err != nil || got.Tokens() != bob {
		t.Fatalf("B's Secrets = %v, %v; want bob's pair", got, err)
	}
}

// While someone holds the session lock (perhaps the caller itself) the
// legacy pair is used as it is, not moved: moving writes, and could then
// overwrite a pair the lock holder saves. The holder's next save moves it.
func TestLegacyKeyringItemMovedByTheLockHolder(t *testing.T) {
	kr := newMemKeyring()
	a := openSharedKeyring(t, t.TempDir(), kr)
	ctx := context.Background()
	sec := testSecrets("prod", 1)
	legacyItem(t, kr, "prod", sec)
	legacyMeta(t, a, testSession("prod", sec, testNow))

	unlock, err := a.Lock(ctx, "prod")
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.Secrets(ctx, "prod")
	if err != nil || got.Tokens() != sec {
		t.Fatalf("Secrets under the lock = %v, %v", got, err)
	}
	if accts := kr.accounts(keyringService); len(accts) != 1 || accts[0] != "prod" {
		t.Fatalf("the item moved while the lock was held: %v", accts)
	}
	next := testSecrets("prod", 2)
	if err := a.Put(ctx, testSession("prod", next, testNow), next); err != nil {
		t.Fatal(err)
	}
	unlock()
	id, _ := a.identity()
	if accts := kr.accounts(keyringService); len(accts) != 1 || accts[0] != keyringAccount(id, "prod") {
		t.Fatalf("after the holder's save the accounts are %v, want only this store's", accts)
	}
	if got, err := a.Secrets(ctx, "prod"); err != nil || got.Tokens() != next {
		t.Fatalf("Secrets after the save = %v, %v; want the new pair", got, err)
	}
}

// Forgetting a session never read since the upgrade removes its legacy
// item, which holds exactly its pair.
func TestLegacyKeyringItemForgotten(t *testing.T) {
	kr := newMemKeyring()
	a := openSharedKeyring(t, t.TempDir(), kr)
	sec := testSecrets("prod", 1)
	legacyItem(t, kr, "prod", sec)
	legacyMeta(t, a, testSession("prod", sec, testNow))
	if err := a.Delete(context.Background(), "prod"); err != nil && !errors.Is(err, auth.ErrSecretNotFound) {
		t.Fatal(err)
	}
	if accts := kr.accounts(keyringService); len(accts) != 0 {
		t.Fatalf("forget left keyring items %v", accts)
	}
}

// A stored pair saved by another store or under another name is refused,
// not handed out (a secrets.json copied from another config dir, say).
func TestForeignPairRefused(t *testing.T) {
	dirA, dirB := t.TempDir(), t.TempDir()
	a, b := openDir(t, dirA, BackendFile), openDir(t, dirB, BackendFile)
	ctx := context.Background()
	putAs(t, a, "prod", 1, 1)
	bob := putAs(t, b, "prod", 2, 1)
	data, err := os.ReadFile(filepath.Join(dirB, secretsDirName, "prod.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dirA, secretsDirName, "prod.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = a.Secrets(ctx, "prod")
	if !errors.Is(err, auth.ErrNotOwned) || !errors.Is(err, auth.ErrSecretNotFound) || strings.Contains(err.Error(), bob.AccessToken) {
		t.Fatalf("Secrets of a pair from another config dir = %v, want ErrNotOwned", err)
	}
}

// store-id is read like every file in the config dir: never through a
// symlink, whose target another store may own.
func TestStoreIDNotReadThroughASymlink(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(t.TempDir(), "store-id")
	if err := os.WriteFile(other, []byte(strings.Repeat("ab", storeIDBytes)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(other, filepath.Join(dir, storeIDFileName)); err != nil {
		t.Fatal(err)
	}
	s, err := Open(Options{ConfigDir: dir, Backend: BackendMemory})
	if err != nil {
		t.Fatal(err)
	}
	if id, err := s.identity(); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("identity through a symlinked store-id = %q, %v; want ErrUntrusted", id, err)
	}
}
