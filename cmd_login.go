package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/timefmt"
	"github.com/tokentop/tokentop/storage"
)

// sessResponseExample shows what import expects, in error messages and help.
const sessResponseExample = `{"access_token": "...", "refresh_token": "...", "expires_in": "2026-04-10T12:00:00.000Z", "refresh_expires_in": "2026-10-01T12:00:00.000Z", "user": {...}}`

func (a *app) newLoginCmd() *cobra.Command {
	var (
		ep        auth.Endpoints
		email     string
		fromStdin bool
	)
	cmd := &cobra.Command{
		DisableFlagsInUseLine: true,
		Use:                   "login NAME --email EMAIL [--password-stdin] [--oauth-url U] [--api-url U]",
		Short:                 "Log in with email and password and save the session as NAME",
		Long: `Log in to Convirza V3 with an email and password, and save the token pair as the
session NAME (replacing any session of that name). The tokens go to secret
storage; what is not secret (user, role, org, expiries) goes to sessions.json.

The password is never a flag value (it would land in shell history and ps):
it is read with a no-echo prompt when stdin is a terminal, or from the first
line of stdin with --password-stdin.`,
		Example: `  tokentop login work --email me@example.com
  pass show convirza | tokentop login work --email me@example.com --password-stdin
  tokentop login local --email demo@example.com --oauth-url http://127.0.0.1:8787 --api-url http://127.0.0.1:8787/v3`,
		Args:              exactArgs(1, "a session NAME"),
		ValidArgsFunction: a.completeSessionNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := storage.ValidateName(name); err != nil {
				return err
			}
			if strings.TrimSpace(email) == "" {
				return usageErr(errors.New("login needs --email EMAIL"))
			}
			if err := auth.CheckEndpoints(ep); err != nil {
				return usageErr(err)
			}
			// Before the password is typed (the keeper checks again before
			// it is sent): a store that cannot keep the pair wastes both.
			if err := a.sessCanStore(cmd.Context(), "login "+name+": nothing was sent", name); err != nil {
				return err
			}
			password, err := sessPassword(cmd.Context(), a.stdin, a.stderr, fromStdin, email)
			if err != nil {
				return err
			}
			k, err := a.keeper()
			if err != nil {
				return err
			}
			prev := sessPrevious(cmd.Context(), a, name)
			s, err := k.Login(cmd.Context(), name, ep, email, password)
			if err != nil {
				return sessLoginError(name, email, err, time.Now())
			}
			fmt.Fprintf(a.stderr, "Logged in as %s; saved as session %q.\n", sessWho(s), name)
			sessPrintExpiries(a.stderr, s, time.Now())
			sessNoteReplaced(a.stderr, prev, s)
			sessNoteEndpoints(a.stderr, cmd, ep)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&email, "email", "", "the account's email address (required)")
	f.BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of stdin instead of prompting")
	addEndpointFlags(cmd, &ep)
	return cmd
}

// sessPassword gets the password: from stdin with --password-stdin, else
// from a no-echo prompt when stdin is a terminal. It never falls back to
// reading a non-terminal stdin silently, so a forgotten flag fails loudly.
func sessPassword(ctx context.Context, stdin io.Reader, stderr io.Writer, fromStdin bool, email string) (string, error) {
	if fromStdin {
		return readSecret(stdin, "password")
	}
	f, ok := stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", usageErr(errors.New("stdin is not a terminal, so there is no one to prompt for the password: " +
			"pipe it in with --password-stdin, e.g. `pass show convirza | tokentop login NAME --email E --password-stdin`"))
	}
	fmt.Fprintf(stderr, "Password for %s: ", email)
	pw, err := sessReadPasswordTTY(ctx, int(f.Fd()))
	fmt.Fprintln(stderr)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(pw) == "" {
		return "", usageErr(errors.New("empty password"))
	}
	return pw, nil
}

// sessReadPasswordTTY reads a password without echo, and restores the
// terminal when interrupted: term.ReadPassword alone would leave echo off
// if the process exits on Ctrl-C while it waits.
func sessReadPasswordTTY(ctx context.Context, fd int) (string, error) {
	state, err := term.GetState(fd)
	if err != nil {
		return "", fmt.Errorf("read the password from the terminal: %w", err)
	}
	type answer struct {
		pw  []byte
		err error
	}
	done := make(chan answer, 1)
	go func() {
		pw, err := term.ReadPassword(fd)
		done <- answer{pw, err}
	}()
	select {
	case ans := <-done:
		if ans.err != nil {
			return "", fmt.Errorf("read the password from the terminal: %w", ans.err)
		}
		return string(ans.pw), nil
	case <-ctx.Done():
		_ = term.Restore(fd, state)
		return "", fmt.Errorf("password prompt: %w", ctx.Err())
	}
}

// sessLoginErr words a failed login once, in its own terms, while keeping
// the client's error in the chain for exit codes and errors.Is.
type sessLoginErr struct {
	msg string
	err error
}

