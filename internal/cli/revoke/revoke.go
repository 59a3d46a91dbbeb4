// Package revoke is `tokentop revoke`: kill a session's tokens at the
// server (then forget it), or a raw token read from stdin.
package revoke

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
	"github.com/tokentop/tokentop/internal/cli/iostreams"
	"github.com/tokentop/tokentop/internal/present"
	"github.com/tokentop/tokentop/internal/timefmt"
)

// Options are revoke's inputs: a session Name, or a raw token on stdin
// (TokenStdin) of the given Kind.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory

	Name       string
	TokenStdin bool
	Kind       auth.TokenKind
	OAuthURL   string
}

// NewCmdRevoke builds the command; runF, when not nil, runs instead of
// revoking.
func NewCmdRevoke(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f}
	var tokenSrc, kind string
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
the token is dead now, not that it was alive. A token that a saved session holds
is revoked at that session's OAuth URL (a different --oauth-url is refused: that
server would answer "revoked" and kill nothing), and the session is marked
needs_login (revoked) when it was its refresh token. Any other token goes to
--oauth-url.

Neither form asks for confirmation: naming the session or piping the token is
the confirmation, so scripts work.`,
		Example: `  tokentop revoke prod
  pbpaste | tokentop revoke --token - --type refresh
  tokentop revoke --token - --type access --oauth-url http://127.0.0.1:8787 < leaked.txt`,
		ValidArgsFunction: cmdutil.CompleteSessionNameUnlessToken(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			fl := cmd.Flags()
			if !fl.Changed("token") {
				if fl.Changed("type") || fl.Changed("oauth-url") {
					return cmdutil.NewUsageError(errors.New("--type and --oauth-url go with --token -; a saved session uses its own URL (tokentop revoke NAME)"))
				}
				if err := cmdutil.ExactArgs(1, "a session NAME, or --token - --type access|refresh")(cmd, args); err != nil {
					return err
				}
				opts.Name = args[0]
			} else {
				if len(args) > 0 {
					return cmdutil.UsageErrorf("give either a session NAME or --token -, not both (got NAME %q)", args[0])
				}
				if tokenSrc != "-" {
					return cmdutil.NewUsageError(errors.New("--token takes only \"-\" (read the token from stdin): tokens are never accepted as flag values, they would land in shell history and ps"))
				}
				k, err := parseTokenKind(kind)
				if err != nil {
					return err
				}
				opts.TokenStdin, opts.Kind = true, k
			}
			if runF != nil {
				return runF(opts)
			}
			if opts.TokenStdin {
				return rawRun(cmd, opts)
			}
			return sessionRun(cmd, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&tokenSrc, "token", "", `read a raw token from stdin: the only value is "-"`)
	fl.StringVar(&kind, "type", "", "with --token: the kind of token, access or refresh (required)")
	fl.StringVar(&opts.OAuthURL, "oauth-url", auth.DefaultOAuthURL, "with --token: Convirza OAuth base URL (a saved session's token goes to its own)")
	_ = cmd.RegisterFlagCompletionFunc("type", cobra.FixedCompletions([]string{"access", "refresh"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func rawRun(cmd *cobra.Command, opts *Options) error {
	kind := opts.Kind
	ep := auth.Endpoints{OAuthURL: opts.OAuthURL, APIURL: auth.DefaultAPIURL}
	if err := auth.CheckEndpoints(ep); err != nil {
		return cmdutil.NewUsageError(fmt.Errorf("--oauth-url: %w", err))
	}
	explicit := cmd.Flags().Changed("oauth-url")
	if !explicit {
		// The keeper revokes a saved session's token at that session's
		// URL, and any other at the production one.
		ep.OAuthURL = ""
	}
	tok, err := cmdutil.TokenFromStdin(cmd.Context(), opts.IO)
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
	if k, kerr := opts.Factory.Keeper(); kerr == nil {
		var rev auth.TokenRevocation
		rev, err = k.RevokeToken(cmd.Context(), ep, tok, kind)
		session, meta, ep = rev.Session, rev.Meta, rev.Endpoints
	} else {
		if !explicit {
			ep.OAuthURL = auth.DefaultOAuthURL
		}
		meta, err = opts.Factory.Client().Revoke(cmd.Context(), ep, tok, kind)
		if err != nil {
			err = fmt.Errorf("revoke %s token %s: %w", kind, fp, err)
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "revoked %s token %s at %s (%s)\n", kind, fp, ep.OAuthURL, present.MetaText(meta))
	fmt.Fprintln(opts.IO.ErrOut, "The server answers the same for unknown or already dead tokens: the token is dead now.")
	switch {
	case session != "" && kind == auth.RefreshToken:
		fmt.Fprintf(opts.IO.ErrOut, "It was the refresh token of saved session %s, which now needs a new login; its access token lives until it expires unless you run: tokentop revoke %s\n", session, session)
	case session != "":
		fmt.Fprintf(opts.IO.ErrOut, "It was the access token of saved session %s, which can still refresh; to end the session: tokentop revoke %s\n", session, session)
	case kind == auth.AccessToken:
		fmt.Fprintln(opts.IO.ErrOut, "Only the access token was revoked: its refresh token (if you know it) can still mint new ones; revoke it with --type refresh.")
	}
	return nil
}

func sessionRun(cmd *cobra.Command, opts *Options) error {
	name := opts.Name
	ctx := cmd.Context()
	s, err := opts.Factory.Store()
	if err != nil {
		return err
	}
	se, err := s.Get(ctx, name)
	if err != nil {
		return err
	}
	k, err := opts.Factory.Keeper()
	if err != nil {
		return err
	}
	rep, err := k.Revoke(ctx, name)
	now := opts.Factory.Now()
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
	printRevokeLine(opts.IO.Out, "refresh token", rep.Refresh, refresh, se.RefreshExpiry)
	printRevokeLine(opts.IO.Out, "access token ", rep.Access, access, se.AccessExpiry)
	if rep.Forgotten {
		fmt.Fprintf(opts.IO.Out, "forgot session %s: removed its local copy\n", name)
		return nil
	}
	w := opts.IO.ErrOut
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
			present.OrDash(rep.Refresh.Fingerprint), timefmt.Absolute(se.RefreshExpiry), timefmt.Relative(se.RefreshExpiry, now))
	}
	if !access.dead() {
		fmt.Fprintf(w, "  access token  %s until %s (%s)\n",
			present.OrDash(rep.Access.Fingerprint), timefmt.Absolute(se.AccessExpiry), timefmt.Relative(se.AccessExpiry, now))
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
