// Package proxy is the HTTP side of `tokentop proxy`: a reverse proxy that
// forwards every request to a session's API URL with the session's current
// access token in place of any Authorization header the client sent. It
// knows nothing of terminals; the command formats its log entries.
package proxy

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/http/httputil"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Headers the proxy reads or writes itself.
const (
	// SecretHeader carries the shared secret clients of a proxy started
	// with --allow-remote must send; it never goes upstream.
	SecretHeader = "Tokentop-Proxy-Secret"
	// NoteHeader, on an answer passed through, says what the proxy did or
	// did not do about it (a 401 not replayed, and why).
	NoteHeader = "Tokentop-Proxy-Note"
	// ErrorHeader marks an answer the proxy made itself, not the server:
	// the session could not give a token, or the server could not be reached.
	ErrorHeader = "Tokentop-Proxy-Error"
)

// DrainFor bounds how long Ctrl-C waits for requests in flight (a stream
// that never ends would otherwise hold the process forever).
const DrainFor = 10 * time.Second

// MaxReplayBody is the largest request body kept in memory so that the
// request can be sent again after a 401 for an expired token.
const MaxReplayBody = 1 << 20

// justExpired is how close to its expiry (by the server's clock) a token
// refused with 401 must have been for the refusal to count as expiry.
const justExpired = 5 * time.Second

// Config wires a Handler.
type Config struct {
	// Session names the session whose token is sent.
	Session string
	// Target is the session's API URL; request paths and queries are
	// appended to it. See CheckTarget.
	Target *url.URL
	// Tokens gives the session's pair (an *auth.Keeper).
	Tokens TokenSource
	// Now is the clock (nil: time.Now); it must be the keeper's.
	Now func() time.Time
	// Transport sends requests upstream (nil: NewTransport()).
	Transport http.RoundTripper
	// Secret, when not empty, must arrive in SecretHeader on every request.
	Secret string
	// Forwarded adds X-Forwarded-For, -Host and -Proto upstream.
	Forwarded bool
	// Log, when set, receives one entry per request, after it ends.
	Log func(Entry)
	// Recorder, when set, is shown every exchange (see Recorder).
	Recorder Recorder
	// Revalidate is how often the cached pair is re-read from the store in
	// the background (default 1s).
	Revalidate time.Duration
}

// Recorder receives each exchange as it completes, already stripped of the
// token the proxy added (a HAR writer, say). The request and response
// bodies are not included: they were streamed, not kept.
type Recorder interface {
	Record(req *http.Request, resp *http.Response, started time.Time, wait time.Duration)
}

// Entry is one request as logged. It holds no secret: the token is named
// by its fingerprint, and secret-looking query values are redacted.
type Entry struct {
	Time     time.Time
	Method   string
	Path     string // path and redacted query, as received
	Status   int
	Upstream time.Duration // from sending upstream to the answer's headers
	Total    time.Duration
	AccessFP string
	// Replayed says the request was sent again after a 401, with ReplayFP.
	Replayed bool
	ReplayFP string
	// Refreshed says a refresh (or adoption) happened because of this request.
	Refreshed bool
	// Note says what the proxy did about an unusual answer, or Error what
	// went wrong when the proxy answered itself.
	Note  string
	Error string
}

// Handler is the proxy. It is safe for concurrent use.
type Handler struct {
	cfg    Config
	now    func() time.Time
	tokens *tokenCache
	rp     *httputil.ReverseProxy
	tr     http.RoundTripper
	up     *upstream // nil: every request goes by tr
	bufs   bufferPool
	noUA   []string // an empty User-Agent, never changed
	served atomic.Uint64
}

