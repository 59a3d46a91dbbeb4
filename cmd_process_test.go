package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/auth/emulator"
)

// tokenPair is what a test knows of an issued pair: the server's body and
// the tokens in it.
type tokenPair struct {
	body    []byte
	access  string
	refresh string
}

// decodePair reads the tokens out of a token response body.
func decodePair(t testing.TB, body []byte) tokenPair {
	t.Helper()
	var v struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.AccessToken == "" || v.RefreshToken == "" {
		t.Fatalf("the emulator issued an unreadable token response (%v)", err)
	}
	return tokenPair{body: body, access: v.AccessToken, refresh: v.RefreshToken}
}

// uniqueName gives a session name unique to this test process, because the
// keyring is shared by every test (the config dirs are not), and removes
// the keyring item at the end.
func uniqueName(t testing.TB, c *cli, base string) string {
	t.Helper()
	name := fmt.Sprintf("%s-%d-%d", base, os.Getpid(), time.Now().UnixNano()%1_000_000)
	if c.storage == "keyring" {
		t.Cleanup(func() {
			// Items are "<store-id>/<name>" (store-id is in the config dir);
			// older ones were the name alone.
			if id, err := os.ReadFile(filepath.Join(c.configDir, "store-id")); err == nil {
				_ = keyring.Delete("tokentop", strings.TrimSpace(string(id))+"/"+name)
			}
			_ = keyring.Delete("tokentop", name)
		})
	}
	return name
}

// endpointArgs are the --oauth-url/--api-url flags for an emulator at url.
func endpointArgs(url string) []string {
	return []string{"--oauth-url", url, "--api-url", url + "/v3"}
}

// importPair issues a pair at the emulator with the given lifetimes (zero:
// the emulator's) and imports it as name, kept alive (the pair is the
// test's own; an import starts paused otherwise), as importDue and
// importExpired do.
func importPair(t testing.TB, c *cli, em *emulator.Server, url, name string, accessTTL, refreshTTL time.Duration) tokenPair {
	t.Helper()
	body, err := em.Issue(emulator.DefaultUser().Email, accessTTL, refreshTTL)
	if err != nil {
		t.Fatal(err)
	}
	p := decodePair(t, body)
	r := c.run(string(body), append([]string{"import", name, "--keep-alive"}, endpointArgs(url)...)...)
	if r.code != 0 {
		t.Fatalf("import %s: exit %d\n%s", name, r.code, r.stderr)
	}
	return p
}

// importDue imports a pair whose access token the server keeps valid
// for accessTTL, but which the response says expires after `left` (a
// duration from now, possibly negative). This puts a session inside its
// refresh window (or past its expiry) at once, while the pairs the server
// issues on refresh keep the long accessTTL, so those are not due again
// while the test runs.
func importDue(t testing.TB, c *cli, em *emulator.Server, url, name string, left, accessTTL, refreshTTL time.Duration) tokenPair {
	t.Helper()
	body, err := em.Issue(emulator.DefaultUser().Email, accessTTL, refreshTTL)
	if err != nil {
		t.Fatal(err)
	}
	p := decodePair(t, body)
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	m["expires_in"] = time.Now().Add(left).UTC().Format("2006-01-02T15:04:05.000Z")
	edited, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	p.body = edited
	r := c.run(string(edited), append([]string{"import", name, "--keep-alive"}, endpointArgs(url)...)...)
	if r.code != 0 {
		t.Fatalf("import %s: exit %d\n%s", name, r.code, r.stderr)
	}
	return p
}

// importExpired imports a pair whose access token, by the response,
// lived one second and has just expired (the server keeps it valid for
// accessTTL): the next use must refresh, and the old token cannot stand in
// if the refresh fails.
func importExpired(t testing.TB, c *cli, em *emulator.Server, url, name string, accessTTL, refreshTTL time.Duration) tokenPair {
	t.Helper()
	expires := time.Now().Add(time.Second)
	p := importDue(t, c, em, url, name, time.Second, accessTTL, refreshTTL)
	time.Sleep(time.Until(expires) + 50*time.Millisecond)
	return p
}

