package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/auth/emulator"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
	"github.com/tokentop/tokentop/storage"
)

// tokensOf are the secrets of one seeded session, for assertions only.
type tokensOf struct {
	Access, Refresh, Frontend string
	AccessExpiry              time.Time
}

// seededSession is a session seeded into a fresh config dir through `import`.
type seededSession struct {
	c    *cli
	em   *emulator.Server
	url  string // emulator base URL: the OAuth URL; url+"/v3" is the API
	name string
	tok  tokensOf
}

// testName is a session name unique across test runs, because the keyring
// backend shares one Secret Service between all tests.
func testName(t testing.TB) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "adm-" + hex.EncodeToString(b)
}

// seedSession starts an emulator (unless em is given) and imports one session
// issued by it into a fresh CLI with the given backend. mutate may rewrite
// the token response before import (e.g. to make it look about to expire).
func seedSession(t *testing.T, backend string, cfg emulator.Config, mutate func(map[string]any)) *seededSession {
	t.Helper()
	em, url := startEmulator(t, cfg)
	return seedInto(t, newCLI(t, backend), em, url, mutate)
}

// seedInto imports one more session issued by em into c.
func seedInto(t *testing.T, c *cli, em *emulator.Server, url string, mutate func(map[string]any)) *seededSession {
	t.Helper()
	body, err := em.Issue(emulator.DefaultUser().Email, 0, 0)
	if err != nil {
		t.Fatalf("issue: %v", err)
	}
	var resp map[string]any
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatalf("issue body: %v", err)
	}
	tok := tokensOf{
		Access:   resp["access_token"].(string),
		Refresh:  resp["refresh_token"].(string),
		Frontend: resp["frontend_token"].(string),
	}
	if mutate != nil {
		mutate(resp)
		if body, err = json.Marshal(resp); err != nil {
			t.Fatal(err)
		}
	}
	if exp, err := time.Parse(time.RFC3339Nano, resp["expires_in"].(string)); err == nil {
		tok.AccessExpiry = exp
	}
	name := testName(t)
	// Kept alive: these tests refresh it (an import starts paused).
	r := c.run(string(body), "import", name, "--keep-alive", "--oauth-url", url, "--api-url", url+"/v3")
	if r.code != 0 {
		t.Fatalf("import %s: exit %d\nstdout: %s\nstderr: %s", name, r.code, r.stdout, r.stderr)
	}
	if c.storage == "keyring" {
		// Keyring items outlive the config dir: remove ours.
		t.Cleanup(func() { c.run("", "forget", name) })
	}
	return &seededSession{c: c, em: em, url: url, name: name, tok: tok}
}

// makeDue rewrites the session's metadata as if its 7-day access token
// had 10s left (the server keeps its real expiry): deep inside the refresh
// window, so the next use must refresh first. No sleeping, no clock games.
func makeDue(t *testing.T, s *seededSession) {
	t.Helper()
	st, err := storage.Open(storage.Options{ConfigDir: s.c.configDir, Backend: s.c.storage})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	se, err := st.Get(ctx, s.name)
	if err != nil {
		t.Fatal(err)
	}
	se.AccessExpiry = time.Now().Add(10 * time.Second)
	se.IssuedAt = se.AccessExpiry.Add(-7 * 24 * time.Hour)
	if err := st.PutMeta(ctx, se); err != nil {
		t.Fatal(err)
	}
	s.tok.AccessExpiry = se.AccessExpiry
}

// wantResult fails unless r exited with code and, if given, has each of
// stdout's and stderr's substrings.
func wantResult(t *testing.T, r result, code int, inStdout, inStderr []string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, code, r.stdout, r.stderr)
	}
	for _, s := range inStdout {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
		}
	}
	for _, s := range inStderr {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
		}
	}
}

// requireNoSecret fails if any of the secrets appears in r's output.
func requireNoSecret(t *testing.T, r result, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
			t.Errorf("output contains a secret (%s):\nstdout: %s\nstderr: %s", auth.Fingerprint(s), r.stdout, r.stderr)
		}
	}
}

