package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/tokentop/tokentop/internal/present"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/safetext"
	"github.com/tokentop/tokentop/internal/timefmt"
)

// urgency is how soon something needs attention; it picks a colour and,
// for colourless terminals, nothing else: the words already say it.
type urgency int

const (
	urgencyOK urgency = iota
	urgencySoon
	urgencyNow
	urgencyMuted
)

func (s Styles) urgent(u urgency) lipgloss.Style {
	switch u {
	case urgencySoon:
		return s.Warn
	case urgencyNow:
		return s.Bad
	case urgencyMuted:
		return s.Muted
	default:
		return s.Good
	}
}

// accessLifetime is the access token's whole lifetime (for the bar and the
// refresh window); zero when unknown.
func accessLifetime(se auth.Session) time.Duration {
	if se.IssuedAt.IsZero() || se.AccessExpiry.IsZero() || !se.AccessExpiry.After(se.IssuedAt) {
		return 0
	}
	return se.AccessExpiry.Sub(se.IssuedAt)
}

// Expiry instants are the server's: every comparison below goes through the
// session's measured clock skew (se.ServerNow, se.AccessLeft), as the keeper
// and `tokentop list` do, so a server minutes ahead shows the truth.

// accessUrgency: fine outside the refresh window, soon inside it, now when
// expired.
func accessUrgency(se auth.Session, now time.Time) urgency {
	left := se.AccessLeft(now)
	switch {
	case se.AccessExpiry.IsZero():
		return urgencyMuted
	case left <= 0:
		return urgencyNow
	case left <= auth.RefreshWindow(accessLifetime(se)):
		return urgencySoon
	}
	return urgencyOK
}

// refreshUrgency: a refresh token that dies before the next planned refresh
// (or within two access lifetimes) cannot save the session much longer. Once
// the session needs a login its refresh token is dead whatever its expiry
// says, so the countdown is muted rather than a reassuring green.
func refreshUrgency(se auth.Session, now time.Time) urgency {
	left := se.RefreshExpiry.Sub(se.ServerNow(now))
	life := accessLifetime(se)
	switch {
	case se.RefreshExpiry.IsZero(), se.State == auth.StateNeedsLogin && left > 0:
		return urgencyMuted
	case left <= 0:
		return urgencyNow
	case left <= life || left <= time.Minute:
		return urgencyNow
	case left <= 2*life || left <= 10*time.Minute:
		return urgencySoon
	}
	return urgencyOK
}

// lifetimeBar draws how much of the access lifetime is left, width cells.
// It uses distinct glyphs for full and empty so it reads without colour;
// resume is written after each coloured part (the selected row's style).
func (s Styles) lifetimeBar(se auth.Session, now time.Time, width int, resume string) string {
	if width <= 0 {
		return ""
	}
	life := accessLifetime(se)
	frac := 0.0
	if life > 0 {
		frac = float64(se.AccessLeft(now)) / float64(life)
	}
	frac = min(max(frac, 0), 1)
	full := int(frac*float64(width) + 0.5)
	if full == 0 && frac > 0 {
		full = 1
	}
	if s.barEmpty == (paint{}) {
		resume = "" // no colour: no resets to undo
	}
	return s.urgencyPaint[accessUrgency(se, now)].render(strings.Repeat("█", full)) + resume +
		s.barEmpty.render(strings.Repeat("░", width-full)) + resume
}

// fit pads or truncates plain text to exactly w cells.
func fit(text string, w int) string {
	if w <= 0 {
		return ""
	}
	tw := ansi.StringWidth(text)
	if tw > w {
		return ansi.Truncate(text, w, "…")
	}
	return text + strings.Repeat(" ", w-tw)
}

// fitRight right-aligns plain text in w cells.
func fitRight(text string, w int) string {
	tw := ansi.StringWidth(text)
	if tw > w {
		return ansi.Truncate(text, w, "…")
	}
	return strings.Repeat(" ", w-tw) + text
}

// userLabel is the best short name for a session's user, escaped (the
// email came from a server or a file).
func userLabel(se auth.Session) string {
	switch {
	case se.User.Email != "":
		return safetext.Escape(se.User.Email)
	case se.Email != "":
		return safetext.Escape(se.Email)
	case se.User.UserID != 0:
		return fmt.Sprintf("user %d", se.User.UserID)
	}
	return "-"
}

// orgLabel is the session's org unit id, or "-".
func orgLabel(se auth.Session) string {
	if se.User.OrgUnitID == 0 {
		return "-"
	}
	return fmt.Sprint(se.User.OrgUnitID)
}

// roleLabel is the session's role name, or "-".
func roleLabel(se auth.Session) string {
	if r := auth.RoleName(se.User.RoleID); r != "" {
		return r
	}
	return "-"
}

// reasonText explains a needs-login reason in words.
func reasonText(r auth.Reason) string {
	switch r {
	case auth.ReasonRefreshExpired:
		return "refresh token expired"
	case auth.ReasonRevoked:
		return "revoked"
	case auth.ReasonRejected:
		return "refresh rejected: possible reuse"
	case auth.ReasonRotationLost:
		return "rotation lost in transit"
	case auth.ReasonNone:
		return ""
	}
	return string(r)
}

