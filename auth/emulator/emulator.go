// Package emulator is a faithful in-process Convirza V3 OAuth and profile
// server, for demo mode, tests and local development. It imports nothing from
// the client side.
package emulator

// SKELETON: the emulator helper replaces this file. Signatures are the contract.

import (
	"io"
	"net/http"
	"time"
)

// User is an account the emulator accepts.
type User struct {
	Email     string
	Password  string
	UserID    int64
	RoleID    int
	OrgUnitID int64
}

// Config configures a Server. Zero values take the documented defaults.
type Config struct {
	AccessTTL   time.Duration // default 7 days
	RefreshTTL  time.Duration // default 180 days
	TokenFormat string        // "opaque" (default) or "jwt"
	Users       []User        // default: DefaultUser
	LoginRate   int           // /oauth/token requests per minute per client IP; 0: 10; <0: unlimited
	FailRate    float64       // fraction of requests answered 500 at random
	Latency     time.Duration // added to every request
	Now         func() time.Time
	Log         io.Writer // one line per request, tokens as fingerprints; nil: silent
}

// DefaultUser is the account used when Config.Users is empty.
var DefaultUser = User{Email: "demo@example.com", Password: "demo-password", UserID: 12345, RoleID: 1, OrgUnitID: 1001}

// Stats are counters since start (GET /_emulator/stats).
type Stats struct {
	Logins            int `json:"logins"`
	Refreshes         int `json:"refreshes"`
	RefreshRejections int `json:"refresh_rejections"`
	ReuseDetected     int `json:"reuse_detected"`
	Revocations       int `json:"revocations"`
	ActiveSessions    int `json:"active_sessions"`
}

// Server is the emulator; it is an http.Handler safe for concurrent use.
type Server struct{ cfg Config }

// New builds a Server.
func New(cfg Config) *Server { return &Server{cfg: cfg} }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }

// Stats returns the counters.
func (s *Server) Stats() Stats { return Stats{} }

// FailNext answers the next n requests (any endpoint) with status.
func (s *Server) FailNext(n, status int) {}

// SetLatency changes the latency added to every request.
func (s *Server) SetLatency(d time.Duration) {}

// ShiftClock moves the emulator's clock by d (positive: ahead of the client).
func (s *Server) ShiftClock(d time.Duration) {}

// DropNextRefreshResponses makes the next n refreshes rotate the pair and then
// cut the connection before any answer is written.
func (s *Server) DropNextRefreshResponses(n int) {}

// Issue creates a session for a configured user without a login request (no
// rate limit, not counted as a login), with the given lifetimes (zero:
// the configured ones), and returns the token response body exactly as
// /oauth/token would. For seeding demos and tests.
func (s *Server) Issue(email string, accessTTL, refreshTTL time.Duration) ([]byte, error) {
	return nil, nil
}

// ParseUser parses EMAIL:PASSWORD[:ROLE_ID[:ORG_UNIT_ID]].
func ParseUser(spec string) (User, error) { return User{}, nil }
