package storage

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
)

// A real child process holds a session's lock: this process times out with
// an error naming the session, and gets the lock once the child dies
// (the kernel releases flock locks of dead processes).
func TestLockHeldByAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	c := startChild(t, "hold-lock", dir, "busy")
	if got := c.line(t); got != "locked" {
		t.Fatalf("child said %q, want locked", got)
	}
	s := openDir(t, dir, BackendFile)
	ctx := context.Background()
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err := s.Lock(short, "busy")
	cancel()
	if !errors.Is(err, auth.ErrLockTimeout) || !strings.Contains(err.Error(), `"busy"`) {
		t.Fatalf("Lock while the child holds it = %v, want ErrLockTimeout naming the session", err)
	}
	// Other sessions are not blocked by it.
	other, err := s.Lock(ctx, "idle")
	if err != nil {
		t.Fatalf("Lock of another session: %v", err)
	}
	other()

	c.kill()
	long, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	unlock, err := s.Lock(long, "busy")
	if err != nil {
		t.Fatalf("Lock after the holder died: %v", err)
	}
	unlock()
}

// The lock this process holds excludes a child process too.
func TestLockExcludesChildProcess(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir, BackendFile)
	unlock, err := s.Lock(context.Background(), "mine")
	if err != nil {
		t.Fatal(err)
	}
	c := startChild(t, "hold-lock", dir, "mine")
	// The child cannot print "locked" while we hold it; release, then it can.
	got := make(chan string, 1)
	go func() {
		if c.out.Scan() {
			got <- c.out.Text()
		}
		close(got)
	}()
	select {
	case l := <-got:
		t.Fatalf("child took the lock we hold: %q (stderr %s)", l, c.stderr)
	case <-time.After(300 * time.Millisecond):
	}
	unlock()
	if l, ok := <-got; !ok || l != "locked" {
		t.Fatalf("child after release said %q (stderr %s)", l, c.stderr)
	}
}
