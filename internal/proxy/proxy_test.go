package proxy_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/auth/authtest"
	"github.com/tokentop/tokentop/auth/emulator"
	"github.com/tokentop/tokentop/internal/proxy"
	"github.com/tokentop/tokentop/storage"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// env is an emulator behind an upstream the test can steer, a memory
// store with one session "s", a keeper, and the proxy in front.
type env struct {
	t     testing.TB
	clock *authtest.FakeClock
	emu   *emulator.Server
	up    *httptest.Server
	k     *auth.Keeper
	store *storage.Store
	h     *proxy.Handler
	srv   *httptest.Server

	mu      sync.Mutex
	route   func(w http.ResponseWriter, r *http.Request) bool // answers instead of the emulator when it returns true
	entries []proxy.Entry
}

func newEnv(t testing.TB, accessTTL time.Duration, cfg func(*proxy.Config)) *env {
	t.Helper()
	e := &env{t: t, clock: authtest.NewFakeClock(t0)}
	e.emu = emulator.New(emulator.Config{Now: e.clock.Now, LoginRate: -1})
	e.up = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		f := e.route
		e.mu.Unlock()
		if f != nil && f(w, r) {
			return
		}
		e.emu.ServeHTTP(w, r)
	}))
	t.Cleanup(e.up.Close)
	ep := auth.Endpoints{OAuthURL: e.up.URL, APIURL: e.up.URL + "/v3"}
	st, err := storage.Open(storage.Options{Backend: storage.BackendMemory, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.store = st
	e.k = auth.NewKeeper(auth.KeeperConfig{Store: st, Client: auth.NewClient(e.up.Client(), e.clock), Clock: e.clock,
		Jitter: func() float64 { return 0.5 }})
	body, err := e.emu.Issue(emulator.DefaultUser().Email, accessTTL, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.k.Import(context.Background(), "s", ep, body, auth.ImportOptions{KeepAlive: true}); err != nil {
		t.Fatal(err)
	}
	target, err := proxy.CheckTarget(ep.APIURL)
	if err != nil {
		t.Fatal(err)
	}
	c := proxy.Config{Session: "s", Target: target, Tokens: e.k, Now: e.clock.Now, Revalidate: time.Hour,
		Log: func(en proxy.Entry) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.entries = append(e.entries, en)
		}}
	if cfg != nil {
		cfg(&c)
	}
	e.h = proxy.New(c)
	e.srv = httptest.NewServer(e.h)
	t.Cleanup(func() { e.srv.Close(); e.h.Close() })
	return e
}

func (e *env) setRoute(f func(w http.ResponseWriter, r *http.Request) bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.route = f
}

func (e *env) secrets() auth.Secrets {
	e.t.Helper()
	sec, err := e.store.Secrets(context.Background(), "s")
	if err != nil {
		e.t.Fatal(err)
	}
	return sec
}

func (e *env) lastEntry() proxy.Entry {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.entries) == 0 {
		e.t.Fatal("no log entry")
	}
	return e.entries[len(e.entries)-1]
}

func (e *env) do(req *http.Request) (*http.Response, string) {
	e.t.Helper()
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, string(b)
}

func (e *env) get(path string, hdr ...string) (*http.Response, string) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return e.do(req)
}

func TestReplacesAuthorizationAndForwardsPathAndQuery(t *testing.T) {
	e := newEnv(t, time.Hour, nil)
	var got *http.Request
	e.setRoute(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/v3/calls/list" {
			return false
		}
		got = r.Clone(context.Background())
		w.Header().Set("Connection", "X-Hop")
		w.Header().Set("X-Hop", "dropped")
		w.Header().Set("X-End", "kept")
		w.Header().Set("Trailer", "X-Sum")
		_, _ = io.WriteString(w, "ok")
		w.Header().Set("X-Sum", "42")
		return true
	})
	resp, body := e.get("/calls/list?page=2&access_token=leaked", "Authorization", "Bearer client-token", "X-Forwarded-For", "10.9.9.9")
	if resp.StatusCode != 200 || body != "ok" {
		t.Fatalf("status %d body %q", resp.StatusCode, body)
	}
	if want := "Bearer " + e.secrets().AccessToken; got.Header.Get("Authorization") != want {
		t.Errorf("upstream Authorization %q, want the session's token", got.Header.Get("Authorization"))
	}
	if got.URL.RawQuery != "page=2&access_token=leaked" {
		t.Errorf("upstream query %q", got.URL.RawQuery)
	}
	if v := got.Header.Get("X-Forwarded-For"); v != "" {
		t.Errorf("X-Forwarded-For %q sent upstream without --forwarded", v)
	}
	if resp.Header.Get("X-Hop") != "" || resp.Header.Get("X-End") != "kept" {
		t.Errorf("hop-by-hop header passed or end-to-end header lost: %v", resp.Header)
	}
	if resp.Trailer.Get("X-Sum") != "42" {
		t.Errorf("trailer lost: %v", resp.Trailer)
	}
	en := e.lastEntry()
	if en.Status != 200 || en.AccessFP != auth.Fingerprint(e.secrets().AccessToken) || en.Method != "GET" {
		t.Errorf("log entry %+v", en)
	}
	if strings.Contains(en.Path, "leaked") || !strings.Contains(en.Path, "page=2") {
		t.Errorf("logged path %q: want the secret query value redacted, the rest kept", en.Path)
	}
}

