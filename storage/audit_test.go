package storage

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tokentop/tokentop/auth"
)

func TestAuditFileEventsAndRotation(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir, BackendMemory)
	fa := s.audit.(*fileAudit)
	fa.max = 4096
	for i := 0; i < 300; i++ {
		n := "a"
		if i%3 == 0 {
			n = "b"
		}
		if err := s.Record(auth.Event{Time: testNow, Session: n, Kind: auth.EventRefreshed, Status: i, NewFP: auth.Fingerprint(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	cur, err := os.Stat(filepath.Join(dir, auditFileName))
	if err != nil {
		t.Fatal(err)
	}
	if cur.Size() > fa.max || cur.Mode().Perm() != 0o600 {
		t.Fatalf("events.jsonl is %d bytes mode %v, want <= %d and 0600", cur.Size(), cur.Mode(), fa.max)
	}
	if rotated := mustGlob(t, filepath.Join(dir, auditFileName+".*")); len(rotated) != 1 || rotated[0] != fa.rotatedPath() {
		t.Fatalf("rotated files = %v, want exactly %s", rotated, fa.rotatedPath())
	}
	all, err := s.Events("", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 20 || all[len(all)-1].Status != 299 {
		t.Fatalf("Events kept %d events ending with %d", len(all), all[len(all)-1].Status)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Status != all[i-1].Status+1 {
			t.Fatalf("events not contiguous and oldest first at %d: %d after %d", i, all[i].Status, all[i-1].Status)
		}
	}
	b, _ := s.Events("b", 3)
	if len(b) != 3 || b[0].Status != 291 || b[1].Status != 294 || b[2].Status != 297 || b[2].Session != "b" {
		t.Fatalf("Events(b, 3) = %+v", b)
	}
	if _, err := s.Events("../x", 1); err == nil {
		t.Fatal("Events accepted an invalid name")
	}
}

// Goroutines and processes append at once, with rotation going on in this
// process: every line stays a whole JSON event.
func TestAuditConcurrentAppends(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir, BackendMemory)
	var children []*child
	for i := 0; i < 3; i++ {
		children = append(children, startChild(t, "audit-append", dir, fmt.Sprintf("proc%d", i)))
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if err := s.Record(auth.Event{Session: fmt.Sprintf("gor%d", g), Kind: auth.EventScheduled, Status: i, Message: strings.Repeat("g", 300)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, c := range children {
		if l := c.line(t); l != "done" {
			t.Fatalf("child said %q", l)
		}
		if err := c.cmd.Wait(); err != nil {
			t.Fatalf("child: %v (%s)", err, c.stderr)
		}
	}
	counts := map[string]int{}
	f, err := os.Open(filepath.Join(dir, auditFileName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e auth.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("interleaved or torn line %q: %v", sc.Text(), err)
		}
		counts[e.Session]++
	}
	for _, n := range []string{"proc0", "proc1", "proc2", "gor0", "gor1", "gor2", "gor3"} {
		if counts[n] != 200 {
			t.Errorf("%s has %d events in the log, want 200", n, counts[n])
		}
	}
	evs, err := s.Events("proc1", 0)
	if err != nil || len(evs) != 200 || evs[0].Status != 0 || evs[199].Status != 199 {
		t.Fatalf("Events(proc1) = %d events, %v", len(evs), err)
	}
}

// Rotation races between goroutines: no torn lines, one rotated file.
func TestAuditConcurrentRotation(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir, BackendMemory)
	s.audit.(*fileAudit).max = 8192
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 150; i++ {
				if err := s.Record(auth.Event{Session: fmt.Sprintf("r%d", g), Kind: auth.EventRefreshed, Status: i}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, p := range []string{auditFileName, auditFileName + ".1"} {
		data, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
			var e auth.Event
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatalf("%s: torn line %q", p, line)
			}
		}
	}
	if n := len(mustGlob(t, filepath.Join(dir, auditFileName+".*"))); n != 1 {
		t.Fatalf("%d rotated files, want 1", n)
	}
}
