package present

import (
	"errors"
	"fmt"

	"github.com/tokentop/tokentop/auth"
)

// NeedsLoginError explains a needs-login error in plain words; it keeps the
// keeper's error in the chain so exit codes and errors.Is still work.
type NeedsLoginError struct {
	name string
	nl   *auth.NeedsLoginError
	err  error
}

func (e *NeedsLoginError) Error() string {
	words := e.nl.Message
	if words == "" {
		words = ReasonWords(e.name, e.nl.Reason)
	}
	msg := fmt.Sprintf("session %q needs a new login (%s): %s", e.name, ReasonLabel(e.nl.Reason), words)
	if e.nl.Reason == auth.ReasonRejected {
		// The words say who may hold the token and what to do: say it once.
		msg = "WARNING: " + msg
	}
	if e.nl.Err != nil {
		msg += " (server: " + e.nl.Err.Error() + ")"
	}
	return msg
}

// ReasonLabel is the reason code, for scripts that grep; the words that
// follow it (the keeper's, or ReasonWords) explain it, so it does not.
func ReasonLabel(r auth.Reason) string {
	if r == auth.ReasonNone {
		return "unknown reason"
	}
	return string(r)
}

func (e *NeedsLoginError) Unwrap() error { return e.err }

// ReasonWords says what a needs-login reason means for the user.
func ReasonWords(name string, r auth.Reason) string {
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

// Explain wraps keeper errors for people: needs-login reasons in words,
// and transient failures as "server unavailable". Exit codes come from the
// wrapped error.
func Explain(name string, err error) error {
	var nl *auth.NeedsLoginError
	switch {
	case errors.As(err, &nl):
		return &NeedsLoginError{name: name, nl: nl, err: err}
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
