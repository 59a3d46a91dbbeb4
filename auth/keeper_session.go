package auth

import (
	"hash/fnv"
	"time"
)

// RefreshWindow is how long before access expiry a refresh is due: 20% of the
// lifetime, at least 30s, never more than half the lifetime.
func RefreshWindow(lifetime time.Duration) time.Duration {
	if lifetime <= 0 {
		return 0
	}
	w := lifetime / 5
	if w < 30*time.Second {
		w = 30 * time.Second
	}
	if w > lifetime/2 {
		w = lifetime / 2
	}
	return w
}

// Window is the session's refresh window (from its access lifetime).
func (s *Session) Window() time.Duration {
	if s.IssuedAt.IsZero() || s.AccessExpiry.IsZero() {
		return 0
	}
	return RefreshWindow(s.AccessExpiry.Sub(s.IssuedAt))
}

// ServerNow is local now corrected by the session's measured clock skew:
// expiry instants are the server's, so they are compared with this.
func (s *Session) ServerNow(localNow time.Time) time.Time { return localNow.Add(s.ClockSkew) }

// SkewThreshold is the clock difference worth acting on and showing: the
// keeper reports skew beyond it, and every screen and command shows it beyond
// it (ARCHITECTURE.md, refresh rule 6: one threshold everywhere).
const SkewThreshold = 5 * time.Second

// SkewNotable reports whether a server clock difference is beyond
// SkewThreshold.
func SkewNotable(skew time.Duration) bool { return skew > SkewThreshold || skew < -SkewThreshold }

// EffectiveState is the stored state corrected by the clock, the one state
// every command and screen shows. Metadata is only written when something
// happens, so an idle session can say "ok" long after its tokens died, and a
// paused one "paused" long after its refresh token did. Expiry instants are
// the server's, so they are compared with ServerNow.
//
// The order is the order of what matters: a session that needs a login
// says so whatever else is true; one whose refresh token has passed its
// expiry needs a login (refresh_expired), paused or not; a paused session
// is not retried, so it is paused rather than retrying; and an access token
// past its expiry in an ok or paused session is expired (Paused still says
// that nothing will refresh it).
func (s *Session) EffectiveState(localNow time.Time) (State, Reason) {
	state, reason := s.State, s.Reason
	if state == "" {
		state = StateOK
	}
	if state == StateNeedsLogin {
		return state, reason
	}
	snow := s.ServerNow(localNow)
	if !s.RefreshExpiry.IsZero() && !s.RefreshExpiry.After(snow) {
		return StateNeedsLogin, ReasonRefreshExpired
	}
	if s.Paused && (state == StateOK || state == StateRetrying) {
		state = StatePaused
	}
	if (state == StateOK || state == StatePaused) && !s.AccessExpiry.IsZero() && !s.AccessExpiry.After(snow) {
		return StateExpired, ReasonNone
	}
	return state, ReasonNone // reasons belong to needs_login only
}

// AccessLeft is how long the access token lives from localNow (server time).
func (s *Session) AccessLeft(localNow time.Time) time.Duration {
	return s.AccessExpiry.Sub(s.ServerNow(localNow))
}

// RefreshDue is the local-clock instant at which the session's automatic
// refresh is due: when its refresh window opens (a server ahead of us means
// earlier by our clock), brought forward by up to a quarter of the window
// by a fixed fraction of the session's name. Sessions issued together (an
// import of hundreds, a fleet logged in by one script) would otherwise all
// fall due in the same second, every cycle, and a burst larger than the
// keeper's throughput would outlast their tokens.
func (s *Session) RefreshDue() time.Time {
	w := s.Window()
	return s.AccessExpiry.Add(-w - spread(s.Name, w/4)).Add(-s.ClockSkew)
}

// spread is a fraction of d fixed by name (FNV-1a), at most d.
func spread(name string, d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return time.Duration(uint64(d) * uint64(h.Sum32()) / (1 << 32))
}

// Fresh reports whether the access token is outside its refresh window and
// has at least minValid left at localNow.
func (s *Session) Fresh(localNow time.Time, minValid time.Duration) bool {
	left := s.AccessLeft(localNow)
	return left > s.Window() && left >= minValid && left > 0
}

// staleMarker is how old a refreshing marker must be before a reader that
// cannot take the lock (a list, a screen) calls the refresh interrupted.
const staleMarker = time.Minute

// RefreshInterrupted reports whether the session shows a refresh that
// started more than a minute before localNow and never finished (its process
// was killed, or its answer was lost): the next refresh settles whether the
// server rotated. A holder of the session lock treats any marker so, since
// the process that set it must have released the lock.
func (s *Session) RefreshInterrupted(localNow time.Time) bool {
	return s.refreshMarked() && localNow.Sub(s.RefreshingSince) > staleMarker
}

// refreshMarked reports whether a refresh was started and its outcome is
// unknown (killed mid-refresh, or the answer was lost).
func (s *Session) refreshMarked() bool { return !s.RefreshingSince.IsZero() }

func (s *Session) clearMarker() {
	s.RefreshingSince, s.RefreshingPID, s.RefreshingFP = time.Time{}, 0, ""
}

// restingState is the state of a healthy session.
func restingState(s Session) State {
	if s.Paused {
		return StatePaused
	}
	return StateOK
}

// sessionFrom builds metadata for a freshly issued pair, keeping what
// belongs to the session rather than the pair (name, endpoints, creation,
// pause, counters) from prev.
func sessionFrom(prev Session, ts TokenSet, now time.Time) Session {
	s := prev
	s.User = ts.User
	if ts.User.Email != "" {
		s.Email = ts.User.Email
	}
	s.AccessExpiry = ts.AccessExpiry
	s.RefreshExpiry = ts.RefreshExpiry
	s.IssuedAt = ts.IssuedAt
	if s.IssuedAt.IsZero() {
		s.IssuedAt = now
	}
	s.AccessFP = Fingerprint(ts.AccessToken)
	s.RefreshFP = Fingerprint(ts.RefreshToken)
	s.FrontendFP = Fingerprint(ts.FrontendToken)
	s.TokenFormat = Inspect(ts.AccessToken, InspectOptions{Now: now, ExpectedExpiry: ts.AccessExpiry}).Format
	s.State = restingState(s)
	s.Reason = ReasonNone
	s.LastError = ""
	s.NextAttempt = time.Time{}
	s.RetryAfterUntil = time.Time{}
	s.Failures = 0
	s.RevokedRefreshFP = ""
	s.clearMarker()
	if s.CreatedAt.IsZero() {
		s.CreatedAt = now
	}
	s.UpdatedAt = now
	return s
}
