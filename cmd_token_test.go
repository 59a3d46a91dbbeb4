package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestTokenFresh(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			em, url := startEmulator(t, shortConfig())
			c := newCLI(t, b)
			name := uniqueName(t, c, "fresh")
			p := importPair(t, c, em, url, name, 10*time.Minute, time.Hour)
			cases := []struct {
				args []string
			}{
				{[]string{"token", name}},
				{[]string{"token", name, "--min-valid", "5m"}},
				{[]string{"token", "--min-valid=1s", name}},
			}
			for _, tc := range cases {
				r := c.run("", tc.args...)
				if r.code != 0 || r.stdout != p.access+"\n" || r.stderr != "" {
					t.Errorf("%v: exit %d, stdout is the token: %v, stderr %q", tc.args, r.code, r.stdout == p.access+"\n", r.stderr)
				}
			}
			if st := em.Stats(); st.Refreshes != 0 {
				t.Errorf("a fresh token was refreshed: %+v", st)
			}
		})
	}
}

func TestTokenErrors(t *testing.T) {
	t.Parallel()
	em, url := startEmulator(t, shortConfig())
	c := newCLI(t, "file")
	importPair(t, c, em, url, "ok", 10*time.Minute, time.Hour)
	cases := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"no such session", []string{"token", "nope"}, 1, "tokentop list"},
		{"no name", []string{"token"}, 2, "NAME"},
		{"two names", []string{"token", "ok", "nope"}, 2, "NAME"},
		{"negative min-valid", []string{"token", "ok", "--min-valid", "-1m"}, 2, "negative"},
		{"bad duration", []string{"token", "ok", "--min-valid", "ten"}, 2, "min-valid"},
		{"longer than any token", []string{"token", "ok", "--min-valid", "2h"}, 1, "longer than the server's access-token lifetime"},
		{"refresh: no such session", []string{"refresh", "nope"}, 1, "no such session"},
		{"bad storage", []string{"token", "ok", "--storage", "cloud"}, 2, "keyring, file, memory or etcd"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.run("", tc.args...)
			t.Logf("stderr:\n%s", r.stderr)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", r.code, tc.code, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q on failure", r.stdout)
			}
			if !strings.Contains(r.stderr, tc.contains) {
				t.Errorf("stderr lacks %q", tc.contains)
			}
		})
	}
}

// TestTokenDoesNotQueryTerminal runs `tokentop token` on a pseudo-
// terminal (script(1)) and looks for terminal queries in what it wrote.
// bubbletea v1's package init calls lipgloss.HasDarkBackground(), which
// sends OSC 11 and DSR queries and waits up to 5s for a terminal that does
// not answer; until that init is gone from the binary this reports the
// issue and skips, and TOKENTOP_STRICT_TTY=1 makes it fail.
func TestTokenDoesNotQueryTerminal(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("needs script(1) for a pseudo-terminal")
	}
	t.Parallel()
	em, url := startEmulator(t, shortConfig())
	c := newCLI(t, "file")
	name := uniqueName(t, c, "tty")
	p := importPair(t, c, em, url, name, 10*time.Minute, time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, script, "-qec", tokentopBin+" token "+name, "/dev/null")
	cmd.Env = append(c.command(ctx).Env, "TERM=xterm-256color")
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("token on a pty: %v\n%q", err, out)
	}
	if !strings.Contains(string(out), p.access) {
		t.Fatalf("token on a pty did not print the token: %q", out)
	}
	if strings.Contains(string(out), "\x1b]11;?") || strings.Contains(string(out), "\x1b[6n") {
		t.Fatal("tokentop token queried the terminal (OSC 11 background colour and DSR cursor position): " +
			"bubbletea v1's package init ran before internal/quietinit set TERM=dumb")
	}
}

// BenchmarkTokenProcess times whole `tokentop token NAME` processes on a
// fresh session (no refresh), per backend. bench/token/run.sh compares the
// keyring case with a minimal keyring reader.
func BenchmarkTokenProcess(b *testing.B) {
	for _, backend := range backends(b) {
		b.Run(backend, func(b *testing.B) {
			em, url := startEmulator(b, shortConfig())
			c := newCLI(b, backend)
			name := uniqueName(b, c, "bench")
			p := importPair(b, c, em, url, name, time.Hour, 2*time.Hour)
			for b.Loop() {
				if r := c.run("", "token", name); r.code != 0 || r.stdout != p.access+"\n" {
					b.Fatalf("token: exit %d\n%s", r.code, r.stderr)
				}
			}
		})
	}
}
