package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// TokenKind is the token_type of a revoke request.
type TokenKind string

// Token kinds for Revoke.
const (
	AccessToken  TokenKind = "access"
	RefreshToken TokenKind = "refresh"
)

// Client limits and defaults.
const (
	// MaxResponseBytes caps what the client reads of any response.
	MaxResponseBytes = 1 << 20
	// DefaultCallTimeout bounds one call when the context has no deadline.
	DefaultCallTimeout = 30 * time.Second
	// UserAgent is sent with every request.
	UserAgent = "tokentop/0.1 (+https://github.com/tokentop/tokentop)"
)

// Client talks to a Convirza OAuth service and API. The zero value is not
// usable; build one with NewClient. It is safe for concurrent use.
type Client struct {
	http  *http.Client
	clock Clock
}

// NewClient returns a client using hc (nil: a client with sane timeouts) and
// clock (nil: SystemClock). Redirects are never followed silently: a given
// hc without a CheckRedirect policy gets the client's own (see checkRedirect).
func NewClient(hc *http.Client, clock Clock) *Client {
	if clock == nil {
		clock = SystemClock{}
	}
	if hc == nil {
		hc = defaultHTTPClient()
	} else if hc.CheckRedirect == nil {
		cp := *hc
		cp.CheckRedirect = checkRedirect
		hc = &cp
	}
	return &Client{http: hc, clock: clock}
}

// defaultHTTPClient has timeouts on every phase that can hang; the overall
// deadline comes from the context (DefaultCallTimeout when it has none).
func defaultHTTPClient() *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: tr, CheckRedirect: checkRedirect}
}

// checkRedirect follows only GET redirects to the same scheme and host; the
// final 3xx of anything else is returned to the caller, which reports it.
// Following a POST would re-send credentials or a refresh token to wherever
// the server points (and Go would turn it into a GET).
func checkRedirect(req *http.Request, via []*http.Request) error {
	first := via[0]
	if first.Method != http.MethodGet || len(via) >= 5 ||
		req.URL.Scheme != first.URL.Scheme || req.URL.Host != first.URL.Host {
		return http.ErrUseLastResponse
	}
	return nil
}

// heldSecretsKey is the context key of WithHeldSecrets.
type heldSecretsKey struct{}

// WithHeldSecrets returns ctx carrying secrets the caller holds besides the
// one a call sends: the rest of a session's pair (and its frontend token).
// The client redacts them, too, from every server text it reports, because
// a server that echoes its request may echo more than the token of the
// call (a revoke's 500 page quoting the whole session, say).
func WithHeldSecrets(ctx context.Context, secrets ...string) context.Context {
	held := append(heldSecrets(ctx), secrets...)
	return context.WithValue(ctx, heldSecretsKey{}, held)
}

func heldSecrets(ctx context.Context) []string {
	held, _ := ctx.Value(heldSecretsKey{}).([]string)
	return held[:len(held):len(held)] // appending never shares the array
}

// withHeld is the secret of a call followed by those ctx holds.
func withHeld(ctx context.Context, secret string) []string {
	return append([]string{secret}, heldSecrets(ctx)...)
}

// ProbeResult says whether the API accepts an access token right now.
type ProbeResult struct {
	Accepted bool // 2xx, or 403 (accepted but not allowed)
	Status   int  // the HTTP status, or the code of an error envelope sent with HTTP 200
	User     User
	Message  string
	Meta     Meta
}

// Login exchanges email and password for a token pair.
func (c *Client) Login(ctx context.Context, ep Endpoints, email, password string) (TokenSet, Meta, error) {
	const op = "login"
	if err := CheckEndpoints(ep); err != nil {
		return TokenSet{}, Meta{}, fmt.Errorf("%s: %w", op, err)
	}
	if strings.TrimSpace(email) == "" || password == "" {
		return TokenSet{}, Meta{}, fmt.Errorf("%s: %w: email and password are both required", op, ErrBadRequest)
	}
	body := map[string]string{"email": email, "password": password}
	secrets := withHeld(ctx, password)
	res, err := c.do(ctx, op, http.MethodPost, joinURL(ep.OAuthURL, "oauth/token"), body, "", secrets...)
	if err != nil {
		return TokenSet{}, res.meta, err
	}
	if !res.ok() || res.envelopeFailed() {
		return TokenSet{}, res.meta, c.apiError(op, res, secrets...)
	}
	ts, err := c.tokenSet(op, res, secrets...)
	return ts, res.meta, err
}

