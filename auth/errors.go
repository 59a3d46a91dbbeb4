package auth

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Error kinds. Every error returned by the client matches exactly one of these
// with errors.Is; *APIError and *NetworkError carry the details.
var (
	ErrInvalidCredentials = errors.New("invalid email or password")
	ErrRefreshRejected    = errors.New("refresh token rejected")
	ErrUnauthorized       = errors.New("token rejected")
	ErrForbidden          = errors.New("token accepted but not allowed")
	ErrBadRequest         = errors.New("bad request")
	ErrRateLimited        = errors.New("rate limited")
	ErrServer             = errors.New("server error")
	ErrNetwork            = errors.New("network failure")
	ErrBadResponse        = errors.New("unreadable response")
	ErrInsecureURL        = errors.New("insecure URL")
	ErrInvalidURL         = errors.New("invalid URL")
)

// APIError is a non-2xx answer from the server. It never holds a token.
type APIError struct {
	Op        string // "login", "refresh", "revoke", "probe"
	Kind      error  // one of the Err* kinds above
	Status    int
	Message   string // the server's message, sanitised and truncated
	RequestID string
	// RetryAfter is the server's Retry-After, zero when absent.
	RetryAfter time.Duration
	Meta       Meta
}

// Error says which call failed, the kind, the status, the server's message,
// Retry-After and requestId; never a token or a password.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %v (HTTP %d", e.Op, e.Kind, e.Status)
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, "; retry after %s", e.RetryAfter)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, "; requestId %s", e.RequestID)
	}
	b.WriteString(")")
	return b.String()
}

// Is makes errors.Is(err, ErrRateLimited) and friends work.
func (e *APIError) Is(target error) bool { return e.Kind == target }

// NetworkError is a failure to get an answer at all.
type NetworkError struct {
	Op string
	// MaybeSent is true when the request may have reached the server (the
	// connection was established and the body written, then the answer was
	// lost). For refresh this means the server may have rotated the pair.
	MaybeSent bool
	Err       error
}

// Error says which call failed, whether the request may have reached the
// server, and the cause.
func (e *NetworkError) Error() string {
	sent := "request not sent"
	if e.MaybeSent {
		sent = "request may have reached the server"
	}
	return fmt.Sprintf("%s: %v (%s): %v", e.Op, ErrNetwork, sent, e.Err)
}

// Is matches ErrNetwork.
func (e *NetworkError) Is(target error) bool { return target == ErrNetwork }

// Unwrap exposes the cause (context.DeadlineExceeded, *net.OpError, ...).
func (e *NetworkError) Unwrap() error { return e.Err }

// ErrNotFound is a 404 from the server: almost always a wrong base URL.
var ErrNotFound = errors.New("endpoint not found")
