package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
)

func openDir(t testing.TB, dir, backend string) *Store {
	t.Helper()
	s, err := Open(Options{ConfigDir: dir, Backend: backend})
	if err != nil {
		t.Fatalf("Open %s in %s: %v", backend, dir, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestFileBehaviours(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cfg")
	s := openDir(t, dir, BackendFile)
	storeBehaviours(t, s, "file-")
	sec := testSecrets("modes", 1)
	if err := s.Put(context.Background(), testSession("modes", sec, testNow), sec); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{
		dir: 0o700 | os.ModeDir,
		filepath.Join(dir, secretsDirName, "modes.json"): 0o600,
		filepath.Join(dir, recordsDirName, "modes.json"): 0o600,
		filepath.Join(dir, secretsDirName):               0o700 | os.ModeDir,
		filepath.Join(dir, recordsDirName):               0o700 | os.ModeDir,
		filepath.Join(dir, auditDirName):                 0o700 | os.ModeDir,
		filepath.Join(dir, locksDirName):                 0o700 | os.ModeDir,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s has mode %v, want %v", path, fi.Mode(), want)
		}
	}
}

// Memory secrets with a config dir: metadata, locks and audit on disk.
func TestMemoryWithDirBehaviours(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir, BackendMemory)
	storeBehaviours(t, s, "md-")
	testNoTokenInDir(t, s, dir, "md-")
}

// testNoTokenInDir saves pairs, records events, and then greps every file
// under dir for any token value.
func testNoTokenInDir(t *testing.T, s *Store, dir, prefix string) {
	t.Helper()
	ctx := context.Background()
	var tokens []string
	for i, n := range []string{prefix + "leak-a", prefix + "leak-b", prefix + "leak-c"} {
		t.Cleanup(func() { _ = s.Delete(ctx, n) })
		sec := testSecrets(n, i)
		tokens = append(tokens, sec.AccessToken, sec.RefreshToken, sec.FrontendToken)
		se := testSession(n, sec, testNow)
		if err := s.Put(ctx, se, sec); err != nil {
			t.Fatalf("Put %s: %v", n, err)
		}
		se.LastError = "HTTP 401"
		if err := s.PutMeta(ctx, se); err != nil {
			t.Fatal(err)
		}
		if err := s.Record(auth.Event{Session: n, Kind: auth.EventRefreshed, OldFP: auth.Fingerprint(sec.AccessToken), NewFP: auth.Fingerprint(sec.RefreshToken)}); err != nil {
			t.Fatal(err)
		}
		unlock, err := s.Lock(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		unlock()
	}
	if err := s.Delete(ctx, prefix+"leak-c"); err != nil {
		t.Fatal(err)
	}
	files := 0
	err := filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		files++
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, tok := range tokens {
			if bytes.Contains(data, []byte(tok)) {
				t.Errorf("%s contains a token value (fingerprint %s)", path, auth.Fingerprint(tok))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 3 {
		t.Fatalf("only %d files under %s: expected sessions.json, events.jsonl and lock files", files, dir)
	}
}

func TestFileListSortedAndStamp(t *testing.T) {
	testListSortedAndStamp(t, openDir(t, t.TempDir(), BackendFile))
}

func TestFileLockExcludesGoroutines(t *testing.T) {
	testLockExcludesGoroutines(t, openDir(t, t.TempDir(), BackendFile))
}

// Two Stores on one directory (as two processes would be) exclude each
// other's session locks and never lose each other's metadata updates.
func TestFileTwoStoresShareIndexAndLocks(t *testing.T) {
	dir := t.TempDir()
	a, b := openDir(t, dir, BackendFile), openDir(t, dir, BackendFile)
	ctx := context.Background()
	unlock, err := a.Lock(ctx, "shared")
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, err = b.Lock(short, "shared")
	cancel()
	if !errors.Is(err, auth.ErrLockTimeout) {
		t.Fatalf("second store's Lock = %v, want ErrLockTimeout", err)
	}
	unlock()
	unlockB, err := b.Lock(ctx, "shared")
	if err != nil {
		t.Fatalf("Lock after release: %v", err)
	}
	unlockB()

	var wg sync.WaitGroup
	for w, s := range []*Store{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 15; i++ {
				n := fmt.Sprintf("w%d-%02d", w, i)
				sec := testSecrets(n, i)
				if err := s.Put(ctx, testSession(n, sec, testNow), sec); err != nil {
					t.Errorf("Put %s: %v", n, err)
				}
			}
		}()
	}
	wg.Wait()
	for _, s := range []*Store{a, b} {
		list, err := s.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 60 {
			t.Fatalf("List has %d sessions, want 60: concurrent updates were lost", len(list))
		}
		for _, se := range list {
			if sec, err := s.Secrets(ctx, se.Name); err != nil || auth.Fingerprint(sec.AccessToken) != se.AccessFP {
				t.Fatalf("Secrets(%s) = %v, %v; metadata fingerprint %s", se.Name, sec, err, se.AccessFP)
			}
		}
	}
}

func TestFileSecretsRefusedWhenReadableByOthers(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir, BackendFile)
	ctx := context.Background()
	sec := testSecrets("perm", 1)
	if err := s.Put(ctx, testSession("perm", sec, testNow), sec); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, secretsDirName, "perm.json")
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := s.Secrets(ctx, "perm")
	if !errors.Is(err, ErrInsecureFile) || !errors.Is(err, auth.ErrStoreUnavailable) || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("Secrets from a 0644 file = %v, want ErrInsecureFile telling to chmod 600", err)
	}
	if err := s.Put(ctx, testSession("perm", sec, testNow), sec); !errors.Is(err, ErrInsecureFile) {
		t.Fatalf("Put into a 0644 file = %v, want ErrInsecureFile", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Secrets(ctx, "perm"); err != nil || got.Tokens() != sec {
		t.Fatalf("Secrets after chmod = %v, %v", got, err)
	}
}

// A damaged pair is a session that needs a new login (the message names
// the file and never quotes it); other sessions are untouched, and a new
// login over it keeps the damaged file aside.
func TestFileSecretsDamagedNotOverwritten(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir, BackendFile)
	path := filepath.Join(dir, secretsDirName, "x.json")
	junk := []byte(`{"version":1,"access_token":"tok-in-damaged-file"`)
	if err := os.WriteFile(path, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err := s.Secrets(ctx, "x")
	if !errors.Is(err, auth.ErrSecretUnusable) || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "tok-in-damaged") {
		t.Fatalf("Secrets from damaged file = %v", err)
	}
	sec := testSecrets("y", 1)
	if err := s.Put(ctx, testSession("y", sec, testNow), sec); err != nil {
		t.Fatalf("Put of another session beside a damaged pair: %v", err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, junk) {
		t.Fatal("damaged secrets file was changed")
	}
	sec = testSecrets("x", 2)
	if err := s.Put(ctx, testSession("x", sec, testNow), sec); err != nil {
		t.Fatalf("a new login over a damaged pair: %v", err)
	}
	if got, _ := os.ReadFile(path + ".damaged"); !bytes.Equal(got, junk) {
		t.Fatal("the damaged pair was not kept aside before the new one replaced it")
	}
	if got, err := s.Secrets(ctx, "x"); err != nil || got.Tokens() != sec {
		t.Fatalf("Secrets after the new login = %v, %v", got, err)
	}
}

// A legacy sessions.json that is damaged is refused at Open, kept as it is
// with a copy aside, and nothing is migrated until the user moves it away.
func TestMetaDamagedKeptAndReported(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, metaFileName)
	for _, c := range []struct {
		desc string
		data string
	}{
		{"truncated", `{"version":1,"sessions":[{"name":"a"`},
		{"not json", "hello\n"},
		{"no version", `{"sessions":[]}`},
		{"bad name", `{"version":1,"sessions":[{"name":"../etc"}]}`},
		{"duplicate", `{"version":1,"sessions":[{"name":"a"},{"name":"a"}]}`},
	} {
		t.Run(c.desc, func(t *testing.T) {
			for _, m := range mustGlob(t, path+".*") {
				_ = os.Remove(m)
			}
			if err := os.WriteFile(path, []byte(c.data), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Open(Options{ConfigDir: dir, Backend: BackendMemory})
			if !errors.Is(err, ErrMetadataDamaged) {
				t.Fatalf("Open = %v, want ErrMetadataDamaged", err)
			}
			copies := mustGlob(t, path+".damaged-*")
			if len(copies) != 1 {
				t.Fatalf("%d copies kept aside, want 1: %v", len(copies), copies)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), copies[0]) {
				t.Fatalf("error does not name both paths: %v", err)
			}
			if got, _ := os.ReadFile(copies[0]); string(got) != c.data {
				t.Fatalf("copy differs from the damaged file: %q", got)
			}
			if got, _ := os.ReadFile(path); string(got) != c.data {
				t.Fatalf("damaged index was changed to %q", got)
			}
			// Moving it away, as the message says, starts empty.
			if err := os.Rename(path, path+".moved"); err != nil {
				t.Fatal(err)
			}
			s := openDir(t, dir, BackendMemory)
			if list, err := s.List(context.Background()); err != nil {
				t.Fatalf("List after moving the file away = %v, %v", list, err)
			}
		})
	}
}

// A damaged record is kept aside and refused by name; the other sessions
// still work, and List says which file to fix.
func TestMetaDamagedRecord(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir, BackendMemory)
	ctx := context.Background()
	for _, n := range []string{"good", "bad"} {
		if err := s.PutMeta(ctx, testSession(n, testSecrets(n, 1), testNow)); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, recordsDirName, "bad.json")
	if err := os.WriteFile(path, []byte(`{"version":2,"session":{"na`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "bad"); !errors.Is(err, ErrMetadataDamaged) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Get of a damaged record = %v", err)
	}
	if _, err := os.Stat(path + ".damaged"); err != nil {
		t.Fatalf("no copy kept aside: %v", err)
	}
	if _, err := s.Get(ctx, "good"); err != nil {
		t.Fatalf("Get of another session: %v", err)
	}
	if _, err := s.List(ctx); !errors.Is(err, ErrMetadataDamaged) || !strings.Contains(err.Error(), path) {
		t.Fatalf("List with a damaged record = %v", err)
	}
	if err := s.PutMeta(ctx, testSession("bad", testSecrets("bad", 1), testNow)); !errors.Is(err, ErrMetadataDamaged) {
		t.Fatalf("PutMeta over a damaged record = %v, want it refused", err)
	}
}