// Refresh rotates a refresh token into a new pair. The old refresh token is
// dead once the server has answered (or may be, if the answer was lost).
func (c *Client) Refresh(ctx context.Context, ep Endpoints, refreshToken string) (TokenSet, Meta, error) {
	const op = "refresh"
	if err := CheckEndpoints(ep); err != nil {
		return TokenSet{}, Meta{}, fmt.Errorf("%s: %w", op, err)
	}
	if err := checkToken("refresh token", refreshToken); err != nil {
		return TokenSet{}, Meta{}, fmt.Errorf("%s: %w", op, err)
	}
	body := map[string]string{"refresh_token": refreshToken}
	secrets := withHeld(ctx, refreshToken)
	res, err := c.do(ctx, op, http.MethodPost, joinURL(ep.OAuthURL, "oauth/refresh-token"), body, "", secrets...)
	if err != nil {
		return TokenSet{}, res.meta, err
	}
	if !res.ok() || res.envelopeFailed() {
		return TokenSet{}, res.meta, c.apiError(op, res, secrets...)
	}
	ts, err := c.tokenSet(op, res, secrets...)
	return ts, res.meta, err
}

// Revoke kills one token at the server. Unknown or dead tokens succeed.
func (c *Client) Revoke(ctx context.Context, ep Endpoints, token string, kind TokenKind) (Meta, error) {
	const op = "revoke"
	if err := CheckEndpoints(ep); err != nil {
		return Meta{}, fmt.Errorf("%s: %w", op, err)
	}
	if kind != AccessToken && kind != RefreshToken {
		return Meta{}, fmt.Errorf("%s: %w: token type %q is neither %q nor %q", op, ErrBadRequest, snippet(string(kind), 20), AccessToken, RefreshToken)
	}
	if err := checkToken(string(kind)+" token", token); err != nil {
		return Meta{}, fmt.Errorf("%s: %w", op, err)
	}
	body := map[string]string{"token": token, "token_type": string(kind)}
	secrets := withHeld(ctx, token)
	res, err := c.do(ctx, op, http.MethodPost, joinURL(ep.OAuthURL, "oauth/revoke-token"), body, "", secrets...)
	if err != nil {
		return res.meta, err
	}
	if !res.ok() || res.envelopeFailed() {
		return res.meta, c.apiError(op, res, secrets...)
	}
	return res.meta, nil
}

// Probe asks GET {api}/auth/profile whether the access token is accepted.
// A 401 is a result (Accepted false), not an error.
func (c *Client) Probe(ctx context.Context, ep Endpoints, accessToken string) (ProbeResult, error) {
	const op = "probe"
	if err := CheckEndpoints(ep); err != nil {
		return ProbeResult{}, fmt.Errorf("%s: %w", op, err)
	}
	if err := checkToken("access token", accessToken); err != nil {
		return ProbeResult{}, fmt.Errorf("%s: %w", op, err)
	}
	secrets := withHeld(ctx, accessToken)
	res, err := c.do(ctx, op, http.MethodGet, joinURL(ep.APIURL, "auth/profile"), nil, "Bearer "+accessToken, secrets...)
	if err != nil {
		return ProbeResult{Meta: res.meta}, err
	}
	st := res.status()
	pr := ProbeResult{Status: st, Meta: res.meta}
	switch {
	case st >= 200 && st < 300:
		pr.Accepted = true
		if res.tooLarge {
			pr.Message = "accepted; profile not read (response larger than 1 MiB)"
			return pr, nil
		}
		if u, perr := parseProfile(res.body); perr == nil {
			pr.User = u
		} else {
			// The server accepted the token; an odd profile is worth
			// saying, but it does not make the token bad.
			pr.Message = "accepted; profile unreadable: " + perr.Error()
		}
		return pr, nil
	case st == http.StatusUnauthorized:
		pr.Message, _ = serverMessage(res.body, secrets...)
		if pr.Message == "" {
			pr.Message = "token rejected"
		}
		return pr, nil
	case st == http.StatusForbidden:
		pr.Accepted = true
		pr.Message = "accepted but not allowed"
		if msg, _ := serverMessage(res.body, secrets...); msg != "" {
			pr.Message += ": " + msg
		}
		return pr, nil
	}
	return pr, c.apiError(op, res, secrets...)
}

