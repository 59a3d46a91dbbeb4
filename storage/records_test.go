package storage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tokentop/tokentop/auth"
)

// ListBatches hands over every session once, in name order, first a small
// batch, then batches of the given size.
func TestListBatches(t *testing.T) {
	s := openDir(t, t.TempDir(), BackendMemory)
	seedIndex(t, s, 25)
	var sizes []int
	var names []string
	err := s.ListBatches(context.Background(), 3, 10, func(b []auth.Session) error {
		sizes = append(sizes, len(b))
		for _, se := range b {
			names = append(names, se.Name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sizes) != 4 || sizes[0] != 3 || sizes[1] != 10 || sizes[3] != 2 {
		t.Fatalf("batch sizes %v, want [3 10 10 2]", sizes)
	}
	for i := 1; i < len(names); i++ {
		if names[i] <= names[i-1] {
			t.Fatalf("not in name order at %d: %s after %s", i, names[i], names[i-1])
		}
	}
	if len(names) != 25 {
		t.Fatalf("%d sessions handed over, want 25", len(names))
	}
}

// Scan hands every session to the visitors once, as List has them (the
// secrets backend filled in), from several goroutines, each with its own
// visitor; damaged records are all reported, in name order, after the rest
// were visited; a visitor's error stops it.
func TestScan(t *testing.T) {
	for _, backend := range []string{BackendFile, BackendMemory} {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			s := openDir(t, dir, backend)
			seedIndex(t, s, 700) // several batches for every worker
			ctx := context.Background()
			want, err := s.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			got := map[string]auth.Session{}
			visitors := 0
			err = s.Scan(ctx, func() func(*auth.Session) error {
				mu.Lock()
				visitors++
				mu.Unlock()
				return func(se *auth.Session) error {
					mu.Lock()
					defer mu.Unlock()
					if _, dup := got[se.Name]; dup {
						t.Errorf("%s visited twice", se.Name)
					}
					got[se.Name] = *se
					return nil
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) || visitors < 1 {
				t.Fatalf("%d sessions visited by %d visitors, want %d", len(got), visitors, len(want))
			}
			for _, w := range want {
				if !reflect.DeepEqual(got[w.Name], w) {
					t.Fatalf("Scan gave %+v, List %+v", got[w.Name], w)
				}
			}

			stop := errors.New("enough")
			var seen atomic.Int64
			err = s.Scan(ctx, func() func(*auth.Session) error {
				return func(*auth.Session) error {
					if seen.Add(1) == 10 {
						return stop
					}
					return nil
				}
			})
			if !errors.Is(err, stop) {
				t.Fatalf("Scan after a visitor failed = %v, want its error", err)
			}

			cancelled, cancel := context.WithCancel(ctx)
			cancel()
			if err := s.Scan(cancelled, func() func(*auth.Session) error {
				return func(*auth.Session) error { return nil }
			}); !errors.Is(err, context.Canceled) && backend == BackendFile {
				t.Fatalf("Scan with its context cancelled = %v", err)
			}
			if backend != BackendFile {
				return
			}
			var paths []string
			for _, name := range []string{"session-00400", "session-00007"} {
				path := filepath.Join(dir, recordsDirName, name+".json")
				if err := os.WriteFile(path, []byte(`{"version":2,"session":{"na`), 0o600); err != nil {
					t.Fatal(err)
				}
				paths = append(paths, path)
			}
			seen.Store(0)
			err = s.Scan(ctx, func() func(*auth.Session) error {
				return func(*auth.Session) error { seen.Add(1); return nil }
			})
			if !errors.Is(err, ErrMetadataDamaged) || seen.Load() != int64(len(want)-2) {
				t.Fatalf("Scan with 2 damaged records = %v after %d sessions, want ErrMetadataDamaged after %d", err, seen.Load(), len(want)-2)
			}
			if i, j := strings.Index(err.Error(), paths[1]), strings.Index(err.Error(), paths[0]); i < 0 || j < i {
				t.Fatalf("Scan's error does not name both damaged records in name order: %v", err)
			}
		})
	}
}
