package emulator

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
)

// session is one login: its user, lifetimes and current refresh token.
type session struct {
	user       User
	accessTTL  time.Duration
	refreshTTL time.Duration
	refresh    string // current refresh token; "" once revoked
	refreshExp time.Time
}

// live reports whether the session's current refresh token still works.
func (ss *session) live(now time.Time) bool {
	return ss.refresh != "" && now.Before(ss.refreshExp)
}

// tokenEntry is what the server knows about one issued token.
type tokenEntry struct {
	sess *session
	exp  time.Time
	used bool // refresh tokens only: rotated away, kept to detect reuse
}

// pair is one issued access/refresh/frontend set with its expiries.
type pair struct {
	access, refresh, frontend string
	accessExp, refreshExp     time.Time
}

// isoLayout is ISO-8601 UTC with milliseconds and Z, as Convirza emits.
const isoLayout = "2006-01-02T15:04:05.000Z"

// isoTime formats t as the API does: 2026-04-10T12:00:00.000Z.
func isoTime(t time.Time) string { return t.UTC().Format(isoLayout) }

// ceilTo rounds t up to a multiple of unit, so that a published expiry is
// never earlier than the lifetime asked for.
func ceilTo(t time.Time, unit time.Duration) time.Time {
	t = t.Round(0) // drop the monotonic reading: the instant is what matters
	if r := t.Truncate(unit); r.Before(t) {
		return r.Add(unit)
	}
	return t
}

// opaqueToken is 32 random bytes, base64url without padding (43 characters).
func opaqueToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it panics instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

const frontendAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// frontendToken is 32 characters of [a-z0-9], uniformly drawn.
func frontendToken() string {
	out := make([]byte, 0, 32)
	buf := make([]byte, 64)
	for len(out) < 32 {
		_, _ = rand.Read(buf)
		for _, c := range buf {
			// 252 = 7*36: rejecting the top bytes keeps every character equally likely.
			if c < 252 && len(out) < 32 {
				out = append(out, frontendAlphabet[int(c)%36])
			}
		}
	}
	return string(out)
}

// newUUID is a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// jwtFor reports whether ss's tokens are JWTs: the user's own format, else
// the server's.
func (s *Server) jwtFor(ss *session) bool {
	if f := ss.user.TokenFormat; f != "" {
		return strings.EqualFold(f, FormatJWT)
	}
	return s.jwt
}

// newToken makes a token expiring at exp, as a JWT when jwt is set.
func (s *Server) newToken(jwt bool, now, exp time.Time) string {
	if jwt {
		return signJWT(s.secret, now, exp)
	}
	return opaqueToken()
}

// expiry is when a token issued now with lifetime ttl dies. JWT exp claims
// are whole seconds, so JWT expiries are rounded up to the second to agree
// with expires_in; opaque ones to the millisecond the response shows.
func (s *Server) expiry(jwt bool, now time.Time, ttl time.Duration) time.Time {
	if jwt {
		return ceilTo(now.Add(ttl), time.Second)
	}
	return ceilTo(now.Add(ttl), time.Millisecond)
}

// issueLocked gives ss a new pair, retiring (not deleting) its current
// refresh token. Callers hold s.mu.
func (s *Server) issueLocked(ss *session, now time.Time) pair {
	if old, ok := s.refresh[ss.refresh]; ok && ss.refresh != "" {
		old.used = true
	}
	jwt := s.jwtFor(ss)
	p := pair{
		accessExp:  s.expiry(jwt, now, ss.accessTTL),
		refreshExp: s.expiry(jwt, now, ss.refreshTTL),
		frontend:   frontendToken(),
	}
	p.access = s.newToken(jwt, now, p.accessExp)
	p.refresh = s.newToken(jwt, now, p.refreshExp)
	ss.refresh, ss.refreshExp = p.refresh, p.refreshExp
	s.access[p.access] = &tokenEntry{sess: ss, exp: p.accessExp}
	s.refresh[p.refresh] = &tokenEntry{sess: ss, exp: p.refreshExp}
	s.sessions[ss] = struct{}{}
	s.maybePruneLocked(now)
	return p
}

// maybePruneLocked drops expired entries now and then: every 30 s of
// emulator time, or when the maps have doubled since the last sweep, so the
// cost stays amortised O(1) per request and memory stays bounded by the
// live tokens (plus rotated refresh tokens until their own expiry, kept to
// detect reuse). Callers hold s.mu.
func (s *Server) maybePruneLocked(now time.Time) {
	size := len(s.access) + len(s.refresh) + len(s.limiter)
	if now.Before(s.nextPrune) && size < 2*s.prunedSize+1024 {
		return
	}
	for k, e := range s.access {
		if !now.Before(e.exp) {
			delete(s.access, k)
		}
	}
	for k, e := range s.refresh {
		if !now.Before(e.exp) {
			delete(s.refresh, k)
		}
	}
	for ss := range s.sessions {
		if !ss.live(now) {
			delete(s.sessions, ss)
		}
	}
	s.pruneLimiterLocked(now)
	s.nextPrune = now.Add(30 * time.Second)
	s.prunedSize = len(s.access) + len(s.refresh) + len(s.limiter)
}

// lookupAccess returns the live entry for an access token, or nil.
func (s *Server) lookupAccessLocked(tok string, now time.Time) *tokenEntry {
	e, ok := s.access[tok]
	if !ok || !now.Before(e.exp) {
		return nil
	}
	return e
}
