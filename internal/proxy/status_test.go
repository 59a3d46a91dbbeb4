package proxy_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokentop/tokentop/internal/proxy"
)

func TestStatusFiles(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	live := proxy.Status{PID: 100, Session: "work", Listen: "127.0.0.1:8788", Served: 7, Updated: now}
	stale := proxy.Status{PID: 101, Session: "old", Listen: "127.0.0.1:8789", Updated: now.Add(-time.Minute)}
	for _, s := range []proxy.Status{live, stale} {
		if err := proxy.WriteStatus(dir, s); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(filepath.Join(dir, proxy.StatusDirName, "100.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("status file: %v %v", fi, err)
	}
	_ = os.WriteFile(filepath.Join(dir, proxy.StatusDirName, "102.json"), []byte("{damaged"), 0o600)
	all, err := proxy.ReadStatuses(dir, now)
	if err != nil || len(all) != 1 || len(all["work"]) != 1 || all["work"][0].Served != 7 {
		t.Fatalf("got %v, %v: want only the live proxy", all, err)
	}
	if err := proxy.RemoveStatus(dir, 100); err != nil {
		t.Fatal(err)
	}
	if all, _ := proxy.ReadStatuses(dir, now); len(all) != 0 {
		t.Errorf("after remove: %v", all)
	}
}

// A status file's session and address reach the screen: one that no
// proxy could have written (a control sequence in it) is left out, and so
// is a symlinked status directory.
func TestStatusFilesFromOutsideLeftOut(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	for i, s := range []proxy.Status{
		{PID: 200, Session: "work", Listen: "127.0.0.1:8788\x1b]0;pwned\x07", Updated: now},
		{PID: 201, Session: "wo\x1b[2Jrk", Listen: "127.0.0.1:8788", Updated: now},
		{PID: 202, Session: "work", Listen: "not an address", Updated: now},
	} {
		if err := proxy.WriteStatus(dir, s); err != nil {
			t.Fatal(i, err)
		}
	}
	if all, err := proxy.ReadStatuses(dir, now); err != nil || len(all) != 0 {
		t.Fatalf("got %v, %v: want none of the implausible statuses", all, err)
	}

	real := t.TempDir()
	if err := proxy.WriteStatus(real, proxy.Status{PID: 300, Session: "work", Listen: "127.0.0.1:1", Updated: now}); err != nil {
		t.Fatal(err)
	}
	linked := t.TempDir()
	if err := os.Symlink(filepath.Join(real, proxy.StatusDirName), filepath.Join(linked, proxy.StatusDirName)); err != nil {
		t.Fatal(err)
	}
	if all, _ := proxy.ReadStatuses(linked, now); len(all) != 0 {
		t.Fatalf("read through a symlinked status dir: %v", all)
	}
}
