//go:build unix

package storage

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
)

// A FIFO planted where tokentop keeps a file is refused at once: opening
// one for reading or writing used to wait forever for the other end, and
// a hung `tokentop list` did not even stop on SIGTERM.
func TestTrustFIFOsRefusedWithoutWaiting(t *testing.T) {
	ctx := context.Background()
	within := func(what string, op func() error) error {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- op() }()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: still waiting after 10 s (opened a FIFO and blocked)", what)
			return nil
		}
	}
	plant := func(path string) {
		t.Helper()
		if err := syscall.Mkfifo(path, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	dir := t.TempDir()
	s := openDir(t, dir, BackendFile)
	sec := testSecrets("ok", 1)
	if err := s.Put(ctx, testSession("ok", sec, testNow), sec); err != nil {
		t.Fatal(err)
	}

	record := filepath.Join(dir, recordsDirName, "evil.json")
	plant(record)
	err := within("List with a FIFO record", func() error { _, err := s.List(ctx); return err })
	wantUntrusted(t, "List with a FIFO record", err, record, "move it away")
	err = within("Get of a FIFO record", func() error { _, err := s.Get(ctx, "evil"); return err })
	wantUntrusted(t, "Get of a FIFO record", err, record, "move it away")

	events := filepath.Join(dir, auditDirName, "ok"+auditFileSuffix)
	plant(events)
	err = within("Record into a FIFO audit log", func() error { return s.Record(auth.Event{Session: "ok", Kind: auth.EventRefreshed}) })
	if err == nil {
		t.Fatal("Record into a FIFO audit log succeeded")
	}

	lock := filepath.Join(dir, recordsDirName, ".ok.lock")
	if err := syscall.Unlink(lock); err != nil {
		t.Fatal(err)
	}
	plant(lock)
	err = within("PutMeta with a FIFO lock", func() error { return s.PutMeta(ctx, testSession("ok", sec, testNow)) })
	wantUntrusted(t, "PutMeta with a FIFO lock", err, lock, "move it away")
	if err := syscall.Unlink(lock); err != nil {
		t.Fatal(err)
	}

	// A FIFO at the fixed temp name is junk under the writer's lock: the
	// save goes ahead in a new file.
	temp := filepath.Join(dir, recordsDirName, ".ok.json.tmp")
	plant(temp)
	if err := within("PutMeta with a FIFO temp file", func() error { return s.PutMeta(ctx, testSession("ok", sec, testNow)) }); err != nil {
		t.Fatalf("PutMeta with a FIFO at the temp name: %v", err)
	}
}
