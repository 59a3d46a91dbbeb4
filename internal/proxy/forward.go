package proxy

import (
	"io"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"strings"
)

// forward is the fast path for the requests most clients send (no body,
// or a small one kept in memory; no protocol upgrade; no Expect): the
// steps of httputil.ReverseProxy that apply to them, without its
// per-request copies of the request, its contexts and its client trace,
// over the upstream connection pool. Everything else goes through
// httputil.ReverseProxy, whose behaviour this follows step for step.
func (h *Handler) forward(w *statusWriter, r *http.Request, st *state) {
	out := h.outRequest(r, st)
	st.got1xx = func(code int, hdr textproto.MIMEHeader) error {
		// As ReverseProxy: the informational answer goes to the client
		// with its own headers, which must not stay for the final one.
		dst := w.Header()
		copyHeader(dst, http.Header(hdr))
		w.WriteHeader(code)
		clear(dst)
		return nil
	}
	resp, err := h.exchange(out, st)
	if err != nil {
		h.upstreamFailed(w, r, st, err)
		return
	}
	defer resp.Body.Close()
	removeHopByHop(resp.Header)
	h.rewriteRedirect(resp, st)
	dst := w.Header()
	copyHeader(dst, resp.Header)
	announced := len(resp.Trailer)
	if announced > 0 {
		keys := make([]string, 0, announced)
		for k := range resp.Trailer {
			keys = append(keys, k)
		}
		dst.Add("Trailer", strings.Join(keys, ", "))
	}
	w.WriteHeader(resp.StatusCode)
	if err := h.copyBody(w, resp); err != nil {
		// Half an answer was sent: all that can be done is to cut the
		// client's connection, as ReverseProxy does.
		if r.Context().Value(http.ServerContextKey) != nil {
			panic(http.ErrAbortHandler)
		}
		return
	}
	_ = resp.Body.Close() // now, so that resp.Trailer is complete
	if len(resp.Trailer) > 0 {
		// Chunked, so that the trailers can follow the body.
		_ = http.NewResponseController(w).Flush()
	}
	if len(resp.Trailer) == announced {
		copyHeader(dst, resp.Trailer)
		return
	}
	for k, vv := range resp.Trailer {
		k = http.TrailerPrefix + k
		for _, v := range vv {
			dst.Add(k, v)
		}
	}
}

// fastPath says whether forward takes r: see forward and handles. A query
// ReverseProxy would rewrite (one with ';' or a broken %-escape, which it
// re-encodes) goes through ReverseProxy too.
func (h *Handler) fastPath(r *http.Request, st *state) bool {
	if h.up == nil || r.ProtoMajor != 1 || !handles(r, st.body) || upgradeRequested(r.Header) {
		return false
	}
	q := r.URL.RawQuery
	for i := 0; i < len(q); i++ {
		switch q[i] {
		case ';':
			return false
		case '%':
			if i+2 >= len(q) || !isHex(q[i+1]) || !isHex(q[i+2]) {
				return false
			}
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// upgradeRequested says whether the Connection header asks for a protocol
// upgrade (a websocket, say): ReverseProxy's to handle.
func upgradeRequested(hdr http.Header) bool {
	for _, v := range hdr["Connection"] {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(textproto.TrimString(t), "upgrade") {
				return true
			}
		}
	}
	return false
}

// outRequest is r as sent upstream, as ReverseProxy with h.rewrite would
// make it: the target's URL, the end-to-end headers, the session's token,
// no client-supplied forwarding headers (new ones with --forwarded), no
// shared secret.
func (h *Handler) outRequest(r *http.Request, st *state) *http.Request {
	out := new(http.Request)
	*out = *r // the same context
	u := *r.URL
	out.URL = &u
	hdr := make(http.Header, len(r.Header)+1)
	for k, vv := range r.Header {
		switch k {
		case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer",
			"Transfer-Encoding", "Upgrade", "Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
			"Authorization", SecretHeader:
			continue
		}
		hdr[k] = vv
	}
	dropConnectionTokens(hdr, r.Header["Connection"])
	if hasToken(r.Header["Te"], "trailers") {
		hdr["Te"] = []string{"trailers"}
	}
	if _, ok := hdr["User-Agent"]; !ok {
		// No Go user agent in the client's name.
		hdr["User-Agent"] = h.noUA
	}
	hdr["Authorization"] = st.tok.authz
	out.Header = hdr
	out.Close = false
	out.Trailer = nil
	out.RequestURI = ""
	if r.ContentLength == 0 {
		out.Body = nil
	}
	pr := httputil.ProxyRequest{In: r, Out: out}
	pr.SetURL(h.cfg.Target)
	if h.cfg.Forwarded {
		pr.SetXForwarded()
	}
	return out
}

// removeHopByHop removes the headers meant for one connection only: those
// the Connection header names, and the standard ones.
func removeHopByHop(hdr http.Header) {
	dropConnectionTokens(hdr, hdr["Connection"])
	for _, k := range []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
		"Te", "Trailer", "Transfer-Encoding", "Upgrade"} {
		delete(hdr, k)
	}
}

func dropConnectionTokens(hdr http.Header, conn []string) {
	for _, v := range conn {
		for _, t := range strings.Split(v, ",") {
			if t = textproto.TrimString(t); t != "" {
				hdr.Del(t)
			}
		}
	}
}

func hasToken(vv []string, token string) bool {
	for _, v := range vv {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(textproto.TrimString(t), token) {
				return true
			}
		}
	}
	return false
}

// copyHeader adds src's values to dst's.
func copyHeader(dst, src http.Header) {
	for k, vv := range src {
		if old, ok := dst[k]; ok {
			dst[k] = append(old, vv...)
		} else {
			dst[k] = vv
		}
	}
}

// copyBody sends the answer's body to the client: as it comes, flushed
// after every read, for server-sent events and answers of unknown length;
// otherwise in as few writes as the server's buffer allows.
func (h *Handler) copyBody(w *statusWriter, resp *http.Response) error {
	stream := resp.ContentLength == -1 || isEventStream(resp.Header.Get("Content-Type"))
	flush := func() {}
	if stream {
		rc := http.NewResponseController(w)
		flush = func() { _ = rc.Flush() }
		// The headers now, even if the first event is a while coming.
		flush()
	}
	buf := h.bufs.Get()
	defer h.bufs.Put(buf)
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
			if stream {
				flush()
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// isEventStream says whether a Content-Type is text/event-stream.
func isEventStream(ct string) bool {
	ct = textproto.TrimString(ct)
	if len(ct) < len("text/event-stream") || !strings.EqualFold(ct[:len("text/event-stream")], "text/event-stream") {
		return false
	}
	rest := textproto.TrimString(ct[len("text/event-stream"):])
	return rest == "" || rest[0] == ';'
}
