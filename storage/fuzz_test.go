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

// FuzzMetaIndex: whatever sessions.json holds, listing never panics; it
// either loads or is refused as damaged or too new, and a refused file is
// never changed by a write. A file that loads survives a save of one more
// session with every entry it had.
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
		s, err := Open(Options{ConfigDir: dir, Backend: BackendMemory})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		before, err := s.List(ctx)
		if err != nil {
			if !errors.Is(err, ErrMetadataDamaged) && !errors.Is(err, ErrMetadataTooNew) {
				t.Fatalf("List = %v, want ok, damaged or too new", err)
			}
			if perr := s.PutMeta(ctx, auth.Session{Name: "zz-new"}); perr == nil {
				t.Fatal("a refused index was written to")
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
				t.Fatal("a refused index was changed")
			}
			return
		}
		if err := s.PutMeta(ctx, auth.Session{Name: "zz-new"}); err != nil {
			t.Fatalf("PutMeta on a loadable index: %v", err)
		}
		after, err := s.List(ctx)
		if err != nil {
			t.Fatalf("index unreadable after a save: %v", err)
		}
		names := map[string]bool{}
		for _, se := range after {
			names[se.Name] = true
		}
		for _, se := range before {
			if !names[se.Name] {
				t.Fatalf("session %q lost by a save", se.Name)
			}
		}
		if !names["zz-new"] {
			t.Fatal("saved session missing")
		}
	})
}
