package proxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"sync"
	"syscall"
	"time"
)

// upstream sends requests to the one host behind the proxy over a pool of
// HTTP/1.1 keep-alive connections, on the calling goroutine: the request
// is written with the standard library's own framing ((*http.Request).Write)
// and the answer read with http.ReadResponse. http.Transport does the same
// work through two goroutines per connection and a handoff through
// channels for every request and every answer; at 32 connections those
// handoffs and their wakeups were the largest part of the proxy's CPU per
// request.
//
// It takes only the requests it can answer as http.Transport would (see
// handles); the others go through the Transport.
type upstream struct {
	addr   string      // host:port to dial
	tlsCfg *tls.Config // nil for http
	dialer net.Dialer
	now    func() time.Time

	mu     sync.Mutex
	idle   []*upConn // most recently used last
	closed bool
}

// Limits as http.Transport's in NewTransport and its defaults.
const (
	upMaxIdle         = 128
	upIdleTimeout     = 90 * time.Second
	upHandshake       = 10 * time.Second
	upMaxHeaderBytes  = 10 << 20 // the Transport's default MaxResponseHeaderBytes
	upMax1xx          = 5        // informational answers in a row not shown to anyone
	upMaxInMemoryBody = 16 << 10
)

// newUpstream returns the fast path to target, or nil when the Transport
// must be used for every request: an HTTP proxy from the environment
// applies to target.
func newUpstream(target *url.URL) *upstream {
	if p, err := http.ProxyFromEnvironment(&http.Request{URL: target}); err != nil || p != nil {
		return nil
	}
	host, port := target.Hostname(), target.Port()
	u := &upstream{dialer: net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}, now: time.Now}
	switch target.Scheme {
	case "http":
		if port == "" {
			port = "80"
		}
	case "https":
		if port == "" {
			port = "443"
		}
		// Certificates are verified as the Transport does (system roots,
		// the host's name); only HTTP/1.1 is offered.
		u.tlsCfg = &tls.Config{ServerName: host, NextProtos: []string{"http/1.1"}}
	default:
		return nil
	}
	u.addr = net.JoinHostPort(host, port)
	return u
}

// handles says whether req, whose body is body when it was kept in
// memory, can go by the fast path. Protocol upgrades and Expect:
// 100-continue are the Transport's. So is a body that is not in memory
// and small: written on the goroutine that then reads the answer, a body
// the server stops reading (answering early, a 401 say) would block the
// write, where the Transport reads the early answer while it still writes.
func handles(req *http.Request, body []byte) bool {
	if req.Header.Get("Upgrade") != "" || req.Header.Get("Expect") != "" {
		return false
	}
	if req.Body == nil || req.Body == http.NoBody {
		return true
	}
	return body != nil && int64(len(body)) == req.ContentLength && len(body) <= upMaxInMemoryBody
}

// upConn is one connection to the upstream.
type upConn struct {
	u    *upstream
	nc   net.Conn // what requests go over (a *tls.Conn for https)
	raw  net.Conn // the TCP connection under it
	r    countReader
	br   *bufio.Reader
	w    countWriter
	bw   *bufio.Writer
	used bool      // has carried a request before this one
	idle time.Time // when it was put back

	// For alive: the socket, and the peek's function and answer.
	sys     syscall.RawConn
	peekFn  func(fd uintptr) bool
	peekBuf [1]byte
	open    bool
}

// countReader reads from the connection, counting the bytes read, and
// stops after limit bytes (while an answer's header is read).
type countReader struct {
	nc    net.Conn
	n     int64
	limit int64
}

var errHeaderTooLong = fmt.Errorf("net/http: server response headers exceeded %d bytes; aborted", upMaxHeaderBytes)

func (r *countReader) Read(p []byte) (int, error) {
	if r.n >= r.limit {
		return 0, errHeaderTooLong
	}
	if left := r.limit - r.n; int64(len(p)) > left {
		p = p[:left]
	}
	n, err := r.nc.Read(p)
	r.n += int64(n)
	return n, err
}

// countWriter writes to the connection, counting the bytes written.
type countWriter struct {
	nc net.Conn
	n  int64
}

func (w *countWriter) Write(p []byte) (int, error) {
	n, err := w.nc.Write(p)
	w.n += int64(n)
	return n, err
}

// get returns an idle connection that still looks open, or a new one.
func (u *upstream) get(ctx context.Context) (*upConn, error) {
	now := u.now()
	for {
		u.mu.Lock()
		n := len(u.idle)
		if n == 0 {
			u.mu.Unlock()
			break
		}
		c := u.idle[n-1]
		u.idle[n-1] = nil
		u.idle = u.idle[:n-1]
		u.mu.Unlock()
		if now.Sub(c.idle) < upIdleTimeout && c.alive() {
			return c, nil
		}
		c.close()
	}
	return u.dial(ctx)
}

func (u *upstream) dial(ctx context.Context) (*upConn, error) {
	raw, err := u.dialer.DialContext(ctx, "tcp", u.addr)
	if err != nil {
		return nil, err
	}
	c := &upConn{u: u, nc: raw, raw: raw}
	if sc, ok := raw.(syscall.Conn); ok {
		c.sys, _ = sc.SyscallConn()
	}
	if u.tlsCfg != nil {
		tc := tls.Client(raw, u.tlsCfg)
		hctx, cancel := context.WithTimeout(ctx, upHandshake)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			_ = raw.Close()
			return nil, err
		}
		if p := tc.ConnectionState().NegotiatedProtocol; p != "" && p != "http/1.1" {
			_ = raw.Close()
			return nil, fmt.Errorf("the server chose protocol %q, not http/1.1", p)
		}
		c.nc = tc
	}
	c.r = countReader{nc: c.nc, limit: upMaxHeaderBytes}
	c.br = bufio.NewReader(&c.r)
	c.w = countWriter{nc: c.nc}
	c.bw = bufio.NewWriter(&c.w)
	return c, nil
}