// parseProfile reads the user from a profile body: the success envelope
// {"code","message","data":{user}}, data.user, or a flat user object.
func parseProfile(body []byte) (User, error) {
	obj, err := decodeObject(body)
	if err != nil {
		return User{}, err
	}
	obj = unwrapEnvelope(obj, "user_id")
	if u, ok := obj["user"].(map[string]any); ok && obj["user_id"] == nil {
		obj = u
	}
	return parseUser(obj)
}

// checkToken refuses tokens that cannot be sent as they are. Whitespace and
// control characters are what copy-paste damage looks like; the message
// never shows the token.
func checkToken(what, tok string) error {
	switch {
	case tok == "":
		return fmt.Errorf("%w: empty %s", ErrBadRequest, what)
	case len(tok) > maxTokenLen:
		return fmt.Errorf("%w: %s is %d bytes, longer than %d", ErrBadRequest, what, len(tok), maxTokenLen)
	case strings.ContainsFunc(tok, isControlOrSpace):
		return fmt.Errorf("%w: %s %s contains whitespace or control characters (damaged by copy and paste?)", ErrBadRequest, what, Fingerprint(tok))
	}
	return nil
}

// CheckEndpoints validates both base URLs: absolute, https, or http only for
// loopback hosts (ErrInsecureURL / ErrInvalidURL with a message saying why).
func CheckEndpoints(ep Endpoints) error {
	if err := checkBaseURL("OAuth URL", ep.OAuthURL); err != nil {
		return err
	}
	return checkBaseURL("API URL", ep.APIURL)
}

func checkBaseURL(what, raw string) error {
	if strings.TrimSpace(raw) == "" {
		return fmt.Errorf("%w: %s is empty; give a base URL such as %s", ErrInvalidURL, what, exampleFor(what))
	}
	shown := snippet(hideUserinfo(raw), 100)
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: %s %q does not parse; give a base URL such as %s", ErrInvalidURL, what, shown, exampleFor(what))
	}
	switch {
	case !u.IsAbs() || u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("%w: %s %q is not absolute; give scheme and host, such as %s", ErrInvalidURL, what, shown, exampleFor(what))
	case u.User != nil:
		return fmt.Errorf("%w: %s must not carry credentials (user:password@); give them to login instead", ErrInvalidURL, what)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("%w: %s %q has a query or fragment; give only scheme, host and path", ErrInvalidURL, what, snippet(u.Redacted(), 100))
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if IsLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%w: %s %q uses plain http:// to a non-loopback host, which would send passwords and tokens unencrypted; use https:// (plain http is allowed only for 127.0.0.1, ::1 and localhost, spelled exactly so: any other name, \"localhost.\" included, is looked up in DNS, which may answer with another machine)", ErrInsecureURL, what, shown)
	default:
		return fmt.Errorf("%w: %s %q has scheme %q; use https://", ErrInvalidURL, what, shown, snippet(u.Scheme, 20))
	}
}

// hideUserinfo replaces what looks like "user:password@" in a URL the user
// typed, even one that does not parse, so that an error quoting the URL
// cannot show a password: everything after "scheme://" (or from the start)
// up to the last '@' goes.
func hideUserinfo(raw string) string {
	at := strings.LastIndexByte(raw, '@')
	if at < 0 {
		return raw
	}
	start := 0
	if i := strings.Index(raw, "//"); i >= 0 && i < at {
		start = i + 2
	}
	return raw[:start] + "[redacted]" + raw[at:]
}

func exampleFor(what string) string {
	if strings.HasPrefix(what, "API") {
		return DefaultAPIURL
	}
	return DefaultOAuthURL
}

