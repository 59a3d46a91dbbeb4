package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokentop/tokentop/auth/emulator"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
)

// closedURL is the URL of a server that is no longer listening.
func closedURL(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	return url
}

// withoutKeyring is a CLI over c's config dir whose keyring backend cannot
// reach any Secret Service. Sessions keep their secrets in the backend they
// were saved in, so to make it look for them in the keyring, the sessions
// now in the dir are turned into records as a tokentop from before they
// recorded a backend wrote them: such a record means whatever backend the
// command is run with (keyring here; c's own backend for c).
func withoutKeyring(t *testing.T, c *cli) *cli {
	t.Helper()
	dropBackends(t, c.configDir)
	return &cli{t: t, configDir: c.configDir, storage: "keyring",
		env: []string{"DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent"}, process: true}
}

// dropBackends drops secrets_backend from every session record in dir.
func dropBackends(t *testing.T, dir string) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "sessions", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		delete(doc["session"].(map[string]any), "secrets_backend")
		if data, err = json.Marshal(doc); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestExitCodes checks each exit code of the contract on the admin
// commands and a few others, with the one-line message that goes with it.
func TestExitCodes(t *testing.T) {
	t.Parallel()
	s := seedSession(t, "file", emulator.Config{}, nil)
	// A session whose refresh token the server has revoked, and whose access
	// token (it believes) is about to expire: any use needs a new login.
	dead := seedInto(t, s.c, s.em, s.url, nil)
	makeDue(t, dead)
	if r := s.c.run(dead.tok.Refresh, "revoke", "--token", "-", "--type", "refresh", "--oauth-url", s.url); r.code != 0 {
		t.Fatalf("revoke the refresh token: %d %s", r.code, r.stderr)
	}
	// A session on a server that has gone away.
	gone := seedInto(t, s.c, s.em, s.url, nil)
	makeDue(t, gone)
	down := closedURL(t)
	// A session whose secret is gone from storage (a keyring item deleted
	// by hand): its metadata alone cannot produce a token.
	lost := seedSession(t, "file", emulator.Config{}, nil)
	if err := os.Remove(filepath.Join(lost.c.configDir, "secrets", lost.name+".json")); err != nil {
		t.Fatal(err)
	}
	// Commands that fail half-way on a storage error run on their own session.
	victim := seedInto(t, s.c, s.em, s.url, nil)
	victim2 := seedInto(t, s.c, s.em, s.url, nil)
	noKeyring := withoutKeyring(t, s.c)

	tests := []struct {
		name     string
		c        *cli
		stdin    string
		args     []string
		fail503  int // requests the emulator answers 503 first
		code     int
		inStderr string
	}{
		{"0 ok inspect", s.c, "", []string{"inspect", s.name}, 0, cmdutil.ExitOK, ""},
		{"0 ok exec", s.c, "", []string{"exec", s.name, "--", "true"}, 0, cmdutil.ExitOK, ""},

		{"1 unknown session inspect", s.c, "", []string{"inspect", "nobody"}, 0, cmdutil.ExitFailure, "no such session"},
		{"1 unknown session revoke", s.c, "", []string{"revoke", "nobody"}, 0, cmdutil.ExitFailure, "no such session"},
		{"1 unknown session forget", s.c, "", []string{"forget", "nobody"}, 0, cmdutil.ExitFailure, "no such session"},
		{"1 unknown session exec", s.c, "", []string{"exec", "nobody", "--", "true"}, 0, cmdutil.ExitFailure, "no such session"},
		{"1 probe rejected", s.c, "garbage-token-value", []string{"inspect", "--token", "-", "--probe", "--api-url", s.url + "/v3"}, 0, cmdutil.ExitFailure, "rejected"},

		{"2 revoke bad type", s.c, "tok", []string{"revoke", "--token", "-", "--type", "bogus"}, 0, cmdutil.ExitUsage, "--type"},
		{"2 revoke no type", s.c, "tok", []string{"revoke", "--token", "-"}, 0, cmdutil.ExitUsage, "--type"},
		{"2 inspect no args", s.c, "", []string{"inspect"}, 0, cmdutil.ExitUsage, "NAME"},
		{"2 exec no dash", s.c, "", []string{"exec", s.name, "true"}, 0, cmdutil.ExitUsage, "--"},
		{"2 forget unknown flag", s.c, "", []string{"forget", s.name, "--yes"}, 0, cmdutil.ExitUsage, "--yes"},
		{"2 bad storage", &cli{t: t, configDir: s.c.configDir, storage: "floppy"}, "", []string{"inspect", s.name}, 0, cmdutil.ExitUsage, "floppy"},

		{"3 exec needs login", s.c, "", []string{"exec", dead.name, "--", "true"}, 0, cmdutil.ExitNeedsLogin, "needs a new login"},
		{"3 exec still needs login", s.c, "", []string{"exec", dead.name, "--", "true"}, 0, cmdutil.ExitNeedsLogin, "tokentop login"},
		{"3 refresh needs login", s.c, "", []string{"refresh", dead.name}, 0, cmdutil.ExitNeedsLogin, "login"},

		{"3 exec secret missing", lost.c, "", []string{"exec", lost.name, "--", "true"}, 0, cmdutil.ExitNeedsLogin, "not found"},
		{"3 inspect secret missing", lost.c, "", []string{"inspect", lost.name}, 0, cmdutil.ExitNeedsLogin, "not inspected"},

		{"4 inspect keyring unreachable", noKeyring, "", []string{"inspect", s.name}, 0, cmdutil.ExitStorage, "not inspected"},
		{"4 exec keyring unreachable", noKeyring, "", []string{"exec", s.name, "--", "true"}, 0, cmdutil.ExitStorage, ""},
		{"4 revoke keyring unreachable", noKeyring, "", []string{"revoke", victim.name}, 0, cmdutil.ExitStorage, ""},
		{"4 forget keyring unreachable", noKeyring, "", []string{"forget", victim2.name}, 0, cmdutil.ExitStorage, ""},

		{"5 raw revoke server gone", s.c, "tok", []string{"revoke", "--token", "-", "--type", "access", "--oauth-url", down}, 0, cmdutil.ExitUnavailable, "network"},
		{"5 raw probe server gone", s.c, "tok", []string{"inspect", "--token", "-", "--probe", "--api-url", down + "/v3"}, 0, cmdutil.ExitUnavailable, "network"},
		{"5 probe 503", s.c, "", []string{"inspect", s.name, "--probe"}, 1, cmdutil.ExitUnavailable, "503"},
		{"5 revoke 503", s.c, "", []string{"revoke", s.name}, 2, cmdutil.ExitUnavailable, "503"},
		{"5 exec refresh 503", s.c, "", []string{"exec", gone.name, "--", "true"}, 1, cmdutil.ExitUnavailable, "503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.fail503 > 0 {
				s.em.FailNext(tt.fail503, http.StatusServiceUnavailable)
			}
			r := tt.c.run(tt.stdin, tt.args...)
			wantResult(t, r, tt.code, nil, []string{tt.inStderr})
			if tt.code != cmdutil.ExitOK {
				errorLine(t, r)
			}
			requireNoSecret(t, r, s.tok.Access, s.tok.Refresh, dead.tok.Access, dead.tok.Refresh)
		})
	}
	// The 4s left the session alone, and nothing above lost it.
	wantResult(t, s.c.run("", "inspect", s.name), cmdutil.ExitOK, nil, nil)
}

// errorLine returns the one "tokentop: " line of a failed command's
// stderr, failing the test unless there is exactly one and nothing but one
// indented hint follows it (the README's promise).
func errorLine(t *testing.T, r result) string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	at := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "tokentop: ") {
			if at >= 0 {
				t.Errorf("two \"tokentop: \" lines on stderr:\n%s", r.stderr)
			}
			at = i
		}
	}
	switch {
	case at < 0:
		t.Errorf("no \"tokentop: \" error line on stderr:\n%s", r.stderr)
		return ""
	case len(lines)-at > 2 || (len(lines)-at == 2 && !strings.HasPrefix(lines[at+1], "  ")):
		t.Errorf("stderr goes on after its \"tokentop: \" line (only one indented hint may follow):\n%s", r.stderr)
	}
	return lines[at]
}
