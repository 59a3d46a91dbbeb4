package har

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokentop/tokentop/auth"
	harpkg "github.com/tokentop/tokentop/har"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
	"github.com/tokentop/tokentop/internal/cli/iostreams"
	"github.com/tokentop/tokentop/internal/present"
	"github.com/tokentop/tokentop/internal/safetext"
)

// RevokeOptions are `har revoke`'s inputs.
type RevokeOptions struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory

	File     string
	OAuthURL string
	Yes      bool
	JSON     bool
	// Sleep waits out a Retry-After; tests make it instant.
	Sleep func(context.Context, time.Duration) error
}

// NewCmdRevoke builds `har revoke`; runF, when not nil, runs instead.
func NewCmdRevoke(f *cmdutil.Factory, runF func(*RevokeOptions) error) *cobra.Command {
	opts := &RevokeOptions{IO: f.IOStreams, Factory: f, Sleep: sleep}
	cmd := &cobra.Command{
		Use:   "revoke FILE|- [--oauth-url U] [--yes] [--json]",
		Short: "Revoke every token in a HAR file at the server",
		Long: `revoke is for admins after a HAR file was exposed. It revokes every refresh
token in the file, then every access token, at the OAuth URL the file's logins
and refreshes used, and reports each token's outcome by fingerprint.

It refuses a host that is neither Convirza's nor this machine's unless
--oauth-url names it. It lists the tokens and asks before revoking; --yes
skips the question, and is required when stdin is not a terminal (or is the
HAR itself). It honours the server's Retry-After on 429, and is safe to run
twice: the server answers "revoked" for dead tokens too.

A token that belongs to a saved session marks that session revoked (it then
needs a new login). Exit status 0 only when every token is dead.`,
		Example: `  tokentop har revoke customer.har
  tokentop har revoke customer.har --yes --json`,
		Args: cmdutil.ExactArgs(1, "a HAR FILE, or - for stdin"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			if !opts.Yes && (opts.File == "-" || !opts.IO.IsStdinTTY()) {
				return cmdutil.UsageErrorf("har revoke asks before revoking, and stdin is not a terminal it can ask on: review the list with \"tokentop har analyze\", then run again with --yes")
			}
			if runF != nil {
				return runF(opts)
			}
			return revokeRun(cmd, opts, cmd.Flags().Changed("oauth-url"))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.OAuthURL, "oauth-url", "", "the Convirza OAuth base URL to revoke at (default: the one in the file)")
	fl.BoolVar(&opts.Yes, "yes", false, "do not ask for confirmation")
	fl.BoolVar(&opts.JSON, "json", false, "print each token's outcome as JSON")
	return cmd
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stopped ends a run cut short (Ctrl-C): what was revoked so far, and the
// saved sessions marked, are reported before the stop's error.
func stopped(opts *RevokeOptions, base string, bar *progress, out []Outcome, stop error) error {
	bar.done()
	if len(out) > 0 {
		_ = report(opts, base, out) // its "not every token is dead" is the stop's to say
	}
	return stop
}

// Outcome is one token's result, as in --json.
type Outcome struct {
	Fingerprint string `json:"fingerprint"`
	Kind        string `json:"kind"`
	Dead        bool   `json:"dead"`
	Result      string `json:"result"`            // "revoked", "skipped: ..." or the error
	Session     string `json:"session,omitempty"` // the saved session it belonged to
	RequestID   string `json:"request_id,omitempty"`
}

// RevokeJSON is `har revoke --json`.
type RevokeJSON struct {
	OAuthURL string    `json:"oauth_url"`
	AllDead  bool      `json:"all_dead"`
	Tokens   []Outcome `json:"tokens"`
}

func oauthURL(opts *RevokeOptions, rep *harpkg.Report, named bool) (string, error) {
	if named {
		return opts.OAuthURL, nil
	}
	switch len(rep.OAuthURLs) {
	case 0:
		return "", cmdutil.UsageErrorf("the file has no login or refresh, so its OAuth URL is unknown: name it with --oauth-url (Convirza's is %s)", auth.DefaultOAuthURL)
	case 1:
	default:
		return "", cmdutil.UsageErrorf("the file talks to several OAuth servers (%s): name the one to revoke at with --oauth-url", strings.Join(rep.OAuthURLs, ", "))
	}
	u := rep.OAuthURLs[0]
	if !hostAllowed(u) {
		return "", cmdutil.UsageErrorf("the file's OAuth URL %s is neither Convirza's nor this machine's, and revoking would send it every token in the file; if you trust it, name it with --oauth-url %s", u, u)
	}
	return u, nil
}

func revokeRun(cmd *cobra.Command, opts *RevokeOptions, named bool) error {
	ctx := cmd.Context()
	in, err := open(opts.IO, opts.File)
	if err != nil {
		return err
	}
	rep, err := harpkg.Analyze(in)
	in.Close()
	if err != nil {
		return fmt.Errorf("read %s: %w", safetext.Escape(opts.File), err)
	}
	base, err := oauthURL(opts, rep, named)
	if err != nil {
		return err
	}
	ep := auth.Endpoints{OAuthURL: base, APIURL: auth.DefaultAPIURL}
	if err := auth.CheckEndpoints(ep); err != nil {
		return cmdutil.NewUsageError(fmt.Errorf("--oauth-url: %w", err))
	}

	// Refresh tokens first: while one lives, whoever holds it can mint new
	// access tokens faster than we revoke them.
	var todo []*harpkg.Token
	var out []Outcome
	for _, k := range []harpkg.Kind{harpkg.KindRefresh, harpkg.KindAccess} {
		for _, t := range rep.Tokens {
			if t.Kind != k {
				continue
			}
			if rep.Value(t.Fingerprint) == "" {
				out = append(out, Outcome{Fingerprint: t.Fingerprint, Kind: string(k), Result: "skipped: the file holds only its fingerprint (sanitised)"})
				continue
			}
			todo = append(todo, t)
		}
	}
	errw := opts.IO.ErrOut
	if len(todo) == 0 {
		fmt.Fprintln(errw, "no access or refresh token in this file to revoke")
		return report(opts, base, out)
	}
	if !opts.Yes {
		fmt.Fprintf(errw, "About to revoke %d tokens at %s:\n", len(todo), safetext.Escape(base))
		for _, t := range todo {
			fmt.Fprintf(errw, "  %-7s %s  first seen #%d %s\n", t.Kind, t.Fingerprint, t.First.Index, hms(t.First.Time))
		}
		fmt.Fprint(errw, "Revoke them all? [y/N] ")
		line, _ := bufio.NewReader(opts.IO.In).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			return cmdutil.NewUsageError(errors.New("nothing revoked"))
		}
	}

	// Through the keeper when storage opens, so a saved session holding a
	// token is marked revoked by us; without storage the admin path works.
	revoke := func(tok string, kind auth.TokenKind) (string, auth.Meta, error) {
		m, err := opts.Factory.Client().Revoke(ctx, ep, tok, kind)
		return "", m, err
	}
	if k, kerr := opts.Factory.Keeper(); kerr == nil {
		revoke = func(tok string, kind auth.TokenKind) (string, auth.Meta, error) {
			rev, err := k.RevokeToken(ctx, ep, tok, kind)
			return rev.Session, rev.Meta, err
		}
	}
	var failed error
	bar := newProgress(errw, opts.IO.IsStderrTTY() && !opts.JSON, len(todo))
	for i, t := range todo {
		o := Outcome{Fingerprint: t.Fingerprint, Kind: string(t.Kind)}
		for attempt := 0; ; attempt++ {
			session, meta, err := revoke(rep.Value(t.Fingerprint), auth.TokenKind(t.Kind))
			var ae *auth.APIError
			if err != nil && errors.As(err, &ae) && errors.Is(err, auth.ErrRateLimited) && attempt < 5 {
				wait := ae.RetryAfter
				if wait <= 0 {
					wait = time.Second
				}
				bar.note(fmt.Sprintf("rate limited: waiting %s as the server asks", wait.Round(time.Second)))
				if serr := opts.Sleep(ctx, wait); serr != nil {
					return stopped(opts, base, bar, out, serr)
				}
				continue
			}
			o.Session, o.RequestID = session, safetext.Escape(meta.RequestID)
			if err != nil {
				if errors.Is(err, context.Canceled) {
					return stopped(opts, base, bar, out, err)
				}
				failed = err
				o.Result = present.OneLine(err.Error())
			} else {
				o.Dead, o.Result = true, "revoked"
			}
			break
		}
		out = append(out, o)
		bar.step(i+1, o)
	}
	bar.done()
	if err := report(opts, base, out); err != nil && failed != nil {
		// The last failure decides the exit status (5 when the server
		// or the network was the trouble).
		return fmt.Errorf("%w; the last failure: %w", err, failed)
	} else if err != nil {
		return err
	}
	return nil
}

func report(opts *RevokeOptions, base string, out []Outcome) error {
	all := true
	for _, o := range out {
		all = all && o.Dead
	}
	if opts.JSON {
		if out == nil {
			out = []Outcome{}
		}
		if err := present.WriteJSON(opts.IO.Out, RevokeJSON{OAuthURL: base, AllDead: all, Tokens: out}); err != nil {
			return err
		}
	} else {
		for _, o := range out {
			line := fmt.Sprintf("%-7s %s  %s", o.Kind, o.Fingerprint, o.Result)
			if o.Session != "" {
				line += "  (saved session " + o.Session + " marked revoked)"
				if o.Kind == string(harpkg.KindAccess) {
					line = fmt.Sprintf("%-7s %s  %s  (access token of saved session %s)", o.Kind, o.Fingerprint, o.Result, o.Session)
				}
			}
			fmt.Fprintln(opts.IO.Out, safetext.Escape(line))
		}
	}
	if !all {
		return errors.New("not every token in the file is dead: see the list above, and run again when the server is reachable (revoking twice is harmless)")
	}
	if !opts.JSON {
		fmt.Fprintln(opts.IO.ErrOut, "Every token in the file is dead. (The server answers the same for tokens that were already dead.)")
	}
	return nil
}

// progress draws a bar on a terminal, and nothing elsewhere (the outcomes
// are listed at the end either way).
type progress struct {
	w     io.Writer
	on    bool
	total int
}

func newProgress(w io.Writer, on bool, total int) *progress {
	p := &progress{w: w, on: on, total: total}
	p.draw(0)
	return p
}

func (p *progress) draw(n int) {
	if !p.on {
		return
	}
	const width = 30
	fill := width * n / max(p.total, 1)
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d revoked", strings.Repeat("#", fill), strings.Repeat(" ", width-fill), n, p.total)
}

func (p *progress) step(n int, _ Outcome) { p.draw(n) }

func (p *progress) note(s string) {
	if p.on {
		fmt.Fprintf(p.w, "\r\x1b[K%s\n", s)
		return
	}
	fmt.Fprintln(p.w, s)
}

func (p *progress) done() {
	if p.on {
		fmt.Fprintln(p.w)
	}
}
