package har

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tokentop/tokentop/auth"
	harpkg "github.com/tokentop/tokentop/har"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
	"github.com/tokentop/tokentop/internal/cli/iostreams"
	"github.com/tokentop/tokentop/internal/present"
	"github.com/tokentop/tokentop/internal/safetext"
)

// AnalyzeOptions are `har analyze`'s inputs.
type AnalyzeOptions struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory

	File   string
	JSON   bool
	Probe  bool
	APIURL string
}

// NewCmdAnalyze builds `har analyze`; runF, when not nil, runs instead.
func NewCmdAnalyze(f *cmdutil.Factory, runF func(*AnalyzeOptions) error) *cobra.Command {
	opts := &AnalyzeOptions{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "analyze FILE|- [--json] [--probe] [--api-url U]",
		Short: "Report a HAR's tokens, rotation chain and findings",
		Long: `analyze reads a HAR and reports, for its Convirza exchanges: every access,
refresh and frontend token by fingerprint (kind, where and when first and last
seen, expiry, the response that issued it); each login and refresh in order,
drawn as a chain per session family; and findings, each with the entries
(index from 0, and time) that prove it:

  refresh_reuse            one refresh token presented more than once ("two tabs")
  concurrent_refresh       two refreshes in flight at once
  expired_access_used      an API call with an access token past its expiry
  rejected_after_rotation  a 401 for a token another response superseded
  clock_skew               the browser's clock against the server's Date headers
  login_failed, rate_limited, server_error
  secrets_in_file          what a sanitiser must remove

--probe asks the API (GET {api}/auth/profile) whether each access token found
is accepted now, and marks it LIVE or dead. It sends the file's tokens to the
API URL seen in the file (a Convirza or loopback host) or the one --api-url
names.`,
		Example: `  tokentop har analyze customer.har
  tokentop har analyze customer.har --json | jq '.findings[].kind'
  tokentop har analyze customer.har --probe`,
		Args: cmdutil.ExactArgs(1, "a HAR FILE, or - for stdin"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			if cmd.Flags().Changed("api-url") && !opts.Probe {
				return cmdutil.UsageErrorf("--api-url goes with --probe")
			}
			if runF != nil {
				return runF(opts)
			}
			return analyzeRun(cmd, opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.JSON, "json", false, "print the report as JSON")
	fl.BoolVar(&opts.Probe, "probe", false, "ask the API whether each access token is accepted now")
	fl.StringVar(&opts.APIURL, "api-url", "", "with --probe: the Convirza API base URL (default: the one in the file)")
	return cmd
}

func analyzeRun(cmd *cobra.Command, opts *AnalyzeOptions) error {
	in, err := open(opts.IO, opts.File)
	if err != nil {
		return err
	}
	defer in.Close()
	rep, err := harpkg.Analyze(in)
	if err != nil {
		return fmt.Errorf("read %s: %w", safetext.Escape(opts.File), err)
	}
	if opts.Probe {
		if err := probe(cmd.Context(), opts, rep); err != nil {
			return err
		}
	}
	if opts.JSON {
		return present.WriteJSON(opts.IO.Out, rep)
	}
	writeReport(opts.IO.Out, rep)
	return nil
}

// apiURL is where --probe may send the file's tokens.
func apiURL(opts *AnalyzeOptions, rep *harpkg.Report) (string, error) {
	if opts.APIURL != "" {
		return opts.APIURL, nil
	}
	switch len(rep.APIURLs) {
	case 0:
		return "", cmdutil.UsageErrorf("the file has no API call with a bearer token, so its API URL is unknown: name it with --api-url")
	case 1:
	default:
		return "", cmdutil.UsageErrorf("the file calls several APIs (%v): name the one to ask with --api-url", rep.APIURLs)
	}
	u := rep.APIURLs[0]
	if !hostAllowed(u) {
		return "", cmdutil.UsageErrorf("the file's API URL %s is neither Convirza's nor this machine's, and --probe would send it the file's tokens; if you trust it, name it with --api-url %s", u, u)
	}
	return u, nil
}

// probe marks each access token LIVE or dead by asking the API.
func probe(ctx context.Context, opts *AnalyzeOptions, rep *harpkg.Report) error {
	base, err := apiURL(opts, rep)
	if err != nil {
		return err
	}
	ep := auth.Endpoints{OAuthURL: auth.DefaultOAuthURL, APIURL: base}
	if err := auth.CheckEndpoints(ep); err != nil {
		return cmdutil.NewUsageError(fmt.Errorf("--api-url: %w", err))
	}
	client := opts.Factory.Client()
	for _, t := range rep.Tokens {
		if t.Kind != harpkg.KindAccess {
			continue
		}
		v := rep.Value(t.Fingerprint)
		if v == "" {
			t.Probe = "sanitised"
			continue
		}
		pr, err := client.Probe(ctx, ep, v)
		switch {
		case err != nil && errors.Is(err, context.Canceled):
			return err
		case err != nil:
			t.Probe = "unknown: " + err.Error()
		case pr.Accepted:
			t.Probe = "LIVE"
		default:
			t.Probe = "dead"
		}
	}
	return nil
}
