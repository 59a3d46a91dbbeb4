package present

import (
	"fmt"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/timefmt"
)

// Status is one session as every command and screen describes it at one
// instant: `list` and its JSON, `inspect` and its JSON, `keepalive`, the
// TUI's rows and inspector all render a Status, so they cannot disagree on
// the state, its reason or the time left.
type Status struct {
	Name string
	// State and Reason are the effective ones (auth.Session.EffectiveState);
	// Stored is what the metadata says.
	State  auth.State
	Reason auth.Reason
	Stored auth.State
	// Paused: auto-refresh is off (an imported pair, or the user's p or
	// `tokentop pause`), whatever State says.
	Paused bool
	// Access and Refresh are the tokens' expiries, measured on the server's
	// clock (the instants are the server's).
	Access, Refresh Expiry
	// Skew is the server clock minus ours; SkewShown says it is beyond the
	// one threshold (auth.SkewThreshold).
	Skew      time.Duration
	SkewShown bool
	// Interrupted: a refresh started more than a minute ago never finished
	// (by PID, since InterruptedAt); the next refresh settles it.
	Interrupted   bool
	InterruptedBy int
	InterruptedAt time.Time
	// NextAttempt is when a retrying session is tried again (local clock).
	NextAttempt time.Time
	// AutoRefresh is when a running keeper (the TUI, keepalive) refreshes
	// the session by the local clock; zero when nothing will (paused, or a
	// new login is needed).
	AutoRefresh time.Time
	LastError   string

	now time.Time // local
}

// Expiry is one token's expiry as seen from one instant.
type Expiry struct {
	At   time.Time     // the server's instant; zero: unknown
	Left time.Duration // until At, by the server's clock
}

// Known reports whether the expiry is known.
func (e Expiry) Known() bool { return !e.At.IsZero() }

// Expired reports whether a known expiry has passed.
func (e Expiry) Expired() bool { return e.Known() && e.Left <= 0 }

// Seconds is whole seconds left, negative once passed, 0 when unknown:
// the `*_expires_in_seconds` of every JSON document.
func (e Expiry) Seconds() int64 {
	if !e.Known() {
		return 0
	}
	return int64(e.Left.Truncate(time.Second) / time.Second)
}

// Relative is "in 4m 05s", "3m 10s ago", "now", or "never" when unknown.
func (e Expiry) Relative() string {
	var buf [32]byte
	return string(e.appendRelative(buf[:0]))
}

// appendRelative appends Relative() to b.
func (e Expiry) appendRelative(b []byte) []byte {
	if !e.Known() {
		return append(b, "never"...)
	}
	return timefmt.AppendRelative(b, e.At, e.At.Add(-e.Left))
}

// Countdown is "4m 05s", "expired", or "-" when unknown: the TUI's
// countdown columns.
func (e Expiry) Countdown() string {
	switch {
	case !e.Known():
		return "-"
	case e.Expired():
		return "expired"
	}
	return timefmt.Countdown(e.Left)
}

// Describe is s at localNow.
func Describe(s auth.Session, localNow time.Time) Status { return describe(&s, localNow) }

// describe is Describe without the copy of s (half a kilobyte), for
// listing 10,000 sessions.
func describe(s *auth.Session, localNow time.Time) Status {
	state, reason := s.EffectiveState(localNow)
	snow := s.ServerNow(localNow)
	expiry := func(t time.Time) Expiry {
		if t.IsZero() {
			return Expiry{}
		}
		return Expiry{At: t, Left: t.Sub(snow)}
	}
	st := Status{
		Name:        s.Name,
		State:       state,
		Reason:      reason,
		Stored:      s.State,
		Paused:      s.Paused,
		Access:      expiry(s.AccessExpiry),
		Refresh:     expiry(s.RefreshExpiry),
		Skew:        s.ClockSkew,
		SkewShown:   auth.SkewNotable(s.ClockSkew),
		Interrupted: s.RefreshInterrupted(localNow),
		LastError:   s.LastError,
		now:         localNow,
	}
	if st.Interrupted {
		st.InterruptedBy, st.InterruptedAt = s.RefreshingPID, s.RefreshingSince
	}
	if state == auth.StateRetrying {
		st.NextAttempt = s.NextAttempt
	}
	switch {
	case s.Paused, state == auth.StateNeedsLogin:
	case state == auth.StateRetrying && !s.NextAttempt.IsZero():
		st.AutoRefresh = s.NextAttempt
	case s.AccessExpiry.IsZero():
	default:
		st.AutoRefresh = s.RefreshDue()
	}
	return st
}

