package emulator

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// faultsFor decides, for one request, the delay to add and the status to
// fail it with (0: none): FailNext first, then the random FailRate.
func (s *Server) faultsFor() (time.Duration, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failN > 0 {
		s.failN--
		return s.latency, s.failStatus
	}
	if s.cfg.FailRate > 0 && s.rng.Float64() < s.cfg.FailRate {
		return s.latency, http.StatusInternalServerError
	}
	return s.latency, 0
}

// FailNext answers the next n requests (any endpoint except /_emulator/)
// with status and the error body; a 429 also carries Retry-After: 1. It
// replaces any FailNext still pending; n <= 0 cancels.
func (s *Server) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failStatus = max(n, 0), status
}

// SetLatency changes the latency added to every request (except
// /_emulator/); a request cancelled while waiting gets no answer.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = max(d, 0)
}

// ShiftClock moves the emulator's clock by d (positive: ahead of the
// client). Shifts add up. Expiry, rate windows, timestamps and the Date
// header all follow.
func (s *Server) ShiftClock(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset += d
}

// DropNextRefreshResponses makes the next n refreshes rotate the pair and then
// cut the connection before any answer is written. Only valid refreshes
// count: a rejected one is answered normally. The lost bodies are kept for
// DroppedResponses.
func (s *Server) DropNextRefreshResponses(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropN = max(n, 0)
}

// DroppedResponses returns the token response bodies that
// DropNextRefreshResponses kept from their clients, oldest first, so a test
// can check that the rotation happened and use the new pair.
func (s *Server) DroppedResponses() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]byte, len(s.dropped))
	for i, b := range s.dropped {
		out[i] = append([]byte(nil), b...)
	}
	return out
}

// ErrUnknownUser is returned by Issue for an email that is not configured.
var ErrUnknownUser = errors.New("no such emulator user")

// Issue creates a session for a configured user without a login request (no
// rate limit, not counted as a login), with the given lifetimes (zero:
// the configured ones), and returns the token response body exactly as
// /oauth/token would. For seeding demos and tests. Later refreshes of the
// session keep these lifetimes.
func (s *Server) Issue(email string, accessTTL, refreshTTL time.Duration) ([]byte, error) {
	u, ok := s.users[strings.ToLower(email)]
	if !ok {
		return nil, fmt.Errorf("issue a session for %q: %w", email, ErrUnknownUser)
	}
	if accessTTL <= 0 {
		accessTTL = s.cfg.AccessTTL
	}
	if refreshTTL <= 0 {
		refreshTTL = s.cfg.RefreshTTL
	}
	s.mu.Lock()
	p := s.issueLocked(&session{user: u, accessTTL: accessTTL, refreshTTL: refreshTTL}, s.nowLocked())
	s.mu.Unlock()
	return tokenBody(p, u), nil
}

// Valid reports whether tok is currently accepted as kind ("access" or
// "refresh"): known, not revoked, not expired, and for refresh tokens not
// yet rotated away.
func (s *Server) Valid(tok, kind string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	switch kind {
	case KindAccess:
		return s.lookupAccessLocked(tok, now) != nil
	case KindRefresh:
		e, ok := s.refresh[tok]
		return ok && !e.used && now.Before(e.exp)
	}
	return false
}

// ActiveSessions counts sessions whose current refresh token is live.
func (s *Server) ActiveSessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.activeLocked(s.nowLocked())
}

func (s *Server) activeLocked(now time.Time) int {
	n := 0
	for ss := range s.sessions {
		if ss.live(now) {
			n++
		}
	}
	return n
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.ActiveSessions = s.activeLocked(s.nowLocked())
	return st
}