func TestForwardedHeadersOnlyWhenAsked(t *testing.T) {
	e := newEnv(t, time.Hour, func(c *proxy.Config) { c.Forwarded = true })
	var xff string
	e.setRoute(func(w http.ResponseWriter, r *http.Request) bool {
		xff = r.Header.Get("X-Forwarded-For")
		return false
	})
	if resp, _ := e.get("/auth/profile", "X-Forwarded-For", "10.9.9.9"); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if xff != "127.0.0.1" {
		t.Errorf("X-Forwarded-For %q, want the client's address only (a client's own value is not trusted)", xff)
	}
}

func TestConcurrentRequestsShareOneRefresh(t *testing.T) {
	e := newEnv(t, 100*time.Second, nil)
	e.clock.Advance(80 * time.Second) // inside the 30 s refresh window
	var wg sync.WaitGroup
	codes := make(chan int, 32)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := e.srv.Client().Get(e.srv.URL + "/auth/profile")
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Errorf("status %d", c)
		}
	}
	if st := e.emu.Stats(); st.Refreshes != 1 || st.ReuseDetected != 0 {
		t.Errorf("emulator stats %+v: want one refresh and no reuse", st)
	}
}

// strictRotation makes the upstream refuse any access token but the one
// the store holds now, as a server that kills the old token on rotation.
func (e *env) strictRotation() {
	e.setRoute(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasPrefix(r.URL.Path, "/v3/") {
			return false
		}
		sec, err := e.store.Secrets(r.Context(), "s")
		if err == nil && r.Header.Get("Authorization") == "Bearer "+sec.AccessToken {
			return false
		}
		w.WriteHeader(http.StatusUnauthorized)
		return true
	})
}

func TestReplaysAfter401ForARotatedToken(t *testing.T) {
	e := newEnv(t, time.Hour, nil)
	var bodies []string
	if resp, _ := e.get("/auth/profile"); resp.StatusCode != 200 { // caches the pair
		t.Fatalf("status %d", resp.StatusCode)
	}
	other := auth.NewKeeper(auth.KeeperConfig{Store: e.store, Client: auth.NewClient(e.up.Client(), e.clock), Clock: e.clock, PID: 4242})
	if _, err := other.Refresh(context.Background(), "s"); err != nil {
		t.Fatal(err)
	}
	e.strictRotation()
	inner := e.route
	e.setRoute(func(w http.ResponseWriter, r *http.Request) bool {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		r.Body = io.NopCloser(strings.NewReader(string(b)))
		return inner(w, r)
	})
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/auth/profile", strings.NewReader("payload"))
	resp, _ := e.do(req)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d (note %q): want the request replayed with the rotated token", resp.StatusCode, resp.Header.Get(proxy.NoteHeader))
	}
	if len(bodies) != 2 || bodies[0] != "payload" || bodies[1] != "payload" {
		t.Errorf("upstream bodies %q: want the body sent twice, whole", bodies)
	}
	en := e.lastEntry()
	if !en.Replayed || en.ReplayFP != auth.Fingerprint(e.secrets().AccessToken) || en.ReplayFP == en.AccessFP {
		t.Errorf("entry %+v: want a replay with the new token", en)
	}
	if st := e.emu.Stats(); st.Refreshes != 1 {
		t.Errorf("refreshes %d: want only the other process's", st.Refreshes)
	}
}