func TestMetaNewerVersionRefused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, metaFileName)
	data := `{"version":2,"sessions":[{"name":"a","future_field":true}]}`
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Options{ConfigDir: dir, Backend: BackendMemory}); !errors.Is(err, ErrMetadataTooNew) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "upgrade") {
		t.Fatalf("Open = %v, want ErrMetadataTooNew naming the file and saying upgrade", err)
	}
	if got, _ := os.ReadFile(path); string(got) != data {
		t.Fatalf("newer index was changed to %q", got)
	}
	// A record written by a newer tokentop is refused by name too.
	dir2 := t.TempDir()
	s := openDir(t, dir2, BackendMemory)
	rec := filepath.Join(dir2, recordsDirName, "a.json")
	if err := os.WriteFile(rec, []byte(`{"version":3,"session":{"name":"a"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(context.Background(), "a"); !errors.Is(err, ErrMetadataTooNew) || !strings.Contains(err.Error(), rec) {
		t.Fatalf("Get of a newer record = %v", err)
	}
}

// A write that dies between writing its temp file and the rename leaves
// the previous record in force; the next writer reuses the leftover.
func TestMetaCrashBeforeRenameKeepsPrevious(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir, BackendMemory)
	ctx := context.Background()
	if err := s.PutMeta(ctx, testSession("before", testSecrets("before", 1), testNow)); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, recordsDirName, ".after.json.tmp")
	if err := os.WriteFile(stale, []byte(`{"version":2,"session":{"na`), 0o600); err != nil {
		t.Fatal(err)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 1 || list[0].Name != "before" {
		t.Fatalf("List with a half-written temp file = %v, %v", list, err)
	}
	if err := s.PutMeta(ctx, testSession("after", testSecrets("after", 1), testNow)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stale temp file not cleaned up: %v", err)
	}
}

// A writer killed with SIGKILL at arbitrary points of a save loop leaves an
// index that loads, with every session it had saved before.
func TestMetaWriterKilledMidSave(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir, BackendMemory)
	ctx := context.Background()
	// A big index makes each save take long enough to be interrupted.
	seedIndex(t, s, 600)
	for round := 0; round < 6; round++ {
		c := startChild(t, "save-loop", dir, "")
		var last int
		for k := 0; k < 2+round*3; k++ {
			fields := strings.Fields(c.line(t))
			last, _ = strconv.Atoi(fields[len(fields)-1])
		}
		c.kill()
		list, err := s.List(ctx)
		if err != nil {
			t.Fatalf("round %d: index unreadable after the writer was killed: %v", round, err)
		}
		if len(list) < 600 {
			t.Fatalf("round %d: %d sessions, want at least the 600 saved before", round, len(list))
		}
		// The last save the child reported is in the file (or a later one).
		want := fmt.Sprintf("loop-%03d", last%100)
		se, err := s.Get(ctx, want)
		if err != nil || se.Refreshes < last {
			t.Fatalf("round %d: %s = %+v, %v; want refreshes >= %d", round, want, se.Refreshes, err, last)
		}
	}
}

func mustGlob(t *testing.T, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Updating one session writes its record and no other: the cost of a save
// does not grow with the number of sessions, and a writer of one session
// can never clobber another's.
func TestMetaUpdateTouchesOneRecord(t *testing.T) {
	dir := t.TempDir()
	a, b := openDir(t, dir, BackendMemory), openDir(t, dir, BackendMemory)
	ctx := context.Background()
	for _, n := range []string{"one", "two"} {
		if err := a.PutMeta(ctx, testSession(n, testSecrets(n, 1), testNow)); err != nil {
			t.Fatal(err)
		}
	}
	before, err := os.Stat(filepath.Join(dir, recordsDirName, "two.json"))
	if err != nil {
		t.Fatal(err)
	}
	se := testSession("one", testSecrets("one", 2), testNow)
	se.Refreshes = 7
	if err := b.PutMeta(ctx, se); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(filepath.Join(dir, recordsDirName, "two.json"))
	if err != nil || !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
		t.Fatalf("saving one rewrote two's record (%v)", err)
	}
	if got, err := a.Get(ctx, "one"); err != nil || got.Refreshes != 7 {
		t.Fatalf("a reads one = %+v, %v; want b's update", got.Refreshes, err)
	}
}