// IsLoopback reports whether plain http to host stays on this machine: a
// literal address in 127.0.0.0/8 or ::1 (also IPv4-mapped, or with a zone),
// or the name localhost itself (in any case; it comes from the hosts
// file). Every other name is resolved through DNS and may be answered with
// a remote address: names under .localhost, forms net.ParseIP refuses
// (127.1, 0x7f.0.0.1, "127.0.0.1."), and "localhost." with its trailing dot,
// which is a fully qualified name the hosts file need not list. Deciding on
// the host as typed, with nothing trimmed, is deciding on what is dialled.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	h := host
	if i := strings.IndexByte(h, '%'); i >= 0 && strings.Contains(h, ":") { // zone, as in ::1%lo
		h = h[:i]
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// joinURL appends path to base, with exactly one slash between them, keeping
// any path the base has (such as /v3).
func joinURL(base, path string) string {
	return strings.TrimRight(base, "/") + "/" + strings.TrimLeft(path, "/")
}

// response is what do read of one HTTP exchange.
type response struct {
	meta     Meta
	header   http.Header
	body     []byte
	tooLarge bool
}

func (r response) ok() bool { return r.meta.Status >= 200 && r.meta.Status < 300 }

// status is the HTTP status, or for a 2xx whose body is a failed
// {"code": 4xx/5xx, "message"} envelope (some gateways answer errors with
// HTTP 200), that code.
func (r response) status() int {
	if r.ok() && !r.tooLarge {
		if code := envelopeCode(r.body); code >= 400 && code < 600 {
			return code
		}
	}
	return r.meta.Status
}

// envelopeFailed reports a 2xx that is an error in disguise (see status).
func (r response) envelopeFailed() bool { return r.ok() && r.status() != r.meta.Status }

// do sends one request and reads at most MaxResponseBytes of the answer.
// secrets are redacted from anything that could end up in an error. A
// failure to get a complete answer is a *NetworkError whose MaybeSent is
// computed from an httptrace: once the request was fully written, the server
// may have acted on it.
func (c *Client) do(ctx context.Context, op, method, target string, body any, authz string, secrets ...string) (response, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultCallTimeout)
		defer cancel()
	}
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				wrote.Store(true)
			}
		},
	}
	ctx = httptrace.WithClientTrace(ctx, trace)

	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return response{}, fmt.Errorf("%s: encode request: %w", op, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return response{}, fmt.Errorf("%s: %w: %v", op, ErrInvalidURL, err)
	}
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}

	sent := c.clock.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return response{}, &NetworkError{Op: op, MaybeSent: wrote.Load(), Err: scrubErr(err, secrets)}
	}
	defer resp.Body.Close()
	received := c.clock.Now()

	res := response{header: resp.Header, meta: metaFrom(resp, sent, received)}
	res.meta.RequestID = cleanMessage(res.meta.RequestID, secrets, 100)
	res.body, err = io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		// Headers arrived, so the server certainly had the request.
		return res, &NetworkError{Op: op, MaybeSent: true, Err: fmt.Errorf("reading the %d response: %w", resp.StatusCode, scrubErr(err, secrets))}
	}
	if len(res.body) > MaxResponseBytes {
		res.body = res.body[:MaxResponseBytes]
		res.tooLarge = true
	}
	if res.meta.RequestID == "" {
		if _, id := serverMessage(res.body, secrets...); id != "" {
			res.meta.RequestID = id
		}
	}
	return res, nil
}

// scrubErr keeps err matchable but redacts secrets from its text, in case a
// transport error ever quotes what it sent.
func scrubErr(err error, secrets []string) error {
	msg := err.Error()
	if red := redact(msg, secrets); red != msg {
		return &scrubbedError{msg: red, err: err}
	}
	return err
}