// listedState is a session as `list --json` shows it (the fields tests read).
type listedState struct {
	Name               string  `json:"name"`
	Email              string  `json:"email"`
	Role               string  `json:"role"`
	OrgUnitID          int64   `json:"org_unit_id"`
	State              string  `json:"state"`
	Reason             string  `json:"reason"`
	LastError          string  `json:"last_error"`
	Refreshes          int     `json:"refreshes"`
	ClockSkewSeconds   float64 `json:"clock_skew_seconds"`
	AccessFingerprint  string  `json:"access_fingerprint"`
	RefreshFingerprint string  `json:"refresh_fingerprint"`
	AccessExpiresAt    *time.Time
	AccessExpiresIn    int64 `json:"access_expires_in_seconds"`
}

// listedSession returns one session from `list --json`.
func listedSession(t testing.TB, c *cli, name string) listedState {
	t.Helper()
	r := c.run("", "list", "--json")
	if r.code != 0 {
		t.Fatalf("list --json: exit %d\n%s", r.code, r.stderr)
	}
	var out struct {
		Sessions []json.RawMessage `json:"sessions"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("list --json printed invalid JSON: %v\n%s", err, r.stdout)
	}
	for _, raw := range out.Sessions {
		var s listedState
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		var times struct {
			AccessExpiresAt *time.Time `json:"access_expires_at"`
		}
		_ = json.Unmarshal(raw, &times)
		s.AccessExpiresAt = times.AccessExpiresAt
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("list --json has no session %q:\n%s", name, r.stdout)
	return listedState{}
}

// testServer is an emulator behind a test-controlled front: it can hold a
// refresh after the emulator rotated the pair (the process never gets the
// answer), tells when a refresh arrived, and can be shut down (a dead server).
type testServer struct {
	em   *emulator.Server
	srv  *httptest.Server
	url  string
	hold atomic.Bool
	// failAccessRevoke answers 500 to revocations of access tokens.
	failAccessRevoke atomic.Bool
	// arrived gets one value per refresh request that reached the server.
	arrived chan struct{}
	// retryAfter, when set, answers the next refresh 429 with a
	// Retry-After of that many seconds (once).
	retryAfter atomic.Int64
}

func startServer(t testing.TB, cfg emulator.Config) *testServer {
	t.Helper()
	s := &testServer{em: emulator.New(cfg), arrived: make(chan struct{}, 64)}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth/revoke-token" && s.failAccessRevoke.Load() {
			body, _ := io.ReadAll(r.Body)
			var req struct {
				TokenType string `json:"token_type"`
			}
			if json.Unmarshal(body, &req) == nil && req.TokenType == "access" {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = io.WriteString(w, `{"statusCode": 500, "message": "Internal Server Error", "error": "test fault"}`)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		if r.URL.Path != "/oauth/refresh-token" {
			s.em.ServeHTTP(w, r)
			return
		}
		// Read the body first: net/http notices a client that went away
		// (and cancels r.Context()) only once the body has been consumed.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if secs := s.retryAfter.Swap(0); secs > 0 {
			select {
			case s.arrived <- struct{}{}:
			default:
			}
			w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"statusCode": 429, "message": "Too Many Requests", "error": "test fault"}`)
			return
		}
		if !s.hold.Load() {
			select {
			case s.arrived <- struct{}{}:
			default:
			}
			s.em.ServeHTTP(w, r)
			return
		}
		// The emulator rotates and answers into a recorder; the client
		// never sees the answer and waits until it is killed.
		rec := httptest.NewRecorder()
		s.em.ServeHTTP(rec, r)
		select {
		case s.arrived <- struct{}{}:
		default:
		}
		<-r.Context().Done()
	}))
	s.url = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// waitArrived waits until a refresh reached the server.