// New builds a Handler over cfg; cfg.Target must have passed CheckTarget.
func New(cfg Config) *Handler {
	h := &Handler{cfg: cfg, now: cfg.Now, bufs: newBufferPool(), noUA: []string{""}}
	if h.now == nil {
		h.now = time.Now
	}
	h.tr = cfg.Transport
	if h.tr == nil {
		h.tr = NewTransport()
		h.up = newUpstream(cfg.Target)
	}
	rv := cfg.Revalidate
	if rv <= 0 {
		rv = time.Second
	}
	h.tokens = newTokenCache(cfg.Tokens, cfg.Session, h.now, rv)
	h.rp = &httputil.ReverseProxy{
		Rewrite:   h.rewrite,
		Transport: roundTripper{h},
		// 0, not -1: ReverseProxy flushes server-sent events and answers
		// of unknown length (chunked) after every write anyway, and an
		// answer with a Content-Length then goes out in one write rather
		// than one for the headers and one per body write (a third of the
		// proxy's CPU at 32 connections went to those flushes).
		FlushInterval:  0,
		ErrorHandler:   h.upstreamError,
		ModifyResponse: h.modifyResponse,
		ErrorLog:       nil,
		BufferPool:     h.bufs,
	}
	return h
}

// NewTransport is the upstream transport: keep-alive connections enough for
// many concurrent clients, and encodings passed through untouched.
func NewTransport() *http.Transport {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:       http.ProxyFromEnvironment,
		DialContext: dialer.DialContext,
		// HTTP/1.1 upstream: with keep-alive connections enough for every
		// client it costs less per request than HTTP/2's framing over one
		// connection.
		ForceAttemptHTTP2:     false,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   128,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
}

// Served counts the requests answered so far.
func (h *Handler) Served() uint64 { return h.served.Load() }

// Close waits for token calls started for requests (each bounded), so a
// refresh one of them began is saved before the process ends.
func (h *Handler) Close() {
	h.tokens.close()
	if h.up != nil {
		h.up.closeIdle()
	}
}

// state is one request's bookkeeping, shared by the handler, the rewrite
// and the transport through the request's context.
type state struct {
	entry Entry
	tok   *tokenEntry
	// body is the request body kept for a replay (nil: none kept).
	body     []byte
	hasBody  bool
	noReplay string // why the body cannot be replayed
	// host is the proxy's own host as the client reached it, and tls
	// whether by https, for redirects.
	host string
	tls  bool
	// w is what the client is answered through.
	w statusWriter
	// got1xx shows the client an informational answer (forward sets
	// it; through ReverseProxy, its client trace does).
	got1xx func(code int, hdr textproto.MIMEHeader) error
}

type stateKey struct{}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	st := &state{entry: Entry{Time: h.now(), Method: r.Method, Path: RedactedPath(r.URL)}, host: r.Host, tls: r.TLS != nil}
	defer func() {
		h.served.Add(1)
		st.entry.Total = h.now().Sub(st.entry.Time)
		if h.cfg.Log != nil {
			h.cfg.Log(st.entry)
		}
	}()
	if h.cfg.Secret != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get(SecretHeader)), []byte(h.cfg.Secret)) != 1 {
		h.fail(w, st, http.StatusUnauthorized, "missing or wrong "+SecretHeader+" header: this proxy listens beyond loopback and "+
			"answers only clients that send the shared secret it was started with")
		return
	}
	tok, err := h.tokens.get(r.Context())
	if err != nil {
		h.fail(w, st, http.StatusBadGateway, "no access token for session "+h.cfg.Session+": "+err.Error())
		return
	}
	st.tok = tok
	st.entry.AccessFP = tok.meta.AccessFP
	if err := h.keepBody(r, st); err != nil {
		h.fail(w, st, http.StatusBadRequest, "read the request body: "+err.Error())
		return
	}
	st.w.ResponseWriter = w
	rw := &st.w
	if h.fastPath(r, st) {
		h.forward(rw, r, st)
	} else {
		h.rp.ServeHTTP(rw, r.WithContext(context.WithValue(r.Context(), stateKey{}, st)))
	}
	st.entry.Status = rw.status
}

