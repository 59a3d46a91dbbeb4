package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/auth/emulator"
)

func TestRevokeSession(t *testing.T) {
	for _, backend := range backends(t) {
		t.Run(backend, func(t *testing.T) {
			s := admSeed(t, backend, emulator.Config{}, nil)
			r := s.c.run("", "revoke", s.name)
			admWant(t, r, 0, []string{
				"refresh token " + auth.Fingerprint(s.tok.Refresh) + "  revoked (HTTP 200",
				"access token  " + auth.Fingerprint(s.tok.Access) + "  revoked (HTTP 200",
				"forgot session " + s.name,
			}, nil)
			admNoSecret(t, r, s.tok.Access, s.tok.Refresh, s.tok.Frontend)
			if s.em.Valid(s.tok.Access, emulator.KindAccess) || s.em.Valid(s.tok.Refresh, emulator.KindRefresh) {
				t.Error("the emulator still accepts a revoked token")
			}
			admWant(t, s.c.run("", "inspect", s.name), exitError, nil, []string{"no such session"})
		})
	}
}

func TestRevokeSessionServerDown(t *testing.T) {
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
			s := admSeed(t, "file", emulator.Config{}, nil)
			s.em.FailNext(tt.failures, 503)
			r := s.c.run("", "revoke", s.name)
			want := strings.ReplaceAll(tt.inStderr, "%R", auth.Fingerprint(s.tok.Refresh))
			admWant(t, r, exitUnavailable,
				[]string{"refresh token " + auth.Fingerprint(s.tok.Refresh) + "  NOT revoked"},
				[]string{"was KEPT", want, "tokentop revoke " + s.name})
			if got, want := admErrorLine(t, r), strings.ReplaceAll(tt.errLine, "%N", s.name); !admGlob(want, got) {
				t.Errorf("error line\n got %q\nwant %q", got, want)
			}
			admNoSecret(t, r, s.tok.Access, s.tok.Refresh, s.tok.Frontend)
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
			admWant(t, s.c.run("", "inspect", s.name), 0, nil, nil)
			admWant(t, s.c.run("", "revoke", s.name), 0, []string{"forgot session"}, nil)
			if s.em.Valid(s.tok.Access, emulator.KindAccess) || s.em.Valid(s.tok.Refresh, emulator.KindRefresh) {
				t.Error("the emulator still accepts a token after the retried revoke")
			}
		})
	}
}

func TestRevokeRawToken(t *testing.T) {
	for _, kind := range []string{"refresh", "access"} {
		t.Run(kind, func(t *testing.T) {
			s := admSeed(t, "file", emulator.Config{}, nil)
			tok, other, otherKind := s.tok.Refresh, s.tok.Access, emulator.KindAccess
			if kind == "access" {
				tok, other, otherKind = s.tok.Access, s.tok.Refresh, emulator.KindRefresh
			}
			r := s.c.run(tok+"\n", "revoke", "--token", "-", "--type", kind, "--oauth-url", s.url)
			admWant(t, r, 0, []string{"revoked " + kind + " token " + auth.Fingerprint(tok), "HTTP 200"},
				[]string{"dead now", "of saved session " + s.name, "tokentop revoke " + s.name})
			admNoSecret(t, r, tok)
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
			admWant(t, s.c.run("", "inspect", s.name), 0, []string{wantState}, nil)
		})
	}
}

func TestRevokeRawTokenNotStored(t *testing.T) {
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
	admWant(t, r, 0, []string{"revoked access token " + auth.Fingerprint(resp.Access)}, []string{"--type refresh"})
	if em.Valid(resp.Access, emulator.KindAccess) {
		t.Error("the emulator still accepts the revoked access token")
	}
}

func TestRevokeErrors(t *testing.T) {
	s := admSeed(t, "file", emulator.Config{}, nil)
	tests := []struct {
		name     string
		stdin    string
		args     []string
		code     int
		inStderr string
	}{
		{"nothing to revoke", "", []string{"revoke"}, exitUsage, "needs a session NAME, or --token -"},
		{"unknown session", "", []string{"revoke", "nobody"}, exitError, "no such session"},
		{"type missing", "tok", []string{"revoke", "--token", "-", "--oauth-url", s.url}, exitUsage, "needs --type access or --type refresh"},
		{"type wrong", "tok", []string{"revoke", "--token", "-", "--type", "bearer", "--oauth-url", s.url}, exitUsage, `--type "bearer": choose access or refresh`},
		{"name and token", "tok", []string{"revoke", s.name, "--token", "-", "--type", "access"}, exitUsage, "not both"},
		{"type without token", "", []string{"revoke", s.name, "--type", "access"}, exitUsage, "go with --token -"},
		{"oauth-url without token", "", []string{"revoke", s.name, "--oauth-url", s.url}, exitUsage, "go with --token -"},
		{"token as flag value", "", []string{"revoke", "--token", s.tok.Access, "--type", "access"}, exitUsage, "never accepted as flag values"},
		{"empty stdin", "", []string{"revoke", "--token", "-", "--type", "access", "--oauth-url", s.url}, exitUsage, "no token on stdin"},
		{"insecure url", "tok", []string{"revoke", "--token", "-", "--type", "access", "--oauth-url", "http://example.com"}, exitUsage, "--oauth-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.c.run(tt.stdin, tt.args...)
			admWant(t, r, tt.code, nil, []string{tt.inStderr})
			admNoSecret(t, r, s.tok.Access)
		})
	}
	if !s.em.Valid(s.tok.Access, emulator.KindAccess) || !s.em.Valid(s.tok.Refresh, emulator.KindRefresh) {
		t.Error("a failed revoke command killed a token")
	}
}

