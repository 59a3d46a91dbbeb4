package storage

import (
	"context"
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
