package emulator_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth/emulator"
)

// fakeClock is a settable clock for Config.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 4, 3, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer is a log sink safe for the server's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// harness is an emulator served over real HTTP on loopback.
type harness struct {
	t   *testing.T
	em  *emulator.Server
	srv *httptest.Server
	clk *fakeClock
}

// newHarness starts an emulator with cfg; a nil cfg.Now gets a fake clock.
func newHarness(t *testing.T, cfg emulator.Config) *harness {
	t.Helper()
	h := &harness{t: t}
	if cfg.Now == nil {
		h.clk = newFakeClock()
		cfg.Now = h.clk.Now
	}
	h.em = emulator.New(cfg)
	h.srv = httptest.NewServer(h.em)
	t.Cleanup(h.srv.Close)
	return h
}

// reply is one answer: status, headers, raw body and the body as JSON.
type reply struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// do sends method path with a raw body and content type ("" for none).
func (h *harness) do(method, path, contentType, body string, hdr ...string) reply {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	r := reply{status: res.StatusCode, header: res.Header, raw: raw}
	if err := json.Unmarshal(raw, &r.body); err != nil {
		h.t.Fatalf("%s %s: body is not a JSON object: %v: %q", method, path, err, raw)
	}
	return r
}

// post sends v as JSON.
func (h *harness) post(path string, v any) reply {
	h.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.do(http.MethodPost, path, "application/json", string(b))
}

func (h *harness) login(email, password string) reply {
	h.t.Helper()
	return h.post("/oauth/token", map[string]string{"email": email, "password": password})
}

// mustLogin logs the default user in and returns the token response.
func (h *harness) mustLogin() reply {
	h.t.Helper()
	r := h.login(emulator.DefaultUser().Email, emulator.DefaultUser().Password)
	if r.status != http.StatusOK {
		h.t.Fatalf("login: %d %s", r.status, r.raw)
	}
	return r
}

func (h *harness) refresh(tok string) reply {
	h.t.Helper()
	return h.post("/oauth/refresh-token", map[string]string{"refresh_token": tok})
}

func (h *harness) revoke(tok, kind string) reply {
	h.t.Helper()
	return h.post("/oauth/revoke-token", map[string]string{"token": tok, "token_type": kind})
}

func (h *harness) profile(tok string) reply {
	h.t.Helper()
	return h.do(http.MethodGet, "/v3/auth/profile", "", "", "Authorization", "Bearer "+tok)
}

func (h *harness) stats() emulator.Stats {
	h.t.Helper()
	r := h.do(http.MethodGet, "/_emulator/stats", "", "")
	var st emulator.Stats
	if err := json.Unmarshal(r.raw, &st); err != nil {
		h.t.Fatal(err)
	}
	return st
}

// str returns a string field of a JSON body ("" when absent or not a string).
func (r reply) str(key string) string {
	s, _ := r.body[key].(string)
	return s
}

// checkError asserts the documented error body and headers for status.
func checkError(t *testing.T, r reply, status int, path string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	keys := []string{"statusCode", "message", "error", "timestamp", "path", "requestId"}
	if len(r.body) != len(keys) {
		t.Errorf("error body has keys %v, want exactly %v", keysOf(r.body), keys)
	}
	if got, _ := r.body["statusCode"].(float64); int(got) != status {
		t.Errorf("statusCode %v, want %d", r.body["statusCode"], status)
	}
	if r.str("message") != http.StatusText(status) {
		t.Errorf("message %q, want %q", r.str("message"), http.StatusText(status))
	}
	if r.str("error") == "" {
		t.Errorf("error detail is empty")
	}
	if r.str("path") != path {
		t.Errorf("path %q, want %q", r.str("path"), path)
	}
	if !isoRE.MatchString(r.str("timestamp")) {
		t.Errorf("timestamp %q is not ISO-8601 with ms and Z", r.str("timestamp"))
	}
	if id := r.str("requestId"); !uuidRE.MatchString(id) || r.header.Get("X-Request-Id") != id {
		t.Errorf("requestId %q vs X-Request-Id %q: want the same UUID", id, r.header.Get("X-Request-Id"))
	}
	if r.header.Get("Date") == "" {
		t.Errorf("no Date header")
	}
}

func keysOf(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// fp is the fingerprint the emulator logs, computed independently.
func fp(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return "sha256:" + hex.EncodeToString(sum[:])[:8]
}
