package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tokentop/tokentop/internal/cli/cmdutil"
)

// emulatorProcess is a running `tokentop emulator` and what it has printed.
type emulatorProcess struct {
	cmd    *exec.Cmd
	url    string
	lines  chan string // stderr lines after the banner's URL
	banner []string
}

// startEmulatorProcess runs the built binary as an emulator and waits for its URL.
func startEmulatorProcess(t *testing.T, args ...string) *emulatorProcess {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, tokentopBin, append([]string{"emulator"}, args...)...)
	cmd.Env = append(os.Environ(), "TOKENTOP_CONFIG_DIR="+t.TempDir(), "TOKENTOP_STORAGE=memory")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &emulatorProcess{cmd: cmd, lines: make(chan string, 1000)}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	sc := bufio.NewScanner(stderr)
	go func() {
		defer close(p.lines)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	for line := range p.lines {
		p.banner = append(p.banner, line)
		if u, ok := strings.CutPrefix(line, "tokentop emulator listening on "); ok {
			p.url = u
		}
		if line == "Ctrl-C stops it." {
			break
		}
	}
	if p.url == "" {
		t.Fatalf("no URL in the emulator's output:\n%s", strings.Join(p.banner, "\n"))
	}
	return p
}

// postJSON posts v and decodes the JSON answer.
func postJSON(t *testing.T, url string, v any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(v)
	res, err := http.Post(url, "application/json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer res.Body.Close()
	var m map[string]any
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("POST %s: %v: %s", url, err, raw)
	}
	return res.StatusCode, m
}

func TestEmulatorCommand(t *testing.T) {
	t.Parallel()
	p := startEmulatorProcess(t, "--addr", "127.0.0.1:0", "--user", "a@b.c:pw:2:77", "--access-ttl", "90s", "--refresh-ttl", "1d")
	banner := strings.Join(p.banner, "\n")
	for _, want := range []string{
		"OAuth base URL: " + p.url, "API base URL:   " + p.url + "/v3", "a@b.c", "role_id 2, org_unit_id 77",
		"access 1m30s, refresh 1d", "curl -s -X POST " + p.url + "/oauth/token",
	} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	if strings.Contains(banner, ":pw") || strings.Contains(banner, `"pw"`) || strings.Contains(banner, "warning") {
		t.Errorf("banner shows a --user password or a warning:\n%s", banner)
	}

	status, login := postJSON(t, p.url+"/oauth/token", map[string]string{"email": "a@b.c", "password": "pw"})
	if status != 200 {
		t.Fatalf("login: %d %v", status, login)
	}
	user, _ := login["user"].(map[string]any)
	if user["role_id"] != float64(2) || user["org_unit_id"] != float64(77) {
		t.Errorf("user %v, want role 2 org 77", user)
	}
	if status, _ := postJSON(t, p.url+"/oauth/token", map[string]string{"email": "demo@example.com", "password": "demo-password"}); status != 401 {
		t.Errorf("the default user works although --user was given: %d", status)
	}
	res, err := http.Get(p.url + "/_emulator/stats")
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	_ = json.NewDecoder(res.Body).Decode(&st)
	res.Body.Close()
	if st["logins"] != float64(1) || st["active_sessions"] != float64(1) {
		t.Errorf("stats %v", st)
	}

	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var rest []string
	for line := range p.lines {
		rest = append(rest, line)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("after SIGINT: %v, want exit 0", err)
	}
	log := strings.Join(rest, "\n")
	if !strings.Contains(log, "POST /oauth/token 200") || !strings.Contains(log, "emulator: stopped") {
		t.Errorf("request log / stop message missing:\n%s", log)
	}
	for _, k := range []string{"access_token", "refresh_token", "frontend_token"} {
		if s, _ := login[k].(string); s == "" || strings.Contains(log, s) {
			t.Errorf("the log shows the %s (or it is missing)", k)
		}
	}
}

func TestEmulatorCommandDefaultUserAndWarning(t *testing.T) {
	t.Parallel()
	p := startEmulatorProcess(t, "--addr", "0.0.0.0:0", "--token-format", "jwt", "--login-rate", "-1")
	banner := strings.Join(p.banner, "\n")
	for _, want := range []string{"warning: listening on", "not loopback", "demo@example.com", "password demo-password", "tokens jwt", "logins unlimited"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	if !strings.HasPrefix(p.url, "http://127.0.0.1:") {
		t.Errorf("URL %q: want a loopback URL one can use", p.url)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	for range p.lines {
	}
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("after SIGTERM: %v, want exit 0", err)
	}
}

func TestEmulatorCommandBadFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--token-format", "xml"}, "choose opaque or jwt"},
		{[]string{"--fail-rate", "1.5"}, "between 0 and 1"},
		{[]string{"--fail-rate", "-0.1"}, "between 0 and 1"},
		{[]string{"--fail-rate", "NaN"}, "between 0 and 1"},
		{[]string{"--access-ttl", "0s"}, "must be positive"},
		{[]string{"--refresh-ttl", "-5m"}, "must be positive"},
		{[]string{"--access-ttl", "soon"}, "want a duration"},
		{[]string{"--refresh-ttl", "1.5d"}, "whole number of days"},
		{[]string{"--latency", "-1s"}, "cannot be negative"},
		{[]string{"--login-rate", "0"}, "refuse every login"},
		{[]string{"--login-rate", "many"}, "--login-rate"},
		{[]string{"--user", "nobody"}, "EMAIL:PASSWORD"},
		{[]string{"--user", "a@b.c:pw:7"}, "ROLE_ID"},
		{[]string{"--user", "a@b.c:pw", "--user", "A@b.c:pw2"}, "given twice"},
		{[]string{"--addr", "8787"}, "HOST:PORT"},
		{[]string{"extra"}, "takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := newCLI(t, "memory").run("", append([]string{"emulator", "--addr", "127.0.0.1:0"}, tt.args...)...)
			if r.code != cmdutil.ExitUsage || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q: want exit 2 and %q", r.code, r.stderr, tt.want)
			}
		})
	}
}

func TestEmulatorCommandAddrInUse(t *testing.T) {
	t.Parallel()
	p := startEmulatorProcess(t, "--addr", "127.0.0.1:0")
	addr := strings.TrimPrefix(p.url, "http://")
	r := newCLI(t, "memory").run("", "emulator", "--addr", addr)
	if r.code != cmdutil.ExitFailure || !strings.Contains(r.stderr, "listen on "+addr) {
		t.Errorf("second emulator on %s: exit %d, %q; want exit 1 naming the address", addr, r.code, r.stderr)
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	for range p.lines {
	}
	var ee *exec.ExitError
	if err := p.cmd.Wait(); errors.As(err, &ee) {
		t.Errorf("exit %d after SIGINT", ee.ExitCode())
	}
}
