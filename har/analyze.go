package har

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/present"
	"github.com/tokentop/tokentop/internal/safetext"
)

// Analyze reads a HAR from r and reports its tokens, rotation chain and
// findings.
//
// Memory stays bounded whatever the size of one entry: strings longer than
// maxBodyText (a captured download) are scanned for tokens in chunks as
// they are read, never held whole.
func Analyze(r io.Reader) (*Report, error) {
	a := newAnalyzer()
	src := newSource(r)
	a.src, a.big = src, newBigText(a, nil)
	src.spill = a.big
	if err := each(src, func(i int, e *Entry, _ json.RawMessage) error {
		a.entry(i, e)
		return nil
	}); err != nil {
		return nil, err
	}
	return a.finish(), nil
}

type apiCall struct {
	ref        Ref
	serverTime time.Time // from the response's Date header; zero when absent
	fp         string
	status     int
}

type reject struct {
	ref  Ref
	fp   string
	kind Kind
	ex   int // index into exchanges, -1 for an API call
}

type skewSample struct {
	ref  Ref
	skew time.Duration
}

type analyzer struct {
	rep       *Report
	byFP      map[string]*Token
	lastEntry map[string]int // fingerprint → last entry counted in Token.Entries
	known     map[string]Kind
	exact     []string
	raw       map[string]Kind // raw (not placeholder) secrets by fingerprint
	rawRefs   Finding         // entries holding raw secrets
	rawSeen   int             // last entry added to rawRefs
	familyOf  map[string]int  // token fingerprint → family id
	calls     []apiCall
	rejects   []reject
	skews     []skewSample
	findings  []Finding

	// gen counts what was learnt (known, exact, passwords, cookies): a
	// large string's copy made at an earlier gen is scanned again.
	gen int
	// The source and its large strings' tokens; nil when entries come
	// from elsewhere.
	src *source
	big *bigText
}

func newAnalyzer() *analyzer {
	return &analyzer{
		rep: &Report{
			Secrets: map[Kind]int{}, values: map[string]string{},
			passwords: map[string]bool{}, cookies: map[string]bool{},
			OAuthURLs: []string{}, APIURLs: []string{}, Tokens: []*Token{},
			Exchanges: []Exchange{}, Families: []Family{}, Findings: []Finding{},
		},
		byFP: map[string]*Token{}, lastEntry: map[string]int{}, known: map[string]Kind{},
		raw: map[string]Kind{}, familyOf: map[string]int{}, rawSeen: -1,
	}
}

// exchangeKind classifies an entry by its path; "" is not an OAuth call.
func exchangeKind(method string, u *url.URL) string {
	if u == nil || !strings.EqualFold(method, http.MethodPost) {
		return ""
	}
	p := strings.TrimRight(u.Path, "/")
	switch {
	case strings.HasSuffix(p, "/oauth/token"):
		return ExLogin
	case strings.HasSuffix(p, "/oauth/refresh-token"):
		return ExRefresh
	case strings.HasSuffix(p, "/oauth/revoke-token"):
		return ExRevoke
	}
	return ""
}

func isOAuthPath(u *url.URL) bool { return u != nil && strings.Contains(u.Path, "/oauth/") }

