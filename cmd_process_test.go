package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/tokentop/tokentop/auth/emulator"
)

// sessPair is what a test knows of an issued pair: the server's body and
// the tokens in it.
type sessPair struct {
	body    []byte
	access  string
	refresh string
}

// sessDecodePair reads the tokens out of a token response body.
func sessDecodePair(t testing.TB, body []byte) sessPair {
	t.Helper()
	var v struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.AccessToken == "" || v.RefreshToken == "" {
		t.Fatalf("the emulator issued an unreadable token response (%v)", err)
	}
	return sessPair{body: body, access: v.AccessToken, refresh: v.RefreshToken}
}

// sessName gives a session name unique to this test process, because the
// keyring is shared by every test (the config dirs are not), and removes
// the keyring item at the end.
func sessName(t testing.TB, c *cli, base string) string {
	t.Helper()
	name := fmt.Sprintf("%s-%d-%d", base, os.Getpid(), time.Now().UnixNano()%1_000_000)
	if c.storage == "keyring" {
		t.Cleanup(func() { _ = keyring.Delete("tokentop", name) })
	}
	return name
}

// sessEndpointArgs are the --oauth-url/--api-url flags for an emulator at url.
func sessEndpointArgs(url string) []string {
	return []string{"--oauth-url", url, "--api-url", url + "/v3"}
}

// sessImport issues a pair at the emulator with the given lifetimes (zero:
// the emulator's) and imports it as name.
func sessImport(t testing.TB, c *cli, em *emulator.Server, url, name string, accessTTL, refreshTTL time.Duration) sessPair {
	t.Helper()
	body, err := em.Issue(emulator.DefaultUser.Email, accessTTL, refreshTTL)
	if err != nil {
		t.Fatal(err)
	}
	p := sessDecodePair(t, body)
	r := c.run(string(body), append([]string{"import", name}, sessEndpointArgs(url)...)...)
	if r.code != 0 {
		t.Fatalf("import %s: exit %d\n%s", name, r.code, r.stderr)
	}
	return p
}

// sessImportDue imports a pair whose access token the server keeps valid
// for accessTTL, but which the response says expires after `left` (a
// duration from now, possibly negative). This puts a session inside its
// refresh window (or past its expiry) at once, while the pairs the server
// issues on refresh keep the long accessTTL, so those are not due again
// while the test runs.
func sessImportDue(t testing.TB, c *cli, em *emulator.Server, url, name string, left, accessTTL, refreshTTL time.Duration) sessPair {
	t.Helper()
	body, err := em.Issue(emulator.DefaultUser.Email, accessTTL, refreshTTL)
	if err != nil {
		t.Fatal(err)
	}
	p := sessDecodePair(t, body)
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
	r := c.run(string(edited), append([]string{"import", name}, sessEndpointArgs(url)...)...)
	if r.code != 0 {
		t.Fatalf("import %s: exit %d\n%s", name, r.code, r.stderr)
	}
	return p
}

// sessListed is a session as `list --json` shows it (the fields tests read).
type sessListed struct {
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

// sessListSession returns one session from `list --json`.
func sessListSession(t testing.TB, c *cli, name string) sessListed {
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
		var s sessListed
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
	return sessListed{}
}

// sessServer is an emulator behind a test-controlled front: it can hold a
// refresh after the emulator rotated the pair (the process never gets the
// answer), tells when a refresh arrived, and can be shut down (a dead server).
type sessServer struct {
	em   *emulator.Server
	srv  *httptest.Server
	url  string
	hold atomic.Bool
	// arrived gets one value per refresh request that reached the server.
	arrived chan struct{}
}

func sessStartServer(t testing.TB, cfg emulator.Config) *sessServer {
	t.Helper()
	s := &sessServer{em: emulator.New(cfg), arrived: make(chan struct{}, 64)}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth/refresh-token" {
			s.em.ServeHTTP(w, r)
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

// sessWaitArrived waits until a refresh reached the server.
func sessWaitArrived(t testing.TB, s *sessServer) {
	t.Helper()
	select {
	case <-s.arrived:
	case <-time.After(30 * time.Second):
		t.Fatal("no refresh request reached the emulator within 30s")
	}
}

// sessNoSecrets fails if out contains any of the tokens.
func sessNoSecrets(t testing.TB, what, out string, p sessPair) {
	t.Helper()
	for _, tok := range []string{p.access, p.refresh} {
		if tok != "" && strings.Contains(out, tok) {
			t.Errorf("%s shows a token value:\n%s", what, out)
		}
	}
}

// sessShortConfig is an emulator whose own lifetimes are long (a refreshed
// pair is never due again during a test) and with no login rate limit.
func sessShortConfig() emulator.Config {
	return emulator.Config{AccessTTL: 10 * time.Minute, RefreshTTL: time.Hour, LoginRate: -1}
}

func TestSessConcurrentTokenOneRefresh(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			em, url := startEmulator(t, sessShortConfig())
			c := newCLI(t, b)
			name := sessName(t, c, "many")
			// The response says 1s of life, so the refresh window (half a
			// lifetime this short) opens half a second after the import.
			old := sessImportDue(t, c, em, url, name, time.Second, 10*time.Minute, time.Hour)
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

// sessRunUntil starts tokentop and returns its process, buffered stdout
// and stderr.
func sessStart(t testing.TB, c *cli, args ...string) (*exec.Cmd, *sessBuffer, *sessBuffer) {
	t.Helper()
	cmd := c.command(context.Background(), args...)
	out, errb := &sessBuffer{}, &sessBuffer{}
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

// sessBuffer is a bytes.Buffer safe to read while a process writes to it.
type sessBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *sessBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *sessBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// sessWaitFor waits until re matches what the buffer holds.
func sessWaitFor(t testing.TB, b *sessBuffer, re string, timeout time.Duration) string {
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

// sessInterrupt sends SIGINT and waits for the exit code.
func sessInterrupt(t testing.TB, cmd *exec.Cmd) int {
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