func waitArrived(t testing.TB, s *testServer) {
	t.Helper()
	select {
	case <-s.arrived:
	case <-time.After(30 * time.Second):
		t.Fatal("no refresh request reached the emulator within 30s")
	}
}

// requireNoPairSecret fails if out contains any of the tokens.
func requireNoPairSecret(t testing.TB, what, out string, p tokenPair) {
	t.Helper()
	for _, tok := range []string{p.access, p.refresh} {
		if tok != "" && strings.Contains(out, tok) {
			t.Errorf("%s shows a token value:\n%s", what, out)
		}
	}
}

// shortConfig is an emulator whose own lifetimes are long (a refreshed
// pair is never due again during a test) and with no login rate limit.
func shortConfig() emulator.Config {
	return emulator.Config{AccessTTL: 10 * time.Minute, RefreshTTL: time.Hour, LoginRate: -1}
}

func TestConcurrentTokenOneRefresh(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			em, url := startEmulator(t, shortConfig())
			c := newCLI(t, b)
			name := uniqueName(t, c, "many")
			// The response says 1s of life, so the refresh window (half a
			// lifetime this short) opens half a second after the import.
			old := importDue(t, c, em, url, name, time.Second, 10*time.Minute, time.Hour)
			time.Sleep(600 * time.Millisecond)
			const n = 16
			results := make([]result, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					results[i] = c.run("", "token", name)
				}()
			}
			close(start)
			wg.Wait()
			first := ""
			for i, r := range results {
				if r.code != 0 {
					t.Fatalf("process %d: exit %d\n%s", i, r.code, r.stderr)
				}
				if first == "" {
					first = r.stdout
				}
				if r.stdout != first {
					t.Errorf("process %d printed a different token than process 0", i)
				}
			}
			if strings.TrimSpace(first) == old.access {
				t.Error("the processes printed the old token, not a refreshed one")
			}
			if !strings.HasSuffix(first, "\n") || strings.Count(first, "\n") != 1 {
				t.Errorf("token output is not exactly one line: %q", first)
			}
			st := em.Stats()
			if st.Refreshes != 1 || st.ReuseDetected != 0 || st.RefreshRejections != 0 {
				t.Errorf("emulator stats %+v: want exactly 1 refresh, no reuse, no rejection", st)
			}
		})
	}
}

// runUntil starts tokentop and returns its process, buffered stdout
// and stderr.
func startProcess(t testing.TB, c *cli, args ...string) (*exec.Cmd, *syncBuffer, *syncBuffer) {
	t.Helper()
	cmd := c.command(context.Background(), args...)
	out, errb := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd, out, errb
}

// syncBuffer is a bytes.Buffer safe to read while a process writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
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

// waitForOutput waits until re matches what the buffer holds.
func waitForOutput(t testing.TB, b *syncBuffer, re string, timeout time.Duration) string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if m := rx.FindString(b.String()); m != "" {
			return m
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("waited %s for %q in:\n%s", timeout, re, b.String())
	return ""
}

// interruptProcess sends SIGINT and waits for the exit code.
func interruptProcess(t testing.TB, cmd *exec.Cmd) int {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the process did not stop within 30s of SIGINT")
	}
	return cmd.ProcessState.ExitCode()
}

