package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/auth/emulator"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
)

// probeChild is a child command that checks, at the server, the token it
// was handed: the built tokentop probes it, printing only its fingerprint.
func probeChild() []string {
	return []string{"sh", "-c", `printf %s "$CONVIRZA_ACCESS_TOKEN" | "$0" inspect --token - --probe --api-url "$CONVIRZA_API_URL"`, tokentopBin}
}

func TestExecHandsAWorkingToken(t *testing.T) {
	t.Parallel()
	for _, backend := range backends(t) {
		t.Run(backend, func(t *testing.T) {
			s := seedSession(t, backend, emulator.Config{}, nil)
			// A stale token in tokentop's own environment must not reach the child.
			s.c.env = append(s.c.env, "CONVIRZA_ACCESS_TOKEN=stale", "CONVIRZA_API_URL=http://127.0.0.1:1/v3")
			r := s.c.run("", append([]string{"exec", s.name, "--"}, probeChild()...)...)
			wantResult(t, r, 0, []string{"access token    " + auth.Fingerprint(s.tok.Access), "ACCEPTED"}, nil)
			requireNoSecret(t, r, s.tok.Access, s.tok.Refresh, s.tok.Frontend)
		})
	}
}

func TestExecRefreshesFirst(t *testing.T) {
	t.Parallel()
	// The access token is about to expire: exec must refresh before the
	// child starts, and hand it the new token.
	s := seedSession(t, "file", emulator.Config{}, nil)
	makeDue(t, s)
	r := s.c.run("", append([]string{"exec", s.name, "--"}, probeChild()...)...)
	wantResult(t, r, 0, []string{"ACCEPTED"}, nil)
	if strings.Contains(r.stdout, auth.Fingerprint(s.tok.Access)) {
		t.Errorf("exec handed out the token that was about to expire:\n%s", r.stdout)
	}
	if got := s.em.Stats().Refreshes; got != 1 {
		t.Errorf("emulator saw %d refreshes, want 1", got)
	}
	if s.em.Valid(s.tok.Refresh, emulator.KindRefresh) {
		t.Error("the old refresh token is still valid: no rotation happened")
	}
}

func TestExecChildStatusAndStreams(t *testing.T) {
	t.Parallel()
	s := seedSession(t, "file", emulator.Config{}, nil)
	dir := t.TempDir()
	notExec := filepath.Join(dir, "script.sh")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\nexit 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		stdin      string
		cmd        []string
		code       int
		wantStdout string
		inStderr   string
	}{
		{"exit code passed on", "", []string{"sh", "-c", `test -n "$CONVIRZA_ACCESS_TOKEN" && exit 7`}, 7, "", ""},
		{"api url set", "", []string{"sh", "-c", `printf %s "$CONVIRZA_API_URL"`}, 0, s.url + "/v3", ""},
		{"only the two variables added", "", []string{"sh", "-c", `env | grep -c '^CONVIRZA_'`}, 0, "2\n", ""},
		{"stdin and stdout passed", "hello\n", []string{"cat"}, 0, "hello\n", ""},
		{"stderr passed", "", []string{"sh", "-c", "echo oops >&2; exit 3"}, 3, "", "oops"},
		{"killed by a signal", "", []string{"sh", "-c", "kill -KILL $$"}, 128 + 9, "", ""},
		{"not found", "", []string{"no-such-command-tokentop"}, 127, "", `cannot run "no-such-command-tokentop"`},
		{"not executable", "", []string{notExec}, 126, "", "permission denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.c.run(tt.stdin, append([]string{"exec", s.name, "--"}, tt.cmd...)...)
			wantResult(t, r, tt.code, nil, []string{tt.inStderr})
			if r.stdout != tt.wantStdout {
				t.Errorf("stdout = %q, want %q", r.stdout, tt.wantStdout)
			}
			requireNoSecret(t, r, s.tok.Access, s.tok.Refresh)
		})
	}
	if got := s.em.Stats().Refreshes; got != 0 {
		t.Errorf("a fresh token was refreshed %d times", got)
	}
}

// TestExecPrintsNothingOfItsOwn: exec is transparent, so a failing child's
// stderr is exactly what the child wrote (no "tokentop: exit status N").
// Needs run() in main.go to stay silent for an exitCodeError without err.
func TestExecPrintsNothingOfItsOwn(t *testing.T) {
	t.Parallel()
	s := seedSession(t, "file", emulator.Config{}, nil)
	r := s.c.run("", "exec", s.name, "--", "sh", "-c", "echo child-says >&2; exit 9")
	wantResult(t, r, 9, nil, nil)
	if r.stderr != "child-says\n" {
		t.Errorf("stderr = %q, want only the child's %q", r.stderr, "child-says\n")
	}
}

