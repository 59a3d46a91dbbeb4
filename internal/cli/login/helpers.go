package login

import (
	"errors"
	"fmt"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/timefmt"
)

// loginErr words a failed login once, in its own terms, while keeping
// the client's error in the chain for exit codes and errors.Is.
type loginErr struct {
	msg string
	err error
}

func (e *loginErr) Error() string { return e.msg }

func (e *loginErr) Unwrap() error { return e.err }

// loginError explains a failed login in the words a person needs: the
// client's own text would say "invalid email or password" in three ways.
func loginError(name, email string, err error, now time.Time) error {
	var apiErr *auth.APIError
	if !errors.As(err, &apiErr) {
		return err
	}
	// Only the server's facts, not its repeated words.
	facts := fmt.Sprintf("HTTP %d", apiErr.Status)
	if apiErr.RequestID != "" {
		facts += "; requestId " + apiErr.RequestID
	}
	switch {
	case errors.Is(err, auth.ErrInvalidCredentials):
		return &loginErr{fmt.Sprintf("login %s: wrong email or password for %s (%s)", name, email, facts), err}
	case errors.Is(err, auth.ErrRateLimited):
		wait := "wait a minute and try again"
		if apiErr.RetryAfter > 0 {
			wait = fmt.Sprintf("retry in %s (after %s)", timefmt.Countdown(apiErr.RetryAfter),
				timefmt.Absolute(now.Add(apiErr.RetryAfter)))
		}
		return &loginErr{fmt.Sprintf("login %s: the server is limiting login attempts; %s (%s)", name, wait, facts), err}
	}
	return err
}