// postPath sends a JSON body to the emulator as "someone else" would.
func postPath(t testing.TB, url, path, body string) int {
	t.Helper()
	resp, err := http.Post(url+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestKilledAfterServerRotated(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, shortConfig())
			c := newCLI(t, b)
			name := uniqueName(t, c, "killed")
			p := importExpired(t, c, s.em, s.url, name, 10*time.Minute, time.Hour)

			// The server rotates, then the answer is held until the
			// process dies: killed after sending and before saving.
			s.hold.Store(true)
			cmd, _, _ := startProcess(t, c, "token", name)
			waitArrived(t, s)
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			s.hold.Store(false)
			if st := s.em.Stats(); st.Refreshes != 1 {
				t.Fatalf("the server did not rotate before the kill: %+v", st)
			}

			r := c.run("", "token", name)
			t.Logf("next run:\n%s", r.stderr)
			if r.code != 3 {
				t.Fatalf("after the kill: exit %d, want 3 (needs login)\n%s", r.code, r.stderr)
			}
			for _, want := range []string{"rotation_lost", "interrupted", "rotation lost in transit", "not stolen"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("the message does not say %q", want)
				}
			}
			if strings.Contains(r.stderr, "WARNING") || strings.Contains(r.stderr, "someone else") {
				t.Error("an interrupted refresh is reported as possible theft")
			}
			requireNoPairSecret(t, "the message", r.stdout+r.stderr, p)
			if got := listedSession(t, c, name); got.State != "needs_login" || got.Reason != "rotation_lost" {
				t.Errorf("list says %s (%s), want needs_login (rotation_lost)", got.State, got.Reason)
			}
			// One presentation of the rotated token (to learn whether the
			// server had rotated), and no further rotation.
			if st := s.em.Stats(); st.Refreshes != 1 || st.ReuseDetected > 1 {
				t.Errorf("emulator stats %+v: want 1 refresh and at most the one check of the old token", st)
			}
			// A second run says the same without asking the server again.
			before := s.em.Stats()
			again := c.run("", "token", name)
			if again.code != 3 || !strings.Contains(again.stderr, "rotation_lost") || s.em.Stats() != before {
				t.Errorf("second run: exit %d, stats %+v -> %+v\n%s", again.code, before, s.em.Stats(), again.stderr)
			}
		})
	}
}

func TestKilledBeforeServerRotated(t *testing.T) {
	t.Parallel()
	s := startServer(t, shortConfig())
	c := newCLI(t, "file")
	name := uniqueName(t, c, "killed-early")
	importExpired(t, c, s.em, s.url, name, 10*time.Minute, time.Hour)

	// The request waits at the server; the process dies before the server
	// handles it, so nothing was rotated.
	s.em.SetLatency(time.Minute)
	cmd, _, _ := startProcess(t, c, "token", name)
	waitArrived(t, s)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	s.em.SetLatency(0)

	r := c.run("", "refresh", name)
	t.Logf("next run:\n%s%s", r.stdout, r.stderr)
	if r.code != 0 {
		t.Fatalf("after the kill: exit %d, want 0 (the old refresh token was still good)\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "interrupted") {
		t.Errorf("refresh does not tell that an earlier refresh was interrupted:\n%s", r.stdout)
	}
	if st := s.em.Stats(); st.Refreshes != 1 || st.ReuseDetected != 0 {
		t.Errorf("emulator stats %+v: want exactly 1 refresh and no reuse", st)
	}
	if got := listedSession(t, c, name); got.State != "ok" {
		t.Errorf("list says %s (%s), want ok", got.State, got.Reason)
	}
}

// TestTokenTellsRecoveredRefresh: killed before the server rotated,
// the next `tokentop token` recovers and says so on stderr, while stdout
// holds only the token.
func TestTokenTellsRecoveredRefresh(t *testing.T) {
	t.Parallel()
	s := startServer(t, shortConfig())
	c := newCLI(t, "file")
	name := uniqueName(t, c, "killed-token")
	importExpired(t, c, s.em, s.url, name, 10*time.Minute, time.Hour)
	s.em.SetLatency(time.Minute)
	cmd, _, _ := startProcess(t, c, "token", name)
	waitArrived(t, s)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	s.em.SetLatency(0)

	r := c.run("", "token", name)
	t.Logf("next run:\n%s", r.stderr)
	if r.code != 0 || !s.em.Valid(strings.TrimSpace(r.stdout), emulator.KindAccess) || strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("after the kill: exit %d, stdout %d bytes\n%s", r.code, len(r.stdout), r.stderr)
	}
	for _, want := range []string{"interrupted", "recovered"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("token does not say %q about the interrupted refresh:\n%s", want, r.stderr)
		}
	}
	// A routine refresh stays quiet.
	if r := c.run("", "token", name); r.stderr != "" {
		t.Errorf("a plain token run wrote to stderr: %q", r.stderr)
	}
}