// keepBody keeps a body of known length up to MaxReplayBody in memory so a
// 401 can be replayed. A longer body, or one of unknown length (chunked),
// is streamed as it arrives: holding it back would stall an upload and
// cost its size in memory.
func (h *Handler) keepBody(r *http.Request, st *state) error {
	switch {
	case r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 && r.Header.Get("Transfer-Encoding") == "":
		return nil
	case r.ContentLength < 0:
		st.hasBody, st.noReplay = true, "its body was streamed (no Content-Length)"
		return nil
	case r.ContentLength > MaxReplayBody:
		st.hasBody, st.noReplay = true, fmt.Sprintf("its body was streamed (over %d bytes)", MaxReplayBody)
		return nil
	}
	body := make([]byte, r.ContentLength)
	if _, err := io.ReadFull(r.Body, body); err != nil {
		return err
	}
	st.hasBody, st.body = true, body
	r.Body = io.NopCloser(bytes.NewReader(body))
	return nil
}

func (h *Handler) rewrite(pr *httputil.ProxyRequest) {
	st := pr.In.Context().Value(stateKey{}).(*state)
	pr.SetURL(h.cfg.Target)
	if h.cfg.Forwarded {
		pr.SetXForwarded()
	}
	pr.Out.Header.Del(SecretHeader)
	pr.Out.Header.Set("Authorization", "Bearer "+st.tok.sec.AccessToken)
}

// roundTripper sends the request upstream and, on a 401 for a token that
// has since expired or been rotated, sends it once more with the new one.
type roundTripper struct{ h *Handler }

func (t roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.h.exchange(req, req.Context().Value(stateKey{}).(*state))
}

// exchange sends req upstream and, on a 401 for a token that has since
// expired or been rotated, sends it once more with the new one.
func (h *Handler) exchange(req *http.Request, st *state) (*http.Response, error) {
	started := h.now()
	resp, err := h.send(req, st)
	st.entry.Upstream = h.now().Sub(started)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		h.record(req, resp, started, st)
		return resp, err
	}
	e, refreshed, why, terr := h.tokens.after401(req.Context(), st.entry.AccessFP, justExpired)
	st.entry.Refreshed = refreshed
	switch {
	case terr != nil:
		h.note(resp, st, "the 401 was passed through: no newer token: "+terr.Error())
	case e == nil:
		h.note(resp, st, "the 401 was passed through: "+why)
	case st.hasBody && st.body == nil:
		h.note(resp, st, "the 401 was passed through: the token had expired and a new one ("+e.meta.AccessFP+
			") is ready, but the request cannot be sent again because "+st.noReplay+"; send it again")
	default:
		drain(resp)
		out := req.Clone(req.Context())
		out.Header.Set("Authorization", "Bearer "+e.sec.AccessToken)
		if st.hasBody {
			out.Body = io.NopCloser(bytes.NewReader(st.body))
		}
		st.entry.Replayed, st.entry.ReplayFP = true, e.meta.AccessFP
		started = h.now()
		resp, err = h.send(out, st)
		st.entry.Upstream += h.now().Sub(started)
		h.record(out, resp, started, st)
		return resp, err
	}
	h.record(req, resp, started, st)
	return resp, nil
}

// send sends req upstream, by the connection pool when it can.
func (h *Handler) send(req *http.Request, st *state) (*http.Response, error) {
	if h.up == nil || !handles(req, st.body) {
		return h.tr.RoundTrip(req)
	}
	got1xx := st.got1xx
	if got1xx == nil {
		if tr := httptrace.ContextClientTrace(req.Context()); tr != nil {
			got1xx = tr.Got1xxResponse
		}
	}
	return h.up.send(req, st.body, got1xx)
}

// modifyResponse points a redirect to the API at the proxy, so that a
// client following it keeps going through the proxy (and keeps being
// authenticated) instead of reaching the server without a token.
func (h *Handler) modifyResponse(resp *http.Response) error {
	h.rewriteRedirect(resp, resp.Request.Context().Value(stateKey{}).(*state))
	return nil
}

func (h *Handler) rewriteRedirect(resp *http.Response, st *state) {
	loc := resp.Header.Get("Location")
	if loc == "" {
		return
	}
	self := "http://" + st.host
	if st.tls {
		self = "https://" + st.host
	}
	if s, ok := rewriteLocation(loc, h.cfg.Target, self); ok {
		resp.Header.Set("Location", s)
	}
}