func TestInspectSession(t *testing.T) {
	t.Parallel()
	for _, backend := range backends(t) {
		t.Run(backend, func(t *testing.T) {
			s := seedSession(t, backend, emulator.Config{}, nil)
			tok := s.tok

			r := s.c.run("", "inspect", s.name)
			wantResult(t, r, 0, []string{
				s.name, emulator.DefaultUser().Email, "Admin (1)", "1001", "user id 12345",
				auth.Fingerprint(tok.Access), auth.Fingerprint(tok.Refresh), auth.Fingerprint(tok.Frontend),
				"opaque", "expires in 6d", "expires in 179d", s.url + "/v3", "storage: " + backend,
				"events (audit log)", "imported ",
			}, nil)
			requireNoSecret(t, r, tok.Access, tok.Refresh, tok.Frontend)
			if strings.Contains(r.stdout, "probe") {
				t.Errorf("inspect without --probe probed:\n%s", r.stdout)
			}

			r = s.c.run("", "inspect", s.name, "--probe")
			wantResult(t, r, 0, []string{"ACCEPTED", "HTTP 200", "request id "}, nil)
			requireNoSecret(t, r, tok.Access, tok.Refresh, tok.Frontend)

			r = s.c.run("", "inspect", s.name, "--show-token")
			wantResult(t, r, 0, []string{tok.Access}, nil)
			requireNoSecret(t, r, tok.Refresh, tok.Frontend)
		})
	}
}

