package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/timefmt"
)

func (a *app) newTokenCmd() *cobra.Command {
	var minValid time.Duration
	cmd := &cobra.Command{
		DisableFlagsInUseLine: true,
		Use:                   "token NAME [--min-valid D]",
		Short:                 "Print a valid access token for NAME (refreshing first when needed)",
		Long: `Print only the session's access token and a newline on stdout, for scripts.

When the token is inside its refresh window (20% of its lifetime, at least 30s,
at most half), or has less than --min-valid left, it is refreshed first, under
the session's lock, so any number of concurrent callers share one refresh.

Exit codes: 0 token printed; 3 the session needs a new login (the reason is on
stderr: refresh token expired, revoked, rejected - possibly used by someone
else -, or rotation lost in transit); 4 secret storage unavailable or locked;
5 server or network unavailable; 1 anything else.`,
		Example: `  # the header goes through stdin, so the token never shows in ps
  tokentop token work | sed 's/^/Authorization: Bearer /' | curl -sS -H @- https://platform-api.convirza.com/v3/auth/profile
  TOKEN=$(tokentop token work --min-valid 10m) || exit`,
		Args:              exactArgs(1, "a session NAME"),
		ValidArgsFunction: a.completeSessionNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			if minValid < 0 {
				return usageErr(fmt.Errorf("--min-valid %s: must not be negative", minValid))
			}
			k, err := a.keeper()
			if err != nil {
				return err
			}
			sec, _, err := k.Token(cmd.Context(), args[0], minValid)
			if err != nil {
				return sessExplain(args[0], err)
			}
			sessTokenNotes(a.stderr, k.Events())
			if sec.AccessToken == "" {
				return fmt.Errorf("session %q: secret storage holds no access token", args[0])
			}
			// One write, so a reader never sees half a token.
			if _, err := io.WriteString(a.stdout, sec.AccessToken+"\n"); err != nil {
				return fmt.Errorf("write the token: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&minValid, "min-valid", 0, "refresh first unless the token stays valid at least this long (e.g. 10m)")
	return cmd
}

func (a *app) newRefreshCmd() *cobra.Command {
	cmd := &cobra.Command{
		DisableFlagsInUseLine: true,
		Use:                   "refresh NAME",
		Short:                 "Rotate NAME's token pair now",
		Long: `Refresh the session now, under its lock: the refresh token is exchanged for a
new access token and a new refresh token (the old refresh token dies). Prints
the old and new fingerprints and expiries on stdout. If another process
rotated the pair while this one waited for the lock, its pair is adopted
instead of refreshing twice.

Exit codes as for token: 3 needs login, 4 storage unavailable, 5 server or
network unavailable.`,
		Example:           `  tokentop refresh work`,
		Args:              exactArgs(1, "a session NAME"),
		ValidArgsFunction: a.completeSessionNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := a.keeper()
			if err != nil {
				return err
			}
			res, err := k.Refresh(cmd.Context(), args[0])
			if err != nil {
				return sessExplain(args[0], err)
			}
			sessPrintRefresh(a.stdout, args[0], res, time.Now())
			return nil
		},
	}
	return cmd
}

// sessTokenNotes tells on stderr (stdout holds only the token) anything
// unusual the refresh behind a token did, such as settling a refresh that a
// killed process left unfinished. Routine events stay quiet for scripts.
func sessTokenNotes(w io.Writer, events <-chan auth.Event) {
	for {
		select {
		case e := <-events:
			switch {
			case e.Kind == auth.EventRefreshed && e.Message != "", e.Kind == auth.EventSkew && e.Message != "":
				fmt.Fprintf(w, "tokentop: note: session %q: %s\n", e.Session, sessOneLine(e.Message))
			case e.Kind == auth.EventRetrying:
				// The token printed is the current one, still valid: say
				// why it was not renewed, so a script's log explains it.
				fmt.Fprintf(w, "tokentop: note: session %q: the refresh failed, so this is the current token, still valid: %s\n",
					e.Session, sessOneLine(e.Message))
			}
		default:
			return
		}
	}
}

// sessPrintRefresh shows what a refresh changed, by fingerprint.
func sessPrintRefresh(w io.Writer, name string, res auth.RefreshResult, now time.Time) {
	switch {
	case res.Adopted:
		fmt.Fprintf(w, "%s: adopted a pair another process saved (no second refresh)\n", name)
	case res.Recovered && res.Note == "": // else the note tells it
		fmt.Fprintf(w, "%s: refreshed (an interrupted earlier refresh was recovered)\n", name)
	default:
		fmt.Fprintf(w, "%s: refreshed\n", name)
	}
	if res.Note != "" {
		fmt.Fprintf(w, "  note: %s\n", sessOneLine(res.Note))
	}
	// Expiries are the server's instants: count down by its clock.
	oldNow, newNow := res.Old.ServerNow(now), res.New.ServerNow(now)
	line := func(kind, oldFP, newFP string, oldExp, newExp time.Time) {
		fmt.Fprintf(w, "  %-7s  old %s  expires %s (%s)\n", kind, sessFP(oldFP), timefmt.Relative(oldExp, oldNow), timefmt.Absolute(oldExp))
		fmt.Fprintf(w, "  %-7s  new %s  expires %s (%s)\n", "", sessFP(newFP), timefmt.Relative(newExp, newNow), timefmt.Absolute(newExp))
	}
	line("access", res.Old.AccessFP, res.New.AccessFP, res.Old.AccessExpiry, res.New.AccessExpiry)
	line("refresh", res.Old.RefreshFP, res.New.RefreshFP, res.Old.RefreshExpiry, res.New.RefreshExpiry)
}

// sessFP shows a fingerprint, or "-" when there is none.
func sessFP(fp string) string {
	if fp == "" {
		return "-"
	}
	return fp
}

// sessNeedsLogin explains a needs-login error in plain words; it keeps the
// keeper's error in the chain so exit codes and errors.Is still work.
type sessNeedsLogin struct {
	name string
	nl   *auth.NeedsLoginError
	err  error
}

func (e *sessNeedsLogin) Error() string {
	words := e.nl.Message
	if words == "" {
		words = sessReasonWords(e.name, e.nl.Reason)
	}
	msg := fmt.Sprintf("session %q needs a new login (%s): %s", e.name, sessReasonLabel(e.nl.Reason), words)
	if e.nl.Reason == auth.ReasonRejected {
		// The words say who may hold the token and what to do: say it once.
		msg = "WARNING: " + msg
	}
	if e.nl.Err != nil {
		msg += " (server: " + e.nl.Err.Error() + ")"
	}
	return msg
}

// sessReasonLabel is the reason code, for scripts that grep; the words that
// follow it (the keeper's, or sessReasonWords) explain it, so it does not.
func sessReasonLabel(r auth.Reason) string {
	if r == auth.ReasonNone {
		return "unknown reason"
	}
	return string(r)
}

func (e *sessNeedsLogin) Unwrap() error { return e.err }

// sessReasonWords says what a needs-login reason means for the user.
func sessReasonWords(name string, r auth.Reason) string {
	switch r {
	case auth.ReasonRefreshExpired:
		return "the refresh token has expired"
	case auth.ReasonRevoked:
		return "the refresh token was revoked"
	case auth.ReasonRejected:
		return "the server rejected a refresh token that should still be valid: " +
			"someone else may have used a copy of it; revoke the session (tokentop revoke " + name + ") and log in again"
	case auth.ReasonRotationLost:
		return "an earlier refresh was interrupted: the server rotated the pair but the new tokens never arrived " +
			"(rotation lost in transit, not theft)"
	case auth.ReasonNone:
		return "no usable refresh token"
	}
	return string(r)
}

// sessExplain wraps keeper errors for people: needs-login reasons in words,
// and transient failures as "server unavailable". Exit codes come from the
// wrapped error.
func sessExplain(name string, err error) error {
	var nl *auth.NeedsLoginError
	switch {
	case errors.As(err, &nl):
		return &sessNeedsLogin{name: name, nl: nl, err: err}
	case errors.Is(err, auth.ErrRateLimited), errors.Is(err, auth.ErrServer), errors.Is(err, auth.ErrNetwork):
		return fmt.Errorf("session %q: the server is unavailable, try again later: %w", name, err)
	case errors.Is(err, auth.ErrLockTimeout):
		// Not the keyring: another process holds the session's lock (the
		// store's error says so and what to do).
		return fmt.Errorf("session %q is busy: %w", name, err)
	case errors.Is(err, auth.ErrStoreUnavailable):
		return fmt.Errorf("session %q: secret storage is unavailable: %w", name, err)
	}
	return err // the keeper's errors already name the session
}
