package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/auth/emulator"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
)

func TestRevokeSession(t *testing.T) {
	t.Parallel()
	for _, backend := range backends(t) {
		t.Run(backend, func(t *testing.T) {
			s := seedSession(t, backend, emulator.Config{}, nil)
			r := s.c.run("", "revoke", s.name)
			wantResult(t, r, 0, []string{
				"refresh token " + auth.Fingerprint(s.tok.Refresh) + "  revoked (HTTP 200",
				"access token  " + auth.Fingerprint(s.tok.Access) + "  revoked (HTTP 200",
				"forgot session " + s.name,
			}, nil)
			requireNoSecret(t, r, s.tok.Access, s.tok.Refresh, s.tok.Frontend)
			if s.em.Valid(s.tok.Access, emulator.KindAccess) || s.em.Valid(s.tok.Refresh, emulator.KindRefresh) {
				t.Error("the emulator still accepts a revoked token")
			}
			wantResult(t, s.c.run("", "inspect", s.name), cmdutil.ExitFailure, nil, []string{"no such session"})
		})
	}
}

func TestRevokeSessionServerDown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		failures     int    // requests answered 503
		refreshAlive bool   // after the first revoke
		accessAlive  bool   // after the first revoke
		inStderr     string // what revoke says is still alive
		errLine      string // the tokentop: line (each server answer has its own request id)
	}{
		{"both fail", 2, true, true, "refresh token " + "%R" + " until",
			"tokentop: revoke %N: refresh token not revoked: revoke: server error (HTTP 503*); access token not revoked: revoke: server error (HTTP 503*)"},
		{"refresh fails, access revoked", 1, true, false, "whoever holds it can mint new access tokens",
			"tokentop: revoke %N: refresh token not revoked: revoke: server error (HTTP 503*)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := seedSession(t, "file", emulator.Config{}, nil)
			s.em.FailNext(tt.failures, 503)
			r := s.c.run("", "revoke", s.name)
			want := strings.ReplaceAll(tt.inStderr, "%R", auth.Fingerprint(s.tok.Refresh))
			wantResult(t, r, cmdutil.ExitUnavailable,
				[]string{"refresh token " + auth.Fingerprint(s.tok.Refresh) + "  NOT revoked"},
				[]string{"was KEPT", want, "tokentop revoke " + s.name})
			if got, want := errorLine(t, r), strings.ReplaceAll(tt.errLine, "%N", s.name); !glob(want, got) {
				t.Errorf("error line\n got %q\nwant %q", got, want)
			}
			requireNoSecret(t, r, s.tok.Access, s.tok.Refresh, s.tok.Frontend)
			if got := s.em.Valid(s.tok.Refresh, emulator.KindRefresh); got != tt.refreshAlive {
				t.Errorf("refresh token valid = %v, want %v", got, tt.refreshAlive)
			}
			if got := s.em.Valid(s.tok.Access, emulator.KindAccess); got != tt.accessAlive {
				t.Errorf("access token valid = %v, want %v", got, tt.accessAlive)
			}
			if strings.Contains(r.stderr, "access token  "+auth.Fingerprint(s.tok.Access)+" until") == !tt.accessAlive {
				t.Errorf("stderr misreports whether the access token is alive (alive %v):\n%s", tt.accessAlive, r.stderr)
			}
			// The session was kept, so doing what the message says works.
			wantResult(t, s.c.run("", "inspect", s.name), 0, nil, nil)
			wantResult(t, s.c.run("", "revoke", s.name), 0, []string{"forgot session"}, nil)
			if s.em.Valid(s.tok.Access, emulator.KindAccess) || s.em.Valid(s.tok.Refresh, emulator.KindRefresh) {
				t.Error("the emulator still accepts a token after the retried revoke")
			}
		})
	}
}

func TestRevokeRawToken(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"refresh", "access"} {
		t.Run(kind, func(t *testing.T) {
			s := seedSession(t, "file", emulator.Config{}, nil)
			tok, other, otherKind := s.tok.Refresh, s.tok.Access, emulator.KindAccess
			if kind == "access" {
				tok, other, otherKind = s.tok.Access, s.tok.Refresh, emulator.KindRefresh
			}
			r := s.c.run(tok+"\n", "revoke", "--token", "-", "--type", kind, "--oauth-url", s.url)
			wantResult(t, r, 0, []string{"revoked " + kind + " token " + auth.Fingerprint(tok), "HTTP 200"},
				[]string{"dead now", "of saved session " + s.name, "tokentop revoke " + s.name})
			requireNoSecret(t, r, tok)
			if s.em.Valid(tok, kind) {
				t.Errorf("the emulator still accepts the revoked %s token", kind)
			}
			if !s.em.Valid(other, otherKind) {
				t.Errorf("revoking the %s token killed the %s token too", kind, otherKind)
			}
			// The stored session holding it is kept, and marked when its
			// refresh token is gone.
			wantState := "state           ok"
			if kind == "refresh" {
				wantState = "state           needs_login (revoked)"
			}
			wantResult(t, s.c.run("", "inspect", s.name), 0, []string{wantState}, nil)
		})
	}
}

