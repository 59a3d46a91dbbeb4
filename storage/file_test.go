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
		dir:                                 0o700 | os.ModeDir,
		filepath.Join(dir, secretsFileName): 0o600,
		filepath.Join(dir, metaFileName):    0o600,
		filepath.Join(dir, locksDirName):    0o700 | os.ModeDir,
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
	path := filepath.Join(dir, secretsFileName)
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

func TestFileSecretsDamagedNotOverwritten(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir, BackendFile)
	path := filepath.Join(dir, secretsFileName)
	junk := []byte(`{"version":1,"secrets":{"x":{"access_token":"tok-in-damaged-file"`)
	if err := os.WriteFile(path, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err := s.Secrets(ctx, "x")
	if !errors.Is(err, auth.ErrStoreUnavailable) || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "tok-in-damaged") {
		t.Fatalf("Secrets from damaged file = %v", err)
	}
	sec := testSecrets("y", 1)
	if err := s.Put(ctx, testSession("y", sec, testNow), sec); err == nil {
		t.Fatal("Put over a damaged secrets file succeeded")
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, junk) {
		t.Fatal("damaged secrets file was changed")
	}
}

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
			for _, m := range mustGlob(t, path+".damaged-*") {
				_ = os.Remove(m)
			}
			if err := os.WriteFile(path, []byte(c.data), 0o600); err != nil {
				t.Fatal(err)
			}
			s := openDir(t, dir, BackendMemory) // Open never reads the index
			ctx := context.Background()
			_, err := s.List(ctx)
			if !errors.Is(err, ErrMetadataDamaged) {
				t.Fatalf("List = %v, want ErrMetadataDamaged", err)
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
			if _, err := s.Get(ctx, "a"); !errors.Is(err, ErrMetadataDamaged) {
				t.Fatalf("Get = %v, want ErrMetadataDamaged", err)
			}
			sec := testSecrets("n", 1)
			if err := s.Put(ctx, testSession("n", sec, testNow), sec); !errors.Is(err, ErrMetadataDamaged) {
				t.Fatalf("Put = %v, want ErrMetadataDamaged", err)
			}
			if err := s.Delete(ctx, "a"); !errors.Is(err, ErrMetadataDamaged) {
				t.Fatalf("Delete = %v, want ErrMetadataDamaged", err)
			}
			if got, _ := os.ReadFile(path); string(got) != c.data {
				t.Fatalf("damaged index was changed to %q", got)
			}
			if n := len(mustGlob(t, path+".damaged-*")); n != 1 {
				t.Fatalf("%d copies after repeated reads, want still 1", n)
			}
			// Moving it away, as the message says, starts an empty index.
			if err := os.Rename(path, path+".moved"); err != nil {
				t.Fatal(err)
			}
			if list, err := s.List(ctx); err != nil || len(list) != 0 {
				t.Fatalf("List after moving the file away = %v, %v", list, err)
			}
			if err := s.PutMeta(ctx, testSession("n", sec, testNow)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestMetaNewerVersionRefused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, metaFileName)
	data := `{"version":2,"sessions":[{"name":"a","future_field":true}]}`
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	s := openDir(t, dir, BackendMemory)
	ctx := context.Background()
	if _, err := s.List(ctx); !errors.Is(err, ErrMetadataTooNew) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "upgrade") {
		t.Fatalf("List = %v, want ErrMetadataTooNew naming the file and saying upgrade", err)
	}
	if err := s.PutMeta(ctx, testSession("b", testSecrets("b", 1), testNow)); !errors.Is(err, ErrMetadataTooNew) {
		t.Fatalf("PutMeta = %v, want ErrMetadataTooNew", err)
	}
	if got, _ := os.ReadFile(path); string(got) != data {
		t.Fatalf("newer index was changed to %q", got)
	}
}

// A write that dies between writing its temp file and the rename leaves
// the previous index in force; the next writer cleans the leftover up.
func TestMetaCrashBeforeRenameKeepsPrevious(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir, BackendMemory)
	ctx := context.Background()
	if err := s.PutMeta(ctx, testSession("before", testSecrets("before", 1), testNow)); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, tempPrefix(metaFileName)+"12345")
	if err := os.WriteFile(stale, []byte(`{"version":1,"sessions":[{"na`), 0o600); err != nil {
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
	for i := 0; i < 6; i++ {
		err := s.meta.update(ctx, func(m map[string]auth.Session) (bool, error) {
			for j := 0; j < 100; j++ {
				n := fmt.Sprintf("bulk-%02d-%03d", i, j)
				m[n] = testSession(n, testSecrets(n, 0), testNow)
			}
			return true, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
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

// Two saves within one tick of the file system's coarse clock can leave the
// same size and mtime, and the second may reuse the inode the first freed;
// then the stat stamp says "unchanged" although another process replaced
// the index. A read-modify-write must still start from the bytes on disk,
// or it silently drops the other process's update.
func TestMetaUpdateSurvivesAStampCollision(t *testing.T) {
	dir := t.TempDir()
	a, b := openDir(t, dir, BackendMemory), openDir(t, dir, BackendMemory)
	ctx := context.Background()
	if err := a.PutMeta(ctx, testSession("one", testSecrets("one", 1), testNow)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.List(ctx); err != nil { // a caches the index with "one"
		t.Fatal(err)
	}
	if err := b.PutMeta(ctx, testSession("two", testSecrets("two", 1), testNow)); err != nil {
		t.Fatal(err)
	}
	// Make a's cache believe the new file is the one it parsed.
	fm := a.meta.(*fileMeta)
	st, err := fm.stamp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fm.mu.Lock()
	fm.cacheStamp = st
	fm.mu.Unlock()

	if err := a.PutMeta(ctx, testSession("three", testSecrets("three", 1), testNow)); err != nil {
		t.Fatal(err)
	}
	list, err := b.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, se := range list {
		names = append(names, se.Name)
	}
	if strings.Join(names, ",") != "one,three,two" {
		t.Fatalf("index holds %v after a write from a stale cache, want one, three and two", names)
	}
}
