package token

import (
	"fmt"
	"io"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/present"
	"github.com/tokentop/tokentop/internal/timefmt"
)

// writeNotes tells on stderr (stdout holds only the token) anything
// unusual the refresh behind a token did, such as settling a refresh that a
// killed process left unfinished. Routine events stay quiet for scripts.
func writeNotes(w io.Writer, events <-chan auth.Event) {
	for {
		select {
		case e := <-events:
			switch {
			case e.Kind == auth.EventRefreshed && e.Message != "", e.Kind == auth.EventSkew && e.Message != "":
				fmt.Fprintf(w, "tokentop: note: session %q: %s\n", e.Session, present.OneLine(e.Message))
			case e.Kind == auth.EventRetrying:
				// The token printed is the current one, still valid: say
				// why it was not renewed, so a script's log explains it.
				fmt.Fprintf(w, "tokentop: note: session %q: the refresh failed, so this is the current token, still valid: %s\n",
					e.Session, present.OneLine(e.Message))
			}
		default:
			return
		}
	}
}

// writeRefresh shows what a refresh changed, by fingerprint.
func writeRefresh(w io.Writer, name string, res auth.RefreshResult, now time.Time) {
	switch {
	case res.Adopted:
		fmt.Fprintf(w, "%s: adopted a pair another process saved (no second refresh)\n", name)
	case res.Recovered && res.Note == "": // else the note tells it
		fmt.Fprintf(w, "%s: refreshed (an interrupted earlier refresh was recovered)\n", name)
	default:
		fmt.Fprintf(w, "%s: refreshed\n", name)
	}
	if res.Note != "" {
		fmt.Fprintf(w, "  note: %s\n", present.OneLine(res.Note))
	}
	// Expiries are the server's instants: count down by its clock.
	oldNow, newNow := res.Old.ServerNow(now), res.New.ServerNow(now)
	line := func(kind, oldFP, newFP string, oldExp, newExp time.Time) {
		fmt.Fprintf(w, "  %-7s  old %s  expires %s (%s)\n", kind, present.OrDash(oldFP), timefmt.Relative(oldExp, oldNow), timefmt.Absolute(oldExp))
		fmt.Fprintf(w, "  %-7s  new %s  expires %s (%s)\n", "", present.OrDash(newFP), timefmt.Relative(newExp, newNow), timefmt.Absolute(newExp))
	}
	line("access", res.Old.AccessFP, res.New.AccessFP, res.Old.AccessExpiry, res.New.AccessExpiry)
	line("refresh", res.Old.RefreshFP, res.New.RefreshFP, res.Old.RefreshExpiry, res.New.RefreshExpiry)
}
