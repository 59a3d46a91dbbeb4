package present

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
)

// TestExplain checks that each error keeps its exit code after the
// commands word it for people.
func TestExplain(t *testing.T) {
	cases := []struct {
		err  error
		code int
		says string
	}{
		{&auth.NeedsLoginError{Session: "w", Reason: auth.ReasonRejected}, cmdutil.ExitNeedsLogin, "WARNING"},
		{&auth.NeedsLoginError{Session: "w", Reason: auth.ReasonRotationLost}, cmdutil.ExitNeedsLogin, "lost in transit"},
		{&auth.NeedsLoginError{Session: "w", Reason: auth.ReasonRefreshExpired, Message: "the refresh token Expired at X"}, cmdutil.ExitNeedsLogin, "Expired at X"},
		{fmt.Errorf("wrapped: %w", &auth.NeedsLoginError{Session: "w", Reason: auth.ReasonRevoked}), cmdutil.ExitNeedsLogin, "revoked"},
		{&auth.RetryError{Session: "w", Err: &auth.APIError{Op: "refresh", Kind: auth.ErrServer, Status: 502}}, cmdutil.ExitUnavailable, "HTTP 502"},
		{&auth.NetworkError{Op: "refresh", Err: errors.New("connection refused")}, cmdutil.ExitUnavailable, "connection refused"},
		{fmt.Errorf("x: %w", auth.ErrStoreUnavailable), cmdutil.ExitStorage, "storage"},
		{fmt.Errorf("x: %w", auth.ErrLockTimeout), cmdutil.ExitStorage, "busy"},
		{fmt.Errorf("x: %w", auth.ErrSessionNotFound), cmdutil.ExitFailure, "no such session"},
	}
	for _, tc := range cases {
		err := Explain("w", tc.err)
		if strings.Contains(err.Error(), "secret storage") && errors.Is(err, auth.ErrLockTimeout) {
			t.Errorf("%q blames secret storage for another process's lock", err)
		}
		if got := cmdutil.ExitCode(err); got != tc.code {
			t.Errorf("%v: exit %d, want %d", tc.err, got, tc.code)
		}
		if !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%q lacks %q", err, tc.says)
		}
		if !errors.Is(err, tc.err) && !errors.Is(err, errors.Unwrap(tc.err)) {
			t.Errorf("%v: the cause is no longer in the chain", tc.err)
		}
	}
}

// TestNeedsLoginSaysItOnce: the reason's explanation comes from one
// place (the keeper's words, else ours), not from a label and the words.
func TestNeedsLoginSaysItOnce(t *testing.T) {
	cases := []struct {
		nl   *auth.NeedsLoginError
		once []string
	}{
		{&auth.NeedsLoginError{Session: "w", Reason: auth.ReasonRejected,
			Message: "the server rejected the refresh token while it should still be valid: someone else may have used this refresh token; revoke the session (tokentop revoke w) and log in again"},
			[]string{"WARNING", "someone else", "tokentop revoke w"}},
		{&auth.NeedsLoginError{Session: "w", Reason: auth.ReasonRejected}, []string{"WARNING", "someone else", "tokentop revoke w"}},
		{&auth.NeedsLoginError{Session: "w", Reason: auth.ReasonRotationLost,
			Message: "the server rotated the pair but its answer never arrived, and the retry with the same token was refused: rotation lost in transit, not stolen"},
			[]string{"lost in transit", "rotation_lost", "not"}},
		{&auth.NeedsLoginError{Session: "w", Reason: auth.ReasonRotationLost}, []string{"lost in transit", "rotation_lost", "not theft"}},
	}
	for _, tc := range cases {
		msg := Explain("w", tc.nl).Error()
		for _, w := range tc.once {
			if n := strings.Count(msg, w); n != 1 {
				t.Errorf("%q says %q %d times, want once", msg, w, n)
			}
		}
	}
}