func TestReplaysAfter401ForATokenThatExpiredInFlight(t *testing.T) {
	e := newEnv(t, 100*time.Second, nil)
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	e.setRoute(func(w http.ResponseWriter, r *http.Request) bool {
		once.Do(func() { close(entered); <-release })
		return false
	})
	done := make(chan *http.Response)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/auth/profile", strings.NewReader("{}"))
		resp, _ := e.do(req)
		done <- resp
	}()
	<-entered
	e.clock.Advance(101 * time.Second) // the token expires while the server works
	close(release)
	resp := <-done
	if resp.StatusCode != 200 {
		t.Fatalf("status %d (note %q)", resp.StatusCode, resp.Header.Get(proxy.NoteHeader))
	}
	if en := e.lastEntry(); !en.Replayed || !en.Refreshed {
		t.Errorf("entry %+v: want refreshed and replayed", en)
	}
	if st := e.emu.Stats(); st.Refreshes != 1 || st.ReuseDetected != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestRefreshesAfter401ForATokenAboutToExpire(t *testing.T) {
	// A 4 s token is refreshed 2 s before expiry; refused with 3 s left,
	// it has as good as expired, so the proxy rotates it and replays.
	e := newEnv(t, 4*time.Second, nil)
	e.strictRotation()
	first := e.secrets().AccessToken
	inner := e.route
	e.setRoute(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasPrefix(r.URL.Path, "/v3/") && r.Header.Get("Authorization") == "Bearer "+first {
			w.WriteHeader(http.StatusUnauthorized)
			return true
		}
		return inner(w, r)
	})
	e.clock.Advance(time.Second)
	resp, _ := e.get("/auth/profile")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d (note %q)", resp.StatusCode, resp.Header.Get(proxy.NoteHeader))
	}
	if st := e.emu.Stats(); st.Refreshes != 1 {
		t.Errorf("refreshes %d, want 1", st.Refreshes)
	}
}

