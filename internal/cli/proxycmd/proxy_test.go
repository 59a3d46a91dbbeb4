package proxycmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/auth/emulator"
	harpkg "github.com/tokentop/tokentop/har"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
	"github.com/tokentop/tokentop/internal/cli/iostreams"
	"github.com/tokentop/tokentop/internal/proxy"
	"github.com/tokentop/tokentop/storage"
)

func TestFlagsAreCheckedBeforeAnythingRuns(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"w", "--listen", "0.0.0.0:8788"}, cmdutil.ExitUsage},
		{[]string{"w", "--listen", ":8788"}, cmdutil.ExitUsage},
		{[]string{"w", "--listen", "nonsense"}, cmdutil.ExitUsage},
		{[]string{"w", "--quiet", "--json"}, cmdutil.ExitUsage},
		{[]string{"w", "--listen", "0.0.0.0:8788", "--allow-remote"}, cmdutil.ExitOK},
		{[]string{"w"}, cmdutil.ExitOK},
	} {
		ios, _, _, _ := iostreams.Test()
		f := cmdutil.New(ios, func(string) string { return "" }, os.Environ)
		ran := false
		cmd := NewCmdProxy(f, func(*Options) error { ran = true; return nil })
		cmd.SetArgs(c.args)
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		err := cmd.Execute()
		if got := cmdutil.ExitCode(err); got != c.code || ran != (c.code == cmdutil.ExitOK) {
			t.Errorf("%v: exit %d (ran %v), want %d: %v", c.args, got, ran, c.code, err)
		}
	}
}

func TestRemoteNeedsALongSecret(t *testing.T) {
	ios, stdin, _, _ := iostreams.Test()
	stdin.WriteString("short\n")
	if _, err := readSecret(context.Background(), ios); cmdutil.ExitCode(err) != cmdutil.ExitUsage {
		t.Errorf("short secret: %v", err)
	}
	ios, stdin, _, _ = iostreams.Test()
	stdin.WriteString("0123456789abcdef0123\n")
	if s, err := readSecret(context.Background(), ios); err != nil || s != "0123456789abcdef0123" {
		t.Errorf("good secret: %q, %v", s, err)
	}
}

func TestLogLines(t *testing.T) {
	now := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	e := proxy.Entry{Time: now, Method: "GET", Path: "/calls?x=\x1b[31m", Status: 200, Upstream: 1500 * time.Microsecond,
		AccessFP: "sha256:aaaaaaaa", Replayed: true, ReplayFP: "sha256:bbbbbbbb", Refreshed: true}
	var b strings.Builder
	l := newLogger(&b, false, false, func() time.Time { return now })
	l.request(e)
	l.close()
	if want := "2026-04-10T12:00:00Z GET /calls?x=\\x1b[31m 200 upstream 1.5ms sha256:aaaaaaaa replayed with sha256:bbbbbbbb (refreshed)\n"; b.String() != want {
		t.Errorf("text:\n got %q\nwant %q", b.String(), want)
	}
	b.Reset()
	l = newLogger(&b, true, false, func() time.Time { return now })
	l.request(e)
	l.close()
	var doc map[string]any
	if err := json.Unmarshal([]byte(b.String()), &doc); err != nil || doc["status"] != 200.0 || doc["upstream_ms"] != 1.5 ||
		doc["access_fingerprint"] != "sha256:aaaaaaaa" || strings.Contains(b.String(), "\\u001b") {
		t.Errorf("json %q: %v", b.String(), err)
	}
	b.Reset()
	q := newLogger(&b, false, true, func() time.Time { return now })
	q.request(proxy.Entry{Time: now, Status: 200})
	q.close()
	if b.Len() != 0 {
		t.Errorf("--quiet logged a plain request: %q", b.String())
	}
	q.request(proxy.Entry{Time: now, Status: 502, Error: "no token"})
	q.close()
	if !strings.Contains(b.String(), "no token") {
		t.Errorf("--quiet left out a failure: %q", b.String())
	}
}