// rewriteLocation maps a Location under target (absolute, or a path on
// the target's host) to the same place under self, the proxy's origin: a
// path-only one stays path-only. Anything else is left alone.
func rewriteLocation(loc string, target *url.URL, self string) (string, bool) {
	u, err := url.Parse(loc)
	if err != nil || u.Opaque != "" || u.User != nil {
		return "", false
	}
	origin := ""
	switch {
	case u.Scheme == "" && u.Host == "" && strings.HasPrefix(u.Path, "/"):
	case strings.EqualFold(u.Scheme, target.Scheme) && strings.EqualFold(u.Host, target.Host):
		origin = self
	default:
		return "", false
	}
	prefix := strings.TrimSuffix(target.EscapedPath(), "/")
	rest, ok := strings.CutPrefix(u.EscapedPath(), prefix)
	if !ok || rest != "" && rest[0] != '/' {
		return "", false
	}
	if rest == "" {
		rest = "/"
	}
	out := origin + rest
	if u.RawQuery != "" || u.ForceQuery {
		out += "?" + u.RawQuery
	}
	if u.Fragment != "" {
		out += "#" + u.EscapedFragment()
	}
	return out, true
}

func (h *Handler) note(resp *http.Response, st *state, msg string) {
	st.entry.Note = msg
	resp.Header.Set(NoteHeader, headerText(msg))
}

func (h *Handler) record(req *http.Request, resp *http.Response, started time.Time, st *state) {
	if h.cfg.Recorder == nil || resp == nil {
		return
	}
	clean := req.Clone(context.WithoutCancel(req.Context()))
	clean.Header.Del("Authorization")
	h.cfg.Recorder.Record(clean, resp, started, st.entry.Upstream)
}

// drain reads a little of an answer being thrown away, so its connection
// can be reused, and closes it.
func drain(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	_ = resp.Body.Close()
}

func (h *Handler) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	h.upstreamFailed(w, r, r.Context().Value(stateKey{}).(*state), err)
}

func (h *Handler) upstreamFailed(w http.ResponseWriter, r *http.Request, st *state, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client went away; nobody reads an answer.
		st.entry.Error = "the client closed the request"
		w.WriteHeader(499)
		return
	}
	h.fail(w, st, http.StatusBadGateway, "forward to "+h.cfg.Target.Redacted()+": "+err.Error())
}

// fail answers a request the proxy could not forward, saying so in
// ErrorHeader and a plain-text body.
func (h *Handler) fail(w http.ResponseWriter, st *state, status int, msg string) {
	msg = strings.ReplaceAll(msg, h.tokenText(st), "[access token]")
	st.entry.Status, st.entry.Error = status, msg
	w.Header().Set(ErrorHeader, headerText(msg))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, "tokentop proxy: "+msg+"\n")
}

// tokenText is the token a message must not hold ("\x00" when none, which
// no message holds either).
func (h *Handler) tokenText(st *state) string {
	if st.tok == nil || st.tok.sec.AccessToken == "" {
		return "\x00"
	}
	return st.tok.sec.AccessToken
}

// headerText makes msg fit in a header value: one line of printable ASCII.
func headerText(msg string) string {
	b := []byte(msg)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return string(b)
}

// statusWriter remembers the status the client was sent.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	// An informational answer (103 Early Hints, say) is not the status.
	if w.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush and deadlines.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// bufferPool lends ReverseProxy and forward their 32 KiB copy buffers, so
// streaming costs no allocation per request. The pool holds pointers to
// the arrays (a slice in an interface would cost an allocation per Put).
type bufferPool struct{ p *sync.Pool }

const copyBufSize = 32 << 10

func newBufferPool() bufferPool {
	return bufferPool{&sync.Pool{New: func() any { return new([copyBufSize]byte) }}}
}

func (b bufferPool) Get() []byte { return b.p.Get().(*[copyBufSize]byte)[:] }

func (b bufferPool) Put(s []byte) {
	if cap(s) >= copyBufSize {
		b.p.Put((*[copyBufSize]byte)(s[:copyBufSize]))
	}
}
