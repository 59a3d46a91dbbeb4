package cmdutil

import (
	"errors"
	"fmt"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/cli/iostreams"
)

// Exit codes: the command-line contract (README, "Exit codes").
const (
	ExitOK          = 0
	ExitFailure     = 1
	ExitUsage       = 2
	ExitNeedsLogin  = 3
	ExitStorage     = 4
	ExitUnavailable = 5
	// ExitInterrupted is Ctrl-C at a prompt, as shells report SIGINT.
	ExitInterrupted = 130
)

// UsageError marks a mistake in the command line (exit 2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// NewUsageError marks err as a mistake in the command line.
func NewUsageError(err error) error { return &UsageError{err} }

// UsageErrorf is NewUsageError(fmt.Errorf(format, args...)).
func UsageErrorf(format string, args ...any) error {
	return &UsageError{fmt.Errorf(format, args...)}
}

// ExitError carries an explicit exit code (e.g. exec's child status).
type ExitError struct {
	Code int
	Err  error // nil: print nothing
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}
func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode maps an error to the contract's exit codes.
func ExitCode(err error) int {
	var ec *ExitError
	var ue *UsageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ec):
		return ec.Code
	case errors.Is(err, iostreams.ErrInterrupted):
		return ExitInterrupted
	case errors.As(err, &ue), errors.Is(err, auth.ErrInvalidName):
		return ExitUsage
	case errors.Is(err, auth.ErrNeedsLogin), errors.Is(err, auth.ErrSecretNotFound), errors.Is(err, auth.ErrSecretUnusable):
		return ExitNeedsLogin
	case errors.Is(err, auth.ErrStoreUnavailable), errors.Is(err, auth.ErrLockTimeout):
		return ExitStorage
	case errors.Is(err, auth.ErrNetwork), errors.Is(err, auth.ErrServer), errors.Is(err, auth.ErrRateLimited):
		return ExitUnavailable
	default:
		return ExitFailure
	}
}

// silent reports whether err has already been told (a child's own output)
// or needs no words (Ctrl-C, which the user just pressed).
func silent(err error) bool {
	var ec *ExitError
	if errors.As(err, &ec) && ec.Err == nil {
		return true
	}
	return errors.Is(err, iostreams.ErrInterrupted)
}

// ErrorHint says what to do next, where the error alone does not.
func ErrorHint(err error) string {
	switch {
	case errors.Is(err, auth.ErrNeedsLogin), errors.Is(err, auth.ErrSecretNotFound), errors.Is(err, auth.ErrSecretUnusable):
		var nl *auth.NeedsLoginError
		if errors.As(err, &nl) && nl.Session != "" {
			return "log in again: tokentop login " + nl.Session + " --email EMAIL"
		}
		return "log in again: tokentop login NAME --email EMAIL"
	case errors.Is(err, auth.ErrRateLimited):
		var ae *auth.APIError
		if !errors.As(err, &ae) || ae.Op != "login" {
			return "the server is rate limiting; keepalive and the TUI retry by themselves, or try again in a minute"
		}
		return "the server limits logins to 10 a minute; wait and try again"
	}
	return ""
}
