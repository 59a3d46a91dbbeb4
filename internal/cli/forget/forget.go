// Package forget is `tokentop forget`: remove the local copy of a session,
// revoking nothing.
package forget

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
	"github.com/tokentop/tokentop/internal/cli/iostreams"
	"github.com/tokentop/tokentop/internal/present"
	"github.com/tokentop/tokentop/internal/safetext"
	"github.com/tokentop/tokentop/internal/timefmt"
	"github.com/tokentop/tokentop/storage"
)

// Options are forget's inputs.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory

	Name string
}

// NewCmdForget builds the command; runF, when not nil, runs instead of
// forgetting.
func NewCmdForget(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f}
	return &cobra.Command{
		DisableFlagsInUseLine: true,
		Use:                   "forget NAME",
		Short:                 "Remove the local copy of a session; nothing is revoked",
		Long: `forget removes the session's keyring item and metadata from this machine.

NOTHING is revoked: the access and refresh tokens stay valid at the server until
they expire, and anyone holding a copy can still use them. To kill them at the
server and then remove the local copy, use "tokentop revoke NAME" instead.`,
		Example:           "  tokentop forget old-laptop",
		Args:              cmdutil.ExactArgs(1, "one session NAME"),
		ValidArgsFunction: cmdutil.CompleteSessionName(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return forgetRun(cmd, opts)
		},
	}
}

func forgetRun(cmd *cobra.Command, opts *Options) error {
	name := opts.Name
	ctx := cmd.Context()
	s, err := opts.Factory.Store()
	if err != nil {
		return err
	}
	// Read the metadata first: once forgotten, the expiries to warn about
	// are gone.
	se, err := s.Get(ctx, name)
	if errors.Is(err, auth.ErrSessionNotFound) {
		return forgetLeftover(cmd, opts, s, name, err)
	}
	if err != nil {
		return err
	}
	k, err := opts.Factory.Keeper()
	if err != nil {
		return err
	}
	if err := k.Forget(ctx, name); err != nil {
		return err
	}
	now := opts.Factory.Now()
	w := opts.IO.ErrOut
	from := "from this machine"
	if se.SecretsBackend == storage.BackendEtcd {
		// The team's store is shared: forgetting there forgets it for all.
		from = "from the team's etcd store, for every member"
	}
	fmt.Fprintf(w, "Forgot session %s: removed its secrets (%s storage) and metadata %s.\n", name, se.SecretsBackend, from)
	fmt.Fprintf(w, "NOTHING was revoked. The tokens stay valid at the server until they expire:\n")
	fmt.Fprintf(w, "  access token  %s  valid until %s (%s)\n", present.OrDash(se.AccessFP), timefmt.Absolute(se.AccessExpiry), timefmt.Relative(se.AccessExpiry, now))
	fmt.Fprintf(w, "  refresh token %s  valid until %s (%s)\n", present.OrDash(se.RefreshFP), timefmt.Absolute(se.RefreshExpiry), timefmt.Relative(se.RefreshExpiry, now))
	fmt.Fprintf(w, "Anyone holding a copy can still use them. To kill a token you still have, pipe it to:\n")
	fmt.Fprintf(w, "  tokentop revoke --token - --type refresh --oauth-url %s\n", safetext.Escape(se.Endpoints.OAuthURL))
	fmt.Fprintf(w, "Next time, \"tokentop revoke %s\" revokes both tokens and then forgets the session.\n", name)
	return nil
}

// forgetLeftover handles a name with no metadata: an earlier forget may
// have removed the index entry and then failed to delete the secret (a
// locked keyring), and storage tells the user to run forget again; this is
// that retry. notFound is returned when there is nothing left either.
func forgetLeftover(cmd *cobra.Command, opts *Options, s *storage.Store, name string, notFound error) error {
	ctx := cmd.Context()
	unlock, err := s.Lock(ctx, name)
	if err != nil {
		return err
	}
	defer unlock()
	switch err := s.Delete(ctx, name); {
	case errors.Is(err, auth.ErrSessionNotFound):
		return notFound
	case err != nil:
		return fmt.Errorf("%w (could not look for leftover secrets: %v)", notFound, err)
	}
	_ = s.Record(auth.Event{Time: opts.Factory.Now(), Session: name, Kind: auth.EventForgotten, PID: os.Getpid(),
		Message: "removed leftover secrets of a session without metadata; nothing was revoked at the server"})
	fmt.Fprintf(opts.IO.ErrOut, "Removed the leftover secrets of %s (its metadata was already gone).\n", name)
	fmt.Fprintf(opts.IO.ErrOut, "NOTHING was revoked: its tokens stay valid at the server until they expire.\n")
	return nil
}