func addOnce(list []string, s string) []string {
	if s == "" || slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// noteRaw records a raw secret (never a placeholder) for secrets_in_file.
func (a *analyzer) noteRaw(ref Ref, fp string, k Kind) {
	if _, ok := a.raw[fp]; !ok {
		a.raw[fp] = k
	}
	if a.rawSeen != ref.Index {
		a.rawSeen = ref.Index
		a.rawRefs.add(ref)
	}
}

// seen records a token met at ref. value may be a placeholder.
func (a *analyzer) seen(ref Ref, value string, k Kind, where string) *Token {
	if value == "" {
		return nil
	}
	fp, pk, placeholder := identify(value)
	if placeholder && pk != KindPassword && pk != KindCookie {
		if k == "" || k == KindToken {
			k = pk
		}
	}
	if k == "" {
		k = KindToken
	}
	t := a.byFP[fp]
	if t == nil {
		t = &Token{Fingerprint: fp, Kind: k, First: Seen{ref, where}}
		a.byFP[fp] = t
		a.rep.Tokens = append(a.rep.Tokens, t)
		a.lastEntry[fp] = -1
	} else if t.Kind == KindToken && k != KindToken {
		t.Kind = k
	}
	t.Last = Seen{ref, where}
	if a.lastEntry[fp] != ref.Index {
		a.lastEntry[fp] = ref.Index
		t.Entries++
	}
	if placeholder {
		t.Sanitised = true
		return t
	}
	a.noteRaw(ref, fp, t.Kind)
	if _, ok := a.rep.values[fp]; !ok {
		a.rep.values[fp] = value
		a.known[value] = t.Kind
		a.gen++
		if strings.ContainsAny(value, "+/=") {
			a.exact = append(a.exact, value)
		}
		if t.Expiry.IsZero() {
			if exp := auth.Inspect(value, auth.InspectOptions{}).Expires; !exp.IsZero() {
				t.Expiry, t.ExpirySource = exp, "jwt"
			}
		}
	}
	if a.known[value] != t.Kind {
		a.known[value] = t.Kind
		a.gen++
	}
	return t
}

// password records a password met at ref.
func (a *analyzer) password(ref Ref, value string) {
	if value == "" {
		return
	}
	if _, _, ph := identify(value); ph {
		return
	}
	if !a.rep.passwords[value] {
		a.rep.passwords[value] = true
		a.gen++
	}
	a.noteRaw(ref, "password:"+auth.Fingerprint(value), KindPassword)
}

// cookie records one cookie met at ref: a token when its name or value says
// so, else a cookie value (a secret all the same: session cookies are what
// attackers take from HAR files).
func (a *analyzer) cookie(ref Ref, name, value, where string) {
	if value == "" {
		return
	}
	where += " " + safetext.Escape(name)
	if k, ok := a.known[value]; ok {
		a.seen(ref, value, k, where)
		return
	}
	if k := kindByName(name); k != "" {
		a.seen(ref, value, k, where)
		return
	}
	if pk, _, _, ok := parsePlaceholder(value); ok {
		if pk != KindCookie && pk != KindPassword {
			a.seen(ref, value, pk, where)
		}
		return
	}
	if !a.rep.cookies[value] {
		a.rep.cookies[value] = true
		a.gen++
	}
	a.noteRaw(ref, "cookie:"+auth.Fingerprint(value), KindCookie)
}

// kindByName guesses a token's kind from the name it is stored under
// (cookie, query parameter, JSON key).
func kindByName(name string) Kind {
	n := strings.ToLower(name)
	switch {
	case strings.Contains(n, "refresh"):
		return KindRefresh
	case strings.Contains(n, "frontend"):
		return KindFrontend
	case n == "access_token" || n == "accesstoken" || n == "access-token" || n == "token" || n == "bearer":
		return KindAccess
	}
	return ""
}

// redactText is s, text from the server that reports show, with every
// secret the analysis knows put as its placeholder: tokens (by value and
// by shape), passwords and cookie values. A server that echoes what it was
// sent (a refresh token in a 401, "invalid password X") would otherwise put
// the secret on the screen and in --json. Before shortening: a token cut in
// two would no longer be found.
func (a *analyzer) redactText(s string) string {
	b := []byte(s)
	s = string(replaceSpans(nil, b, scan(b, a.known, a.exact), nil))
	for _, secrets := range []struct {
		set  map[string]bool
		kind Kind
	}{{a.rep.passwords, KindPassword}, {a.rep.cookies, KindCookie}} {
		for v := range secrets.set {
			// A one- or two-letter value would blot out the message.
			if len(v) >= 3 {
				s = strings.ReplaceAll(s, v, Placeholder(secrets.kind, v))
			}
		}
	}
	return s
}

// scanText records every token found in b, and in the large strings whose
// stubs b holds.
func (a *analyzer) scanText(ref Ref, b []byte, where string) {
	spans := scan(b, a.known, a.exact)
	if a.big != nil {
		spans = append(spans, a.big.take(a.src.stubMarker(), b)...)
	}
	for _, s := range spans {
		v := s.value
		if v == "" {
			v = placeholderPrefix + string(s.kind) + ":" + s.fp
		}
		if s.kind == KindPassword || s.kind == KindCookie {
			continue
		}
		a.seen(ref, v, s.kind, where)
	}
}

// cookiePairs splits a Cookie header ("a=1; b=2") or the first pair of a
// Set-Cookie header.
func cookiePairs(h string, set bool) []NameValue {
	if set {
		h, _, _ = strings.Cut(h, ";")
	}
	var out []NameValue
	for _, part := range strings.Split(h, ";") {
		name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok {
			out = append(out, NameValue{Name: name, Value: value})
		}
	}
	return out
}

func (a *analyzer) entry(i int, e *Entry) {
	a.rep.Entries++
	ref := Ref{Index: i, Time: e.Started()}
	u, _ := url.Parse(e.Request.URL)
	kind := exchangeKind(e.Request.Method, u)
	status := e.Response.Status

	// The server's clock against the browser's.
	if d := Header(e.Response.Headers, "Date"); d != "" && !ref.Time.IsZero() {
		if st, err := http.ParseTime(d); err == nil {
			a.skews = append(a.skews, skewSample{ref, skewOf(ref.Time, e.Duration(), st)})
		}
	}

	var bearer *Token
	if h := Header(e.Request.Headers, "Authorization"); h != "" {
		scheme, tok, _ := strings.Cut(strings.TrimSpace(h), " ")
		if strings.EqualFold(scheme, "Bearer") {
			bearer = a.seen(ref, strings.TrimSpace(tok), KindAccess, "request header Authorization")
		} else {
			a.scanText(ref, []byte(h), "request header Authorization")
		}
	}
	for _, c := range e.Request.Cookies {
		a.cookie(ref, c.Name, c.Value, "request cookie")
	}
	for _, c := range e.Response.Cookies {
		a.cookie(ref, c.Name, c.Value, "response cookie")
	}
	for _, h := range e.Request.Headers {
		if strings.EqualFold(h.Name, "Cookie") {
			for _, c := range cookiePairs(h.Value, false) {
				a.cookie(ref, c.Name, c.Value, "request cookie")
			}
		}
	}
	for _, h := range e.Response.Headers {
		if strings.EqualFold(h.Name, "Set-Cookie") {
			for _, c := range cookiePairs(h.Value, true) {
				a.cookie(ref, c.Name, c.Value, "response cookie")
			}
		}
	}
	for _, q := range e.Request.QueryString {
		if strings.EqualFold(q.Name, "password") {
			a.password(ref, q.Value)
		} else if k := kindByName(q.Name); k != "" {
			a.seen(ref, q.Value, k, "query "+safetext.Escape(q.Name))
		}
	}
	if pd := e.Request.PostData; pd != nil {
		for _, p := range pd.Params {
			if strings.EqualFold(p.Name, "password") {
				a.password(ref, p.Value)
			} else if k := kindByName(p.Name); k != "" {
				a.seen(ref, p.Value, k, "request body")
			}
		}
	}

	var x *Exchange
	if kind != "" {
		a.rep.OAuthURLs = addOnce(a.rep.OAuthURLs, oauthBase(u))
		x = a.exchange(ref, kind, e)
	} else if bearer != nil && !isOAuthPath(u) {
		a.rep.APIURLs = addOnce(a.rep.APIURLs, apiBase(u))
		c := apiCall{ref: ref, fp: bearer.Fingerprint, status: status}
		if d := Header(e.Response.Headers, "Date"); d != "" {
			c.serverTime, _ = http.ParseTime(d)
		}
		a.calls = append(a.calls, c)
		if status == http.StatusUnauthorized {
			a.rejects = append(a.rejects, reject{ref: ref, fp: bearer.Fingerprint, kind: KindAccess, ex: -1})
		}
	}

	// Tokens anywhere else: the URL, every header, both bodies.
	a.scanText(ref, []byte(e.Request.URL), "URL")
	for _, h := range e.Request.Headers {
		if !strings.EqualFold(h.Name, "Authorization") && !strings.EqualFold(h.Name, "Cookie") {
			a.scanText(ref, []byte(h.Value), "request header "+safetext.Escape(h.Name))
		}
	}
	for _, h := range e.Response.Headers {
		if !strings.EqualFold(h.Name, "Set-Cookie") {
			a.scanText(ref, []byte(h.Value), "response header "+safetext.Escape(h.Name))
		}
	}
	if pd := e.Request.PostData; pd != nil {
		a.scanText(ref, pd.Text, "request body")
	}
	a.scanText(ref, e.Response.Content.Text, "response body")

	if status == http.StatusTooManyRequests {
		ra := safetext.Escape(Header(e.Response.Headers, "Retry-After"))
		what := "rate limited"
		if x != nil {
			what = x.Kind + " rate limited"
		}
		f := Finding{Kind: FindRateLimited, Summary: fmt.Sprintf("%s: HTTP 429 at %s, Retry-After %s", what, clock(ref.Time), present.OrDash(ra))}
		f.add(ref)
		a.findings = append(a.findings, f)
	}
	if status >= 500 && isOAuthPath(u) {
		what := "OAuth call"
		if x != nil {
			what = x.Kind
		}
		f := Finding{Kind: FindServerError, Summary: fmt.Sprintf("%s answered HTTP %d at %s%s", what, status, clock(ref.Time), requestIDWords(x))}
		f.add(ref)
		a.findings = append(a.findings, f)
	}
}

func requestIDWords(x *Exchange) string {
	if x == nil || x.RequestID == "" {
		return ""
	}
	return " (request id " + x.RequestID + ")"
}

// skewOf is how far the server's clock (its Date header, whole seconds) is
// from the browser's, given that the server wrote Date somewhere between the
// request's start and its end: zero when that is possible at all.
func skewOf(started time.Time, d time.Duration, date time.Time) time.Duration {
	end := started.Add(d)
	switch {
	case date.After(end):
		return date.Sub(end)
	case date.Add(time.Second).Before(started):
		return date.Add(time.Second).Sub(started)
	}
	return 0
}

// origin is scheme://host of u.
func origin(u *url.URL) string {
	if u == nil || u.Host == "" {
		return ""
	}
	return safetext.Escape(u.Scheme + "://" + u.Host)
}

// oauthBase is the OAuth server's base URL: u up to its /oauth/ (the
// endpoints tokentop appends to an --oauth-url), so a server mounted under
// a path keeps it.
func oauthBase(u *url.URL) string {
	if u == nil || u.Host == "" {
		return ""
	}
	if i := strings.Index(u.Path, "/oauth/"); i > 0 {
		return safetext.Escape(u.Scheme + "://" + u.Host + u.Path[:i])
	}
	return origin(u)
}

// apiBase is the URL up to its /v3 (Convirza's API base), else the origin.
func apiBase(u *url.URL) string {
	if u == nil || u.Host == "" {
		return ""
	}
	if i := strings.Index(u.Path, "/v3/"); i >= 0 {
		return safetext.Escape(u.Scheme + "://" + u.Host + u.Path[:i+3])
	}
	return origin(u)
}

func clock(t time.Time) string {
	if t.IsZero() {
		return "an unknown time"
	}
	return t.UTC().Format("15:04:05.000Z")
}

// exchange reads a login, refresh or revoke.
func (a *analyzer) exchange(ref Ref, kind string, e *Entry) *Exchange {
	x := Exchange{Ref: ref, Kind: kind, Duration: e.Duration(), Status: e.Response.Status}
	x.RequestID = safetext.Escape(Header(e.Response.Headers, "X-Request-Id"))
	x.RetryAfter = safetext.Escape(Header(e.Response.Headers, "Retry-After"))

	var reqBody map[string]any
	if pd := e.Request.PostData; pd != nil {
		if s, ok := text(pd.Text, maxBodyText); ok {
			_ = json.Unmarshal([]byte(s), &reqBody)
		}
	}
	str := func(m map[string]any, key string) string { s, _ := m[key].(string); return s }
	switch kind {
	case ExLogin:
		email := str(reqBody, "email")
		if email == "" {
			email = str(reqBody, "username")
		}
		x.Email = safetext.Escape(email)
		a.password(ref, str(reqBody, "password"))
	case ExRefresh:
		if t := a.seen(ref, str(reqBody, "refresh_token"), KindRefresh, "request body"); t != nil {
			x.Sent = t.Fingerprint
		}
	case ExRevoke:
		k := Kind(str(reqBody, "token_type"))
		if k != KindAccess && k != KindRefresh {
			k = KindToken
		}
		if t := a.seen(ref, str(reqBody, "token"), k, "request body"); t != nil {
			x.Sent, x.SentKind = t.Fingerprint, k
		}
	}

	body, _ := text(e.Response.Content.Text, maxBodyText)
	var resp map[string]any
	if strings.EqualFold(e.Response.Content.Encoding, "base64") {
		body = ""
	}
	_ = json.Unmarshal([]byte(body), &resp)
	if x.RequestID == "" {
		x.RequestID = safetext.Escape(firstString(resp, "requestId", "request_id"))
	}

	fam := 0
	switch {
	case kind == ExLogin:
		if x.OK() {
			fam = a.newFamily(ref, true)
		}
	case x.Sent != "":
		fam = a.familyOf[x.Sent]
		if fam == 0 && kind == ExRefresh {
			fam = a.newFamily(ref, false)
			a.familyOf[x.Sent] = fam
		}
	}
	x.Family = fam

	if x.OK() && (kind == ExLogin || kind == ExRefresh) {
		set := unwrap(resp)
		issued := func(key string, k Kind, expKey string) string {
			t := a.seen(ref, str(set, key), k, "response body")
			if t == nil {
				return ""
			}
			t.IssuedBy = &Ref{ref.Index, ref.Time}
			if exp := instant(set[expKey], serverNow(e, ref.Time)); !exp.IsZero() {
				t.Expiry, t.ExpirySource = exp, "response"
			}
			if fam != 0 {
				t.Family = fam
				a.familyOf[t.Fingerprint] = fam
			}
			return t.Fingerprint
		}
		x.Access = issued("access_token", KindAccess, "expires_in")
		x.Refresh = issued("refresh_token", KindRefresh, "refresh_expires_in")
		x.Frontend = issued("frontend_token", KindFrontend, "")
		if user, ok := set["user"].(map[string]any); ok && fam != 0 {
			f := &a.rep.Families[fam-1]
			if f.User == "" {
				f.User = safetext.Escape(strings.TrimSpace(firstString(user, "email") + " " + numberText(user["user_id"])))
			}
		}
	} else if !x.OK() {
		x.Message = safetext.Escape(shorten(a.redactText(firstString(resp, "error", "error_description", "message")), 160))
	}
	if fam != 0 {
		f := &a.rep.Families[fam-1]
		f.Exchanges = append(f.Exchanges, len(a.rep.Exchanges))
		if f.User == "" && x.Email != "" {
			f.User = x.Email
		}
	}
	a.rep.Exchanges = append(a.rep.Exchanges, x)
	xp := &a.rep.Exchanges[len(a.rep.Exchanges)-1]

	if kind == ExLogin && x.Status >= 400 && x.Status < 500 && x.Status != http.StatusTooManyRequests {
		f := Finding{Kind: FindLoginFailed, Summary: fmt.Sprintf("login as %s failed at %s: HTTP %d%s%s",
			present.OrDash(x.Email), clock(ref.Time), x.Status, colonMsg(x.Message), requestIDWords(xp))}
		f.add(ref)
		a.findings = append(a.findings, f)
	}
	if kind == ExRefresh && x.Status == http.StatusUnauthorized && x.Sent != "" {
		a.rejects = append(a.rejects, reject{ref: ref, fp: x.Sent, kind: KindRefresh, ex: len(a.rep.Exchanges) - 1})
	}
	return xp
}

func colonMsg(m string) string {
	if m == "" {
		return ""
	}
	return " (" + m + ")"
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

func (a *analyzer) newFamily(ref Ref, login bool) int {
	id := len(a.rep.Families) + 1
	a.rep.Families = append(a.rep.Families, Family{ID: id, Start: ref, FromLogin: login, Exchanges: []int{}})
	return id
}

// serverNow is the server's time when it answered: its Date header, else
// the browser's.
func serverNow(e *Entry, started time.Time) time.Time {
	if d := Header(e.Response.Headers, "Date"); d != "" {
		if t, err := http.ParseTime(d); err == nil {
			return t
		}
	}
	return started.Add(e.Duration())
}

// unwrap returns the token object of a flat or {"data": {...}} response.
func unwrap(m map[string]any) map[string]any {
	if _, ok := m["access_token"]; !ok {
		if d, ok := m["data"].(map[string]any); ok {
			return d
		}
	}
	return m
}

func firstString(m map[string]any, keys ...string) string {
	for _, k := range keys {
		switch v := m[k].(type) {
		case string:
			if v != "" {
				return v
			}
		case map[string]any:
			if s := firstString(v, "message"); s != "" {
				return s
			}
		}
	}
	return ""
}

func numberText(v any) string {
	if f, ok := v.(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return "#" + strconv.FormatInt(int64(f), 10)
	}
	return ""
}

// instant reads an expiry: an ISO-8601 instant (Convirza's form) or a
// number of seconds from now.
func instant(v any, now time.Time) time.Time {
	switch x := v.(type) {
	case string:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
			if t, err := time.Parse(layout, strings.TrimSpace(x)); err == nil {
				return t
			}
		}
	case float64:
		if x > 0 && x < 1e9 {
			return now.Add(time.Duration(x * float64(time.Second)))
		}
	}
	return time.Time{}
}
