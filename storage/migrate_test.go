package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokentop/tokentop/auth"
)

// writeLegacy lays out a config dir as older versions did: one
// sessions.json, one secrets.json and one events.jsonl for every session.
func writeLegacy(t *testing.T, dir string, names ...string) map[string]auth.Secrets {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	var sessions []auth.Session
	secrets := map[string]storedSecrets{}
	want := map[string]auth.Secrets{}
	var events strings.Builder
	for i, n := range names {
		sec := testSecrets(n, i)
		want[n] = sec.Tokens()
		se := testSession(n, sec, testNow)
		se.SecretsBackend = BackendFile
		sessions = append(sessions, se)
		secrets[n] = toStored(sec)
		line, _ := json.Marshal(auth.Event{Time: testNow, Session: n, Kind: auth.EventLogin, Status: i})
		events.Write(append(line, '\n'))
	}
	meta, _ := json.Marshal(map[string]any{"version": 1, "sessions": sessions})
	sec, _ := json.Marshal(secretsDoc{Version: 1, Secrets: secrets})
	for name, data := range map[string][]byte{metaFileName: meta, secretsFileName: sec, auditFileName: []byte(events.String())} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return want
}

// An existing sessions.json, secrets.json and events.jsonl move into
// per-session files at the first Open, once; the old files are kept aside.
func TestMigrateLegacyFiles(t *testing.T) {
	dir := t.TempDir()
	want := writeLegacy(t, dir, "alpha", "beta", "gamma")
	s := openDir(t, dir, BackendFile)
	ctx := context.Background()
	list, err := s.List(ctx)
	if err != nil || len(list) != 3 {
		t.Fatalf("List after migration = %d sessions, %v", len(list), err)
	}
	for name, sec := range want {
		got, err := s.Secrets(ctx, name)
		if err != nil || got.Tokens() != sec {
			t.Fatalf("%s: secrets after migration = %v, %v", name, got, err)
		}
		if ev, err := s.Events(name, 0); err != nil || len(ev) != 1 || ev[0].Kind != auth.EventLogin {
			t.Fatalf("%s: history after migration = %+v, %v", name, ev, err)
		}
	}
	for _, f := range []string{metaFileName, secretsFileName, auditFileName} {
		if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
			t.Fatalf("%s is still in place after the migration: %v", f, err)
		}
		if kept := mustGlob(t, filepath.Join(dir, f+".migrated-*")); len(kept) != 1 {
			t.Fatalf("%s was not kept aside: %v", f, kept)
		}
	}
	// A second Open has nothing to do and changes nothing.
	if _, err := Open(Options{ConfigDir: dir, Backend: BackendFile}); err != nil {
		t.Fatal(err)
	}
	if ev, _ := s.Events("alpha", 0); len(ev) != 1 {
		t.Fatalf("history duplicated by a second Open: %d events", len(ev))
	}
}

// A migration cut short (records written, sessions.json not yet moved
// aside) is finished by the next Open, and a record changed since is kept.
func TestMigrateAfterACrash(t *testing.T) {
	dir := t.TempDir()
	writeLegacy(t, dir, "alpha", "beta")
	// As if a first migration wrote alpha's record, then the process died
	// and alpha was refreshed by a process that saw the new layout.
	if err := os.MkdirAll(filepath.Join(dir, recordsDirName), 0o700); err != nil {
		t.Fatal(err)
	}
	se := testSession("alpha", testSecrets("alpha", 9), testNow)
	se.Refreshes = 42
	data, _ := json.Marshal(recordDoc{Version: recordVersion, Session: &se})
	if err := os.WriteFile(filepath.Join(dir, recordsDirName, "alpha.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	s := openDir(t, dir, BackendFile)
	ctx := context.Background()
	got, err := s.Get(ctx, "alpha")
	if err != nil || got.Refreshes != 42 {
		t.Fatalf("alpha after the finished migration = %d refreshes, %v; want the newer record kept", got.Refreshes, err)
	}
	if _, err := s.Get(ctx, "beta"); err != nil {
		t.Fatalf("beta not migrated: %v", err)
	}
}

// The migration of many sessions writes each once; the benchmark-sized
// case is in BenchmarkMigrate.
func TestMigrateManySessions(t *testing.T) {
	dir := t.TempDir()
	names := make([]string, 200)
	for i := range names {
		names[i] = fmt.Sprintf("s%03d", i)
	}
	writeLegacy(t, dir, names...)
	s := openDir(t, dir, BackendFile)
	if list, err := s.List(context.Background()); err != nil || len(list) != len(names) {
		t.Fatalf("List = %d, %v", len(list), err)
	}
}
