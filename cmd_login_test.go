package main

import (
	"context"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth/emulator"
)

func TestLogin(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			em, url := startEmulator(t, emulator.Config{LoginRate: -1})
			c := newCLI(t, b)
			name := uniqueName(t, c, "login")
			pw := emulator.DefaultUser().Password

			r := c.run(pw+"\n", append([]string{"login", name, "--email", emulator.DefaultUser().Email, "--password-stdin"}, endpointArgs(url)...)...)
			if r.code != 0 {
				t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("login printed on stdout (data only goes there): %q", r.stdout)
			}
			if strings.Contains(r.stderr, "replaced") || strings.Contains(r.stderr, "Note:") {
				t.Errorf("a first login with both URLs has nothing to note:\n%s", r.stderr)
			}
			for _, want := range []string{emulator.DefaultUser().Email, "Admin", "org 1001", "user 12345", "access token", "refresh token", "expires in"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("login message lacks %q:\n%s", want, r.stderr)
				}
			}
			if strings.Contains(r.stderr, pw) {
				t.Error("login shows the password")
			}
			if em.Stats().Logins != 1 {
				t.Errorf("emulator counted %d logins, want 1", em.Stats().Logins)
			}
			tok := c.run("", "token", name)
			if tok.code != 0 || len(strings.TrimSpace(tok.stdout)) < 16 {
				t.Fatalf("token after login: exit %d %q\n%s", tok.code, tok.stdout, tok.stderr)
			}
			if !em.Valid(strings.TrimSpace(tok.stdout), emulator.KindAccess) {
				t.Error("the token printed after login is not accepted by the server")
			}
			requireNoPairSecret(t, "login", r.stderr, tokenPair{access: strings.TrimSpace(tok.stdout)})
			s := listedSession(t, c, name)
			if s.Email != emulator.DefaultUser().Email || s.Role != "Admin" || s.OrgUnitID != 1001 || s.State != "ok" {
				t.Errorf("list after login: %+v", s)
			}
		})
	}
}

func TestLoginErrors(t *testing.T) {
	t.Parallel()
	em, url := startEmulator(t, emulator.Config{LoginRate: -1})
	email := emulator.DefaultUser().Email
	ep := endpointArgs(url)
	cases := []struct {
		name     string
		stdin    string
		args     []string
		setup    func()
		code     int
		contains []string
	}{
		{"wrong password", "not-the-password\n", append([]string{"login", "w", "--email", email, "--password-stdin"}, ep...), nil, 1,
			[]string{"wrong email or password", "HTTP 401", "requestId"}},
		{"rate limited", emulator.DefaultUser().Password + "\n", append([]string{"login", "w", "--email", email, "--password-stdin"}, ep...),
			func() { em.FailNext(1, http.StatusTooManyRequests) }, 5, []string{"retry in 1s", "limiting login"}},
		{"server error", emulator.DefaultUser().Password + "\n", append([]string{"login", "w", "--email", email, "--password-stdin"}, ep...),
			func() { em.FailNext(1, http.StatusInternalServerError) }, 5, []string{"HTTP 500"}},
		{"no terminal and no --password-stdin", "", append([]string{"login", "w", "--email", email}, ep...), nil, 2,
			[]string{"--password-stdin"}},
		{"empty stdin", "", append([]string{"login", "w", "--email", email, "--password-stdin"}, ep...), nil, 2,
			[]string{"no password on stdin"}},
		{"no email", "x\n", append([]string{"login", "w", "--password-stdin"}, ep...), nil, 2, []string{"--email"}},
		{"no name", "x\n", []string{"login", "--email", email, "--password-stdin"}, nil, 2, []string{"NAME"}},
		{"bad name", "x\n", append([]string{"login", "a/b", "--email", email, "--password-stdin"}, ep...), nil, 2, []string{"name"}},
		{"plain http to a remote host", "x\n", []string{"login", "w", "--email", email, "--password-stdin", "--oauth-url", "http://example.com"}, nil, 2,
			[]string{"http"}},
		{"password as a flag", "", append([]string{"login", "w", "--email", email, "--password", "x"}, ep...), nil, 2, []string{"unknown flag"}},
	}
	c := newCLI(t, "file")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			r := c.run(tc.stdin, tc.args...)
			t.Logf("stderr:\n%s", r.stderr)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", r.code, tc.code, r.stderr)
			}
			for _, want := range tc.contains {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			if strings.Contains(r.stderr, emulator.DefaultUser().Password) || strings.Contains(r.stderr, "not-the-password") {
				t.Error("an error shows the password")
			}
			// Said once: not "wrong ...", "invalid ..." and the server's "Invalid ..." too.
			if n := strings.Count(strings.ToLower(r.stderr), "email or password"); n > 1 {
				t.Errorf("stderr says \"email or password\" %d times:\n%s", n, r.stderr)
			}
		})
	}
	if r := c.run("", "list", "--json"); !strings.Contains(r.stdout, `"sessions": []`) {
		t.Errorf("failed logins left a session behind:\n%s", r.stdout)
	}
}

