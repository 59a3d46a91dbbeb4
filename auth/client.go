package auth

// SKELETON: the client helper replaces this file. Signatures are the contract.

import (
	"context"
	"errors"
	"net/http"
	"time"
)

var errTODO = errors.New("not implemented yet")

// TokenKind is the token_type of a revoke request.
type TokenKind string

// Token kinds for Revoke.
const (
	AccessToken  TokenKind = "access"
	RefreshToken TokenKind = "refresh"
)

// Client talks to a Convirza OAuth service and API. The zero value is not
// usable; build one with NewClient.
type Client struct {
	http  *http.Client
	clock Clock
}

// NewClient returns a client using hc (nil: a client with sane timeouts) and
// clock (nil: SystemClock).
func NewClient(hc *http.Client, clock Clock) *Client {
	if clock == nil {
		clock = SystemClock{}
	}
	return &Client{http: hc, clock: clock}
}

// ProbeResult says whether the API accepts an access token right now.
type ProbeResult struct {
	Accepted bool // 2xx, or 403 (accepted but not allowed)
	Status   int
	User     User
	Message  string
	Meta     Meta
}

// Login exchanges email and password for a token pair.
func (c *Client) Login(ctx context.Context, ep Endpoints, email, password string) (TokenSet, Meta, error) {
	return TokenSet{}, Meta{}, errTODO
}

// Refresh rotates a refresh token into a new pair. The old refresh token is
// dead once the server has answered (or may be, if the answer was lost).
func (c *Client) Refresh(ctx context.Context, ep Endpoints, refreshToken string) (TokenSet, Meta, error) {
	return TokenSet{}, Meta{}, errTODO
}

// Revoke kills one token at the server. Unknown or dead tokens succeed.
func (c *Client) Revoke(ctx context.Context, ep Endpoints, token string, kind TokenKind) (Meta, error) {
	return Meta{}, errTODO
}

// Probe asks GET {api}/auth/profile whether the access token is accepted.
// A 401 is a result (Accepted false), not an error.
func (c *Client) Probe(ctx context.Context, ep Endpoints, accessToken string) (ProbeResult, error) {
	return ProbeResult{}, errTODO
}

// ParseTokenResponse parses a login/refresh response body (flat or
// {"data": ...} enveloped; ISO-8601 or seconds-from-now expiries). now is the
// receive time used for numeric expiries and IssuedAt.
func ParseTokenResponse(body []byte, now time.Time) (TokenSet, error) {
	return TokenSet{}, errTODO
}

// CheckEndpoints validates both base URLs: absolute, https, or http only for
// loopback hosts (ErrInsecureURL / ErrInvalidURL with a message saying why).
func CheckEndpoints(ep Endpoints) error { return errTODO }
