package present

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/timefmt"
)

// Stamp is the time column of keepalive lines.
func Stamp(t time.Time) string { return t.UTC().Format(StampLayout) }

// StampLayout is Stamp's layout, for appending a stamp (time.AppendFormat).
const StampLayout = "2006-01-02T15:04:05Z"

// WriteEvent prints one keeper event as one line.
func WriteEvent(w io.Writer, e auth.Event, now time.Time) {
	t := e.Time
	if t.IsZero() {
		t = now
	}
	fmt.Fprintf(w, "%s %s %s %s\n", Stamp(t), e.Session, e.Kind, OneLine(EventDetail(e, now)))
}

// EventDetail is what an event says beyond its kind.
func EventDetail(e auth.Event, now time.Time) string {
	var parts []string
	add := func(format string, args ...any) { parts = append(parts, fmt.Sprintf(format, args...)) }
	at := func() string { return timefmt.Absolute(e.At) + " (" + timefmt.Relative(e.At, now) + ")" }
	switch e.Kind {
	case auth.EventScheduled:
		when := "at " + at()
		if !e.At.After(now) {
			// Overdue (the keeper was not running, or a retry is due):
			// it happens now, not at a time in the past.
			when = "now (due since " + timefmt.Absolute(e.At) + ")"
		}
		// "next refresh at ..." reads better than "at ...; next refresh".
		if e.Message != "" && !strings.ContainsAny(e.Message, ";:") {
			add("%s %s", e.Message, when)
			e.Message = ""
		} else {
			add("%s", when)
		}
	case auth.EventRefreshing:
		add("%s", OrDash(e.OldFP))
	case auth.EventRefreshed:
		add("%s -> %s", OrDash(e.OldFP), OrDash(e.NewFP))
	case auth.EventAdopted:
		add("%s -> %s", OrDash(e.OldFP), OrDash(e.NewFP))
		if e.Message == "" {
			add("saved by another process")
		}
	case auth.EventRetrying:
		if !e.At.IsZero() {
			add("next attempt at %s", at())
		}
	case auth.EventNeedsLogin:
		add("needs a new login (%s)", ReasonLabel(e.Reason))
		if e.Message == "" {
			add("%s", ReasonWords(e.Session, e.Reason))
		}
	case auth.EventReuseSuspected:
		// The alarm comes first; the keeper's message already shouts.
		msg := e.Message
		if msg == "" {
			msg = fmt.Sprintf("WARNING: possible refresh token reuse by someone else; revoke with `tokentop revoke %s` and log in again", e.Session)
		}
		add("%s", msg)
		if e.OldFP != "" && !strings.Contains(msg, e.OldFP) {
			add("refresh token %s", e.OldFP)
		}
		e.Message = ""
	case auth.EventSkew:
		add("server clock %s; scheduling by server time", SkewWords(e.Skew))
	default:
		if e.OldFP != "" || e.NewFP != "" {
			add("%s -> %s", OrDash(e.OldFP), OrDash(e.NewFP))
		}
	}
	if e.Reason != "" && e.Kind != auth.EventNeedsLogin && e.Kind != auth.EventReuseSuspected {
		add("reason %s", e.Reason)
	}
	// The keeper's messages often quote the server's error already.
	if e.Status != 0 && !strings.Contains(e.Message, fmt.Sprintf("HTTP %d", e.Status)) {
		add("HTTP %d", e.Status)
	}
	if e.Message != "" {
		add("%s", e.Message)
	}
	if e.RequestID != "" && !strings.Contains(e.Message, e.RequestID) {
		add("request %s", e.RequestID)
	}
	return strings.Join(parts, "; ")
}