func TestInspectSessionJSON(t *testing.T) {
	t.Parallel()
	s := seedSession(t, "file", emulator.Config{}, nil)
	r := s.c.run("", "inspect", s.name, "--json", "--probe")
	wantResult(t, r, 0, nil, nil)
	requireNoSecret(t, r, s.tok.Access, s.tok.Refresh, s.tok.Frontend)
	var got struct {
		Source  string `json:"source"`
		Session struct {
			Name              string    `json:"name"`
			Storage           string    `json:"storage"`
			Role              string    `json:"role"`
			User              auth.User `json:"user"`
			AccessFP          string    `json:"access_fingerprint"`
			RefreshFP         string    `json:"refresh_fingerprint"`
			FrontendFP        string    `json:"frontend_fingerprint"`
			AccessExpiresAt   time.Time `json:"access_expires_at"`
			AccessExpiresIn   *int64    `json:"access_expires_in_seconds"`
			RefreshExpiresIn  *int64    `json:"refresh_expires_in_seconds"`
			State             string    `json:"state"`
			AccessExpiredFlag bool      `json:"access_expired"`
		} `json:"session"`
		Token *auth.Inspection `json:"token"`
		Probe *struct {
			Accepted  bool   `json:"accepted"`
			Status    int    `json:"status"`
			RequestID string `json:"request_id"`
		} `json:"probe"`
		AccessToken *string      `json:"access_token"`
		Events      []auth.Event `json:"events"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("inspect --json is not JSON: %v\n%s", err, r.stdout)
	}
	se := got.Session
	switch {
	case got.Source != "session", se.Name != s.name, se.Storage != "file", se.Role != "Admin":
		t.Errorf("source/name/storage/role = %q %q %q %q", got.Source, se.Name, se.Storage, se.Role)
	case se.User.Email != emulator.DefaultUser().Email || se.User.OrgUnitID != 1001:
		t.Errorf("user = %+v", se.User)
	case se.AccessFP != auth.Fingerprint(s.tok.Access), se.RefreshFP != auth.Fingerprint(s.tok.Refresh),
		se.FrontendFP != auth.Fingerprint(s.tok.Frontend):
		t.Errorf("fingerprints = %s %s %s", se.AccessFP, se.RefreshFP, se.FrontendFP)
	case !se.AccessExpiresAt.Equal(s.tok.AccessExpiry):
		t.Errorf("access_expires_at = %s, want %s", se.AccessExpiresAt, s.tok.AccessExpiry)
	case se.AccessExpiresIn == nil || *se.AccessExpiresIn < 6*86400 || se.RefreshExpiresIn == nil || *se.RefreshExpiresIn < 179*86400:
		t.Errorf("expires_in_seconds = %v %v", se.AccessExpiresIn, se.RefreshExpiresIn)
	case se.AccessExpiredFlag:
		t.Error("access_expired = true for a fresh token")
	case got.Token == nil || got.Token.Fingerprint != se.AccessFP || got.Token.Format != "opaque" || got.Token.Length != len(s.tok.Access):
		t.Errorf("token = %+v", got.Token)
	case got.Probe == nil || !got.Probe.Accepted || got.Probe.Status != 200 || got.Probe.RequestID == "":
		t.Errorf("probe = %+v", got.Probe)
	case got.AccessToken != nil:
		t.Error("access_token present without --show-token")
	case len(got.Events) == 0 || got.Events[0].Kind != auth.EventImported || got.Events[0].Session != s.name:
		t.Errorf("events = %+v, want the import first", got.Events)
	}

	if strings.Contains(r.stdout, "0001-01-01") {
		t.Errorf("inspect --json prints an unset instant as the year 1:\n%s", r.stdout)
	}

	r = s.c.run("", "inspect", s.name, "--json", "--show-token")
	wantResult(t, r, 0, []string{`"access_token": "` + s.tok.Access + `"`}, nil)
}

func TestInspectRawToken(t *testing.T) {
	t.Parallel()
	em, url := startEmulator(t, emulator.Config{TokenFormat: "jwt"})
	body, err := em.Issue(emulator.DefaultUser().Email, time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		Access  string `json:"access_token"`
		Refresh string `json:"refresh_token"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatal(err)
	}
	c := newCLI(t, "file")

	r := c.run(resp.Access+"\n", "inspect", "--token", "-")
	wantResult(t, r, 0, []string{auth.Fingerprint(resp.Access), "JWT", "signature not verified", "issued at", "expires"}, nil)
	requireNoSecret(t, r, resp.Access)
	if !strings.Contains(r.stdout, "(in 59m") && !strings.Contains(r.stdout, "(in 1h 00m)") {
		t.Errorf("JWT exp not shown as about an hour from now:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "session") {
		t.Errorf("raw inspection shows session fields:\n%s", r.stdout)
	}

	r = c.run(resp.Access, "inspect", "--token", "-", "--probe", "--api-url", url+"/v3")
	wantResult(t, r, 0, []string{"ACCEPTED", "HTTP 200", "as " + emulator.DefaultUser().Email}, nil)
	requireNoSecret(t, r, resp.Access)

	r = c.run(resp.Access, "inspect", "--token", "-", "--json")
	wantResult(t, r, 0, []string{`"source": "stdin"`, `"format": "jwt"`, `"signature_verified": false`}, nil)
	if strings.Contains(r.stdout, `"session"`) {
		t.Errorf("raw --json has a session:\n%s", r.stdout)
	}

	// A token the server does not know: shown, then rejected with exit 1, so
	// `inspect --probe` works as a check in scripts.
	r = c.run("not-a-real-token-0123456789", "inspect", "--token", "-", "--probe", "--api-url", url+"/v3")
	wantResult(t, r, 1, []string{"opaque", "REJECTED", "HTTP 401"}, []string{"rejected"})
}

func TestInspectWarnings(t *testing.T) {
	t.Parallel()
	// The metadata says the access token dies in 10s while the JWT says a
	// week: inspect NAME compares the two and warns.
	s := seedSession(t, "file", emulator.Config{TokenFormat: "jwt"}, nil)
	makeDue(t, s)
	r := s.c.run("", "inspect", s.name)
	wantResult(t, r, 0, []string{"warning", "disagrees with the response's expires_in"}, nil)

	// A pasted header instead of a token.
	r = s.c.run("Bearer "+s.tok.Access, "inspect", "--token", "-")
	wantResult(t, r, 0, []string{"warning", `starts with "Bearer"`}, nil)
	requireNoSecret(t, r, s.tok.Access)
}

func TestInspectErrors(t *testing.T) {
	t.Parallel()
	s := seedSession(t, "file", emulator.Config{}, nil)
	tests := []struct {
		name     string
		stdin    string
		args     []string
		code     int
		inStderr string
	}{
		{"no argument", "", []string{"inspect"}, cmdutil.ExitUsage, "needs a session NAME"},
		{"two arguments", "", []string{"inspect", s.name, "other"}, cmdutil.ExitUsage, "takes a session NAME, or --token - with the token on stdin, got 2 arguments"},
		{"unknown session", "", []string{"inspect", "nobody"}, cmdutil.ExitFailure, "tokentop list"},
		{"invalid name", "", []string{"inspect", "bad/name"}, cmdutil.ExitUsage, ""},
		{"name and token", "x", []string{"inspect", s.name, "--token", "-"}, cmdutil.ExitUsage, "not both"},
		{"token as flag value", "", []string{"inspect", "--token", "abc"}, cmdutil.ExitUsage, "never accepted as flag values"},
		{"empty stdin", "", []string{"inspect", "--token", "-"}, cmdutil.ExitUsage, "no token on stdin"},
		{"api-url with name", "", []string{"inspect", s.name, "--api-url", s.url}, cmdutil.ExitUsage, "--api-url goes with --token"},
		{"insecure api url", "tok", []string{"inspect", "--token", "-", "--probe", "--api-url", "http://example.com/v3"}, cmdutil.ExitUsage, "--api-url"},
		{"unknown flag", "", []string{"inspect", s.name, "--bogus"}, cmdutil.ExitUsage, "bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.c.run(tt.stdin, tt.args...)
			wantResult(t, r, tt.code, nil, []string{tt.inStderr})
			if r.stdout != "" {
				t.Errorf("stdout on failure: %q", r.stdout)
			}
		})
	}
}

