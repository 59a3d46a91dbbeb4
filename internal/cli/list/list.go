// Package list is `tokentop list`: the saved sessions as a table or JSON.
package list

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tokentop/tokentop/internal/cli/cmdutil"
	"github.com/tokentop/tokentop/internal/cli/iostreams"
	"github.com/tokentop/tokentop/internal/present"
)

// Options are list's inputs.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory

	JSON bool
}

// NewCmdList builds the command; runF, when not nil, runs instead of the
// listing itself.
func NewCmdList(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		DisableFlagsInUseLine: true,
		Use:                   "list [--json]",
		Short:                 "List the saved sessions with their user, expiries and state",
		Long: `List the saved sessions: name, user, role, org, when the access and refresh
tokens expire (relative and absolute, UTC), and the state (ok, refreshing,
retrying, needs_login with the reason, paused, expired). It reads metadata only
and never touches secret storage, so it works while the keyring is locked.

The state is what the last refresh left, corrected by the clock: a session
whose access token has passed its expiry shows "expired" (the next
` + "`tokentop token`" + ` refreshes it, unless it is paused: then ", paused"), and one whose
refresh token has passed its expiry shows "needs_login (refresh_expired)", paused
or not. Time left is counted by the server's clock. inspect, keepalive and the
TUI use the same words (README, "States and words").

--json prints one object, stable for scripts:
  {"storage": "keyring", "config_dir": "...", "sessions": [{"name", "email", "user": {...},
   "role", "org_unit_id", "oauth_url", "api_url", "access_expires_at", "refresh_expires_at",
   "access_expires_in_seconds", "refresh_expires_in_seconds", "state", "reason",
   "last_error", "next_attempt", "paused", "refresh_interrupted", "auto_refresh_at", "last_refresh",
   "refreshes", "failures",
   "clock_skew_seconds", "access_fingerprint", "refresh_fingerprint", "secrets_backend", ...}]}
Instants are RFC 3339 UTC strings or null; no token values are ever included.

"storage" is where new sessions go (--storage); a session's tokens stay in the
backend it was saved in ("secrets_backend"), whatever --storage says. The table
has a STORAGE column when some session's backend differs from --storage.`,
		Example: `  tokentop list
  tokentop list --json | jq -r '.sessions[] | select(.state != "ok") | .name'`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return listRun(cmd, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON (schema in --help) instead of a table")
	return cmd
}

func listRun(cmd *cobra.Command, opts *Options) error {
	s, err := opts.Factory.Store()
	if err != nil {
		return err
	}
	if opts.Factory.HoldAll != nil {
		opts.Factory.HoldAll()
	}
	// Each session becomes its row (or its JSON) as it is read: at 10,000
	// sessions, holding them all first and then rendering was a fifth more.
	now := opts.Factory.Now()
	if opts.JSON {
		l := present.NewListJSONWriter(s.Backend(), s.ConfigDir(), now)
		if err := s.Scan(cmd.Context(), l.Adder); err != nil {
			return fmt.Errorf("list sessions: %w", err)
		}
		return l.Write(opts.IO.Out)
	}
	t := present.NewListTable(s.Backend(), now)
	if err := s.Scan(cmd.Context(), t.Adder); err != nil {
		return fmt.Errorf("list sessions: %w", err)
	}
	if t.Len() == 0 {
		fmt.Fprintf(opts.IO.ErrOut, "No saved sessions (storage: %s). Add one with `tokentop login NAME --email EMAIL` or `tokentop import NAME < response.json`.\n", s.Backend())
		return nil
	}
	t.Write(opts.IO.Out, opts.IO.TerminalWidth())
	return nil
}
