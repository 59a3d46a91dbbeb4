package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/auth/emulator"
)

// recorder wraps the emulator and remembers every token it hands out, so
// the test knows every secret that must never be printed unasked.
type recorder struct {
	h  http.Handler
	mu sync.Mutex
	// tokens holds every access, refresh and frontend token issued.
	tokens map[string]bool
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var buf bytes.Buffer
	r.h.ServeHTTP(teeWriter{w, &buf}, req)
	r.remember(buf.Bytes())
}

// remember collects the token fields of a (flat or enveloped) token response.
func (r *recorder) remember(body []byte) {
	var resp struct {
		Access   string `json:"access_token"`
		Refresh  string `json:"refresh_token"`
		Frontend string `json:"frontend_token"`
		Data     *struct {
			Access   string `json:"access_token"`
			Refresh  string `json:"refresh_token"`
			Frontend string `json:"frontend_token"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &resp) != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, tok := range []string{resp.Access, resp.Refresh, resp.Frontend} {
		if tok != "" {
			r.tokens[tok] = true
		}
	}
	if d := resp.Data; d != nil {
		for _, tok := range []string{d.Access, d.Refresh, d.Frontend} {
			if tok != "" {
				r.tokens[tok] = true
			}
		}
	}
}

func (r *recorder) secrets() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for tok := range r.tokens {
		out = append(out, tok)
	}
	return out
}

// teeWriter copies what the emulator writes.
type teeWriter struct {
	http.ResponseWriter
	buf *bytes.Buffer
}

func (t teeWriter) Write(b []byte) (int, error) {
	t.buf.Write(b)
	return t.ResponseWriter.Write(b)
}

// ranBriefly is one command's output, with the secrets it may print.
type ranBriefly struct {
	args    []string
	r       result
	allowed string // a secret this command prints on stdout when asked to
}

// TestNoCommandPrintsSecrets runs every command (happy and failing paths)
// and greps stdout and stderr for every token issued and the passwords.
// Only `token` (stdout) and `--show-token` may print an access token.
func TestNoCommandPrintsSecrets(t *testing.T) {
	t.Parallel()
	const (
		email    = "secret-keeper@example.com"
		password = "Pa55-word-never-printed"
		wrong    = "Wr0ng-password-never-printed"
	)
	em := emulator.New(emulator.Config{LoginRate: -1, Users: []emulator.User{
		{Email: email, Password: password, UserID: 7, RoleID: 2, OrgUnitID: 70035},
		emulator.DefaultUser(),
	}})
	rec := &recorder{h: em, tokens: map[string]bool{}}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	url := srv.URL
	c := newCLI(t, "file")
	var ran []ranBriefly
	run := func(stdin string, args ...string) result {
		t.Helper()
		r := c.run(stdin, args...)
		ran = append(ran, ranBriefly{args: args, r: r})
		return r
	}
	must := func(r result, args ...string) {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("tokentop %v: exit %d\n%s", args, r.code, r.stderr)
		}
	}
	ep := []string{"--oauth-url", url, "--api-url", url + "/v3"}

	must(run(password+"\n", append([]string{"login", "a", "--email", email, "--password-stdin"}, ep...)...), "login")
	run(wrong+"\n", append([]string{"login", "w", "--email", email, "--password-stdin"}, ep...)...)
	body, err := em.Issue(emulator.DefaultUser().Email, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	rec.remember(body)
	must(run(string(body), append([]string{"import", "b"}, ep...)...), "import")
	run("{\"access_token\": \"x\"}", append([]string{"import", "broken"}, ep...)...)
	run("", "list")
	run("", "list", "--json")
	tokRun := run("", "token", "a")
	must(tokRun, "token")
	ran[len(ran)-1].allowed = strings.TrimSpace(tokRun.stdout)
	must(run("", "refresh", "a"), "refresh")
	run("", "token", "a", "--min-valid", "1m")
	ran[len(ran)-1].allowed = strings.TrimSpace(ran[len(ran)-1].r.stdout)
	for _, args := range [][]string{
		{"inspect", "a"}, {"inspect", "a", "--json"}, {"inspect", "a", "--probe"}, {"inspect", "a", "--probe", "--json"},
		{"exec", "a", "--", "true"}, {"exec", "a", "--", "no-such-command-tokentop"}, {"exec", "nobody", "--", "true"},
	} {
		run("", args...)
	}
	// The raw-token commands, with a token on stdin, including rejection.
	var b struct {
		Access string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatal(err)
	}
	run(b.Access, "inspect", "--token", "-")
	run(b.Access, "inspect", "--token", "-", "--json", "--probe", "--api-url", url+"/v3")
	run(b.Access+"x", "inspect", "--token", "-", "--probe", "--api-url", url+"/v3")
	run(b.Access, "revoke", "--token", "-", "--type", "bogus")
	run(b.Access, "revoke", "--token", "-", "--type", "access", "--oauth-url", url)
	ran = append(ran, runBriefly(t, c, "keepalive", "a"))
	ran = append(ran, emulatorBriefly(t, c, rec, email, password))
	em.FailNext(1, http.StatusServiceUnavailable)
	run("", "revoke", "b")
	run("", "revoke", "b")
	run("", "forget", "a")
	run("", "refresh", "a")
	for _, cmd := range []string{"", "demo", "emulator", "login", "import", "list", "token", "refresh", "inspect",
		"revoke", "forget", "keepalive", "exec", "completion"} {
		run("", strings.Fields(cmd+" --help")...)
	}

	secrets := append(rec.secrets(), password, wrong)
	if len(secrets) < 8 {
		t.Fatalf("only %d secrets recorded: the recorder is not seeing the token responses", len(secrets))
	}
	for _, x := range ran {
		for _, s := range secrets {
			where := ""
			switch {
			case strings.Contains(x.r.stderr, s):
				where = "stderr"
			case strings.Contains(x.r.stdout, s) && s != x.allowed:
				where = "stdout"
			}
			if where != "" {
				t.Errorf("tokentop %v printed a secret (%s) on %s", x.args, auth.Fingerprint(s), where)
			}
		}
	}
}

// runBriefly starts a long-running command, lets it work for a moment,
// then interrupts it as a user would.
func runBriefly(t *testing.T, c *cli, args ...string) ranBriefly {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := c.command(ctx, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	_ = cmd.Process.Signal(syscall.SIGINT)
	_ = cmd.Wait()
	return ranBriefly{args: args, r: result{stdout: out.String(), stderr: errb.String(), code: cmd.ProcessState.ExitCode()}}
}

// emulatorBriefly runs `tokentop emulator` in the foreground, logs in
// and probes through it, and returns what it printed (its request log).
func emulatorBriefly(t *testing.T, c *cli, rec *recorder, email, password string) ranBriefly {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := []string{"emulator", "--addr", addr, "--user", email + ":" + password + ":1:1001"}
	cmd := c.command(ctx, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		<-exited
	}()
	for {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
			break
		}
		select {
		case <-exited:
			t.Fatalf("tokentop %v exited before listening: %s", args, errb.String())
		default:
		}
		time.Sleep(20 * time.Millisecond)
	}
	creds, _ := json.Marshal(map[string]string{"email": email, "password": password})
	resp, err := http.Post("http://"+addr+"/oauth/token", "application/json", bytes.NewReader(creds))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("login at `tokentop emulator`: HTTP %d %s", resp.StatusCode, body)
	}
	rec.remember(body)
	var tok struct {
		Access string `json:"access_token"`
	}
	_ = json.Unmarshal(body, &tok)
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/v3/auth/profile", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Access)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	<-exited
	return ranBriefly{args: args, r: result{stdout: out.String(), stderr: errb.String(), code: cmd.ProcessState.ExitCode()}}
}