// TestInspectPromptHidesToken pastes a token at a real terminal (tmux):
// inspect --token - prompts without echo, so the token never reaches the
// screen, and inspects what was pasted.
func TestInspectPromptHidesToken(t *testing.T) {
	t.Parallel()
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("tmux not installed")
	}
	const token = "pasted-token-0123456789abcdef"
	c := newCLI(t, "file")
	socket := testName(t)
	tm := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(tmux, append([]string{"-L", socket}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v: %s", args, err, out)
		}
		return string(out)
	}
	shell := fmt.Sprintf("TOKENTOP_CONFIG_DIR=%s TOKENTOP_STORAGE=file %s inspect --token -; echo exit=$?; sleep 60",
		c.configDir, tokentopBin)
	tm("new-session", "-d", "-x", "120", "-y", "30", shell)
	t.Cleanup(func() { exec.Command(tmux, "-L", socket, "kill-server").Run() })
	waitPane(t, tm, "input hidden")
	tm("send-keys", "-l", token)
	tm("send-keys", "Enter")
	pane := waitPane(t, tm, "exit=")
	for _, want := range []string{auth.Fingerprint(token), "opaque", "exit=0"} {
		if !strings.Contains(pane, want) {
			t.Errorf("screen lacks %q:\n%s", want, pane)
		}
	}
	if strings.Contains(pane, token) {
		t.Errorf("the pasted token was echoed:\n%s", pane)
	}
}

// waitPane polls the tmux pane until it shows want, and returns it.
func waitPane(t *testing.T, tm func(...string) string, want string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		pane := tm("capture-pane", "-p")
		if strings.Contains(pane, want) {
			return pane
		}
		if time.Now().After(deadline) {
			t.Fatalf("the screen never showed %q:\n%s", want, pane)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestInspectStorageUnavailable(t *testing.T) {
	t.Parallel()
	// Metadata is still shown (text and JSON) when the keyring is out of
	// reach, and the exit code says the answer is partial.
	s := seedSession(t, "file", emulator.Config{}, nil)
	nk := withoutKeyring(t, s.c)
	r := nk.run("", "inspect", s.name)
	wantResult(t, r, cmdutil.ExitStorage, []string{emulator.DefaultUser().Email, auth.Fingerprint(s.tok.Refresh), "not inspected: secret storage unavailable"},
		[]string{"tokentop: "})

	r = nk.run("", "inspect", s.name, "--json", "--probe")
	if r.code != cmdutil.ExitStorage {
		t.Fatalf("exit %d, want %d: %s", r.code, cmdutil.ExitStorage, r.stderr)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	tokenErr, _ := got["token_error"].(string)
	if got["session"] == nil || got["token"] != nil || !strings.Contains(tokenErr, "no Secret Service") || got["probe"] != nil {
		t.Errorf("want session, token null, token_error and no probe; got %s", r.stdout)
	}
}