type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// metaFrom reads the request id and the server's clock. Date has one-second
// resolution and is truncated, so the server's true time is on average half a
// second after it; and the server stamped it somewhere between send and
// receive, so the midpoint is the best local estimate of that moment.
func metaFrom(resp *http.Response, sent, received time.Time) Meta {
	m := Meta{Status: resp.StatusCode}
	m.RequestID = sanitizeText(resp.Header.Get("X-Request-Id"), 100)
	if d := resp.Header.Get("Date"); d != "" {
		// A Date outside the years expiries may have (a proxy's epoch,
		// year 9999) is broken, not skew: taken at face value it would
		// make every expiry look decades away or long past.
		if t, err := http.ParseTime(d); err == nil && !t.Before(minExpiry) && t.Before(maxExpiry) {
			m.ServerTime = t
			mid := sent.Add(received.Sub(sent) / 2)
			m.ClockOffset = t.Add(500 * time.Millisecond).Sub(mid).Round(time.Millisecond)
		}
	}
	return m
}

// tokenSet parses a 2xx login or refresh answer.
func (c *Client) tokenSet(op string, res response, secrets ...string) (TokenSet, error) {
	if res.tooLarge {
		return TokenSet{}, &APIError{Op: op, Kind: ErrBadResponse, Status: res.meta.Status,
			Message: "response larger than 1 MiB", RequestID: res.meta.RequestID, Meta: res.meta}
	}
	now := c.clock.Now()
	ts, err := parseTokenResponse(res.body, now, res.meta.ClockOffset, false)
	if err != nil {
		return TokenSet{}, &APIError{Op: op, Kind: ErrBadResponse, Status: res.meta.Status,
			Message: cleanMessage(strings.TrimPrefix(err.Error(), ErrBadResponse.Error()+": "), secrets, 300), RequestID: res.meta.RequestID, Meta: res.meta}
	}
	return ts, nil
}

// apiError classifies a non-2xx answer (or a failed envelope) for op.
func (c *Client) apiError(op string, res response, secrets ...string) error {
	st := res.status()
	msg, _ := serverMessage(res.body, secrets...)
	e := &APIError{Op: op, Status: st, Message: msg, RequestID: res.meta.RequestID, Meta: res.meta}
	mentionsToken := strings.Contains(strings.ToLower(msg), "token")
	switch {
	case st >= 300 && st < 400:
		e.Kind = ErrBadResponse
		loc := cleanMessage(res.header.Get("Location"), secrets, 120)
		e.Message = "the server redirected to " + strconv.Quote(loc) + ", which tokentop does not follow (it would re-send credentials or tokens elsewhere); check the base URL, e.g. https:// instead of http://"
	case st == http.StatusTooManyRequests:
		e.Kind = ErrRateLimited
		e.RetryAfter = retryAfter(res.header.Get("Retry-After"), res.meta.ServerTime, c.clock.Now())
	case st >= 500 && st < 600:
		e.Kind = ErrServer
		e.RetryAfter = retryAfter(res.header.Get("Retry-After"), res.meta.ServerTime, c.clock.Now())
	case st == http.StatusNotFound:
		e.Kind = ErrNotFound
		if e.Message == "" {
			e.Message = "check the base URL"
		}
	case op == "login" && (st == http.StatusUnauthorized || st == http.StatusForbidden):
		e.Kind = ErrInvalidCredentials
	case op == "refresh" && (st == http.StatusUnauthorized ||
		((st == http.StatusBadRequest || st == http.StatusForbidden) && mentionsToken)):
		e.Kind = ErrRefreshRejected
	case st == http.StatusUnauthorized:
		e.Kind = ErrUnauthorized
	case st == http.StatusForbidden:
		e.Kind = ErrForbidden
	case st >= 400 && st < 500:
		e.Kind = ErrBadRequest
	default:
		e.Kind = ErrBadResponse
		if e.Message == "" {
			e.Message = "unexpected status"
		}
	}
	return e
}

// maxRetryAfter bounds a server's Retry-After, so a hostile value cannot
// park a session for years.
const maxRetryAfter = 24 * time.Hour

// retryAfter parses Retry-After as seconds or an HTTP-date (measured from
// the server's Date when given, so skew does not distort it).
func retryAfter(v string, serverNow, localNow time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		ref := serverNow
		if ref.IsZero() {
			ref = localNow
		}
		d = t.Sub(ref)
	}
	return min(max(d, 0), maxRetryAfter)
}
