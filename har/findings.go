package har

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/present"
)

// finish turns what the pass collected into findings, in a fixed order:
// the rotation problems first, then the failures, then the secrets.
func (a *analyzer) finish() *Report {
	rep := a.rep
	var out []Finding
	out = append(out, a.reuse()...)
	out = append(out, a.concurrent()...)
	out = append(out, a.expired()...)
	out = append(out, a.rejected()...)
	out = append(out, a.skew()...)
	out = append(out, a.findings...)
	if f, ok := a.secrets(); ok {
		out = append(out, f)
	}
	if out == nil {
		out = []Finding{}
	}
	rep.Findings = out
	return rep
}

func outcome(x Exchange) string {
	switch {
	case x.OK():
		return fmt.Sprintf("#%d at %s: HTTP %d, rotated", x.Index, clock(x.Time), x.Status)
	default:
		return fmt.Sprintf("#%d at %s: HTTP %d, rejected%s", x.Index, clock(x.Time), x.Status, colonMsg(x.Message))
	}
}

// reuse: one refresh token presented more than once.
func (a *analyzer) reuse() []Finding {
	byFP := map[string][]Exchange{}
	var order []string
	for _, x := range a.rep.Exchanges {
		if x.Kind != ExRefresh || x.Sent == "" {
			continue
		}
		if _, ok := byFP[x.Sent]; !ok {
			order = append(order, x.Sent)
		}
		byFP[x.Sent] = append(byFP[x.Sent], x)
	}
	var out []Finding
	for _, fp := range order {
		xs := byFP[fp]
		// A retry after a 5xx, a 429 or no answer is no reuse: the server
		// did not take the token then.
		processed := 0
		for _, x := range xs {
			if x.Status > 0 && x.Status < 500 && x.Status != 429 {
				processed++
			}
		}
		if processed < 2 {
			continue
		}
		words := make([]string, len(xs))
		f := Finding{Kind: FindRefreshReuse}
		for i, x := range xs {
			words[i] = outcome(x)
			f.add(x.Ref)
		}
		f.Summary = fmt.Sprintf("refresh token %s was presented %d times (%s): two tabs or two programs shared one session, and only the first refresh can win",
			fp, len(xs), strings.Join(words, "; "))
		out = append(out, f)
	}
	return out
}

// concurrent: two refreshes in flight at once.
func (a *analyzer) concurrent() []Finding {
	var xs []Exchange
	for _, x := range a.rep.Exchanges {
		if x.Kind == ExRefresh && !x.Time.IsZero() {
			xs = append(xs, x)
		}
	}
	sort.SliceStable(xs, func(i, j int) bool { return xs[i].Time.Before(xs[j].Time) })
	var out []Finding
	for i := 0; i < len(xs); i++ {
		// startedDateTime has milliseconds: two requests less than that
		// apart may as well have been one after the other.
		end := xs[i].Time.Add(xs[i].Duration - time.Millisecond)
		for j := i + 1; j < len(xs) && xs[j].Time.Before(end); j++ {
			f := Finding{Kind: FindConcurrentRefresh, Summary: fmt.Sprintf(
				"refreshes #%d (%s, HTTP %d) and #%d (%s, HTTP %d) were in flight at the same time: %s",
				xs[i].Index, present.OrDash(xs[i].Sent), xs[i].Status, xs[j].Index, present.OrDash(xs[j].Sent), xs[j].Status,
				sameOrNot(xs[i].Sent == xs[j].Sent))}
			f.add(xs[i].Ref)
			f.add(xs[j].Ref)
			out = append(out, f)
		}
	}
	return out
}

func sameOrNot(same bool) string {
	if same {
		return "with the same refresh token, so one of them must fail"
	}
	return "the client does not serialise its refreshes"
}

// serverTimeOf estimates the server's clock at an entry: its Date header,
// else the browser's time corrected by the typical skew.
func (a *analyzer) serverTimeOf(c apiCall, skew time.Duration) time.Time {
	if !c.serverTime.IsZero() {
		return c.serverTime
	}
	return c.ref.Time.Add(skew)
}

// expired: API calls sent with an access token past its expiry.
func (a *analyzer) expired() []Finding {
	skew := a.typicalSkew()
	byFP := map[string]*Finding{}
	var order []string
	for _, c := range a.calls {
		t := a.byFP[c.fp]
		if t == nil || t.Expiry.IsZero() {
			continue
		}
		// The Date header has whole seconds: at or past the expiry by it
		// means past the expiry by the server's own clock.
		at := a.serverTimeOf(c, skew)
		if at.Before(t.Expiry) {
			continue
		}
		f := byFP[c.fp]
		if f == nil {
			f = &Finding{Kind: FindExpiredAccessUsed, Summary: fmt.Sprintf(
				"access token %s expired at %s (%s, from the %s) but was still sent: first at #%d (%s after expiry, HTTP %d)",
				c.fp, clock(t.Expiry), present.OrDash(issuedWords(t)), t.ExpirySource, c.ref.Index, at.Sub(t.Expiry).Round(time.Second), c.status)}
			byFP[c.fp] = f
			order = append(order, c.fp)
		}
		f.add(c.ref)
	}
	out := make([]Finding, 0, len(order))
	for _, fp := range order {
		out = append(out, *byFP[fp])
	}
	return out
}