func TestPasses401ForAValidTokenThrough(t *testing.T) {
	e := newEnv(t, time.Hour, nil)
	e.setRoute(func(w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"message":"out of scope"}`)
		return true
	})
	resp, body := e.get("/groups/org-list")
	if resp.StatusCode != 401 || body != `{"message":"out of scope"}` {
		t.Fatalf("status %d body %q: want the server's 401 as it was", resp.StatusCode, body)
	}
	if note := resp.Header.Get(proxy.NoteHeader); !strings.Contains(note, "not refreshed") {
		t.Errorf("note %q: want it to say why nothing was retried", note)
	}
	if st := e.emu.Stats(); st.Refreshes != 0 {
		t.Errorf("refreshes %d: a 401 for a valid token must not rotate", st.Refreshes)
	}
}

func TestStreamedBodyIsNotReplayed(t *testing.T) {
	e := newEnv(t, time.Hour, nil)
	if resp, _ := e.get("/auth/profile"); resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	other := auth.NewKeeper(auth.KeeperConfig{Store: e.store, Client: auth.NewClient(e.up.Client(), e.clock), Clock: e.clock, PID: 4242})
	if _, err := other.Refresh(context.Background(), "s"); err != nil {
		t.Fatal(err)
	}
	e.strictRotation()
	pr, pw := io.Pipe()
	go func() { _, _ = io.WriteString(pw, "chunk"); pw.Close() }()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/upload", pr) // no length: chunked
	resp, _ := e.do(req)
	if resp.StatusCode != 401 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if note := resp.Header.Get(proxy.NoteHeader); !strings.Contains(note, "cannot be sent again") || !strings.Contains(note, "send it again") {
		t.Errorf("note %q", note)
	}
	// The client's own retry goes through with the new token.
	if resp, _ := e.get("/auth/profile"); resp.StatusCode != 200 {
		t.Errorf("retry status %d", resp.StatusCode)
	}
}

func TestStreamsBothWays(t *testing.T) {
	e := newEnv(t, time.Hour, nil)
	gotChunk, sendMore := make(chan string), make(chan struct{})
	e.setRoute(func(w http.ResponseWriter, r *http.Request) bool {
		switch r.URL.Path {
		case "/v3/upload":
			buf := make([]byte, 5)
			_, _ = io.ReadFull(r.Body, buf)
			gotChunk <- string(buf) // before the client has finished sending
			_, _ = io.Copy(io.Discard, r.Body)
			return true
		case "/v3/events":
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "data: one\n\n")
			http.NewResponseController(w).Flush()
			<-sendMore
			_, _ = io.WriteString(w, "data: two\n\n")
			return true
		}
		return false
	})
	pr, pw := io.Pipe()
	go func() {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/upload", pr)
		resp, err := e.srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
	}()
	_, _ = io.WriteString(pw, "first")
	select {
	case c := <-gotChunk:
		if c != "first" {
			t.Errorf("chunk %q", c)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the upload's first chunk did not reach the server while the body was still open: buffered")
	}
	pw.Close()

	resp, err := e.srv.Client().Get(e.srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != "data: one\n" {
		t.Fatalf("first event %q, %v: want it before the stream ends", line, err)
	}
	close(sendMore)

	// A chunked answer of any other type (no Content-Length) is flushed as
	// it comes too, not only server-sent events.
	ndjsonMore := make(chan struct{})
	e.setRoute(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/x-ndjson")
		_, _ = io.WriteString(w, "{\"n\":1}\n")
		http.NewResponseController(w).Flush()
		<-ndjsonMore
		_, _ = io.WriteString(w, "{\"n\":2}\n")
		return true
	})
	defer close(ndjsonMore)
	resp2, err := e.srv.Client().Get(e.srv.URL + "/lines")
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	line, err = bufio.NewReader(resp2.Body).ReadString('\n')
	if err != nil || line != "{\"n\":1}\n" {
		t.Fatalf("first line %q, %v: want it before the stream ends", line, err)
	}
}

func TestSharedSecret(t *testing.T) {
	e := newEnv(t, time.Hour, func(c *proxy.Config) { c.Secret = "s3cret-value" })
	var sent string
	e.setRoute(func(w http.ResponseWriter, r *http.Request) bool {
		sent = r.Header.Get(proxy.SecretHeader)
		return false
	})
	resp, body := e.get("/auth/profile")
	if resp.StatusCode != 401 || resp.Header.Get(proxy.ErrorHeader) == "" || !strings.Contains(body, proxy.SecretHeader) {
		t.Fatalf("without the secret: status %d body %q", resp.StatusCode, body)
	}
	if resp, _ := e.get("/auth/profile", proxy.SecretHeader, "wrong"); resp.StatusCode != 401 {
		t.Fatalf("wrong secret: status %d", resp.StatusCode)
	}
	if resp, _ := e.get("/auth/profile", proxy.SecretHeader, "s3cret-value"); resp.StatusCode != 200 {
		t.Fatalf("with the secret: status %d", resp.StatusCode)
	}
	if sent != "" {
		t.Errorf("the shared secret went upstream")
	}
}

func TestNoTokenAnswers502WithTheReason(t *testing.T) {
	e := newEnv(t, time.Hour, nil)
	if err := e.store.Delete(context.Background(), "s"); err != nil {
		t.Fatal(err)
	}
	resp, body := e.get("/auth/profile")
	if resp.StatusCode != http.StatusBadGateway || resp.Header.Get(proxy.ErrorHeader) == "" || !strings.Contains(body, "session s") {
		t.Fatalf("status %d body %q", resp.StatusCode, body)
	}
}

func TestUpstreamDownAnswers502(t *testing.T) {
	e := newEnv(t, time.Hour, nil)
	if resp, _ := e.get("/auth/profile"); resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	e.up.Close()
	resp, body := e.get("/auth/profile")
	if resp.StatusCode != http.StatusBadGateway || resp.Header.Get(proxy.ErrorHeader) == "" {
		t.Fatalf("status %d body %q", resp.StatusCode, body)
	}
	if strings.Contains(body, e.secrets().AccessToken) {
		t.Error("the token is in the error")
	}
}

func TestCheckListen(t *testing.T) {
	for _, c := range []struct {
		addr   string
		remote bool
		ok     bool
	}{
		{"127.0.0.1:8788", false, true},
		{"[::1]:8788", false, true},
		{"localhost:8788", false, true},
		{"0.0.0.0:8788", false, false},
		{":8788", false, false},
		{"192.168.1.5:8788", false, false},
		{"localhost.:8788", false, false},
		{"0.0.0.0:8788", true, true},
		{"127.0.0.1", false, false},
	} {
		if err := proxy.CheckListen(c.addr, c.remote); (err == nil) != c.ok {
			t.Errorf("CheckListen(%q, %v) = %v", c.addr, c.remote, err)
		}
	}
}

func TestCheckTarget(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://platform-api.convirza.com/v3": true,
		"http://127.0.0.1:8787/v3":             true,
		"http://localhost:8787/v3":             true,
		"http://platform-api.convirza.com/v3":  false,
		"http://127.0.0.1.nip.io/v3":           false,
		"ftp://example.com/":                   false,
	} {
		if _, err := proxy.CheckTarget(raw); (err == nil) != ok {
			t.Errorf("CheckTarget(%q) = %v", raw, err)
		}
	}
}

func TestRedactedPath(t *testing.T) {
	u, _ := url.Parse("/v3/x?page=2&api_key=abc&Access%5FToken=def&sig=1&plain")
	if got, want := proxy.RedactedPath(u), "/v3/x?page=2&api_key=REDACTED&Access%5FToken=REDACTED&sig=REDACTED&plain"; got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestRedirectsToTheAPIPointAtTheProxy(t *testing.T) {
	e := newEnv(t, time.Hour, nil)
	e.setRoute(func(w http.ResponseWriter, r *http.Request) bool {
		if loc, ok := strings.CutPrefix(r.URL.Path, "/v3/redirect/"); ok {
			loc, _ = url.PathUnescape(loc)
			loc = strings.ReplaceAll(loc, "UP", e.up.URL)
			w.Header().Set("Location", loc)
			w.WriteHeader(http.StatusFound)
			return true
		}
		return false
	})
	p := e.srv.URL
	other := "https://elsewhere.example/v3/x"
	for _, c := range []struct{ loc, want string }{
		{"UP/v3/auth/profile?a=1", p + "/auth/profile?a=1"},
		{"UP/v3", p + "/"},
		{"UP/v3/", p + "/"},
		{"/v3/auth/profile#frag", "/auth/profile#frag"},
		{"UP/elsewhere", "UP/elsewhere"}, // outside the API URL: untouched
		{"UP/v3x/a", "UP/v3x/a"},
		{"/v3x/a", "/v3x/a"},
		{other, other},
		{"relative/x", "relative/x"},
	} {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/redirect/"+url.PathEscape(c.loc), nil)
		resp, err := e.srv.Client().Transport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := strings.ReplaceAll(c.want, "UP", e.up.URL)
		if got := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || got != want {
			t.Errorf("Location %q: got %d %q, want %q", c.loc, resp.StatusCode, got, want)
		}
	}
}

// BenchmarkProxiedGET is a small authenticated GET through the proxy over
// keep-alive connections; the allocations include the client's and the
// upstream's, which are the same for any proxy.
func BenchmarkProxiedGET(b *testing.B) {
	e := newEnv(b, time.Hour, nil)
	e.setRoute(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"code":200,"message":"Success","data":{"ok":true}}`)
		return true
	})
	c := e.srv.Client()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := c.Get(e.srv.URL + "/small")
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

