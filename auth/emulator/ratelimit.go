package emulator

import (
	"math"
	"time"
)

// rateWindow is the length of the login rate limit's sliding window.
const rateWindow = time.Minute

// allowLoginLocked applies the sliding-window limit of Config.LoginRate
// requests per minute per client IP to /oauth/token. It records the request
// when allowed; when refused it returns how long until the oldest request in
// the window leaves it. Callers hold s.mu.
func (s *Server) allowLoginLocked(ip string, now time.Time) (ok bool, retryAfter time.Duration) {
	if s.loginRate < 0 {
		return true, 0
	}
	win := s.limiter[ip]
	// Drop what has left the window (the slice is in arrival order).
	i := 0
	for i < len(win) && !now.Before(win[i].Add(rateWindow)) {
		i++
	}
	win = win[i:]
	if len(win) >= s.loginRate {
		s.limiter[ip] = win
		return false, win[0].Add(rateWindow).Sub(now)
	}
	s.limiter[ip] = append(win, now)
	return true, 0
}

// pruneLimiterLocked forgets clients with no request left in the window.
func (s *Server) pruneLimiterLocked(now time.Time) {
	for ip, win := range s.limiter {
		if len(win) == 0 || !now.Before(win[len(win)-1].Add(rateWindow)) {
			delete(s.limiter, ip)
		}
	}
}

// retryAfterSeconds is d in whole seconds, rounded up, at least 1, as the
// Retry-After header wants.
func retryAfterSeconds(d time.Duration) int {
	secs := int(math.Ceil(d.Seconds()))
	if secs < 1 {
		return 1
	}
	return secs
}
