package hartest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth/emulator"
)

// Clock is a clock that runs at real speed from a fixed start, and jumps
// when told to: the browser's clock in a recording, shared with the
// emulator (until the emulator's is shifted).
type Clock struct {
	mu     sync.Mutex
	base   time.Time
	real   time.Time
	offset time.Duration
}

// NewClock starts a clock at base.
func NewClock(base time.Time) *Clock { return &Clock{base: base, real: time.Now()} }

// Now reads the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.base.Add(c.offset + time.Since(c.real))
}

// Advance jumps the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// Recording is a HAR made by Browse and what the test needs to check it.
type Recording struct {
	HAR []byte
	// Secrets are every secret value that went over the wire: each token
	// received or sent, the passwords typed, the cookie values.
	Secrets []string
	// Tokens are the access, refresh and frontend tokens issued, in order.
	Tokens []string
	// OAuthURL is the emulator's URL (it is gone when Browse returns).
	OAuthURL string
}

// Password is the account's password in Browse's recordings.
const Password = "correct horse battery staple"

// Cookie is the session cookie the browser sends beside its tokens.
const Cookie = "sid-6f1c2a9be0d44c1e"

// Email is the account's email in Browse's recordings.
const Email = "customer@example.com"

// AccessTTL is the access-token lifetime in Browse's recordings.
const AccessTTL = 10 * time.Second

type pair struct {
	Access, Refresh, Frontend string
}

type browser struct {
	t      testing.TB
	hc     *http.Client
	url    string
	rec    *Recording
	pairMu sync.Mutex
}

func (b *browser) post(path string, body any) (int, pair) {
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, b.url+path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "https://app.convirza.com")
	return b.do(req)
}

func (b *browser) do(req *http.Request) (int, pair) {
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatalf("hartest: %s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	var p struct {
		Access   string `json:"access_token"`
		Refresh  string `json:"refresh_token"`
		Frontend string `json:"frontend_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&p)
	if p.Access != "" {
		b.pairMu.Lock()
		b.rec.Tokens = append(b.rec.Tokens, p.Access, p.Refresh, p.Frontend)
		b.rec.Secrets = append(b.rec.Secrets, p.Access, p.Refresh, p.Frontend)
		b.pairMu.Unlock()
	}
	return resp.StatusCode, pair{p.Access, p.Refresh, p.Frontend}
}

func (b *browser) api(p pair) int {
	req, _ := http.NewRequest(http.MethodGet, b.url+"/v3/auth/profile", nil)
	req.Header.Set("Authorization", "Bearer "+p.Access)
	req.Header.Set("Cookie", "frontend_token="+p.Frontend+"; sid="+Cookie)
	st, _ := b.do(req)
	return st
}

func (b *browser) login(pw string) (int, pair) {
	return b.post("/oauth/token", map[string]string{"email": Email, "password": pw})
}

func (b *browser) refresh(r string) (int, pair) {
	return b.post("/oauth/refresh-token", map[string]string{"refresh_token": r})
}

// Browse drives an emulator like a browser whose user has a bad day, and
// returns the HAR: in order, a login with a wrong password (login_failed),
// a login, an API call, a refresh, two tabs refreshing with the same token
// (refresh_reuse), two refreshes in flight at once (concurrent_refresh), an
// API call with an access token past its expiry and replaced by a refresh
// (expired_access_used, rejected_after_rotation), a login answered 429
// (rate_limited), a refresh answered 500 (server_error), and a call to a
// server whose clock runs a minute ahead (clock_skew). format is the
// emulator's token format ("opaque" or "jwt").
func Browse(t testing.TB, format string) Recording {
	t.Helper()
	rec, _, srv := BrowseLive(t, format)
	srv.Close()
	return rec
}

// BrowseLive is Browse with the emulator left running (the caller closes
// srv), for tests that then act on the file's tokens.
func BrowseLive(t testing.TB, format string) (Recording, *emulator.Server, *httptest.Server) {
	t.Helper()
	clk := NewClock(time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC))
	em := emulator.New(emulator.Config{AccessTTL: AccessTTL, TokenFormat: format, LoginRate: 3, Now: clk.Now,
		Users: []emulator.User{{Email: Email, Password: Password, UserID: 4453, RoleID: 2, OrgUnitID: 70035}}})
	srv := httptest.NewServer(em)
	rec := &Recorder{Next: http.DefaultTransport, Now: clk.Now}
	b := &browser{t: t, hc: &http.Client{Transport: rec}, url: srv.URL, rec: &Recording{OAuthURL: srv.URL}}
	b.rec.Secrets = append(b.rec.Secrets, Password, "wrong "+Password, Cookie)
	expect := func(what string, got, want int) {
		if got != want {
			t.Fatalf("hartest: %s: HTTP %d, want %d", what, got, want)
		}
	}

	st, _ := b.login("wrong " + Password)
	expect("login with a wrong password", st, http.StatusUnauthorized)
	st, p0 := b.login(Password)
	expect("login", st, http.StatusOK)
	expect("API call", b.api(p0), http.StatusOK)
	clk.Advance(2 * time.Second)
	st, p1 := b.refresh(p0.Refresh)
	expect("refresh", st, http.StatusOK)

	// Two tabs hold p1; the first refreshes, the second presents the same
	// refresh token a moment later.
	clk.Advance(time.Second)
	st, p2 := b.refresh(p1.Refresh)
	expect("tab 1 refresh", st, http.StatusOK)
	st, _ = b.refresh(p1.Refresh)
	expect("tab 2 refresh", st, http.StatusUnauthorized)

	// Two refreshes of p2 in flight at once.
	clk.Advance(time.Second)
	em.SetLatency(150 * time.Millisecond)
	var wg sync.WaitGroup
	res := make([]pair, 2)
	codes := make([]int, 2)
	for i := range 2 {
		wg.Go(func() { codes[i], res[i] = b.refresh(p2.Refresh) })
	}
	wg.Wait()
	em.SetLatency(0)
	p3 := res[0]
	if codes[0] != http.StatusOK {
		p3 = res[1]
	}
	if codes[0]+codes[1] != http.StatusOK+http.StatusUnauthorized {
		t.Fatalf("hartest: concurrent refreshes answered %v, want one 200 and one 401", codes)
	}

	// The page wakes after its tokens expired and calls the API with the
	// pair it had before the two tabs' refreshes.
	clk.Advance(AccessTTL + 5*time.Second)
	expect("API call with an expired token", b.api(p1), http.StatusUnauthorized)

	// Log in again until the rate limit (3 a minute) answers.
	st, _ = b.login(Password)
	expect("third login", st, http.StatusOK)
	st, _ = b.login(Password)
	expect("fourth login", st, http.StatusTooManyRequests)

	em.FailNext(1, http.StatusInternalServerError)
	st, _ = b.refresh(p3.Refresh)
	expect("refresh during an outage", st, http.StatusInternalServerError)
	st, p4 := b.refresh(p3.Refresh)
	expect("refresh after the outage", st, http.StatusOK)

	// The server's clock runs a minute ahead of the browser's.
	em.ShiftClock(time.Minute)
	st, _ = b.refresh(p4.Refresh)
	expect("refresh at a server a minute ahead", st, http.StatusOK)

	b.rec.HAR = rec.HAR()
	if len(b.rec.Tokens) == 0 {
		srv.Close()
		t.Fatal("hartest: no tokens issued")
	}
	return *b.rec, em, srv
}