// rawAnswer answers on the connection itself: the raw bytes, then, when
// hangUp, the connection closed with no Connection: close said.
func rawAnswer(t testing.TB, w http.ResponseWriter, raw string, hangUp bool) {
	conn, bw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Error(err)
		return
	}
	_, _ = bw.WriteString(raw)
	_ = bw.Flush()
	if hangUp {
		_ = conn.Close()
	}
}

func TestKeepsUpstreamConnectionsAlive(t *testing.T) {
	e := newEnv(t, time.Hour, nil)
	conns := map[string]bool{}
	e.setRoute(func(w http.ResponseWriter, r *http.Request) bool {
		conns[r.RemoteAddr] = true
		switch r.URL.Path {
		case "/v3/head":
			w.Header().Set("Content-Length", "1000") // HEAD: no body follows
		case "/v3/empty":
			w.WriteHeader(http.StatusNoContent)
		case "/v3/same":
			w.WriteHeader(http.StatusNotModified)
		default:
			_, _ = io.WriteString(w, "body of "+r.URL.Path)
		}
		return true
	})
	for i, c := range []struct{ method, path, body string }{
		{"GET", "/a", "body of /v3/a"}, {"HEAD", "/head", ""}, {"GET", "/empty", ""}, {"GET", "/same", ""},
		{"POST", "/b", "body of /v3/b"}, {"GET", "/c", "body of /v3/c"},
	} {
		req, _ := http.NewRequest(c.method, e.srv.URL+c.path, strings.NewReader("x"))
		resp, body := e.do(req)
		if resp.StatusCode >= 400 || body != c.body {
			t.Fatalf("request %d %s %s: status %d body %q, want %q", i, c.method, c.path, resp.StatusCode, body, c.body)
		}
	}
	if len(conns) != 1 {
		t.Errorf("%d upstream connections for requests one after another: want one kept alive", len(conns))
	}
}

