package main

import (
	"testing"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/auth/emulator"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
	"github.com/tokentop/tokentop/internal/timefmt"
)

func TestForget(t *testing.T) {
	t.Parallel()
	for _, backend := range backends(t) {
		t.Run(backend, func(t *testing.T) {
			s := seedSession(t, backend, emulator.Config{}, nil)
			r := s.c.run("", "forget", s.name)
			wantResult(t, r, 0, nil, []string{
				"NOTHING was revoked",
				auth.Fingerprint(s.tok.Access) + "  valid until " + timefmt.Absolute(s.tok.AccessExpiry),
				auth.Fingerprint(s.tok.Refresh) + "  valid until",
				"tokentop revoke --token - --type refresh --oauth-url " + s.url,
			})
			if r.stdout != "" {
				t.Errorf("forget printed data on stdout: %q", r.stdout)
			}
			requireNoSecret(t, r, s.tok.Access, s.tok.Refresh, s.tok.Frontend)
			if !s.em.Valid(s.tok.Access, emulator.KindAccess) || !s.em.Valid(s.tok.Refresh, emulator.KindRefresh) {
				t.Error("forget revoked a token at the server")
			}
			wantResult(t, s.c.run("", "inspect", s.name), cmdutil.ExitFailure, nil, []string{"no such session"})
			wantResult(t, s.c.run("", "forget", s.name), cmdutil.ExitFailure, nil, []string{"no such session", "tokentop list"})
		})
	}
}

func TestForgetUsage(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "file")
	wantResult(t, c.run("", "forget"), cmdutil.ExitUsage, nil, []string{"needs one session NAME"})
	wantResult(t, c.run("", "forget", "a", "b"), cmdutil.ExitUsage, nil, []string{"takes one session NAME, got 2 arguments"})
}

func TestForgetRetryAfterStorageFailure(t *testing.T) {
	t.Parallel()
	// Secret storage fails after the metadata is gone (as a locked keyring
	// does): forget exits 4, and running it again once storage works
	// removes what was left behind.
	s := seedSession(t, "file", emulator.Config{}, nil)
	r := withoutKeyring(t, s.c).run("", "forget", s.name)
	wantResult(t, r, cmdutil.ExitStorage, nil, []string{"tokentop: "})
	r = s.c.run("", "forget", s.name)
	wantResult(t, r, 0, nil, []string{"leftover secrets of " + s.name, "NOTHING was revoked"})
	wantResult(t, s.c.run("", "forget", s.name), cmdutil.ExitFailure, nil, []string{"no such session"})
	if !s.em.Valid(s.tok.Refresh, emulator.KindRefresh) {
		t.Error("forget revoked the refresh token")
	}
}