// TestLoginNotes: logging in over a session says that the previous
// pair lives on at the server, and a URL pair given by half is pointed out.
func TestLoginNotes(t *testing.T) {
	t.Parallel()
	_, url := startEmulator(t, emulator.Config{LoginRate: -1})
	c := newCLI(t, "file")
	u := emulator.DefaultUser()
	login := func(args ...string) result {
		t.Helper()
		r := c.run(u.Password+"\n", append([]string{"login", "n", "--email", u.Email, "--password-stdin"}, args...)...)
		if r.code != 0 {
			t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
		}
		return r
	}
	first := login(endpointArgs(url)...)
	old := listedSession(t, c, "n")
	second := login(endpointArgs(url)...)
	t.Logf("second login:\n%s", second.stderr)
	for _, want := range []string{"replaced the previous pair", old.AccessFingerprint, old.RefreshFingerprint, "not revoked"} {
		if !strings.Contains(second.stderr, want) {
			t.Errorf("the second login does not say %q", want)
		}
	}
	if strings.Contains(first.stderr, "replaced") {
		t.Errorf("the first login says it replaced something:\n%s", first.stderr)
	}
	half := login("--oauth-url", url)
	if !strings.Contains(half.stderr, "--api-url was not given") || !strings.Contains(half.stderr, "platform-api.convirza.com") {
		t.Errorf("a login with --oauth-url alone does not point out the production API:\n%s", half.stderr)
	}
}

func TestImport(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			em, url := startEmulator(t, shortConfig())
			c := newCLI(t, b)
			name := uniqueName(t, c, "imp")
			body, err := em.Issue(emulator.DefaultUser().Email, time.Hour, 2*time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			p := decodePair(t, body)
			// The envelope some docs show must work as well as the flat body.
			enveloped := `{"code": 200, "message": "Login successful", "data": ` + string(body) + `}`
			r := c.run(enveloped, append([]string{"import", name}, endpointArgs(url)...)...)
			if r.code != 0 {
				t.Fatalf("import: exit %d\n%s", r.code, r.stderr)
			}
			requireNoPairSecret(t, "import", r.stdout+r.stderr, p)
			if !strings.Contains(r.stderr, "demo@example.com") || !strings.Contains(r.stderr, "in 59m") {
				t.Errorf("import message lacks the user or the expiry:\n%s", r.stderr)
			}
			tok := c.run("", "token", name)
			if tok.code != 0 || tok.stdout != p.access+"\n" {
				t.Fatalf("token after import: exit %d, want the imported access token\n%s", tok.code, tok.stderr)
			}
			if st := em.Stats(); st.Refreshes != 0 {
				t.Errorf("a fresh token was refreshed: %+v", st)
			}
		})
	}
}

