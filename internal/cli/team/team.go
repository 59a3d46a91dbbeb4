// Package team is `tokentop team init` and `tokentop team join`: the team
// identity that secrets on a shared etcd cluster are encrypted to.
package team

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tokentop/tokentop/internal/cli/cmdutil"
	"github.com/tokentop/tokentop/internal/cli/iostreams"
	"github.com/tokentop/tokentop/storage"
)

// Options are team's inputs: which subcommand runs.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory
	Join    bool
}

// NewCmdTeam builds `team` with `init` and `join`; runF, when not nil,
// runs instead.
func NewCmdTeam(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "team",
		Short: "The team identity for --storage etcd (init, join)",
		Long: `With --storage etcd a team shares its sessions on an etcd cluster. Their tokens are
encrypted on each member's machine (age, X25519) to the team's recipient before they
reach etcd, so etcd, its snapshots and its operators never hold a usable token.
Each member holds the team identity: in the OS keyring, or in the 0600 file that
TOKENTOP_TEAM_IDENTITY names (headless CI runners).`,
		Args: cmdutil.NoArgs,
	}
	sub := func(join bool, c *cobra.Command) *cobra.Command {
		opts := &Options{IO: f.IOStreams, Factory: f, Join: join}
		c.Args = cmdutil.NoArgs
		c.RunE = func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return run(cmd, opts)
		}
		return c
	}
	cmd.AddCommand(
		sub(false, &cobra.Command{
			Use:   "init",
			Short: "Create the team under --etcd-prefix and keep its identity for this member",
			Long: `init creates a team under --etcd-prefix: a new identity, whose recipient (public) it
registers in etcd, and the team's store id. The identity is kept in the OS keyring,
or written to the file TOKENTOP_TEAM_IDENTITY names (mode 0600; an existing file is
never replaced). Give it to the other members over a safe channel: they run
"tokentop team join" with it on stdin. A prefix that has a team already is refused.`,
			Example: "  TOKENTOP_STORAGE=etcd TOKENTOP_ETCD_ENDPOINTS=https://etcd1:2379 tokentop team init",
		}),
		sub(true, &cobra.Command{
			Use:   "join",
			Short: "Keep the team identity read from stdin for this member",
			Long: `join reads the team identity (AGE-SECRET-KEY-1...) from stdin, checks that its recipient
is the team's, and keeps it in the OS keyring or the 0600 file TOKENTOP_TEAM_IDENTITY
names. It is never taken as an argument (it would show in ps and shell history).`,
			Example: "  tokentop team join < team.key",
		}),
	)
	return cmd
}

func run(cmd *cobra.Command, opts *Options) error {
	ctx := cmd.Context()
	s, err := opts.Factory.Store()
	if err != nil {
		return err
	}
	var info storage.TeamInfo
	if opts.Join {
		info, err = s.TeamJoin(ctx, opts.IO.In)
	} else {
		info, err = s.TeamInit(ctx)
	}
	if err != nil {
		if opts.Join {
			return fmt.Errorf("team join: %w", err)
		}
		return fmt.Errorf("team init: %w", err)
	}
	verb := "created the team"
	if opts.Join {
		verb = "joined the team"
	}
	fmt.Fprintf(opts.IO.ErrOut, "tokentop: %s (store %s, recipient %s); the identity is kept in %s\n",
		verb, info.StoreID, info.Recipient, info.Where)
	if !opts.Join {
		fmt.Fprintln(opts.IO.ErrOut, "tokentop: give the identity to each member over a safe channel; they run `tokentop team join` with it on stdin")
	}
	return nil
}
