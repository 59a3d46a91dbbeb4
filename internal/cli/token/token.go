// Package token is `tokentop token` and `tokentop refresh`: a valid access
// token for scripts, and a rotation on demand.
package token

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokentop/tokentop/internal/cli/cmdutil"
	"github.com/tokentop/tokentop/internal/cli/iostreams"
	"github.com/tokentop/tokentop/internal/present"
)

// Options are token's inputs.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory

	Name     string
	MinValid time.Duration
}

// NewCmdToken builds `token`; runF, when not nil, runs instead of getting
// the token.
func NewCmdToken(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		DisableFlagsInUseLine: true,
		Use:                   "token NAME [--min-valid D]",
		Short:                 "Print a valid access token for NAME (refreshing first when needed)",
		Long: `Print only the session's access token and a newline on stdout, for scripts.

When the token is inside its refresh window (20% of its lifetime, at least 30s,
at most half), or has less than --min-valid left, it is refreshed first, under
the session's lock, so any number of concurrent callers share one refresh.

A paused session (imports start paused; see tokentop pause) is never refreshed:
its access token is printed while it is valid (and has --min-valid left), else
token fails with exit 1 and says to run tokentop resume NAME.

Exit codes: 0 token printed; 3 the session needs a new login (the reason is on
stderr: refresh token expired, revoked, rejected - possibly used by someone
else -, or rotation lost in transit); 4 secret storage unavailable or locked;
5 server or network unavailable; 1 anything else, such as a paused session
whose access token has expired.`,
		Example: `  # the header goes through stdin, so the token never shows in ps
  tokentop token work | sed 's/^/Authorization: Bearer /' | curl -sS -H @- https://platform-api.convirza.com/v3/auth/profile
  TOKEN=$(tokentop token work --min-valid 10m) || exit`,
		Args:              cmdutil.ExactArgs(1, "a session NAME"),
		ValidArgsFunction: cmdutil.CompleteSessionName(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if opts.MinValid < 0 {
				return cmdutil.UsageErrorf("--min-valid %s: must not be negative", opts.MinValid)
			}
			if runF != nil {
				return runF(opts)
			}
			return tokenRun(cmd, opts)
		},
	}
	cmd.Flags().DurationVar(&opts.MinValid, "min-valid", 0, "refresh first unless the token stays valid at least this long (e.g. 10m)")
	return cmd
}

func tokenRun(cmd *cobra.Command, opts *Options) error {
	k, err := opts.Factory.Keeper()
	if err != nil {
		return err
	}
	sec, _, err := k.Token(cmd.Context(), opts.Name, opts.MinValid)
	if err != nil {
		return present.Explain(opts.Name, err)
	}
	writeNotes(opts.IO.ErrOut, k.Events())
	if sec.AccessToken == "" {
		return fmt.Errorf("session %q: secret storage holds no access token", opts.Name)
	}
	// One write, so a reader never sees half a token.
	if _, err := io.WriteString(opts.IO.Out, sec.AccessToken+"\n"); err != nil {
		return fmt.Errorf("write the token: %w", err)
	}
	return nil
}

// RefreshOptions are refresh's inputs.
type RefreshOptions struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory

	Name string
}

// NewCmdRefresh builds `refresh`; runF, when not nil, runs instead of the
// refresh.
func NewCmdRefresh(f *cmdutil.Factory, runF func(*RefreshOptions) error) *cobra.Command {
	opts := &RefreshOptions{IO: f.IOStreams, Factory: f}
	return &cobra.Command{
		DisableFlagsInUseLine: true,
		Use:                   "refresh NAME",
		Short:                 "Rotate NAME's token pair now",
		Long: `Refresh the session now, under its lock: the refresh token is exchanged for a
new access token and a new refresh token (the old refresh token dies). Prints
the old and new fingerprints and expiries on stdout. If another process
rotated the pair while this one waited for the lock, its pair is adopted
instead of refreshing twice.

It refreshes a paused session too (you asked for it): the pair is rotated, and
whoever else holds it, such as the customer whose pair you imported, is logged
out. The session stays paused.

Exit codes as for token: 3 needs login, 4 storage unavailable, 5 server or
network unavailable.`,
		Example:           `  tokentop refresh work`,
		Args:              cmdutil.ExactArgs(1, "a session NAME"),
		ValidArgsFunction: cmdutil.CompleteSessionName(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return refreshRun(cmd, opts)
		},
	}
}

func refreshRun(cmd *cobra.Command, opts *RefreshOptions) error {
	k, err := opts.Factory.Keeper()
	if err != nil {
		return err
	}
	res, err := k.Refresh(cmd.Context(), opts.Name)
	if err != nil {
		return present.Explain(opts.Name, err)
	}
	writeRefresh(opts.IO.Out, opts.Name, res, opts.Factory.Now())
	return nil
}