// syncBuffer is a buffer the proxy's goroutines may write while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServesUntilCancelledAndPublishesItsStatus runs the command over a
// file store and the emulator: it serves with the session's token, tells
// other processes through its status file, and on cancel drains and
// removes the file.
func TestServesUntilCancelledAndPublishesItsStatus(t *testing.T) {
	emu := emulator.New(emulator.Config{LoginRate: -1})
	up := httptest.NewServer(emu)
	defer up.Close()
	dir := filepath.Join(t.TempDir(), "cfg")
	st, err := storage.Open(storage.Options{ConfigDir: dir, Backend: storage.BackendFile})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := emu.Issue(emulator.DefaultUser().Email, time.Hour, 2*time.Hour)
	k := auth.NewKeeper(auth.KeeperConfig{Store: st})
	if _, err := k.Import(context.Background(), "work", auth.Endpoints{OAuthURL: up.URL, APIURL: up.URL + "/v3"}, body, auth.ImportOptions{KeepAlive: true}); err != nil {
		t.Fatal(err)
	}

	ios, _, _, _ := iostreams.Test()
	stderr := &syncBuffer{}
	ios.ErrOut = stderr
	f := cmdutil.New(ios, func(k string) string {
		if k == "TOKENTOP_STORAGE" {
			return storage.BackendFile
		}
		return ""
	}, os.Environ)
	f.ConfigDir, f.StorageName = dir, storage.BackendFile
	cmd := NewCmdProxy(f, nil)
	cmd.SetArgs([]string{"work", "--listen", "127.0.0.1:0"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()

	var status proxy.Status
	deadline := time.Now().Add(10 * time.Second)
	for {
		all, _ := proxy.ReadStatuses(dir, time.Now())
		if s := all["work"]; len(s) == 1 {
			status = s[0]
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no status file; stderr:\n%s", stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	resp, err := http.Get("http://" + status.Listen + "/auth/profile")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("status %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("did not stop")
	}
	if all, _ := proxy.ReadStatuses(dir, time.Now()); len(all) != 0 {
		t.Errorf("status left behind: %v", all)
	}
	out := stderr.String()
	for _, want := range []string{"proxying session work", "GET /auth/profile 200", "stopped after 1 requests"} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr lacks %q:\n%s", want, out)
		}
	}
	sec, _ := st.Secrets(context.Background(), "work")
	if strings.Contains(out, sec.AccessToken) {
		t.Error("the token is in the log")
	}
}

// countingWriter counts the writes that reach it (each one a system call
// on stderr).
type countingWriter struct {
	syncBuffer
	mu     sync.Mutex
	writes int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.writes++
	c.mu.Unlock()
	return c.syncBuffer.Write(p)
}

func (c *countingWriter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes
}

// TestRequestLinesAreBufferedNotLost: a busy proxy does not pay a write to
// stderr per request, yet every line arrives soon, in order, and before
// any note that follows it.
func TestRequestLinesAreBufferedNotLost(t *testing.T) {
	now := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	w := &countingWriter{}
	l := newLogger(w, false, false, func() time.Time { return now })
	for i := range 200 {
		l.request(proxy.Entry{Time: now, Method: "GET", Path: fmt.Sprintf("/r%d", i), Status: 200})
	}
	if n := w.count(); n > 10 {
		t.Errorf("%d writes for 200 request lines: want them buffered", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(w.String(), "GET /r199 ") {
		if time.Now().After(deadline) {
			t.Fatalf("request lines not written within 5s:\n%s", w.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	l.request(proxy.Entry{Time: now, Method: "GET", Path: "/last", Status: 200})
	l.note("stopped")
	out := w.String()
	if strings.Count(out, "\n") != 202 || !strings.HasSuffix(out, "GET /last 200 upstream - -\n2026-04-10T12:00:00Z stopped\n") {
		t.Errorf("lines lost or out of order:\n%s", out[max(0, len(out)-300):])
	}
	l.close()
}

// TestRecordWritesASanitisedHAR: proxy --record writes every exchange to a
// HAR that is valid, holds no secret (not the session's token, not the
// client's cookie), and that har analyze reads.
func TestRecordWritesASanitisedHAR(t *testing.T) {
	emu := emulator.New(emulator.Config{LoginRate: -1})
	up := httptest.NewServer(emu)
	defer up.Close()
	dir := filepath.Join(t.TempDir(), "cfg")
	st, err := storage.Open(storage.Options{ConfigDir: dir, Backend: storage.BackendFile})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := emu.Issue(emulator.DefaultUser().Email, time.Hour, 2*time.Hour)
	k := auth.NewKeeper(auth.KeeperConfig{Store: st})
	if _, err := k.Import(context.Background(), "work", auth.Endpoints{OAuthURL: up.URL, APIURL: up.URL + "/v3"}, body, auth.ImportOptions{KeepAlive: true}); err != nil {
		t.Fatal(err)
	}
	recPath := filepath.Join(t.TempDir(), "work.har")

	ios, _, _, _ := iostreams.Test()
	stderr := &syncBuffer{}
	ios.ErrOut = stderr
	f := cmdutil.New(ios, func(string) string { return "" }, os.Environ)
	f.ConfigDir, f.StorageName = dir, storage.BackendFile
	cmd := NewCmdProxy(f, nil)
	cmd.SetArgs([]string{"work", "--listen", "127.0.0.1:0", "--record", recPath})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()

	var status proxy.Status
	for deadline := time.Now().Add(10 * time.Second); ; {
		all, _ := proxy.ReadStatuses(dir, time.Now())
		if s := all["work"]; len(s) == 1 {
			status = s[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no status file; stderr:\n%s", stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	const cookie = "customer-session-0123456789"
	for _, path := range []string{"/auth/profile", "/auth/profile?refresh_token=abcdefghijklmnopqrstuvwxyz0123"} {
		req, _ := http.NewRequest("GET", "http://"+status.Listen+path, nil)
		req.Header.Set("Cookie", "sid="+cookie)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("did not stop")
	}
	if !strings.Contains(stderr.String(), "recorded 2 exchanges to") {
		t.Errorf("stderr does not say what was recorded:\n%s", stderr)
	}

	fi, err := os.Stat(recPath)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("recording: %v, %v; want mode 0600", fi, err)
	}
	b, _ := os.ReadFile(recPath)
	sec, _ := st.Secrets(context.Background(), "work")
	for _, secret := range []string{sec.AccessToken, sec.RefreshToken, cookie, "abcdefghijklmnopqrstuvwxyz0123"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("the recording holds a secret (%.4s…):\n%s", secret, b)
		}
	}
	rep, err := harpkg.Analyze(strings.NewReader(string(b)))
	if err != nil {
		t.Fatalf("har analyze on the recording: %v\n%s", err, b)
	}
	if rep.Entries != 2 {
		t.Errorf("analyze saw %d entries, want 2", rep.Entries)
	}
	if !strings.Contains(string(b), up.URL+"/v3/auth/profile") {
		t.Errorf("the recording lacks the upstream URL:\n%s", b)
	}
}

func TestGCPercentUnlessTheUserChoseOne(t *testing.T) {
	if p, ok := gcPercent(func(string) string { return "" }); !ok || p <= 100 {
		t.Errorf("gcPercent without GOGC = %d, %v: want a target above the default 100", p, ok)
	}
	if _, ok := gcPercent(func(k string) string {
		if k == "GOGC" {
			return "50"
		}
		return ""
	}); ok {
		t.Error("gcPercent overrides the user's GOGC")
	}
}

func TestDurationsInTheLog(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "-", 250 * time.Microsecond: "250us", 1500 * time.Microsecond: "1.5ms",
		12 * time.Millisecond: "12.0ms", 1234567 * time.Microsecond: "1234.6ms"} {
		if got := string(appendDuration(nil, d)); got != want {
			t.Errorf("%v: %q, want %q", d, got, want)
		}
	}
}
