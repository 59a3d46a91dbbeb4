package storage

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
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
	cur, err := os.Stat(fa.path("a"))
	if err != nil {
		t.Fatal(err)
	}
	if cur.Size() > fa.max || cur.Mode().Perm() != 0o600 {
		t.Fatalf("events.jsonl is %d bytes mode %v, want <= %d and 0600", cur.Size(), cur.Mode(), fa.max)
	}
	if rotated := mustGlob(t, fa.path("a")+".*"); len(rotated) != 1 || rotated[0] != fa.path("a")+".1" {
		t.Fatalf("rotated files = %v, want exactly %s", rotated, fa.path("a")+".1")
	}
	all, err := s.Events("a", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 20 || all[len(all)-1].Status != 299 {
		t.Fatalf("Events kept %d events ending with %d", len(all), all[len(all)-1].Status)
	}
	for i := 1; i < len(all); i++ {
		// a has every event whose number is not a multiple of 3.
		if d := all[i].Status - all[i-1].Status; d != 1 && d != 2 {
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

// Each session has its own log: one busy session's traffic never pushes
// another's history out.
func TestAuditHistoryIsPerSession(t *testing.T) {
	s := openDir(t, t.TempDir(), BackendMemory)
	s.audit.(*fileAudit).max = 4096
	if err := s.Record(auth.Event{Time: testNow, Session: "quiet", Kind: auth.EventLogin}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		if err := s.Record(auth.Event{Time: testNow, Session: "busy", Kind: auth.EventRefreshed, Status: i}); err != nil {
			t.Fatal(err)
		}
	}
	if ev, err := s.Events("quiet", 10); err != nil || len(ev) != 1 || ev[0].Kind != auth.EventLogin {
		t.Fatalf("quiet's history after busy's traffic = %+v, %v", ev, err)
	}
	all, err := s.Events("", 0)
	seen := map[string]bool{}
	for _, e := range all {
		seen[e.Session] = true
	}
	if err != nil || !seen["quiet"] || !seen["busy"] {
		t.Fatalf("Events of every session = %d events from %v, %v", len(all), seen, err)
	}
}

// Goroutines and processes append at once, with rotation going on in this
// process: every line stays a whole JSON event.
func TestAuditConcurrentAppends(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir, BackendMemory)
	var children []*child
	for i := 0; i < 3; i++ {
		children = append(children, startChild(t, "audit-append", dir, "shared"))
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if err := s.Record(auth.Event{Session: "shared", Kind: auth.EventScheduled, Status: i, Message: fmt.Sprintf("gor%d ", g) + strings.Repeat("g", 300)}); err != nil {
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
	f, err := os.Open(s.audit.(*fileAudit).path("shared"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e auth.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("interleaved or torn line %q: %v", sc.Text(), err)
		}
		who := fmt.Sprint("pid ", e.PID)
		if g, _, ok := strings.Cut(e.Message, " "); ok && strings.HasPrefix(g, "gor") {
			who = g
		}
		counts[who]++
	}
	if len(counts) != 7 {
		t.Fatalf("writers in the log: %v, want 3 processes and 4 goroutines", counts)
	}
	for who, n := range counts {
		if n != 200 {
			t.Errorf("%s has %d events in the log, want 200", who, n)
		}
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
				if err := s.Record(auth.Event{Session: "r", Kind: auth.EventRefreshed, Status: i, Message: fmt.Sprint("g", g)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	log := s.audit.(*fileAudit).path("r")
	for _, p := range []string{log, log + ".1"} {
		data, err := os.ReadFile(p)
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
	if n := len(mustGlob(t, log+".*")); n != 1 {
		t.Fatalf("%d rotated files, want 1", n)
	}
}