func TestLostResponse(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			em, url := startEmulator(t, shortConfig())
			c := newCLI(t, b)
			name := uniqueName(t, c, "lost")
			importExpired(t, c, em, url, name, 10*time.Minute, time.Hour)
			em.DropNextRefreshResponses(1)
			r := c.run("", "token", name)
			t.Logf("token:\n%s", r.stderr)
			if r.code != 3 {
				t.Fatalf("exit %d, want 3\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, "rotation lost in transit") {
				t.Errorf("the message does not say the rotation was lost in transit:\n%s", r.stderr)
			}
			if strings.Contains(r.stderr, "WARNING") || strings.Contains(r.stderr, "someone else") {
				t.Errorf("a lost answer is reported as possible theft:\n%s", r.stderr)
			}
			if len(em.DroppedResponses()) != 1 {
				t.Errorf("the emulator dropped %d answers, want 1", len(em.DroppedResponses()))
			}
			if got := listedSession(t, c, name); got.Reason != "rotation_lost" {
				t.Errorf("list reason %q, want rotation_lost", got.Reason)
			}
		})
	}
}

func TestServerUnavailable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		break_ func(s *testServer)
		want   string
	}{
		{"500", func(s *testServer) { s.em.FailNext(1, http.StatusInternalServerError) }, "HTTP 500"},
		{"503", func(s *testServer) { s.em.FailNext(1, http.StatusServiceUnavailable) }, "HTTP 503"},
		{"429", func(s *testServer) { s.em.FailNext(1, http.StatusTooManyRequests) }, "HTTP 429"},
		{"dead server", func(s *testServer) { s.srv.Close() }, "network"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, shortConfig())
			c := newCLI(t, "file")
			name := uniqueName(t, c, "down")
			p := importExpired(t, c, s.em, s.url, name, 10*time.Minute, time.Hour)
			tc.break_(s)
			r := c.run("", "token", name)
			t.Logf("token:\n%s", r.stderr)
			if r.code != 5 {
				t.Fatalf("exit %d, want 5\n%s", r.code, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("printed %q on stdout while failing", r.stdout)
			}
			if !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "unavailable") {
				t.Errorf("stderr does not give the reason (%q):\n%s", tc.want, r.stderr)
			}
			requireNoPairSecret(t, "the message", r.stderr, p)
			got := listedSession(t, c, name)
			if got.State != "retrying" || got.LastError == "" {
				t.Errorf("list says %s (last error %q), want retrying with the error", got.State, got.LastError)
			}
			if tc.name == "429" {
				// Wait out the emulator's Retry-After (1s), which every
				// process honours; this is not a timing assertion.
				time.Sleep(1100 * time.Millisecond)
			}
			if tc.name != "dead server" {
				// The server is back: the next run refreshes.
				if r := c.run("", "token", name); r.code != 0 || !s.em.Valid(strings.TrimSpace(r.stdout), emulator.KindAccess) {
					t.Errorf("after the server recovered: exit %d\n%s", r.code, r.stderr)
				}
			}
		})
	}
}

