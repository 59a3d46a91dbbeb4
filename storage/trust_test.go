//go:build unix

package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/tokentop/tokentop/auth"
)

// wantUntrusted fails unless err is a trust refusal (exit 4) naming path
// and saying what to run.
func wantUntrusted(t *testing.T, what string, err error, path, fix string) {
	t.Helper()
	if !errors.Is(err, ErrUntrusted) || !errors.Is(err, auth.ErrStoreUnavailable) {
		t.Fatalf("%s = %v, want an error matching ErrUntrusted and auth.ErrStoreUnavailable", what, err)
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), fix) {
		t.Fatalf("%s = %v, want it to name %s and say %q", what, err, path, fix)
	}
}

// plantTarget is a file elsewhere that a planted symlink points to; it
// must come out of every test unchanged.
func plantTarget(t *testing.T) (string, []byte) {
	t.Helper()
	victim := filepath.Join(t.TempDir(), "victim")
	content := []byte("someone else's file\n")
	if err := os.WriteFile(victim, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return victim, content
}

func unchanged(t *testing.T, path string, want []byte) {
	t.Helper()
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%s was changed through the symlink: %q, %v", path, got, err)
	}
}

func TestTrustSymlinkedEventsRefused(t *testing.T) {
	log := filepath.Join(auditDirName, "x"+auditFileSuffix)
	for _, name := range []string{log, log + ".1"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s := openDir(t, dir, BackendMemory)
			victim, content := plantTarget(t)
			link := filepath.Join(dir, name)
			if err := os.Symlink(victim, link); err != nil {
				t.Fatal(err)
			}
			if name == log {
				err := s.Record(auth.Event{Session: "x", Kind: auth.EventRefreshed})
				wantUntrusted(t, "Record with a symlinked log", err, link, "rm "+link)
			}
			_, err := s.Events("x", 0)
			wantUntrusted(t, "Events with a symlinked "+name, err, link, "rm "+link)
			unchanged(t, victim, content)
		})
	}
}

func TestTrustSymlinkedLockFilesRefused(t *testing.T) {
	ctx := context.Background()
	sec := testSecrets("lk", 1)
	for _, c := range []struct {
		file string
		op   func(s *Store) error
	}{
		{filepath.Join(locksDirName, "lk.lock"), func(s *Store) error {
			unlock, err := s.Lock(ctx, "lk")
			if err == nil {
				unlock()
			}
			return err
		}},
		{filepath.Join(recordsDirName, ".lk.lock"), func(s *Store) error { return s.PutMeta(ctx, testSession("lk", sec, testNow)) }},
		{filepath.Join(secretsDirName, "lk.json"), func(s *Store) error { return s.Put(ctx, testSession("lk", sec, testNow), sec) }},
	} {
		t.Run(c.file, func(t *testing.T) {
			dir := t.TempDir()
			s := openDir(t, dir, BackendFile)
			victim, content := plantTarget(t)
			link := filepath.Join(dir, c.file)
			if err := os.Symlink(victim, link); err != nil {
				t.Fatal(err)
			}
			wantUntrusted(t, "locking through "+c.file, c.op(s), link, "rm "+link)
			unchanged(t, victim, content)
			// A dangling link is not created through either.
			if err := os.Remove(victim); err != nil {
				t.Fatal(err)
			}
			wantUntrusted(t, "locking through a dangling "+c.file, c.op(s), link, "rm "+link)
			if _, err := os.Lstat(victim); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("the dangling link's target was created: %v", err)
			}
		})
	}
}

