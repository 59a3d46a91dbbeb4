package storage

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tokentop/tokentop/auth"
)

// FuzzMetaIndex: whatever a legacy sessions.json holds, opening the store
// never panics; it either migrates every session into its own record (and
// keeps the file aside) or is refused as damaged or too new, leaving the
// file unchanged.
func FuzzMetaIndex(f *testing.F) {
	for _, seed := range []string{
		`{"version": 1, "sessions": []}`,
		`{"version": 1, "sessions": [` + "\n" + `{"name":"a","state":"ok"}]}`,
		`{"version": 2, "sessions": []}`,
		`{"version": 0}`,
		`{"version": 1, "sessions": [{"name":"a"},{"name":"a"}]}`,
		`{"version": 1, "sessions": [{"name":"../x"}]}`,
		`{"version": 1, "sessions": null}`,
		`{"version": 1, "sessions": [{"name":"a","access_expiry":"not a time"}]}`,
		`{"version":1,"sessions":[{"name":"a"`,
		`null`,
		``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, metaFileName)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		want, _, perr := (&legacyIndex{path: path, trust: currentTrust()}).read()
		s, err := Open(Options{ConfigDir: dir, Backend: BackendMemory})
		if err != nil {
			if !errors.Is(err, ErrMetadataDamaged) && !errors.Is(err, ErrMetadataTooNew) {
				t.Fatalf("Open = %v, want ok, damaged or too new", err)
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
				t.Fatal("a refused index was changed")
			}
			return
		}
		if perr != nil {
			t.Fatalf("Open migrated an index the reader refuses: %v", perr)
		}
		ctx := context.Background()
		after, err := s.List(ctx)
		if err != nil {
			t.Fatalf("records unreadable after the migration: %v", err)
		}
		if len(after) != len(want) {
			t.Fatalf("migrated %d sessions of %d", len(after), len(want))
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the migrated index is still in place: %v", err)
		}
		if kept := mustGlobT(t, path+".migrated-*"); len(kept) != 1 {
			t.Fatalf("the migrated index was not kept aside: %v", kept)
		}
		if err := s.PutMeta(ctx, auth.Session{Name: "zz-new"}); err != nil {
			t.Fatalf("PutMeta after the migration: %v", err)
		}
	})
}

func mustGlobT(t testing.TB, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