// Label is the state and its reason, for scripts that grep and for people:
// "ok", "paused", "expired", "needs_login (refresh_expired)".
func (st Status) Label() string {
	if st.Reason != "" {
		return string(st.State) + " (" + string(st.Reason) + ")"
	}
	return string(st.State)
}

// Cell is the STATE column of `list` and of the TUI: the label and, when
// they apply, that nothing refreshes it, an interrupted refresh, and the
// next attempt. (A skewed server clock is said once per screen by the TUI's
// header and per row by `list`, which has no header to say it in.)
func (st Status) Cell() string {
	out := st.Label()
	if st.Paused && st.State != auth.StatePaused && st.State != auth.StateNeedsLogin {
		out += ", paused"
	}
	if st.Interrupted {
		out += fmt.Sprintf(", a refresh by pid %d was interrupted %s; the next refresh settles it",
			st.InterruptedBy, timefmt.Relative(st.InterruptedAt, st.now))
	}
	if !st.NextAttempt.IsZero() {
		out += ", " + st.nextAttemptText()
	}
	return out
}

// nextAttemptText is "next in 30s", or "next attempt due now" once its
// time has passed (the keeper tries when it runs).
func (st Status) nextAttemptText() string {
	if st.NextAttempt.IsZero() || !st.NextAttempt.After(st.now) {
		return "next attempt due now"
	}
	return "next " + timefmt.Relative(st.NextAttempt, st.now)
}

// Words says what the state means and what to do, in a sentence, for the
// inspectors (`inspect`, the TUI's).
func (st Status) Words() string {
	switch st.State {
	case auth.StateNeedsLogin:
		return ReasonWords(st.Name, st.Reason) + "; log in again (tokentop login " + st.Name + ") or import a new pair"
	case auth.StateExpired:
		if st.Paused {
			return "the access token has expired and the session is paused, so nothing refreshes it; " +
				"resume it to refresh (tokentop resume " + st.Name + ")"
		}
		return "the access token has expired; the next refresh (tokentop token " + st.Name + ", or a running tokentop or keepalive) renews it"
	case auth.StatePaused:
		return "watch-only: nothing refreshes it (not the TUI, keepalive, token or exec) until it is resumed (tokentop resume " + st.Name + ")"
	case auth.StateRetrying:
		return "the last refresh failed for a reason that may pass (server or network); " + st.nextAttemptText()
	case auth.StateRefreshing:
		if st.Interrupted {
			return fmt.Sprintf("a refresh by pid %d was interrupted %s: the server may have rotated the pair; the next refresh settles it",
				st.InterruptedBy, timefmt.Relative(st.InterruptedAt, st.now))
		}
		return "a refresh is in flight"
	}
	return "the access token is valid and is refreshed before it expires while tokentop or keepalive runs"
}

// AutoRefreshText says when the session is refreshed automatically, or why
// it is not: "due in 8m 36s", "overdue by 2m 00s: …", "off: paused …".
func (st Status) AutoRefreshText() string {
	switch {
	case st.State == auth.StateNeedsLogin:
		return "none: the session needs a new login"
	case st.Paused:
		return "off: paused (tokentop resume " + st.Name + " turns it on)"
	case st.AutoRefresh.IsZero():
		return "unknown: the access token's expiry is unknown"
	case st.AutoRefresh.After(st.now):
		return "due " + timefmt.Relative(st.AutoRefresh, st.now)
	}
	return "overdue by " + timefmt.Countdown(st.now.Sub(st.AutoRefresh)) + ": it happens once tokentop or keepalive runs"
}

// Attention is how soon a state needs a person; screens pick a colour by it
// (the words already say it without colour).
type Attention int

// Attention levels.
const (
	AttentionNone  Attention = iota // fine
	AttentionSoon                   // retrying: watch it
	AttentionNow                    // dead or dying: act
	AttentionQuiet                  // nothing happens to it by design (paused) or yet (refreshing)
)

// Attention is how soon the session needs a person.
func (st Status) Attention() Attention {
	switch st.State {
	case auth.StateNeedsLogin, auth.StateExpired:
		return AttentionNow
	case auth.StateRetrying:
		return AttentionSoon
	case auth.StatePaused, auth.StateRefreshing:
		if st.Interrupted {
			return AttentionSoon
		}
		return AttentionQuiet
	}
	return AttentionNone
}