func TestTrustSymlinkedIndexAndSecretsRefused(t *testing.T) {
	ctx := context.Background()
	record := filepath.Join(recordsDirName, "x.json")
	secret := filepath.Join(secretsDirName, "x.json")
	for _, c := range []struct {
		file string
		op   func(s *Store) error
	}{
		{record, func(s *Store) error { _, err := s.List(ctx); return err }},
		{record, func(s *Store) error { _, err := s.Get(ctx, "x"); return err }},
		{secret, func(s *Store) error { _, err := s.Secrets(ctx, "x"); return err }},
	} {
		t.Run(c.file, func(t *testing.T) {
			dir := t.TempDir()
			s := openDir(t, dir, BackendFile)
			// A planted record pointing the session at someone else's server.
			planted := filepath.Join(t.TempDir(), "planted.json")
			doc := `{"version":2,"session":{"name":"x","endpoints":{"oauth_url":"https://evil.example/oauth"}}}`
			if c.file == secret {
				doc = `{"version":1,"access_token":"a","refresh_token":"r"}`
			}
			if err := os.WriteFile(planted, []byte(doc), 0o600); err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(dir, c.file)
			if err := os.Symlink(planted, link); err != nil {
				t.Fatal(err)
			}
			wantUntrusted(t, "reading a symlinked "+c.file, c.op(s), link, "rm "+link)
		})
	}
	// A legacy sessions.json planted as a symlink is not migrated.
	dir := t.TempDir()
	planted := filepath.Join(t.TempDir(), "planted.json")
	if err := os.WriteFile(planted, []byte(`{"version":1,"sessions":[{"name":"x"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, metaFileName)
	if err := os.Symlink(planted, link); err != nil {
		t.Fatal(err)
	}
	_, err := Open(Options{ConfigDir: dir, Backend: BackendFile})
	wantUntrusted(t, "migrating a symlinked sessions.json", err, link, "rm "+link)
}

func TestTrustGroupWritableFileRefused(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir, BackendFile)
	ctx := context.Background()
	sec := testSecrets("gw", 1)
	if err := s.Put(ctx, testSession("gw", sec, testNow), sec); err != nil {
		t.Fatal(err)
	}
	if err := s.Record(auth.Event{Session: "gw", Kind: auth.EventRefreshed}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		file string
		op   func() error
	}{
		{filepath.Join(recordsDirName, "gw.json"), func() error { _, err := s.List(ctx); return err }},
		{filepath.Join(auditDirName, "gw"+auditFileSuffix), func() error { return s.Record(auth.Event{Session: "gw", Kind: auth.EventRefreshed}) }},
		{filepath.Join(recordsDirName, ".gw.lock"), func() error { return s.PutMeta(ctx, testSession("gw", sec, testNow)) }},
	} {
		path := filepath.Join(dir, c.file)
		if err := os.Chmod(path, 0o666); err != nil {
			t.Fatal(err)
		}
		wantUntrusted(t, c.file+" with mode 0666", c.op(), path, "chmod 600 "+path)
		if err := os.Chmod(path, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := c.op(); err != nil {
			t.Fatalf("%s after chmod 600: %v", c.file, err)
		}
	}
}

func TestTrustWorldWritableDirRefused(t *testing.T) {
	for _, sub := range []string{"", locksDirName} {
		t.Run("dir"+sub, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "cfg")
			if err := os.MkdirAll(filepath.Join(dir, locksDirName), 0o700); err != nil {
				t.Fatal(err)
			}
			bad := filepath.Join(dir, sub)
			if err := os.Chmod(bad, 0o777); err != nil {
				t.Fatal(err)
			}
			_, err := Open(Options{ConfigDir: dir, Backend: BackendFile})
			wantUntrusted(t, "Open of a 0777 dir", err, filepath.Clean(bad), "chmod 700 "+filepath.Clean(bad))
			if fi, _ := os.Stat(bad); fi.Mode().Perm() != 0o777 {
				t.Fatalf("a refused dir was changed to %v", fi.Mode())
			}
		})
	}
}

func TestTrustOpenDirWarnsAndTightens(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cfg")
	locks := filepath.Join(dir, locksDirName)
	if err := os.MkdirAll(locks, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dir, locks} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s := openDir(t, dir, BackendFile)
	w := s.Warnings()
	if len(w) != 2 || !strings.Contains(w[0], dir) || !strings.Contains(w[0], "0755") || !strings.Contains(w[1], locks) {
		t.Fatalf("Warnings = %q, want one for %s and one for %s, naming the old mode", w, dir, locks)
	}
	for _, d := range []string{dir, locks} {
		if fi, _ := os.Stat(d); fi.Mode().Perm() != 0o700 {
			t.Fatalf("%s has mode %v after Open, want 0700", d, fi.Mode())
		}
	}
	// Already tight: nothing to say.
	if w := openDir(t, dir, BackendFile).Warnings(); len(w) != 0 {
		t.Fatalf("second Open warned %q", w)
	}
}

// Tests may run as root (CI does), so a foreign owner is played by
// changing the uid the rule expects rather than by chown.
func TestTrustForeignOwnerRefused(t *testing.T) {
	dir := t.TempDir()
	other := trust{uid: os.Geteuid() + 1}
	_, err := openWith(Options{ConfigDir: dir, Backend: BackendFile}, other)
	wantUntrusted(t, "Open of a dir owned by another uid", err, dir, "chown")

	s := openDir(t, dir, BackendFile)
	ctx := context.Background()
	sec := testSecrets("fo", 1)
	if err := s.Put(ctx, testSession("fo", sec, testNow), sec); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{filepath.Join(recordsDirName, "fo.json"), filepath.Join(secretsDirName, "fo.json")} {
		path := filepath.Join(dir, f)
		_, err := other.readFile(path)
		wantUntrusted(t, "reading "+f+" owned by another uid", err, path, "chown")
	}
	lock := filepath.Join(dir, recordsDirName, ".fo.lock")
	unlock, err := other.lockFile(ctx, newProcLocks(), lock)
	if err == nil {
		unlock()
	}
	wantUntrusted(t, "locking a lock file owned by another uid", err, lock, "chown")
}

// The attack from the issue, with a real foreign owner: only root can
// give a file away, so this runs where the tests run as root (CI).
func TestTrustPlantedDirOfNobodyRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown to nobody; TestTrustForeignOwnerRefused covers the rule")
	}
	dir := filepath.Join(t.TempDir(), "cfg")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	planted := filepath.Join(dir, metaFileName)
	if err := os.WriteFile(planted, []byte(`{"version":1,"sessions":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, planted} {
		if err := os.Chown(p, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := Open(Options{ConfigDir: dir, Backend: BackendFile})
	wantUntrusted(t, "Open of nobody's dir", err, dir, "chown")
}

// A symlinked config dir is followed (as ssh follows ~/.ssh) and its
// target checked; a symlinked locks dir inside it is refused.
func TestTrustSymlinkedConfigDir(t *testing.T) {
	target := filepath.Join(t.TempDir(), "real")
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	s := openDir(t, link, BackendFile)
	if err := s.Record(auth.Event{Session: "x", Kind: auth.EventRefreshed}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(target, auditDirName, "x"+auditFileSuffix)); err != nil {
		t.Fatalf("the audit log is not in the link's target: %v", err)
	}
	if err := os.Chmod(target, 0o777); err != nil {
		t.Fatal(err)
	}
	_, err := Open(Options{ConfigDir: link, Backend: BackendFile})
	wantUntrusted(t, "Open through a link to a 0777 dir", err, target, "chmod 700")

	dir := t.TempDir()
	elsewhere := t.TempDir()
	if err := os.Symlink(elsewhere, filepath.Join(dir, locksDirName)); err != nil {
		t.Fatal(err)
	}
	_, err = Open(Options{ConfigDir: dir, Backend: BackendFile})
	wantUntrusted(t, "Open with a symlinked locks dir", err, filepath.Join(dir, locksDirName), "rm ")
}

// Everything tokentop creates is private: dirs 0700, files 0600.
func TestTrustCreatedModes(t *testing.T) {
	// With no umask to help, the modes must come from tokentop itself.
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "new", "cfg")
	s := openDir(t, dir, BackendFile)
	ctx := context.Background()
	sec := testSecrets("md", 1)
	if err := s.Put(ctx, testSession("md", sec, testNow), sec); err != nil {
		t.Fatal(err)
	}
	unlock, err := s.Lock(ctx, "md")
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	if err := s.Record(auth.Event{Session: "md", Kind: auth.EventRefreshed}); err != nil {
		t.Fatal(err)
	}
	err = filepath.Walk(filepath.Dir(dir), func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		want := os.FileMode(0o600)
		if fi.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", path, fi.Mode().Perm(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// dirFiles, List's reader, applies the same rule as readFile and reads
// the same bytes: it only saves system calls.
func TestDirFilesKeepTheRule(t *testing.T) {
	dir := t.TempDir()
	me := currentTrust()
	write := func(name string, data []byte, mode os.FileMode) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	read := func(tr trust, name string) ([]byte, error) {
		t.Helper()
		d, err := tr.openDirFiles(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		return d.read(name, "", make([]byte, 4<<10))
	}
	small := bytes.Repeat([]byte("r"), 100)
	big := bytes.Repeat([]byte("b"), 10<<10) // more than the buffer given
	for _, c := range []struct {
		name string
		data []byte
	}{{"empty", nil}, {"small", small}, {"big", big}, {"over-fast-limit", bytes.Repeat([]byte("x"), maxFastRead+1)}} {
		write(c.name, c.data, 0o600)
		got, err := read(me, c.name)
		if err != nil || !bytes.Equal(got, c.data) {
			t.Fatalf("read(%s) = %d bytes, %v; want its %d bytes", c.name, len(got), err, len(c.data))
		}
	}

	open := write("open", small, 0o666)
	_, err := read(me, "open")
	wantUntrusted(t, "reading a 0666 file", err, open, "chmod 600 "+open)

	mine := write("mine", small, 0o600)
	_, err = read(trust{uid: os.Geteuid() + 1}, "mine")
	wantUntrusted(t, "reading a file owned by another uid", err, mine, "chown")

	victim, content := plantTarget(t)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	_, err = read(me, "link")
	wantUntrusted(t, "reading through a symlink", err, link, "rm "+link)
	if got, _ := os.ReadFile(victim); !bytes.Equal(got, content) {
		t.Fatal("the symlink's target changed")
	}

	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	_, err = read(me, "sub")
	wantUntrusted(t, "reading a directory", err, sub, "move it away")

	if _, err := read(me, "missing"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("reading a missing file = %v, want os.ErrNotExist", err)
	}

	// A directory that does not exist has no files.
	d, err := me.openDirFiles(filepath.Join(dir, "none"))
	if err != nil {
		t.Fatal(err)
	}
	if names, err := eachNameAll(t, d, 10); err != nil || len(names) != 0 {
		t.Fatalf("names of a missing dir = %v, %v", names, err)
	}
}

// eachNameAll collects what d.eachName hands out in batches of up to
// batch, and fails t on an empty or oversized batch.
func eachNameAll(t *testing.T, d *dirFiles, batch int) ([]string, error) {
	t.Helper()
	var all []string
	err := d.eachName(".json", validName, batch, func(names []string) error {
		if len(names) == 0 || len(names) > batch {
			t.Fatalf("a batch of %d names, want 1 to %d", len(names), batch)
		}
		all = append(all, names...)
		return nil
	})
	return all, err
}

// eachName hands out what Readdirnames lists, filtered, across many
// reads of the directory, in batches; an error from emit stops it.
func TestDirFilesEachName(t *testing.T) {
	dir := t.TempDir()
	var want []string
	for i := range 3000 { // about 300 KB of entries: several getdents reads
		name := fmt.Sprintf("session-%04d-%s", i, strings.Repeat("x", i%40))
		want = append(want, name)
		for _, f := range []string{name + ".json", "." + name + ".lock"} {
			if err := os.WriteFile(filepath.Join(dir, f), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, f := range []string{".hidden.json", "a.json.tmp", "b.json.damaged", "bad name.json", ".json", "c.jso"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	d, err := currentTrust().openDirFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	got, err := eachNameAll(t, d, 128)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("eachName gave %d names, want %d (first: %v)", len(got), len(want), got[:min(3, len(got))])
	}

	d2, err := currentTrust().openDirFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	stop := errors.New("stop")
	calls := 0
	err = d2.eachName(".json", validName, 100, func([]string) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("eachName after emit failed: %v, %d calls; want the emit's error after 1", err, calls)
	}
}

// A records directory swapped for a symlink after Open is not listed
// through it.
func TestTrustSymlinkedRecordsDirNotListed(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir, BackendFile)
	ctx := context.Background()
	sec := testSecrets("a", 1)
	if err := s.Put(ctx, testSession("a", sec, testNow), sec); err != nil {
		t.Fatal(err)
	}
	records := filepath.Join(dir, recordsDirName)
	elsewhere := filepath.Join(t.TempDir(), "records")
	if err := os.Rename(records, elsewhere); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, records); err != nil {
		t.Fatal(err)
	}
	_, err := s.List(ctx)
	wantUntrusted(t, "List through a symlinked records dir", err, records, "rm "+records)
}