func TestImportErrors(t *testing.T) {
	t.Parallel()
	em, url := startEmulator(t, shortConfig())
	body, err := em.Issue(emulator.DefaultUser().Email, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	p := decodePair(t, body)
	ep := endpointArgs(url)
	cases := []struct {
		name     string
		stdin    string
		args     []string
		code     int
		contains string
	}{
		{"empty stdin", "", nil, 2, "no token response on stdin"},
		{"blank stdin", " \n\n", nil, 2, "no token response on stdin"},
		{"bare token", p.access + "\n", nil, 2, "expected the JSON the login or refresh endpoint returns, e.g. {"},
		{"bearer header", "Bearer " + p.access, nil, 2, "bare token"},
		{"quoted token", `"` + p.access + `"`, nil, 2, "quoted string"},
		{"not JSON", "access_token=abc&refresh_token=def extra", nil, 2, "not valid JSON"},
		{"array", `[1, 2]`, nil, 2, "not an object"},
		{"error body", `{"statusCode": 401, "message": "Unauthorized"}`, nil, 2, "access_token"},
		{"no refresh token", `{"access_token": "abc", "expires_in": "2030-01-01T00:00:00.000Z"}`, nil, 2, "refresh_token"},
		{"no name", string(body), []string{"import"}, 2, "NAME"},
		{"insecure URL", string(body), []string{"import", "x", "--oauth-url", "http://example.com"}, 2, "http"},
	}
	c := newCLI(t, "file")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if args == nil {
				args = append([]string{"import", "x"}, ep...)
			}
			r := c.run(tc.stdin, args...)
			t.Logf("stderr:\n%s", r.stderr)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", r.code, tc.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.contains) {
				t.Errorf("stderr lacks %q:\n%s", tc.contains, r.stderr)
			}
			requireNoPairSecret(t, "an import error", r.stdout+r.stderr, p)
		})
	}
}

func TestStorageUnavailable(t *testing.T) {
	t.Parallel()
	em, url := startEmulator(t, shortConfig())
	body, err := em.Issue(emulator.DefaultUser().Email, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	c := newCLI(t, "keyring")
	c.env, c.process = append(c.env, "DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent"), true
	r := c.run(string(body), append([]string{"import", "nokeyring"}, endpointArgs(url)...)...)
	if r.code != 4 {
		t.Fatalf("import with no Secret Service: exit %d, want 4\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "storage") {
		t.Errorf("the error does not say that storage is the problem:\n%s", r.stderr)
	}
	requireNoPairSecret(t, "the storage error", r.stderr, decodePair(t, body))

	// A session saved in a working keyring, then read with the Secret
	// Service gone: token says storage (4), list still works from metadata.
	if len(backends(t)) < 2 {
		return
	}
	k := newCLI(t, "keyring")
	name := uniqueName(t, k, "gone")
	p := importPair(t, k, em, url, name, 10*time.Minute, time.Hour)
	k.env, k.process = append(k.env, "DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent"), true
	tok := k.run("", "token", name)
	if tok.code != 4 || tok.stdout != "" {
		t.Errorf("token with the Secret Service gone: exit %d, stdout %q, want 4\n%s", tok.code, tok.stdout, tok.stderr)
	}
	requireNoPairSecret(t, "the storage error", tok.stderr, p)
	if l := k.run("", "list"); l.code != 0 || !strings.Contains(l.stdout, name) {
		t.Errorf("list with the Secret Service gone: exit %d\n%s", l.code, l.stderr)
	}
}

// TestLoginPromptOnTerminal types the password at the no-echo prompt of
// a pseudo-terminal (script(1)) and checks it never shows on the screen.
func TestLoginPromptOnTerminal(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("needs script(1) for a pseudo-terminal")
	}
	t.Parallel()
	em, url := startEmulator(t, emulator.Config{LoginRate: -1})
	c := newCLI(t, "file")
	name := uniqueName(t, c, "prompt")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	line := strings.Join(append([]string{tokentopBin, "login", name, "--email", emulator.DefaultUser().Email}, endpointArgs(url)...), " ")
	cmd := exec.CommandContext(ctx, script, "-qec", line, "/dev/null")
	cmd.Env = append(c.command(ctx).Env, "TERM=dumb")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Type only once the prompt is there, as a person would.
	waitForOutput(t, out, `Password for demo@example\.com: `, 20*time.Second)
	if _, err := io.WriteString(stdin, emulator.DefaultUser().Password+"\r"); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("login on a terminal: %v\n%s", err, out.String())
	}
	if strings.Contains(out.String(), emulator.DefaultUser().Password) {
		t.Errorf("the password was echoed:\n%q", out.String())
	}
	if !strings.Contains(out.String(), "Logged in as demo@example.com") || em.Stats().Logins != 1 {
		t.Errorf("login on a terminal did not log in:\n%s", out.String())
	}
}