func TestRevokeRawTokenNotStored(t *testing.T) {
	t.Parallel()
	// A token no saved session holds, with no usable config dir at all: the
	// admin path needs no storage.
	em, url := startEmulator(t, emulator.Config{})
	body, err := em.Issue(emulator.DefaultUser().Email, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		Access string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatal(err)
	}
	c := newCLI(t, "file")
	c.configDir = "/nonexistent/tokentop-config"
	r := c.run(resp.Access, "revoke", "--token", "-", "--type", "access", "--oauth-url", url)
	wantResult(t, r, 0, []string{"revoked access token " + auth.Fingerprint(resp.Access)}, []string{"--type refresh"})
	if em.Valid(resp.Access, emulator.KindAccess) {
		t.Error("the emulator still accepts the revoked access token")
	}
}

func TestRevokeErrors(t *testing.T) {
	t.Parallel()
	s := seedSession(t, "file", emulator.Config{}, nil)
	tests := []struct {
		name     string
		stdin    string
		args     []string
		code     int
		inStderr string
	}{
		{"nothing to revoke", "", []string{"revoke"}, cmdutil.ExitUsage, "needs a session NAME, or --token -"},
		{"unknown session", "", []string{"revoke", "nobody"}, cmdutil.ExitFailure, "no such session"},
		{"type missing", "tok", []string{"revoke", "--token", "-", "--oauth-url", s.url}, cmdutil.ExitUsage, "needs --type access or --type refresh"},
		{"type wrong", "tok", []string{"revoke", "--token", "-", "--type", "bearer", "--oauth-url", s.url}, cmdutil.ExitUsage, `--type "bearer": choose access or refresh`},
		{"name and token", "tok", []string{"revoke", s.name, "--token", "-", "--type", "access"}, cmdutil.ExitUsage, "not both"},
		{"type without token", "", []string{"revoke", s.name, "--type", "access"}, cmdutil.ExitUsage, "go with --token -"},
		{"oauth-url without token", "", []string{"revoke", s.name, "--oauth-url", s.url}, cmdutil.ExitUsage, "go with --token -"},
		{"token as flag value", "", []string{"revoke", "--token", s.tok.Access, "--type", "access"}, cmdutil.ExitUsage, "never accepted as flag values"},
		{"empty stdin", "", []string{"revoke", "--token", "-", "--type", "access", "--oauth-url", s.url}, cmdutil.ExitUsage, "no token on stdin"},
		{"insecure url", "tok", []string{"revoke", "--token", "-", "--type", "access", "--oauth-url", "http://example.com"}, cmdutil.ExitUsage, "--oauth-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.c.run(tt.stdin, tt.args...)
			wantResult(t, r, tt.code, nil, []string{tt.inStderr})
			requireNoSecret(t, r, s.tok.Access)
		})
	}
	if !s.em.Valid(s.tok.Access, emulator.KindAccess) || !s.em.Valid(s.tok.Refresh, emulator.KindRefresh) {
		t.Error("a failed revoke command killed a token")
	}
}

// glob matches s against pattern, where each * stands for any text
// without a ")" (enough to skip a server message and its request id).
func glob(pattern, s string) bool {
	re := strings.ReplaceAll(regexp.QuoteMeta(pattern), `\*`, `[^)]*`)
	return regexp.MustCompile("^" + re + "$").MatchString(s)
}

// A pasted token that a saved session holds goes to that session's OAuth
// URL, not the production default; a --oauth-url naming another server is
// refused before anything is sent (that server would answer "revoked" and
// kill nothing).
func TestRevokeRawTokenAtItsSessionsServer(t *testing.T) {
	t.Parallel()
	s := seedSession(t, "file", emulator.Config{}, nil)
	r := s.c.run(s.tok.Refresh+"\n", "revoke", "--token", "-", "--type", "refresh", "--oauth-url", auth.DefaultOAuthURL)
	wantResult(t, r, 1, nil, []string{`saved session "` + s.name + `"`, s.url, "leave the OAuth URL out"})
	if !s.em.Valid(s.tok.Refresh, emulator.KindRefresh) {
		t.Fatal("the token was revoked anyway")
	}
	r = s.c.run(s.tok.Refresh+"\n", "revoke", "--token", "-", "--type", "refresh")
	wantResult(t, r, 0, []string{"revoked refresh token " + auth.Fingerprint(s.tok.Refresh) + " at " + s.url}, []string{"of saved session " + s.name})
	if s.em.Valid(s.tok.Refresh, emulator.KindRefresh) {
		t.Fatal("the emulator still accepts the refresh token")
	}
	wantResult(t, s.c.run("", "inspect", s.name), 0, []string{"state           needs_login (revoked)"}, nil)
}
