package storage

import (
	"context"
	"errors"
	"testing"
	"time"
)

func nextName(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case n := <-ch:
		return n
	case <-time.After(10 * time.Second): // a hang guard, not a timing assertion
		t.Fatal("no change reported")
		return ""
	}
}

// Watch names each session whose record another Store writes or removes,
// once per burst of changes, and nothing for temp files or locks.
func TestWatchReportsChangedSessions(t *testing.T) {
	dir := t.TempDir()
	a, b := openDir(t, dir, BackendMemory), openDir(t, dir, BackendMemory)
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := a.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.PutMeta(ctx, testSession("one", testSecrets("one", 1), testNow)); err != nil {
		t.Fatal(err)
	}
	if n := nextName(t, ch); n != "one" {
		t.Fatalf("first change = %q, want one", n)
	}
	if err := b.Delete(ctx, "one"); err != nil {
		t.Fatal(err)
	}
	for n := nextName(t, ch); n != "one"; n = nextName(t, ch) {
		t.Fatalf("change = %q, want only one", n)
	}
	cancel()
	for range ch {
	}
}

func TestWatchNeedsADisk(t *testing.T) {
	s, err := Open(Options{Backend: BackendMemory})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Watch(context.Background()); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("Watch of a pure memory store = %v, want ErrUnsupported", err)
	}
}