// TestRetryAfterAcrossProcesses: after a 429 with Retry-After, the
// next process sends nothing before it ends and says why (exit 5).
func TestRetryAfterAcrossProcesses(t *testing.T) {
	t.Parallel()
	s := startServer(t, shortConfig())
	c := newCLI(t, "file")
	name := uniqueName(t, c, "ra")
	importExpired(t, c, s.em, s.url, name, 10*time.Minute, time.Hour)
	s.retryAfter.Store(60)
	if r := c.run("", "token", name); r.code != 5 || !strings.Contains(r.stderr, "HTTP 429") {
		t.Fatalf("first run: exit %d, want 5 (rate limited)\n%s", r.code, r.stderr)
	}
	<-s.arrived
	// --min-valid: the expired token's last half second, by a server clock
	// read to the second, must not serve instead.
	for _, args := range [][]string{{"token", name, "--min-valid", "1m"}, {"refresh", name}} {
		r := c.run("", args...)
		t.Logf("%v:\n%s", args, r.stderr)
		if r.code != 5 || !strings.Contains(r.stderr, "nothing is sent until") {
			t.Errorf("%v inside Retry-After: exit %d, want 5 saying nothing was sent\n%s", args, r.code, r.stderr)
		}
		if strings.Contains(r.stderr, "logins") {
			t.Errorf("%v: a refresh's rate limit is explained as the login limit:\n%s", args, r.stderr)
		}
	}
	select {
	case <-s.arrived:
		t.Error("a refresh reached the server before its Retry-After ended")
	default:
	}
	if st := s.em.Stats(); st.Refreshes != 0 || st.RefreshRejections != 0 {
		t.Errorf("emulator stats %+v", st)
	}
}

func TestNeedsLoginReasons(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		refreshTTL time.Duration
		// spoil does to the stored refresh token what the case is about.
		spoil  func(t *testing.T, s *testServer, c *cli, name string, p tokenPair)
		reason string
		says   []string
		reuse  int
	}{
		{"refresh token expired", 500 * time.Millisecond,
			func(t *testing.T, s *testServer, c *cli, name string, p tokenPair) {
				time.Sleep(700 * time.Millisecond)
			},
			"refresh_expired", []string{"expired"}, 0},
		{"used by someone else", time.Hour,
			func(t *testing.T, s *testServer, c *cli, name string, p tokenPair) {
				if code := postPath(t, s.url, "/oauth/refresh-token", `{"refresh_token": "`+p.refresh+`"}`); code != 200 {
					t.Fatalf("someone else's refresh: HTTP %d", code)
				}
			},
			"rejected", []string{"WARNING", "someone else", "tokentop revoke"}, 1},
		{"revoked by someone else", time.Hour,
			func(t *testing.T, s *testServer, c *cli, name string, p tokenPair) {
				if code := postPath(t, s.url, "/oauth/revoke-token", `{"token": "`+p.refresh+`", "token_type": "refresh"}`); code != 200 {
					t.Fatalf("revoke: HTTP %d", code)
				}
			},
			// The server answers a revoked token exactly as a stolen one
			// (401), so this can only be reported as a rejection.
			"rejected", []string{"rejected"}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, shortConfig())
			c := newCLI(t, "file")
			name := uniqueName(t, c, "dead")
			p := importExpired(t, c, s.em, s.url, name, 10*time.Minute, tc.refreshTTL)
			tc.spoil(t, s, c, name, p)
			r := c.run("", "token", name)
			t.Logf("token:\n%s", r.stderr)
			if r.code != 3 {
				t.Fatalf("exit %d, want 3\n%s", r.code, r.stderr)
			}
			for _, want := range append([]string{tc.reason, "log in again"}, tc.says...) {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q", want)
				}
			}
			requireNoPairSecret(t, "the message", r.stderr, p)
			if got := listedSession(t, c, name); got.State != "needs_login" || got.Reason != tc.reason {
				t.Errorf("list says %s (%s), want needs_login (%s)", got.State, got.Reason, tc.reason)
			}
			if st := s.em.Stats(); st.ReuseDetected != tc.reuse {
				t.Errorf("emulator counted %d reuses, want %d", st.ReuseDetected, tc.reuse)
			}
		})
	}
}