func TestExecShortLivedTokens(t *testing.T) {
	t.Parallel()
	// Tokens that live 30s can never satisfy the default --min-valid 1m:
	// the default gives way, an explicit wish fails without a refresh.
	s := seedSession(t, "file", emulator.Config{AccessTTL: 30 * time.Second}, nil)
	r := s.c.run("", append([]string{"exec", s.name, "--"}, probeChild()...)...)
	wantResult(t, r, 0, []string{"ACCEPTED"}, nil)
	// (The keeper learns the lifetime from the first refresh, which the
	// first exec may have spent; from then on an impossible wish is refused
	// up front.)
	before := s.em.Stats().Refreshes
	r = s.c.run("", "exec", s.name, "--min-valid", "1m", "--", "true")
	wantResult(t, r, cmdutil.ExitFailure, nil, []string{"minimum validity", "1m"})
	if got := s.em.Stats().Refreshes - before; got != 0 {
		t.Errorf("%d refreshes spent on a wish no token can meet", got)
	}
}

func TestExecUsage(t *testing.T) {
	t.Parallel()
	s := seedSession(t, "file", emulator.Config{}, nil)
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no dash", []string{"exec", s.name, "true"}, cmdutil.ExitUsage, "tokentop exec NAME -- CMD"},
		{"no command", []string{"exec", s.name, "--"}, cmdutil.ExitUsage, "tokentop exec NAME -- CMD"},
		{"no name", []string{"exec", "--", "true"}, cmdutil.ExitUsage, "tokentop exec NAME -- CMD"},
		{"negative min-valid", []string{"exec", s.name, "--min-valid", "-1m", "--", "true"}, cmdutil.ExitUsage, "must not be negative"},
		{"bad min-valid", []string{"exec", s.name, "--min-valid", "soon", "--", "true"}, cmdutil.ExitUsage, "soon"},
		{"unknown session", []string{"exec", "nobody", "--", "true"}, cmdutil.ExitFailure, "no such session"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantResult(t, s.c.run("", tt.args...), tt.code, nil, []string{tt.msg})
		})
	}
}

func TestExecForwardsSignals(t *testing.T) {
	t.Parallel()
	s := seedSession(t, "file", emulator.Config{}, nil)
	for _, tt := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGTERM, 42}, {syscall.SIGINT, 43}} {
		t.Run(tt.sig.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			// The child reports that its traps are set, then waits; only a
			// forwarded signal ends it (with the trap's code).
			cmd := s.c.command(ctx, "exec", s.name, "--", "sh", "-c",
				`trap 'exit 42' TERM; trap 'exit 43' INT; echo ready; while :; do sleep 0.05; done`)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if err != nil || line != "ready\n" {
				t.Fatalf("child said %q, %v; stderr: %s", line, err, stderr.String())
			}
			if err := cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			err = cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != tt.code {
				t.Fatalf("exec ended with %v, want exit %d (the child's trap); stderr: %s", err, tt.code, stderr.String())
			}
		})
	}
}

// TestExecErrorsReadLikeToken: exec fails with the same message and code as
// `tokentop token NAME` when it cannot get a token.
func TestExecErrorsReadLikeToken(t *testing.T) {
	t.Parallel()
	s := seedSession(t, "file", emulator.Config{}, nil)
	dead := seedInto(t, s.c, s.em, s.url, nil)
	makeDue(t, dead)
	if r := s.c.run(dead.tok.Refresh, "revoke", "--token", "-", "--type", "refresh", "--oauth-url", s.url); r.code != 0 {
		t.Fatalf("revoke the refresh token: %d %s", r.code, r.stderr)
	}
	busy := seedInto(t, s.c, s.em, s.url, nil)
	makeDue(t, busy)
	tests := []struct {
		name    string
		session string
		fail503 int
		code    int
	}{
		{"needs login", dead.name, 0, cmdutil.ExitNeedsLogin},
		{"server unavailable", busy.name, 2, cmdutil.ExitUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.em.FailNext(tt.fail503, 503)
			// The due token has seconds left: both must refresh for a minute.
			tok := s.c.run("", "token", tt.session, "--min-valid", "1m")
			s.em.FailNext(tt.fail503, 503)
			ex := s.c.run("", "exec", tt.session, "--min-valid", "1m", "--", "true")
			if tok.code != tt.code || ex.code != tt.code {
				t.Fatalf("exit codes token %d, exec %d, want %d\ntoken: %s\nexec: %s", tok.code, ex.code, tt.code, tok.stderr, ex.stderr)
			}
			// Request ids and retry instants differ from one run to the next.
			norm := regexp.MustCompile(`(?i)request ?id [0-9a-f-]+|\d{4}-\d\d-\d\dT[\d:.]+Z`)
			if a, b := norm.ReplaceAllString(tok.stderr, "X"), norm.ReplaceAllString(ex.stderr, "X"); a != b {
				t.Errorf("exec and token say different things:\ntoken: %s\nexec:  %s", a, b)
			}
		})
	}
}
