package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/timefmt"
	"github.com/tokentop/tokentop/storage"
)

func (a *app) newForgetCmd() *cobra.Command {
	return &cobra.Command{
		DisableFlagsInUseLine: true,
		Use:                   "forget NAME",
		Short:                 "Remove the local copy of a session; nothing is revoked",
		Long: `forget removes the session's keyring item and metadata from this machine.

NOTHING is revoked: the access and refresh tokens stay valid at the server until
they expire, and anyone holding a copy can still use them. To kill them at the
server and then remove the local copy, use "tokentop revoke NAME" instead.`,
		Example:           "  tokentop forget old-laptop",
		Args:              exactArgs(1, "one session NAME"),
		ValidArgsFunction: a.completeSessionNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runForget(cmd, args[0])
		},
	}
}

func (a *app) runForget(cmd *cobra.Command, name string) error {
	ctx := cmd.Context()
	s, err := a.openStore()
	if err != nil {
		return err
	}
	// Read the metadata first: once forgotten, the expiries to warn about
	// are gone.
	se, err := s.Get(ctx, name)
	if errors.Is(err, auth.ErrSessionNotFound) {
		return a.forgetLeftover(cmd, s, name, err)
	}
	if err != nil {
		return err
	}
	k, err := a.keeper()
	if err != nil {
		return err
	}
	if err := k.Forget(ctx, name); err != nil {
		return err
	}
	now := time.Now()
	w := a.stderr
	fmt.Fprintf(w, "Forgot session %s: removed its secrets (%s storage) and metadata from this machine.\n", name, se.SecretsBackend)
	fmt.Fprintf(w, "NOTHING was revoked. The tokens stay valid at the server until they expire:\n")
	fmt.Fprintf(w, "  access token  %s  valid until %s (%s)\n", orDash(se.AccessFP), timefmt.Absolute(se.AccessExpiry), timefmt.Relative(se.AccessExpiry, now))
	fmt.Fprintf(w, "  refresh token %s  valid until %s (%s)\n", orDash(se.RefreshFP), timefmt.Absolute(se.RefreshExpiry), timefmt.Relative(se.RefreshExpiry, now))
	fmt.Fprintf(w, "Anyone holding a copy can still use them. To kill a token you still have, pipe it to:\n")
	fmt.Fprintf(w, "  tokentop revoke --token - --type refresh --oauth-url %s\n", se.Endpoints.OAuthURL)
	fmt.Fprintf(w, "Next time, \"tokentop revoke %s\" revokes both tokens and then forgets the session.\n", name)
	return nil
}

// forgetLeftover handles a name with no metadata: an earlier forget may
// have removed the index entry and then failed to delete the secret (a
// locked keyring), and storage tells the user to run forget again; this is
// that retry. notFound is returned when there is nothing left either.
func (a *app) forgetLeftover(cmd *cobra.Command, s *storage.Store, name string, notFound error) error {
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
	_ = s.Record(auth.Event{Time: time.Now(), Session: name, Kind: auth.EventForgotten, PID: os.Getpid(),
		Message: "removed leftover secrets of a session without metadata; nothing was revoked at the server"})
	fmt.Fprintf(a.stderr, "Removed the leftover secrets of %s (its metadata was already gone).\n", name)
	fmt.Fprintf(a.stderr, "NOTHING was revoked: its tokens stay valid at the server until they expire.\n")
	return nil
}

// orDash shows "-" for an empty value.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// expired says whether an expiry instant has passed (zero: unknown, not expired).
func expired(t, now time.Time) bool { return !t.IsZero() && !now.Before(t) }