func TestRevokedByUs(t *testing.T) {
	t.Parallel()
	s := startServer(t, shortConfig())
	c := newCLI(t, "file")
	name := uniqueName(t, c, "revoked")
	p := importExpired(t, c, s.em, s.url, name, 10*time.Minute, time.Hour)
	// Revoking the refresh token works, revoking the access token fails:
	// tokentop keeps the session and remembers that it revoked it itself.
	s.failAccessRevoke.Store(true)
	rv := c.run("", "revoke", name)
	t.Logf("revoke: exit %d\n%s%s", rv.code, rv.stdout, rv.stderr)
	if rv.code == 0 {
		t.Fatalf("revoke reported success although the access token could not be revoked")
	}
	before := s.em.Stats()
	r := c.run("", "token", name)
	t.Logf("token:\n%s", r.stderr)
	if r.code != 3 {
		t.Fatalf("token after revoking: exit %d, want 3\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"(revoked)", "revoked by tokentop"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	if strings.Contains(r.stderr, "WARNING") {
		t.Error("our own revocation is reported as possible theft")
	}
	if after := s.em.Stats(); after.Refreshes != before.Refreshes || after.RefreshRejections != before.RefreshRejections {
		t.Errorf("token asked the server about a token it knows it revoked: %+v -> %+v", before, after)
	}
	requireNoPairSecret(t, "the message", r.stdout+r.stderr, p)
	if got := listedSession(t, c, name); got.State != "needs_login" || got.Reason != "revoked" {
		t.Errorf("list says %s (%s), want needs_login (revoked)", got.State, got.Reason)
	}
}

func TestAdoptedNotRefreshedTwice(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			em, url := startEmulator(t, shortConfig())
			c := newCLI(t, b)
			name := uniqueName(t, c, "adopt")
			p := importExpired(t, c, em, url, name, 10*time.Minute, time.Hour)
			r := c.run("", "refresh", name)
			t.Logf("refresh:\n%s", r.stdout)
			if r.code != 0 {
				t.Fatalf("refresh: exit %d\n%s", r.code, r.stderr)
			}
			for _, want := range []string{"refreshed", "old " + fingerprintOf(p.access), "old " + fingerprintOf(p.refresh), "new sha256:"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("refresh output lacks %q", want)
				}
			}
			requireNoPairSecret(t, "refresh", r.stdout+r.stderr, p)
			tok := c.run("", "token", name)
			if tok.code != 0 || !em.Valid(strings.TrimSpace(tok.stdout), emulator.KindAccess) || strings.TrimSpace(tok.stdout) == p.access {
				t.Fatalf("token after another process refreshed: exit %d\n%s", tok.code, tok.stderr)
			}
			if st := em.Stats(); st.Refreshes != 1 || st.ReuseDetected != 0 {
				t.Errorf("emulator stats %+v: want exactly one refresh", st)
			}
		})
	}
}

func TestRefreshAdoptsConcurrentRotation(t *testing.T) {
	t.Parallel()
	s := startServer(t, shortConfig())
	c := newCLI(t, "file")
	name := uniqueName(t, c, "adopt2")
	importExpired(t, c, s.em, s.url, name, 10*time.Minute, time.Hour)
	// The first process's refresh waits 2s at the server while holding the
	// lock; the second asks for a refresh meanwhile and must adopt the
	// first one's pair rather than rotate again.
	s.em.SetLatency(2 * time.Second)
	first, _, _ := startProcess(t, c, "token", name)
	waitArrived(t, s)
	second := c.run("", "refresh", name)
	if err := first.Wait(); err != nil {
		t.Fatalf("the first process: %v", err)
	}
	t.Logf("second:\n%s%s", second.stdout, second.stderr)
	if second.code != 0 || !strings.Contains(second.stdout, "adopted a pair another process saved") {
		t.Errorf("second refresh: exit %d, want it to adopt\n%s%s", second.code, second.stdout, second.stderr)
	}
	if n := strings.Count(second.stdout, "adopted"); n != 1 {
		t.Errorf("the adoption is told %d times, want once:\n%s", n, second.stdout)
	}
	if st := s.em.Stats(); st.Refreshes != 1 {
		t.Errorf("emulator counted %d refreshes, want 1", st.Refreshes)
	}
}

// fingerprintOf mirrors auth.Fingerprint for assertions.
func fingerprintOf(tok string) string { return auth.Fingerprint(tok) }
