// Package inspect is `tokentop inspect`: what a saved session's or a raw
// token is, and optionally whether the server accepts it now.
package inspect

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
	"github.com/tokentop/tokentop/internal/cli/iostreams"
	"github.com/tokentop/tokentop/internal/present"
	"github.com/tokentop/tokentop/internal/safetext"
)

// Options are inspect's inputs: a session Name, or a raw token on stdin
// (TokenStdin).
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory

	Name       string
	TokenStdin bool
	APIURL     string
	Probe      bool
	JSON       bool
	ShowToken  bool
}

// NewCmdInspect builds the command; runF, when not nil, runs instead of
// the inspection.
func NewCmdInspect(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f}
	var tokenSrc string
	cmd := &cobra.Command{
		DisableFlagsInUseLine: true,
		Use:                   "inspect NAME | inspect --token - [--probe] [--json]",
		Short:                 "Show what a token is: owner, expiries, fingerprints, JWT claims, warnings",
		Long: `inspect NAME shows a saved session: user, role, org unit, both expiries (relative
and absolute UTC), the fingerprints of the access, refresh and frontend tokens,
state and last error, and what the access token is (JWT header and claims, or
opaque length and alphabet) with warnings. Only the access token inspection reads
secret storage; the rest comes from metadata.

inspect --token - inspects a raw token read from stdin (the first line), e.g. one a
customer pasted; nothing is stored.

--probe asks the server now whether it accepts the access token (GET /auth/profile)
and exits 1 when it is rejected. --json prints one JSON object (schema in the
manual). The token itself is printed only with --show-token.`,
		Example: `  tokentop inspect prod
  tokentop inspect prod --probe --json
  pbpaste | tokentop inspect --token - --probe --api-url https://platform-api.convirza.com/v3`,
		ValidArgsFunction: cmdutil.CompleteSessionNameUnlessToken(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			fl := cmd.Flags()
			if !fl.Changed("token") {
				if fl.Changed("api-url") {
					return cmdutil.NewUsageError(errors.New("--api-url goes with --token -; a saved session is probed at its own URL"))
				}
				if err := cmdutil.ExactArgs(1, "a session NAME, or --token - with the token on stdin")(cmd, args); err != nil {
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
				opts.TokenStdin = true
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
	fl.StringVar(&tokenSrc, "token", "", `inspect a raw token read from stdin: the only value is "-"`)
	fl.StringVar(&opts.APIURL, "api-url", auth.DefaultAPIURL, "with --token and --probe: Convirza API base URL")
	fl.BoolVar(&opts.Probe, "probe", false, "ask the server now whether it accepts the access token")
	fl.BoolVar(&opts.JSON, "json", false, "print one JSON object instead of text")
	fl.BoolVar(&opts.ShowToken, "show-token", false, "also print the access token itself (it is a secret)")
	return cmd
}

func sessionRun(cmd *cobra.Command, opts *Options) error {
	ctx := cmd.Context()
	name := opts.Name
	s, err := opts.Factory.Store()
	if err != nil {
		return err
	}
	se, err := s.Get(ctx, name)
	if err != nil {
		return err
	}
	now := opts.Factory.Now()
	rep := report{Source: "session", CheckedAt: now.UTC(), Session: newSession(se, se.SecretsBackend, now)}
	// The timeline is what support asks first ("what happened to it?"); it
	// comes from the audit log, which holds no secrets.
	if evs, err := s.Events(name, maxEvents); err != nil {
		rep.EventsError = err.Error()
	} else {
		rep.Events = evs
	}
	// Metadata is shown even when secret storage is unavailable (it is all
	// most support questions need), but the command then fails with exit 4,
	// so a script never mistakes a partial answer for a full one.
	var failure error
	sec, secErr := s.Secrets(ctx, name)
	if secErr != nil {
		failure = fmt.Errorf("inspect %s: the access token was not inspected: %w", name, secErr)
		rep.TokenError, rep.tokenErr = secErr.Error(), secErr
	} else {
		in := auth.Inspect(sec.AccessToken, auth.InspectOptions{Now: now, ExpectedExpiry: se.AccessExpiry})
		rep.Token = &in
		if opts.ShowToken {
			rep.AccessToken = sec.AccessToken
		}
		if opts.Probe {
			k, err := opts.Factory.Keeper()
			if err != nil {
				return err
			}
			p, err := k.Probe(ctx, name)
			failure = probeOutcome(&rep, p, err)
		}
	}
	if err := write(opts, rep); err != nil {
		return err
	}
	return failure
}

func rawRun(cmd *cobra.Command, opts *Options) error {
	ep := auth.Endpoints{OAuthURL: auth.DefaultOAuthURL, APIURL: opts.APIURL}
	if opts.Probe {
		if err := auth.CheckEndpoints(ep); err != nil {
			return cmdutil.NewUsageError(fmt.Errorf("--api-url: %w", err))
		}
	}
	tok, err := cmdutil.TokenFromStdin(cmd.Context(), opts.IO)
	if err != nil {
		return err
	}
	now := opts.Factory.Now()
	in := auth.Inspect(tok, auth.InspectOptions{Now: now})
	rep := report{Source: "stdin", CheckedAt: now.UTC(), Token: &in}
	if opts.ShowToken {
		rep.AccessToken = tok
	}
	var failure error
	if opts.Probe {
		p, err := opts.Factory.Client().Probe(cmd.Context(), ep, tok)
		failure = probeOutcome(&rep, p, err)
	}
	if err := write(opts, rep); err != nil {
		return err
	}
	return failure
}

// probeOutcome records a probe in the report and returns the command's
// failure: the probe's own error (exit 5 for network), or exit 1 when the
// server rejected the token, so `inspect --probe` works as a check in scripts.
func probeOutcome(rep *report, p auth.ProbeResult, err error) error {
	fp := ""
	if rep.Token != nil {
		fp = rep.Token.Fingerprint
	}
	if err != nil {
		rep.Probe = &probe{Error: err.Error()}
		var ae *auth.APIError
		if errors.As(err, &ae) {
			rep.Probe.Status, rep.Probe.RequestID, rep.Probe.Message = ae.Status, ae.RequestID, ae.Message
		}
		// err already says "probe" (and the session's name, if any).
		return fmt.Errorf("access token %s: %w", fp, err)
	}
	rep.Probe = newProbe(p)
	if !p.Accepted {
		return &cmdutil.ExitError{Code: cmdutil.ExitFailure, Err: fmt.Errorf("the server rejected access token %s (HTTP %d)", fp, rep.Probe.Status)}
	}
	return nil
}

func write(opts *Options, rep report) error {
	if opts.JSON {
		if err := present.WriteJSON(opts.IO.Out, rep); err != nil {
			return fmt.Errorf("write the inspection: %w", err)
		}
		return nil
	}
	// Each value is escaped as it is written (kv.line); the whole text is
	// escaped once more, so a line added without care still cannot carry a
	// control sequence to the terminal.
	var b bytes.Buffer
	writeText(&b, rep)
	_, err := io.WriteString(opts.IO.Out, safetext.Lines(b.String()))
	return err
}