// clock renders an instant as local wall-clock time.
func clock(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "--:--:--"
	}
	return t.In(loc).Format("15:04:05")
}

// eventStamp is when an event happened, for the timeline: the time alone
// for today (in loc), the day and minute for earlier this year, the date
// for before. At most 12 cells, the timeline's label column.
func eventStamp(t, now time.Time, loc *time.Location) string {
	if t.IsZero() {
		return clock(t, loc)
	}
	lt, ln := t.In(loc), now.In(loc)
	switch {
	case lt.Year() == ln.Year() && lt.YearDay() == ln.YearDay():
		return lt.Format("15:04:05")
	case lt.Year() == ln.Year():
		return lt.Format("Jan 02 15:04")
	}
	return lt.Format("2006-01-02")
}

// eventText is one line about an event, for the status line and timeline;
// instants it mentions (the next refresh, the next try) are in loc. Its
// message and request id come from servers (or an edited audit log), so the
// line is escaped.
func eventText(e auth.Event, loc *time.Location) string {
	return safetext.Escape(eventLine(e, loc))
}

func eventLine(e auth.Event, loc *time.Location) string {
	var b strings.Builder
	if e.Session != "" {
		b.WriteString(e.Session)
		b.WriteString(" ")
	}
	msg := e.Message
	switch e.Kind {
	case auth.EventRefreshed:
		fmt.Fprintf(&b, "refreshed %s → %s", present.OrDash(e.OldFP), present.OrDash(e.NewFP))
	case auth.EventAdopted:
		fmt.Fprintf(&b, "adopted %s from another process", present.OrDash(e.NewFP))
	case auth.EventRefreshing:
		b.WriteString("refreshing…")
	case auth.EventRetrying:
		b.WriteString("retrying")
	case auth.EventNeedsLogin:
		b.WriteString("needs a new login")
		if r := reasonText(e.Reason); r != "" {
			b.WriteString(": " + r)
		}
	case auth.EventLogin:
		fmt.Fprintf(&b, "logged in %s", present.OrDash(e.NewFP))
	case auth.EventImported:
		fmt.Fprintf(&b, "imported %s", present.OrDash(e.NewFP))
		msg = ""
	case auth.EventReuseSuspected:
		// The keeper's message already shouts it.
		if !strings.Contains(msg, "REUSE SUSPECTED") {
			b.WriteString("REFRESH TOKEN REUSE SUSPECTED")
			if msg != "" {
				b.WriteString(": ")
			}
		}
		b.WriteString(msg)
		msg = ""
	default:
		// Scheduled, skew, revoked, forgotten, paused, resumed, failed: the
		// keeper's message says it in full; the kind is the fallback.
		if msg == "" {
			msg = strings.ReplaceAll(string(e.Kind), "_", " ")
			if e.Kind == auth.EventSkew {
				msg = "server clock differs by " + signedDuration(e.Skew)
			}
		}
		if e.Kind == auth.EventFailed && e.Message != "" {
			b.WriteString("failed: ")
		}
		b.WriteString(msg)
		msg = ""
		if e.Kind == auth.EventScheduled && !e.At.IsZero() {
			b.WriteString(" at " + clock(e.At, loc))
		}
	}
	if e.Kind != auth.EventNeedsLogin && e.Kind != auth.EventReuseSuspected && e.Reason != "" {
		b.WriteString(" (" + reasonText(e.Reason) + ")")
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, " HTTP %d", e.Status)
	}
	if msg != "" {
		b.WriteString(": " + msg)
	}
	if e.RequestID != "" {
		b.WriteString(" req " + e.RequestID)
	}
	if e.Kind == auth.EventRetrying && !e.At.IsZero() {
		b.WriteString("; next try at " + clock(e.At, loc))
	}
	return b.String()
}

// signedDuration renders a skew like "+3s" or "-1m 02s".
func signedDuration(d time.Duration) string {
	if d < 0 {
		return "-" + timefmt.Countdown(-d)
	}
	return "+" + timefmt.Countdown(d)
}

// eventUrgency colours an event on the status line.
func eventUrgency(k auth.EventKind) urgency {
	switch k {
	case auth.EventNeedsLogin, auth.EventReuseSuspected, auth.EventFailed, auth.EventSaveRetrying, auth.EventRescued:
		return urgencyNow
	case auth.EventRetrying, auth.EventSkew, auth.EventRevoked, auth.EventForgotten:
		return urgencySoon
	case auth.EventScheduled, auth.EventRefreshing:
		return urgencyMuted
	}
	return urgencyOK
}

// mask hides a token: its fingerprint and length, never a character of it.
func mask(tok string) string {
	if tok == "" {
		return "(none)"
	}
	return fmt.Sprintf("•••••••• %s, %d chars (press v to reveal)", auth.Fingerprint(tok), len(tok))
}

// keyIs is key.Matches for one binding (reads better in switch cases).
func keyIs(msg tea.KeyMsg, b key.Binding) bool { return key.Matches(msg, b) }