// put returns a connection whose last answer was read whole.
func (u *upstream) put(c *upConn) {
	c.used, c.idle = true, u.now()
	u.mu.Lock()
	if u.closed || len(u.idle) >= upMaxIdle {
		u.mu.Unlock()
		c.close()
		return
	}
	u.idle = append(u.idle, c)
	u.mu.Unlock()
}

// closeIdle closes the idle connections and any put back later.
func (u *upstream) closeIdle() {
	u.mu.Lock()
	idle := u.idle
	u.idle, u.closed = nil, true
	u.mu.Unlock()
	for _, c := range idle {
		c.close()
	}
}

func (c *upConn) close() { _ = c.nc.Close() }

// send sends req (which handles accepted, with body) and returns the answer's
// header; the body is read from the connection as the caller reads it,
// and the connection goes back to the pool once the body was read whole.
//
// As the Transport, it sends a request again on a new connection when a
// reused one turns out to have been closed by the server: when nothing
// was written, or when the request is idempotent and nothing was read.
func (u *upstream) send(req *http.Request, body []byte, got1xx func(int, textproto.MIMEHeader) error) (*http.Response, error) {
	ctx := req.Context()
	for {
		c, err := u.get(ctx)
		if err != nil {
			return nil, err
		}
		resp, wrote, err := c.roundTrip(ctx, req, body, got1xx)
		if err == nil {
			return resp, nil
		}
		c.close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !c.used || wrote > 0 && !(idempotent(req) && c.r.n == 0) {
			return nil, err
		}
		// A reused connection the server had closed: again on another.
	}
}

// idempotent is the Transport's rule for sending a request again.
func idempotent(req *http.Request) bool {
	switch req.Method {
	case "GET", "HEAD", "OPTIONS", "TRACE":
		return true
	}
	_, a := req.Header["Idempotency-Key"]
	_, b := req.Header["X-Idempotency-Key"]
	return a || b
}

// roundTrip writes req and reads the answer's header on c. wrote is how
// many bytes went out; c.r.n how many came in.
func (c *upConn) roundTrip(ctx context.Context, req *http.Request, body []byte, got1xx func(int, textproto.MIMEHeader) error) (resp *http.Response, wrote int64, err error) {
	// A client that goes away aborts the exchange, as with the Transport:
	// the deadline wakes a blocked read or write, and the connection is
	// not reused.
	stop := context.AfterFunc(ctx, func() { _ = c.raw.SetDeadline(time.Unix(1, 0)) })
	c.w.n, c.r.n, c.r.limit = 0, 0, upMaxHeaderBytes
	out := req
	if req.Body != nil && req.Body != http.NoBody {
		// The body is in memory (handles): a reader that says so goes
		// out in the same write as the header.
		cp := *req
		cp.Body = io.NopCloser(bytes.NewReader(body))
		out = &cp
	}
	err = out.Write(c.bw)
	if err == nil {
		err = c.bw.Flush()
	}
	if err != nil {
		stop()
		return nil, c.w.n, err
	}
	for n1xx := 0; ; {
		resp, err = http.ReadResponse(c.br, req)
		if err != nil {
			stop()
			return nil, c.w.n, err
		}
		code := resp.StatusCode
		if code < 100 || code > 199 || code == http.StatusSwitchingProtocols {
			break
		}
		// An informational answer: shown to the client, then the next.
		c.r.limit = c.r.n + upMaxHeaderBytes
		if n1xx++; n1xx > upMax1xx {
			stop()
			return nil, c.w.n, errors.New("net/http: too many 1xx informational responses")
		}
		if got1xx != nil {
			if err := got1xx(code, textproto.MIMEHeader(resp.Header)); err != nil {
				stop()
				return nil, c.w.n, err
			}
			n1xx = 0
		}
	}
	c.r.limit = 1<<63 - 1
	reuse := !resp.Close && !req.Close && resp.StatusCode != http.StatusSwitchingProtocols
	if resp.Body == http.NoBody {
		c.release(stop, reuse)
		return resp, c.w.n, nil
	}
	resp.Body = &upBody{rc: resp.Body, c: c, stop: stop, reuse: reuse}
	return resp, c.w.n, nil
}

// release ends an exchange whose answer was read whole: the connection
// goes back to the pool unless it must not be reused or the client's
// context already cut it off.
func (c *upConn) release(stop func() bool, reuse bool) {
	if stop() && reuse {
		c.u.put(c)
		return
	}
	c.close()
}

// upBody is an answer's body on its connection.
type upBody struct {
	rc    io.ReadCloser
	c     *upConn
	stop  func() bool
	reuse bool
	done  bool
}

func (b *upBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.rc.Read(p)
	if err == io.EOF {
		// Read whole (trailers included): the connection is free.
		b.done = true
		b.c.release(b.stop, b.reuse)
	}
	return n, err
}

// Close before the end of the body closes the connection: what is left of
// the answer is not read, and the connection cannot carry another.
func (b *upBody) Close() error {
	if !b.done {
		b.done = true
		b.stop()
		b.c.close()
	}
	return nil
}