func (e *sessLoginErr) Error() string { return e.msg }
func (e *sessLoginErr) Unwrap() error { return e.err }

// sessLoginError explains a failed login in the words a person needs: the
// client's own text would say "invalid email or password" in three ways.
func sessLoginError(name, email string, err error, now time.Time) error {
	var apiErr *auth.APIError
	if !errors.As(err, &apiErr) {
		return err
	}
	// Only the server's facts, not its repeated words.
	facts := fmt.Sprintf("HTTP %d", apiErr.Status)
	if apiErr.RequestID != "" {
		facts += "; requestId " + apiErr.RequestID
	}
	switch {
	case errors.Is(err, auth.ErrInvalidCredentials):
		return &sessLoginErr{fmt.Sprintf("login %s: wrong email or password for %s (%s)", name, email, facts), err}
	case errors.Is(err, auth.ErrRateLimited):
		wait := "wait a minute and try again"
		if apiErr.RetryAfter > 0 {
			wait = fmt.Sprintf("retry in %s (after %s)", timefmt.Countdown(apiErr.RetryAfter),
				timefmt.Absolute(now.Add(apiErr.RetryAfter)))
		}
		return &sessLoginErr{fmt.Sprintf("login %s: the server is limiting login attempts; %s (%s)", name, wait, facts), err}
	}
	return err
}

// sessCanStore checks that a new pair for name could be saved, before the
// command asks for anything (see auth.SessionStore.CanStore); what starts
// the error when it cannot.
func (a *app) sessCanStore(ctx context.Context, what, name string) error {
	st, err := a.openStore()
	if err != nil {
		return err
	}
	if err := st.CanStore(ctx, name); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// sessPrevious is the session a login or import is about to replace (zero
// when none, or when it cannot be read: the note is then left out).
func sessPrevious(ctx context.Context, a *app, name string) auth.Session {
	st, err := a.openStore()
	if err != nil {
		return auth.Session{}
	}
	prev, err := st.Get(ctx, name)
	if err != nil {
		return auth.Session{}
	}
	return prev
}

// sessNoteReplaced says that a session was replaced and that its old pair
// still works at the server: only revoking ends it, and the name no longer
// leads to it.
func sessNoteReplaced(w io.Writer, prev, cur auth.Session) {
	if prev.Name == "" || prev.RefreshFP == cur.RefreshFP {
		return // nothing before, or the same pair imported again
	}
	fmt.Fprintf(w, "It replaced the previous pair of %q (access %s, refresh %s), which was not revoked: "+
		"it stays valid at the server until it expires.\n", prev.Name, sessFP(prev.AccessFP), sessFP(prev.RefreshFP))
}

// sessNoteEndpoints points out a half-given pair of base URLs: one flag
// pointing somewhere (an emulator, staging) while the other stays at the
// production default is almost always a forgotten flag.
func sessNoteEndpoints(w io.Writer, cmd *cobra.Command, ep auth.Endpoints) {
	oauth, api := cmd.Flags().Changed("oauth-url"), cmd.Flags().Changed("api-url")
	switch {
	case oauth && !api && ep.APIURL == auth.DefaultAPIURL && ep.OAuthURL != auth.DefaultOAuthURL:
		fmt.Fprintf(w, "Note: --api-url was not given, so the session's API is production (%s); "+
			"log in again with --api-url to change it.\n", ep.APIURL)
	case api && !oauth && ep.OAuthURL == auth.DefaultOAuthURL && ep.APIURL != auth.DefaultAPIURL:
		fmt.Fprintf(w, "Note: --oauth-url was not given, so the session refreshes at production (%s); "+
			"log in again with --oauth-url to change it.\n", ep.OAuthURL)
	}
}

func (a *app) newImportCmd() *cobra.Command {
	var ep auth.Endpoints
	cmd := &cobra.Command{
		DisableFlagsInUseLine: true,
		Use:                   "import NAME [--oauth-url U] [--api-url U] < RESPONSE.json",
		Short:                 "Save a token response (JSON on stdin) as the session NAME",
		Long: `Import a token pair obtained elsewhere: stdin holds the JSON that the login
(/oauth/token) or refresh (/oauth/refresh-token) endpoint returned, either flat
or wrapped in a {"code", "message", "data": {...}} envelope. Expiries may be
ISO-8601 instants or seconds from now. The session NAME is created or replaced.

Tokens are never accepted as flag values: pipe the JSON in.`,
		Example: `  tokentop import work < response.json
  curl -s -X POST https://platform-oauth.convirza.com/oauth/token -H 'Content-Type: application/json' \
      -d @creds.json | tokentop import work
  tokentop import local --oauth-url http://127.0.0.1:8787 --api-url http://127.0.0.1:8787/v3 < response.json`,
		Args:              exactArgs(1, "a session NAME"),
		ValidArgsFunction: a.completeSessionNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := storage.ValidateName(name); err != nil {
				return err
			}
			if err := auth.CheckEndpoints(ep); err != nil {
				return usageErr(err)
			}
			if f, ok := a.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
				return usageErr(errors.New("import reads the token response JSON from stdin, which is a terminal " +
					"(pasting would show the tokens): pipe it in, e.g. `tokentop import NAME < response.json`"))
			}
			if err := a.sessCanStore(cmd.Context(), "import "+name+": nothing was read or saved", name); err != nil {
				return err
			}
			body, err := sessReadResponse(a.stdin)
			if err != nil {
				return err
			}
			k, err := a.keeper()
			if err != nil {
				return err
			}
			prev := sessPrevious(cmd.Context(), a, name)
			s, err := k.Import(cmd.Context(), name, ep, body)
			if err != nil {
				if errors.Is(err, auth.ErrNotToken) || errors.Is(err, auth.ErrBadResponse) {
					return usageErr(fmt.Errorf("%w; e.g. %s", err, sessResponseExample))
				}
				return err
			}
			now := time.Now()
			fmt.Fprintf(a.stderr, "Imported %s; saved as session %q.\n", sessWho(s), name)
			sessPrintExpiries(a.stderr, s, now)
			if !s.AccessExpiry.IsZero() && !s.AccessExpiry.After(now) {
				fmt.Fprintf(a.stderr, "The access token has already expired; `tokentop token %s` will refresh it.\n", name)
			}
			sessNoteReplaced(a.stderr, prev, s)
			sessNoteEndpoints(a.stderr, cmd, ep)
			return nil
		},
	}
	addEndpointFlags(cmd, &ep)
	return cmd
}