func issuedWords(t *Token) string {
	if t.IssuedBy == nil {
		return ""
	}
	return fmt.Sprintf("issued by #%d", t.IssuedBy.Index)
}

// rejected: a 401 for a token that a response in the file superseded.
func (a *analyzer) rejected() []Finding {
	var out []Finding
	for _, r := range a.rejects {
		by, when := a.supersededBy(r)
		if by == nil {
			continue
		}
		what := "an API call"
		if r.ex >= 0 {
			what = "a refresh"
		}
		f := Finding{Kind: FindRejectedAfterRotation, Summary: fmt.Sprintf(
			"#%d at %s: HTTP 401 for %s with %s token %s, which %s %s #%d (%s at %s) superseded",
			r.ref.Index, clock(r.ref.Time), what, r.kind, r.fp, when, by.Kind, by.Index, by.Kind, clock(by.Time))}
		f.add(r.ref)
		f.add(by.Ref)
		out = append(out, f)
	}
	return out
}

// supersededBy finds the successful exchange that replaced the token of r
// and says whether it came "earlier" or "later" than the 401 in the file.
func (a *analyzer) supersededBy(r reject) (*Exchange, string) {
	xs := a.rep.Exchanges
	var issuer = -1
	if t := a.byFP[r.fp]; t != nil && t.IssuedBy != nil {
		for i := range xs {
			if xs[i].Index == t.IssuedBy.Index {
				issuer = i
			}
		}
	}
	fam := a.familyOf[r.fp]
	for i := range xs {
		x := &xs[i]
		if !x.OK() || x.Kind != ExRefresh || x.Index == r.ref.Index {
			continue
		}
		var hit bool
		switch r.kind {
		case KindRefresh:
			hit = x.Sent == r.fp
		case KindAccess:
			// A later pair of the same family replaced this access token.
			hit = fam != 0 && x.Family == fam && i > issuer && x.Access != r.fp
		}
		if hit {
			when := "earlier"
			if x.Index > r.ref.Index {
				when = "later"
			}
			return x, when
		}
	}
	return nil, ""
}

// typicalSkew is the median of the measured skews.
func (a *analyzer) typicalSkew() time.Duration {
	if len(a.skews) == 0 {
		return 0
	}
	ds := make([]time.Duration, len(a.skews))
	for i, s := range a.skews {
		ds[i] = s.skew
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// skew: the browser's clock against the server's Date headers.
func (a *analyzer) skew() []Finding {
	f := Finding{Kind: FindClockSkew}
	var worst time.Duration
	for _, s := range a.skews {
		if !auth.SkewNotable(s.skew) {
			continue
		}
		if abs(s.skew) > abs(worst) {
			worst = s.skew
		}
		f.add(s.ref)
	}
	if len(f.Entries) == 0 {
		return nil
	}
	f.Summary = fmt.Sprintf("the server's clock (its Date headers) was %s the browser's in %d of %d responses (typically %s): expiries the browser computes from its own clock will be off",
		skewAgainst(worst), len(f.Entries)+f.More, len(a.skews), present.SkewWords(a.typicalSkew()))
	return []Finding{f}
}

// secrets: what a sanitiser must remove.
func (a *analyzer) secrets() (Finding, bool) {
	for _, k := range a.raw {
		a.rep.Secrets[k]++
	}
	if len(a.raw) == 0 {
		return Finding{}, false
	}
	kinds := []Kind{KindAccess, KindRefresh, KindFrontend, KindToken, KindPassword, KindCookie}
	var parts []string
	for _, k := range kinds {
		if n := a.rep.Secrets[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, plural(k, n)))
		}
	}
	f := a.rawRefs
	f.Kind = FindSecretsInFile
	f.Summary = fmt.Sprintf("this file holds live-looking secrets (%s) in %d entries: share only a sanitised copy (tokentop har sanitize), and revoke the tokens if it has left your hands (tokentop har revoke)",
		strings.Join(parts, ", "), len(f.Entries)+f.More)
	return f, true
}

func plural(k Kind, n int) string {
	word := map[Kind]string{KindAccess: "access token", KindRefresh: "refresh token", KindFrontend: "frontend token",
		KindToken: "other token", KindPassword: "password", KindCookie: "cookie value"}[k]
	if n != 1 {
		word += "s"
	}
	return word
}

// skewAgainst says "1m 00s ahead of" or "5s behind".
func skewAgainst(d time.Duration) string {
	if d < 0 {
		return present.SkewWords(d)
	}
	return present.SkewWords(d) + " of"
}
