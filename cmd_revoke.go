package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/timefmt"
)

func (a *app) newRevokeCmd() *cobra.Command {
	var (
		tokenSrc string
		kind     string
		oauthURL string
	)
	cmd := &cobra.Command{
		DisableFlagsInUseLine: true,
		Use:                   "revoke NAME | revoke --token - --type access|refresh [--oauth-url U]",
		Short:                 "Revoke a session's tokens at the server, or a raw token read from stdin",
		Long: `revoke NAME revokes the session's refresh token, then its access token, at the
server, reports each result by fingerprint, and forgets the session only when both
are dead. If either could not be revoked the session is kept, and revoke says what
is still alive; running it again is harmless.

revoke --token - --type access|refresh revokes one raw token read from stdin (the
first line), for admins handling a compromised session. Nothing is stored. The
server answers "revoked" for unknown or already dead tokens too, so success means
the token is dead now, not that it was alive.

Neither form asks for confirmation: naming the session or piping the token is
the confirmation, so scripts work.`,
		Example: `  tokentop revoke prod
  pbpaste | tokentop revoke --token - --type refresh
  tokentop revoke --token - --type access --oauth-url http://127.0.0.1:8787 < leaked.txt`,
		ValidArgsFunction: a.completeSessionNameUnlessToken,
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			if !f.Changed("token") {
				if f.Changed("type") || f.Changed("oauth-url") {
					return usageErr(errors.New("--type and --oauth-url go with --token -; a saved session uses its own URL (tokentop revoke NAME)"))
				}
				if err := exactArgs(1, "a session NAME, or --token - --type access|refresh")(cmd, args); err != nil {
					return err
				}
				return a.runRevokeSession(cmd, args[0])
			}
			if len(args) > 0 {
				return usageErr(fmt.Errorf("give either a session NAME or --token -, not both (got NAME %q)", args[0]))
			}
			if tokenSrc != "-" {
				return usageErr(errors.New("--token takes only \"-\" (read the token from stdin): tokens are never accepted as flag values, they would land in shell history and ps"))
			}
			k, err := parseTokenKind(kind)
			if err != nil {
				return err
			}
			return a.runRevokeRaw(cmd, k, oauthURL)
		},
	}
	f := cmd.Flags()
	f.StringVar(&tokenSrc, "token", "", `read a raw token from stdin: the only value is "-"`)
	f.StringVar(&kind, "type", "", "with --token: the kind of token, access or refresh (required)")
	f.StringVar(&oauthURL, "oauth-url", auth.DefaultOAuthURL, "with --token: Convirza OAuth base URL")
	_ = cmd.RegisterFlagCompletionFunc("type", cobra.FixedCompletions([]string{"access", "refresh"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// parseTokenKind checks --type; missing or wrong is a usage error, because
// revoking with the wrong kind would silently leave the token alive.
func parseTokenKind(s string) (auth.TokenKind, error) {
	switch auth.TokenKind(s) {
	case auth.AccessToken, auth.RefreshToken:
		return auth.TokenKind(s), nil
	case "":
		return "", usageErr(errors.New("--token - needs --type access or --type refresh (which kind of token is on stdin)"))
	default:
		return "", usageErr(fmt.Errorf("--type %q: choose access or refresh", s))
	}
}

func (a *app) runRevokeRaw(cmd *cobra.Command, kind auth.TokenKind, oauthURL string) error {
	ep := auth.Endpoints{OAuthURL: oauthURL, APIURL: auth.DefaultAPIURL}
	if err := auth.CheckEndpoints(ep); err != nil {
		return usageErr(fmt.Errorf("--oauth-url: %w", err))
	}
	tok, err := a.readToken()
	if err != nil {
		return err
	}
	fp := auth.Fingerprint(tok)
	var (
		session string
		meta    auth.Meta
	)
	// Through the keeper when storage opens, so a saved session holding this
	// token is marked as revoked by us (its next 401 then reads as our doing,
	// not theft). Without storage the admin path still works.
	if k, kerr := a.keeper(); kerr == nil {
		session, meta, err = k.RevokeToken(cmd.Context(), ep, tok, kind)
	} else {
		meta, err = auth.NewClient(nil, nil).Revoke(cmd.Context(), ep, tok, kind)
		if err != nil {
			err = fmt.Errorf("revoke %s token %s: %w", kind, fp, err)
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "revoked %s token %s at %s (%s)\n", kind, fp, ep.OAuthURL, metaText(meta))
	fmt.Fprintln(a.stderr, "The server answers the same for unknown or already dead tokens: the token is dead now.")
	switch {
	case session != "" && kind == auth.RefreshToken:
		fmt.Fprintf(a.stderr, "It was the refresh token of saved session %s, which now needs a new login; its access token lives until it expires unless you run: tokentop revoke %s\n", session, session)
	case session != "":
		fmt.Fprintf(a.stderr, "It was the access token of saved session %s, which can still refresh; to end the session: tokentop revoke %s\n", session, session)
	case kind == auth.AccessToken:
		fmt.Fprintln(a.stderr, "Only the access token was revoked: its refresh token (if you know it) can still mint new ones; revoke it with --type refresh.")
	}
	return nil
}

func (a *app) runRevokeSession(cmd *cobra.Command, name string) error {
	ctx := cmd.Context()
	s, err := a.openStore()
	if err != nil {
		return err
	}
	se, err := s.Get(ctx, name)
	if err != nil {
		return err
	}
	k, err := a.keeper()
	if err != nil {
		return err
	}
	rep, err := k.Revoke(ctx, name)
	now := time.Now()
	if err != nil && rep.Refresh.Fingerprint == "" && rep.Access.Fingerprint == "" {
		// Nothing was attempted (storage, lock): the session is untouched.
		return err
	}
	if !rep.Forgotten && rep.Refresh.Fingerprint != se.RefreshFP {
		// Another process rotated the pair between our read and the
		// keeper's lock: report the expiries of the pair it revoked.
		if cur, gerr := s.Get(ctx, name); gerr == nil && cur.RefreshFP == rep.Refresh.Fingerprint {
			se = cur
		}
	}
	refresh := judgeRevoke(rep.Refresh, se.RefreshExpiry, now)
	access := judgeRevoke(rep.Access, se.AccessExpiry, now)
	printRevokeLine(a.stdout, "refresh token", rep.Refresh, refresh, se.RefreshExpiry)
	printRevokeLine(a.stdout, "access token ", rep.Access, access, se.AccessExpiry)
	if rep.Forgotten {
		fmt.Fprintf(a.stdout, "forgot session %s: removed its local copy\n", name)
		return nil
	}
	w := a.stderr
	if refresh.dead() && access.dead() {
		// Both are dead but the keeper could not remove the local copy.
		fmt.Fprintf(w, "Both tokens are dead at the server, but the local copy of %s was not removed; remove it with: tokentop forget %s\n", name, name)
		if err == nil {
			err = fmt.Errorf("revoke %s: the local copy was not removed", name)
		}
		return err
	}
	fmt.Fprintf(w, "Session %s was KEPT, because not every token could be revoked. Still alive at the server:\n", name)
	if !refresh.dead() {
		fmt.Fprintf(w, "  refresh token %s until %s (%s): whoever holds it can mint new access tokens\n",
			orDash(rep.Refresh.Fingerprint), timefmt.Absolute(se.RefreshExpiry), timefmt.Relative(se.RefreshExpiry, now))
	}
	if !access.dead() {
		fmt.Fprintf(w, "  access token  %s until %s (%s)\n",
			orDash(rep.Access.Fingerprint), timefmt.Absolute(se.AccessExpiry), timefmt.Relative(se.AccessExpiry, now))
	}
	fmt.Fprintf(w, "Try again when the server is reachable (revoking twice is harmless): tokentop revoke %s\n", name)
	var refreshErr, accessErr error
	if !refresh.dead() {
		refreshErr = rep.Refresh.Err
	}
	if !access.dead() {
		accessErr = rep.Access.Err
	}
	return revokeError(name, refreshErr, accessErr, err)
}

// revokeFailure is revoke NAME's error when the session was kept: one line
// for the user (the details are on stdout already), while errors.Is and the
// exit code still see every cause.
type revokeFailure struct {
	msg  string
	errs []error
}

func (e *revokeFailure) Error() string   { return e.msg }
func (e *revokeFailure) Unwrap() []error { return e.errs }

// revokeError builds revoke NAME's one-line error from why each token was not
// revoked (nil: it was, or it needed no revoking) and the keeper's own error.
func revokeError(name string, refreshErr, accessErr, keeperErr error) error {
	var msg string
	var errs []error
	switch {
	case refreshErr != nil && accessErr != nil && refreshErr.Error() == accessErr.Error():
		msg = fmt.Sprintf("refresh and access tokens not revoked: %v", refreshErr)
		errs = []error{refreshErr, accessErr}
	case refreshErr != nil && accessErr != nil:
		msg = fmt.Sprintf("refresh token not revoked: %v; access token not revoked: %v", refreshErr, accessErr)
		errs = []error{refreshErr, accessErr}
	case refreshErr != nil:
		msg = fmt.Sprintf("refresh token not revoked: %v", refreshErr)
		errs = []error{refreshErr}
	case accessErr != nil:
		msg = fmt.Sprintf("access token not revoked: %v", accessErr)
		errs = []error{accessErr}
	case keeperErr != nil:
		msg = keeperErr.Error()
		errs = []error{keeperErr}
	default:
		msg = "not every token was revoked"
	}
	// Newlines from a server message or a wrapped error would break the
	// one-line rule of every tokentop error.
	msg = strings.Join(strings.Fields(msg), " ")
	return &revokeFailure{msg: "revoke " + name + ": " + msg, errs: errs}
}

// revokeVerdict is what one RevokeOutcome means for the token.
type revokeVerdict int

const (
	verdictRevoked    revokeVerdict = iota // the server confirmed
	verdictRevokedBut                      // the server confirmed; recording it failed
	verdictExpired                         // not sent: it had expired already
	verdictFailed                          // the server did not confirm
	verdictNotTried                        // not sent although still valid
	verdictNoToken                         // the session had no such token
)

func (v revokeVerdict) dead() bool {
	return v == verdictRevoked || v == verdictRevokedBut || v == verdictExpired || v == verdictNoToken
}

// judgeRevoke reads an outcome; an outcome with no error and no answer is
// only "dead" when the token's own expiry has passed.
func judgeRevoke(o auth.RevokeOutcome, expiry, now time.Time) revokeVerdict {
	switch {
	case o.Err != nil && o.Meta.Status >= 200 && o.Meta.Status < 300:
		return verdictRevokedBut
	case o.Err != nil:
		return verdictFailed
	case o.Meta.Status != 0:
		return verdictRevoked
	case o.Fingerprint == "":
		return verdictNoToken
	case expired(expiry, now):
		return verdictExpired
	default:
		return verdictNotTried
	}
}

func printRevokeLine(w io.Writer, label string, o auth.RevokeOutcome, v revokeVerdict, expiry time.Time) {
	fp := orDash(o.Fingerprint)
	switch v {
	case verdictRevoked:
		fmt.Fprintf(w, "%s %s  revoked (%s)\n", label, fp, metaText(o.Meta))
	case verdictRevokedBut:
		fmt.Fprintf(w, "%s %s  revoked (%s), but: %v\n", label, fp, metaText(o.Meta), o.Err)
	case verdictExpired:
		fmt.Fprintf(w, "%s %s  already expired at %s, nothing to revoke\n", label, fp, timefmt.Absolute(expiry))
	case verdictFailed:
		fmt.Fprintf(w, "%s %s  NOT revoked: %v\n", label, fp, o.Err)
	case verdictNotTried:
		fmt.Fprintf(w, "%s %s  NOT revoked: not attempted\n", label, fp)
	case verdictNoToken:
		fmt.Fprintf(w, "%s -  none stored\n", label)
	}
}

// metaText describes a server answer: "HTTP 200, request id X".
func metaText(m auth.Meta) string {
	s := fmt.Sprintf("HTTP %d", m.Status)
	if m.RequestID != "" {
		s += ", request id " + m.RequestID
	}
	return s
}