func TestJudgeRevoke(t *testing.T) {
	now := time.Date(2026, 4, 3, 12, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Minute), now.Add(time.Hour)
	ok := auth.Meta{Status: 200, RequestID: "r1"}
	netErr := &auth.NetworkError{Op: "revoke", Err: errors.New("connection refused")}
	tests := []struct {
		name   string
		o      auth.RevokeOutcome
		expiry time.Time
		want   revokeVerdict
		dead   bool
	}{
		{"confirmed", auth.RevokeOutcome{Fingerprint: "sha256:1", Meta: ok}, future, verdictRevoked, true},
		{"confirmed, recording failed", auth.RevokeOutcome{Fingerprint: "sha256:1", Meta: ok, Err: errors.New("disk full")}, future, verdictRevokedBut, true},
		{"no answer", auth.RevokeOutcome{Fingerprint: "sha256:1", Err: netErr}, future, verdictFailed, false},
		{"server error", auth.RevokeOutcome{Fingerprint: "sha256:1", Meta: auth.Meta{Status: 503}, Err: errors.New("503")}, future, verdictFailed, false},
		{"not sent, expired", auth.RevokeOutcome{Fingerprint: "sha256:1"}, past, verdictExpired, true},
		{"not sent, still valid", auth.RevokeOutcome{Fingerprint: "sha256:1"}, future, verdictNotTried, false},
		{"not sent, expiry unknown", auth.RevokeOutcome{Fingerprint: "sha256:1"}, time.Time{}, verdictNotTried, false},
		{"no such token", auth.RevokeOutcome{}, future, verdictNoToken, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := judgeRevoke(tt.o, tt.expiry, now)
			if got != tt.want || got.dead() != tt.dead {
				t.Errorf("judgeRevoke = %d (dead %v), want %d (dead %v)", got, got.dead(), tt.want, tt.dead)
			}
		})
	}
}

func TestRevokeError(t *testing.T) {
	netErr := fmt.Errorf("revoke: %w: connection refused", auth.ErrNetwork)
	srvErr := fmt.Errorf("revoke: %w (HTTP 503:\nbusy)", auth.ErrServer)
	storeErr := fmt.Errorf("keyring: %w", auth.ErrStoreUnavailable)
	tests := []struct {
		name                 string
		refresh, access, kpr error
		want                 string
		is                   []error
		code                 int
	}{
		{"both, same cause", netErr, netErr, nil, "revoke p: refresh and access tokens not revoked: revoke: network failure: connection refused", []error{auth.ErrNetwork}, exitUnavailable},
		{"both, different causes", netErr, srvErr, nil, "revoke p: refresh token not revoked: revoke: network failure: connection refused; access token not revoked: revoke: server error (HTTP 503: busy)", []error{auth.ErrNetwork, auth.ErrServer}, exitUnavailable},
		{"refresh only", srvErr, nil, nil, "revoke p: refresh token not revoked: revoke: server error (HTTP 503: busy)", []error{auth.ErrServer}, exitUnavailable},
		{"access only", nil, netErr, storeErr, "revoke p: access token not revoked: revoke: network failure: connection refused", []error{auth.ErrNetwork}, exitUnavailable},
		{"keeper only", nil, nil, storeErr, "revoke p: keyring: secret storage unavailable", []error{auth.ErrStoreUnavailable}, exitStorage},
		{"no cause known", nil, nil, nil, "revoke p: not every token was revoked", nil, exitError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := revokeError("p", tt.refresh, tt.access, tt.kpr)
			if err.Error() != tt.want {
				t.Errorf("message\n got %q\nwant %q", err.Error(), tt.want)
			}
			for _, target := range tt.is {
				if !errors.Is(err, target) {
					t.Errorf("errors.Is(err, %v) = false", target)
				}
			}
			if got := exitCode(err); got != tt.code {
				t.Errorf("exit code %d, want %d", got, tt.code)
			}
		})
	}
}

// admGlob matches s against pattern, where each * stands for any text
// without a ")" (enough to skip a server message and its request id).
func admGlob(pattern, s string) bool {
	re := strings.ReplaceAll(regexp.QuoteMeta(pattern), `\*`, `[^)]*`)
	return regexp.MustCompile("^" + re + "$").MatchString(s)
}