func TestAConnectionTheServerClosedIsNotUsed(t *testing.T) {
	e := newEnv(t, time.Hour, nil)
	e.setRoute(func(w http.ResponseWriter, r *http.Request) bool {
		b, _ := io.ReadAll(r.Body)
		answer := "got " + r.Method + " " + string(b)
		// Hangs up after answering, saying nothing of it beforehand, as
		// a server whose idle timeout fires does.
		rawAnswer(t, w, "HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(len(answer))+"\r\n\r\n"+answer, true)
		return true
	})
	for _, m := range []string{"GET", "POST", "POST", "DELETE", "GET"} {
		time.Sleep(20 * time.Millisecond) // the hang-up has arrived
		req, _ := http.NewRequest(m, e.srv.URL+"/x", strings.NewReader("payload"))
		resp, body := e.do(req)
		if resp.StatusCode != 200 || body != "got "+m+" payload" {
			t.Fatalf("%s after the server closed the connection: status %d body %q (%s)", m, resp.StatusCode, body, resp.Header.Get(proxy.ErrorHeader))
		}
	}
}

func TestAnAnswerTheClientLeftUnreadClosesItsConnection(t *testing.T) {
	e := newEnv(t, time.Hour, nil)
	gone := make(chan struct{})
	e.setRoute(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/v3/big" {
			_, _ = io.WriteString(w, "small")
			return true
		}
		w.Header().Set("Content-Length", "100000000")
		_, _ = io.WriteString(w, strings.Repeat("0123456789", 1000))
		http.NewResponseController(w).Flush()
		select {
		case <-r.Context().Done(): // the proxy closed the connection
			close(gone)
		case <-time.After(10 * time.Second):
		}
		return true
	})
	resp, err := e.srv.Client().Get(e.srv.URL + "/big")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close() // the rest is not read
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("the upstream connection of an answer the client left was kept open")
	}
	for range 3 {
		if resp, body := e.get("/small"); resp.StatusCode != 200 || body != "small" {
			t.Fatalf("after an answer left unread: status %d body %.40q: want the next answer, not the rest of the last", resp.StatusCode, body)
		}
	}
}

func TestInformationalAnswersReachTheClient(t *testing.T) {
	e := newEnv(t, time.Hour, nil)
	e.setRoute(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Link", "</app.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		_, _ = io.WriteString(w, "final")
		return true
	})
	var hints []string
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			hints = append(hints, strconv.Itoa(code)+" "+h.Get("Link"))
			return nil
		},
	})
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+"/page", nil)
	resp, body := e.do(req)
	if resp.StatusCode != 200 || body != "final" {
		t.Fatalf("status %d body %q", resp.StatusCode, body)
	}
	if len(hints) != 1 || hints[0] != "103 </app.css>; rel=preload" {
		t.Errorf("informational answers %q: want the server's 103 with its Link", hints)
	}
	if resp.Header.Get("Link") != "" {
		t.Errorf("the 103's Link stayed on the final answer")
	}
	if en := e.lastEntry(); en.Status != 200 {
		t.Errorf("logged status %d: want the final answer's 200, not the 103", en.Status)
	}
}

func TestAClientThatLeavesCancelsTheUpstreamRequest(t *testing.T) {
	e := newEnv(t, time.Hour, nil)
	cancelled := make(chan struct{})
	e.setRoute(func(w http.ResponseWriter, r *http.Request) bool {
		select {
		case <-r.Context().Done():
			close(cancelled)
		case <-time.After(10 * time.Second):
		}
		return true
	})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+"/slow", nil)
	if _, err := e.srv.Client().Do(req); err == nil {
		t.Fatal("the request did not fail")
	}
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the upstream request went on after the client left")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		e.mu.Lock()
		n := len(e.entries)
		e.mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if en := e.lastEntry(); en.Status != 499 || !strings.Contains(en.Error, "client closed") {
		t.Errorf("entry %+v: want 499, the client closed the request", en)
	}
}

func TestALargeUploadAnsweredEarlyGetsTheAnswer(t *testing.T) {
	// A body over 1 MiB is streamed; a server that answers without
	// reading it (a 401 for an expired token, say) is heard, not cut
	// off while the proxy is still writing.
	e := newEnv(t, time.Hour, nil)
	e.setRoute(func(w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		_, _ = io.WriteString(w, "too large")
		return true
	})
	body := strings.Repeat("x", 8<<20)
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/upload", strings.NewReader(body))
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || string(got) != "too large" {
		t.Errorf("status %d body %q: want the server's early answer", resp.StatusCode, got)
	}
}
