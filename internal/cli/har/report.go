package har

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	harpkg "github.com/tokentop/tokentop/har"
	"github.com/tokentop/tokentop/internal/present"
	"github.com/tokentop/tokentop/internal/safetext"
)

func hms(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("15:04:05.000Z")
}

// exchangeLine draws one exchange of the chain.
func exchangeLine(x harpkg.Exchange) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%-4d %s  %-7s %3d", x.Index, hms(x.Time), x.Kind, x.Status)
	if x.Sent != "" {
		fmt.Fprintf(&b, "  %s", x.Sent)
	} else if x.Email != "" {
		fmt.Fprintf(&b, "  %s", x.Email)
	}
	switch {
	case x.Access != "" || x.Refresh != "":
		fmt.Fprintf(&b, " → access %s refresh %s", present.OrDash(x.Access), present.OrDash(x.Refresh))
	case !x.OK():
		b.WriteString(" ✗")
		if x.Message != "" {
			b.WriteString(" " + x.Message)
		}
		if x.RetryAfter != "" {
			b.WriteString(" (Retry-After " + x.RetryAfter + ")")
		}
	}
	if x.RequestID != "" {
		b.WriteString("  [request " + x.RequestID + "]")
	}
	return safetext.Escape(b.String())
}

// writeReport prints the analysis for people: the chain, the tokens, the
// findings. Every string from the file was escaped by the analysis and is
// escaped again here (escaping is idempotent), so the screen is safe even
// if one was missed.
func writeReport(w io.Writer, rep *harpkg.Report) {
	fmt.Fprintf(w, "%d entries; %d OAuth exchanges", rep.Entries, len(rep.Exchanges))
	if len(rep.OAuthURLs) > 0 {
		fmt.Fprintf(w, " at %s", safetext.Escape(strings.Join(rep.OAuthURLs, ", ")))
	}
	if len(rep.APIURLs) > 0 {
		fmt.Fprintf(w, "; API %s", safetext.Escape(strings.Join(rep.APIURLs, ", ")))
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "\nRotation chain")
	inFamily := map[int]bool{}
	for _, f := range rep.Families {
		from := fmt.Sprintf("from login #%d", f.Start.Index)
		if !f.FromLogin {
			from = fmt.Sprintf("from a refresh token issued before the file begins (#%d)", f.Start.Index)
		}
		fmt.Fprintf(w, "  family %d: %s, %s\n", f.ID, safetext.Escape(present.OrDash(f.User)), from)
		for _, i := range f.Exchanges {
			inFamily[i] = true
			fmt.Fprintf(w, "    %s\n", exchangeLine(rep.Exchanges[i]))
		}
	}
	var other []string
	for i, x := range rep.Exchanges {
		if !inFamily[i] {
			other = append(other, exchangeLine(x))
		}
	}
	if len(other) > 0 {
		fmt.Fprintln(w, "  outside any chain:")
		for _, l := range other {
			fmt.Fprintf(w, "    %s\n", l)
		}
	}
	if len(rep.Exchanges) == 0 {
		fmt.Fprintln(w, "  (no login or refresh in this file)")
	}

	fmt.Fprintf(w, "\nTokens (%d)\n", len(rep.Tokens))
	if len(rep.Tokens) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		probe := false
		for _, t := range rep.Tokens {
			probe = probe || t.Probe != ""
		}
		hdr := "  KIND\tFINGERPRINT\tFIRST SEEN\tLAST SEEN\tEXPIRES\tISSUED BY\tFAMILY"
		if probe {
			hdr += "\tPROBE"
		}
		fmt.Fprintln(tw, hdr)
		for _, t := range rep.Tokens {
			exp := "-"
			if !t.Expiry.IsZero() {
				exp = t.Expiry.UTC().Format("2006-01-02 15:04:05Z") + " (" + t.ExpirySource + ")"
			}
			issued := "-"
			if t.IssuedBy != nil {
				issued = fmt.Sprintf("#%d", t.IssuedBy.Index)
			}
			fam := "-"
			if t.Family != 0 {
				fam = fmt.Sprint(t.Family)
			}
			cells := []string{"  " + string(t.Kind), t.Fingerprint,
				fmt.Sprintf("#%d %s %s", t.First.Index, hms(t.First.Time), t.First.Where),
				fmt.Sprintf("#%d %s %s", t.Last.Index, hms(t.Last.Time), t.Last.Where), exp, issued, fam}
			if probe {
				cells = append(cells, present.OrDash(present.OneLine(t.Probe)))
			}
			for i, c := range cells {
				cells[i] = safetext.Escape(c)
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		tw.Flush()
	}

	fmt.Fprintf(w, "\nFindings (%d)\n", len(rep.Findings))
	if len(rep.Findings) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, f := range rep.Findings {
		fmt.Fprintf(w, "  %s: %s\n", f.Kind, safetext.Escape(f.Summary))
		refs := make([]string, len(f.Entries))
		for i, r := range f.Entries {
			refs[i] = fmt.Sprintf("#%d %s", r.Index, hms(r.Time))
		}
		more := ""
		if f.More > 0 {
			more = fmt.Sprintf(" and %d more", f.More)
		}
		fmt.Fprintf(w, "    entries: %s%s\n", strings.Join(refs, ", "), more)
	}
}
