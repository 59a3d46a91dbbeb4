package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
)

func TestSessTokenFresh(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			em, url := startEmulator(t, sessShortConfig())
			c := newCLI(t, b)
			name := sessName(t, c, "fresh")
			p := sessImport(t, c, em, url, name, 10*time.Minute, time.Hour)
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

func TestSessTokenErrors(t *testing.T) {
	t.Parallel()
	em, url := startEmulator(t, sessShortConfig())
	c := newCLI(t, "file")
	sessImport(t, c, em, url, "ok", 10*time.Minute, time.Hour)
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
		{"bad storage", []string{"token", "ok", "--storage", "cloud"}, 2, "keyring, file or memory"},
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

// TestSessExplain checks that each error keeps its exit code after the
// commands word it for people.
func TestSessExplain(t *testing.T) {
	cases := []struct {
		err  error
		code int
		says string
	}{
		{&auth.NeedsLoginError{Session: "w", Reason: auth.ReasonRejected}, exitNeedsLogin, "WARNING"},
		{&auth.NeedsLoginError{Session: "w", Reason: auth.ReasonRotationLost}, exitNeedsLogin, "lost in transit"},
		{&auth.NeedsLoginError{Session: "w", Reason: auth.ReasonRefreshExpired, Message: "the refresh token expired at X"}, exitNeedsLogin, "expired at X"},
		{fmt.Errorf("wrapped: %w", &auth.NeedsLoginError{Session: "w", Reason: auth.ReasonRevoked}), exitNeedsLogin, "revoked"},
		{&auth.RetryError{Session: "w", Err: &auth.APIError{Op: "refresh", Kind: auth.ErrServer, Status: 502}}, exitUnavailable, "HTTP 502"},
		{&auth.NetworkError{Op: "refresh", Err: errors.New("connection refused")}, exitUnavailable, "connection refused"},
		{fmt.Errorf("x: %w", auth.ErrStoreUnavailable), exitStorage, "storage"},
		{fmt.Errorf("x: %w", auth.ErrLockTimeout), exitStorage, "busy"},
		{fmt.Errorf("x: %w", auth.ErrSessionNotFound), exitError, "no such session"},
	}
	for _, tc := range cases {
		err := sessExplain("w", tc.err)
		if strings.Contains(err.Error(), "secret storage") && errors.Is(err, auth.ErrLockTimeout) {
			t.Errorf("%q blames secret storage for another process's lock", err)
		}
		if got := exitCode(err); got != tc.code {
			t.Errorf("%v: exit %d, want %d", tc.err, got, tc.code)
		}
		if !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%q lacks %q", err, tc.says)
		}
		if !errors.Is(err, tc.err) && !errors.Is(err, errors.Unwrap(tc.err)) {
			t.Errorf("%v: the cause is no longer in the chain", tc.err)
		}
	}
}

// TestSessNeedsLoginSaysItOnce: the reason's explanation comes from one
// place (the keeper's words, else ours), not from a label and the words.
func TestSessNeedsLoginSaysItOnce(t *testing.T) {
	cases := []struct {
		nl   *auth.NeedsLoginError
		once []string
	}{
		{&auth.NeedsLoginError{Session: "w", Reason: auth.ReasonRejected,
			Message: "the server rejected the refresh token while it should still be valid: someone else may have used this refresh token; revoke the session (tokentop revoke w) and log in again"},
			[]string{"WARNING", "someone else", "tokentop revoke w"}},
		{&auth.NeedsLoginError{Session: "w", Reason: auth.ReasonRejected}, []string{"WARNING", "someone else", "tokentop revoke w"}},
		{&auth.NeedsLoginError{Session: "w", Reason: auth.ReasonRotationLost,
			Message: "the server rotated the pair but its answer never arrived, and the retry with the same token was refused: rotation lost in transit, not stolen"},
			[]string{"lost in transit", "rotation_lost", "not"}},
		{&auth.NeedsLoginError{Session: "w", Reason: auth.ReasonRotationLost}, []string{"lost in transit", "rotation_lost", "not theft"}},
	}
	for _, tc := range cases {
		msg := sessExplain("w", tc.nl).Error()
		for _, w := range tc.once {
			if n := strings.Count(msg, w); n != 1 {
				t.Errorf("%q says %q %d times, want once", msg, w, n)
			}
		}
	}
}

func TestSessRefreshOutput(t *testing.T) {
	now := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	old := auth.Session{AccessFP: "sha256:aaaaaaaa", RefreshFP: "sha256:bbbbbbbb", AccessExpiry: now.Add(10 * time.Second), RefreshExpiry: now.Add(time.Hour)}
	nw := auth.Session{AccessFP: "sha256:cccccccc", RefreshFP: "sha256:dddddddd", AccessExpiry: now.Add(7 * 24 * time.Hour), RefreshExpiry: now.Add(180 * 24 * time.Hour)}
	cases := []struct {
		res  auth.RefreshResult
		want []string
	}{
		{auth.RefreshResult{Old: old, New: nw}, []string{
			"w: refreshed\n",
			"access   old sha256:aaaaaaaa  expires in 10s (2026-04-10 12:00:10Z)",
			"new sha256:cccccccc  expires in 7d 00h (2026-04-17 12:00:00Z)",
			"refresh  old sha256:bbbbbbbb  expires in 1h 00m",
			"new sha256:dddddddd  expires in 180d 00h",
		}},
		{auth.RefreshResult{Old: old, New: nw, Adopted: true, Note: "another process had refreshed already"}, []string{
			"adopted a pair another process saved", "note: another process had refreshed already",
		}},
		{auth.RefreshResult{Old: old, New: nw, Recovered: true}, []string{"interrupted earlier refresh was recovered"}},
		{auth.RefreshResult{Old: old, New: nw, Recovered: true, Note: "a previous refresh (pid 7) was interrupted; it was recovered"},
			[]string{"w: refreshed\n", "note: a previous refresh (pid 7) was interrupted; it was recovered"}},
	}
	for _, tc := range cases {
		var b strings.Builder
		sessPrintRefresh(&b, "w", tc.res, now)
		if n := strings.Count(b.String(), "recovered"); n > 1 {
			t.Errorf("says \"recovered\" %d times:\n%s", n, b.String())
		}
		for _, want := range tc.want {
			if !strings.Contains(b.String(), want) {
				t.Errorf("output lacks %q:\n%s", want, b.String())
			}
		}
	}
}

// TestSessTokenDoesNotQueryTerminal runs `tokentop token` on a pseudo-
// terminal (script(1)) and looks for terminal queries in what it wrote.
// bubbletea v1's package init calls lipgloss.HasDarkBackground(), which
// sends OSC 11 and DSR queries and waits up to 5s for a terminal that does
// not answer; until that init is gone from the binary this reports the
// issue and skips, and TOKENTOP_STRICT_TTY=1 makes it fail.
func TestSessTokenDoesNotQueryTerminal(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("needs script(1) for a pseudo-terminal")
	}
	t.Parallel()
	em, url := startEmulator(t, sessShortConfig())
	c := newCLI(t, "file")
	name := sessName(t, c, "tty")
	p := sessImport(t, c, em, url, name, 10*time.Minute, time.Hour)
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

// BenchmarkSessTokenProcess times whole `tokentop token NAME` processes on a
// fresh session (no refresh), per backend. bench/token/run.sh compares the
// keyring case with a minimal keyring reader.
func BenchmarkSessTokenProcess(b *testing.B) {
	for _, backend := range backends(b) {
		b.Run(backend, func(b *testing.B) {
			em, url := startEmulator(b, sessShortConfig())
			c := newCLI(b, backend)
			name := sessName(b, c, "bench")
			p := sessImport(b, c, em, url, name, time.Hour, 2*time.Hour)
			for b.Loop() {
				if r := c.run("", "token", name); r.code != 0 || r.stdout != p.access+"\n" {
					b.Fatalf("token: exit %d\n%s", r.code, r.stderr)
				}
			}
		})
	}
}

// TestSessTokenNotes: what `token` tells on stderr beside the token.
func TestSessTokenNotes(t *testing.T) {
	cases := []struct {
		e    auth.Event
		want string // "" when the event is routine and stays quiet
	}{
		{auth.Event{Session: "w", Kind: auth.EventRefreshed, OldFP: "sha256:aaaaaaaa", NewFP: "sha256:bbbbbbbb"}, ""},
		{auth.Event{Session: "w", Kind: auth.EventRefreshing}, ""},
		{auth.Event{Session: "w", Kind: auth.EventAdopted, Message: "another process had refreshed already; its pair was adopted"}, ""},
		{auth.Event{Session: "w", Kind: auth.EventRefreshed, Message: "a previous refresh (pid 7) was interrupted; it was recovered"},
			`tokentop: note: session "w": a previous refresh (pid 7) was interrupted; it was recovered` + "\n"},
		{auth.Event{Session: "w", Kind: auth.EventRetrying, Message: "refresh: server error (HTTP 503)"},
			`tokentop: note: session "w": the refresh failed, so this is the current token, still valid: refresh: server error (HTTP 503)` + "\n"},
		{auth.Event{Session: "w", Kind: auth.EventSkew, Message: "the server clock is 2m0s ahead of ours"},
			`tokentop: note: session "w": the server clock is 2m0s ahead of ours` + "\n"},
	}
	for _, tc := range cases {
		ch := make(chan auth.Event, 1)
		ch <- tc.e
		var b strings.Builder
		sessTokenNotes(&b, ch)
		if b.String() != tc.want {
			t.Errorf("%s: got %q, want %q", tc.e.Kind, b.String(), tc.want)
		}
	}
}
