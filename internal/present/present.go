// Package present turns sessions, keeper events and errors into the words
// and tables people read, the same in every command: state words and
// reasons, expiries, fingerprints, the session table and its JSON.
package present

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/safetext"
	"github.com/tokentop/tokentop/internal/timefmt"
)

// OneLine keeps a cell on one line whatever the server (or a damaged
// sessions.json) put in it: whitespace collapsed, every other control, C1
// or bidi character shown escaped.
func OneLine(s string) string {
	if plainLine(s) {
		return s // nearly every cell: no copy
	}
	return safetext.Escape(strings.Join(strings.Fields(s), " "))
}

// plainLine says whether OneLine would return s as it is: printable ASCII,
// single spaces, none at either end.
func plainLine(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == ' ' && (i == 0 || i == len(s)-1 || s[i-1] == ' ') {
			return false
		}
	}
	return true
}

// OrDash shows "-" for an empty value.
func OrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Expired says whether an expiry instant has passed (zero: unknown, not expired).
func Expired(t, now time.Time) bool { return !t.IsZero() && !now.Before(t) }

// Who describes a session's owner: "me@example.com (user 12345, Admin, org 1001)".
func Who(s auth.Session) string {
	email := s.User.Email
	if email == "" {
		email = s.Email
	}
	if email == "" {
		email = "unknown user"
	}
	email = OneLine(email) // from the server's answer or the imported file
	var parts []string
	if s.User.UserID != 0 {
		parts = append(parts, fmt.Sprintf("user %d", s.User.UserID))
	}
	if r := auth.RoleName(s.User.RoleID); r != "" {
		parts = append(parts, r)
	}
	if s.User.OrgUnitID != 0 {
		parts = append(parts, fmt.Sprintf("org %d", s.User.OrgUnitID))
	}
	if len(parts) == 0 {
		return email
	}
	return email + " (" + strings.Join(parts, ", ") + ")"
}

// WriteExpiries writes both expiries, relative and absolute.
func WriteExpiries(w io.Writer, s auth.Session, now time.Time) {
	st := Describe(s, now)
	fmt.Fprintf(w, "  access token  %s  expires %s (%s)\n", s.AccessFP, st.Access.Relative(), timefmt.Absolute(s.AccessExpiry))
	fmt.Fprintf(w, "  refresh token %s  expires %s (%s)\n", s.RefreshFP, st.Refresh.Relative(), timefmt.Absolute(s.RefreshExpiry))
}

// WriteReplacedNote says that a session was replaced and that its old pair
// still works at the server: only revoking ends it, and the name no longer
// leads to it.
func WriteReplacedNote(w io.Writer, prev, cur auth.Session) {
	if prev.Name == "" || prev.RefreshFP == cur.RefreshFP {
		return // nothing before, or the same pair imported again
	}
	fmt.Fprintf(w, "It replaced the previous pair of %q (access %s, refresh %s), which was not revoked: "+
		"it stays valid at the server until it expires.\n", prev.Name, OrDash(prev.AccessFP), OrDash(prev.RefreshFP))
}

// SkewWords says "2m 00s ahead" or "5s behind".
func SkewWords(skew time.Duration) string {
	// The Date header has whole seconds: more precision would be noise.
	skew = skew.Round(time.Second)
	if skew < 0 {
		return timefmt.Countdown(-skew) + " behind"
	}
	return timefmt.Countdown(skew) + " ahead"
}

// MetaText describes a server answer: "HTTP 200, request id X".
func MetaText(m auth.Meta) string {
	s := fmt.Sprintf("HTTP %d", m.Status)
	if m.RequestID != "" {
		s += ", request id " + m.RequestID
	}
	return s
}

// WriteJSON writes v as indented JSON in which no string, key or value,
// holds a control, C1 or bidi character (see safetext.JSON): reports carry
// claims, server messages, emails and file contents, all from outside.
func WriteJSON(w io.Writer, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	doc, err := safetext.JSON(raw, "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(doc, '\n'))
	return err
}