// sessReadResponse reads a token response from stdin and rejects, with a
// message saying what was expected, anything that is not a JSON object. It
// never echoes the input: it may be a token.
func sessReadResponse(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxSecretInput+1))
	if err != nil {
		return nil, fmt.Errorf("read the token response from stdin: %w", err)
	}
	if len(data) > maxSecretInput {
		return nil, usageErr(errors.New("the token response on stdin is larger than 1 MiB"))
	}
	trimmed := bytes.TrimSpace(data)
	expected := "expected the JSON the login or refresh endpoint returns, e.g. " + sessResponseExample
	switch {
	case len(trimmed) == 0:
		return nil, usageErr(errors.New("no token response on stdin: pipe it in, e.g. `tokentop import NAME < response.json`; " + expected))
	case !json.Valid(trimmed):
		if sessLooksLikeBareToken(trimmed) {
			return nil, usageErr(errors.New("stdin holds a bare token, not a token response (a pair with expiries is needed to keep a session alive); " + expected))
		}
		var syn *json.SyntaxError
		where := ""
		if err := json.Unmarshal(trimmed, new(any)); errors.As(err, &syn) {
			where = fmt.Sprintf(" (syntax error at byte %d)", syn.Offset)
		}
		return nil, usageErr(fmt.Errorf("stdin is not valid JSON%s; %s", where, expected))
	case trimmed[0] != '{':
		if trimmed[0] == '"' {
			return nil, usageErr(errors.New("stdin holds a quoted string, not a token response; " + expected))
		}
		return nil, usageErr(errors.New("stdin holds JSON that is not an object; " + expected))
	}
	return trimmed, nil
}

// sessLooksLikeBareToken reports whether data is one word of token-ish
// characters (a JWT or an opaque token), the most likely mistake.
func sessLooksLikeBareToken(data []byte) bool {
	s := strings.TrimPrefix(string(data), "Bearer ")
	if len(s) < 8 || strings.ContainsAny(s, " \t\r\n{}[]\"") {
		return false
	}
	return true
}

// sessWho describes a session's owner: "me@example.com (user 12345, Admin, org 1001)".
func sessWho(s auth.Session) string {
	email := s.User.Email
	if email == "" {
		email = s.Email
	}
	if email == "" {
		email = "unknown user"
	}
	email = sessOneLine(email) // from the server's answer or the imported file
	var parts []string
	if s.User.UserID != 0 {
		parts = append(parts, fmt.Sprintf("user %d", s.User.UserID))
	}
	if r := auth.RoleName(s.User.RoleID); r != "" {
		parts = append(parts, r)
	}
	if s.User.OrgUnitID != 0 {
		parts = append(parts, fmt.Sprintf("org %d", s.User.OrgUnitID))
	}
	if len(parts) == 0 {
		return email
	}
	return email + " (" + strings.Join(parts, ", ") + ")"
}

// sessPrintExpiries writes both expiries, relative and absolute.
func sessPrintExpiries(w io.Writer, s auth.Session, now time.Time) {
	now = s.ServerNow(now) // expiries are the server's instants
	fmt.Fprintf(w, "  access token  %s  expires %s (%s)\n", s.AccessFP, timefmt.Relative(s.AccessExpiry, now), timefmt.Absolute(s.AccessExpiry))
	fmt.Fprintf(w, "  refresh token %s  expires %s (%s)\n", s.RefreshFP, timefmt.Relative(s.RefreshExpiry, now), timefmt.Absolute(s.RefreshExpiry))
}
