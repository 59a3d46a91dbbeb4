package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/auth/authtest"
	"github.com/tokentop/tokentop/auth/emulator"
	"github.com/tokentop/tokentop/storage"
)

// t0 is where every fake clock starts.
// Half a second past the second: the Date header has whole seconds and the
// client adds half a second, so an emulator in step measures zero skew.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 500_000_000, time.UTC)

// env is one keeper over a memory store, talking to an emulator over real
// HTTP, everything on one fake clock.
type env struct {
	t     *testing.T
	clock *authtest.FakeClock
	emu   *emulator.Server
	srv   *httptest.Server
	ep    auth.Endpoints
	store *storage.Store
	audit *authtest.AuditRecorder
	k     *auth.Keeper
	tap   *tapTransport
	loop  *loopState // set by run
	// intercept, when set, answers a request instead of the emulator.
	mu        sync.Mutex
	intercept func(w http.ResponseWriter, r *http.Request, body []byte) bool
}

type envOpt struct {
	emu    emulator.Config
	keeper func(*auth.KeeperConfig)
}

func newEnv(t *testing.T, o envOpt) *env {
	t.Helper()
	e := &env{t: t, clock: authtest.NewFakeClock(t0), audit: &authtest.AuditRecorder{}}
	trails.Store(t.Name(), e.audit)
	t.Cleanup(func() { trails.Delete(t.Name()) })
	cfg := o.emu
	cfg.Now = e.clock.Now
	if cfg.LoginRate == 0 {
		cfg.LoginRate = -1
	}
	e.emu = emulator.New(cfg)
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		// Like the emulator, stamp the fake clock (intercepted answers too).
		w.Header().Set("Date", e.emu.Now().UTC().Format(http.TimeFormat))
		e.mu.Lock()
		f := e.intercept
		e.mu.Unlock()
		if f != nil && f(w, r, body) {
			return
		}
		e.emu.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	e.ep = auth.Endpoints{OAuthURL: e.srv.URL, APIURL: e.srv.URL + "/v3"}
	st, err := storage.Open(storage.Options{Backend: storage.BackendMemory, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.store = st
	e.tap = &tapTransport{base: e.srv.Client().Transport}
	kc := auth.KeeperConfig{
		Store:        st,
		Client:       auth.NewClient(&http.Client{Transport: e.tap}, e.clock),
		Clock:        e.clock,
		Audit:        e.audit,
		PollInterval: time.Second,
		Jitter:       func() float64 { return 0.5 },
		EventBuffer:  4096,
	}
	if o.keeper != nil {
		o.keeper(&kc)
	}
	e.k = auth.NewKeeper(kc)
	t.Cleanup(e.checkNoTokensInAudit)
	return e
}

// newKeeper is a second keeper ("another process") on the same store.
func (e *env) newKeeper() *auth.Keeper {
	return auth.NewKeeper(auth.KeeperConfig{
		Store: e.store, Client: auth.NewClient(&http.Client{Transport: e.tap}, e.clock),
		Clock: e.clock, Audit: e.audit, Jitter: func() float64 { return 0.5 }, PID: 424242,
	})
}

func (e *env) setIntercept(f func(w http.ResponseWriter, r *http.Request, body []byte) bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.intercept = f
}

// seed imports a fresh emulator session with the given lifetimes.
func (e *env) seed(name string, access, refresh time.Duration) auth.Session {
	e.t.Helper()
	body, err := e.emu.Issue(emulator.DefaultUser().Email, access, refresh)
	if err != nil {
		e.t.Fatal(err)
	}
	e.tap.noteBody(body)
	s, err := e.k.Import(context.Background(), name, e.ep, body, auth.ImportOptions{KeepAlive: true})
	if err != nil {
		e.t.Fatalf("import %s: %v", name, err)
	}
	return s
}

func (e *env) get(name string) auth.Session {
	e.t.Helper()
	s, err := e.store.Get(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) secrets(name string) auth.Secrets {
	e.t.Helper()
	s, err := e.store.Secrets(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// stealRefresh uses the stored refresh token behind the keeper's back, as
// "someone else" holding a copy would.
func (e *env) stealRefresh(name string) {
	e.t.Helper()
	c := auth.NewClient(&http.Client{Transport: e.tap}, e.clock)
	if _, _, err := c.Refresh(context.Background(), e.ep, e.secrets(name).RefreshToken); err != nil {
		e.t.Fatalf("refresh behind the keeper's back: %v", err)
	}
}

// waitEvent reads the keeper's events until one of kind for session comes.
func waitEvent(t *testing.T, k *auth.Keeper, session string, kind auth.EventKind) auth.Event {
	t.Helper()
	guard := time.NewTimer(20 * time.Second) // a hang guard, not a timing assertion
	defer guard.Stop()
	for {
		select {
		case ev := <-k.Events():
			if ev.Kind == kind && (session == "" || ev.Session == session) {
				return ev
			}
		case <-guard.C:
			t.Fatalf("no %s event for %q; the audit log has %v", kind, session, auditTrail(t))
		}
	}
}

// checkNoTokensInAudit scans everything the audit log and the event stream
// received for any token value that crossed the wire.
func (e *env) checkNoTokensInAudit() {
	raw, _ := json.Marshal(e.audit.Events())
	text := string(raw)
	for _, tok := range e.tap.tokens() {
		if strings.Contains(text, tok) {
			e.t.Errorf("a token value (%s) reached the audit log", auth.Fingerprint(tok))
		}
	}
	if len(e.audit.Events()) == 0 {
		return
	}
	for _, ev := range e.audit.Events() {
		if ev.PID == 0 {
			e.t.Errorf("event %s without a pid", ev.Kind)
		}
	}
}

// tapTransport remembers every token that crosses the wire (to prove none
// reaches the audit log) and counts concurrent refresh requests.
type tapTransport struct {
	base http.RoundTripper
	mu   sync.Mutex
	seen map[string]bool
	// inflight and maxInflight count /oauth/refresh-token requests.
	inflight, maxInflight int
	// loseNext makes the next n refresh requests "lost": the body is read
	// (as if sent) and an error returned, without reaching the server.
	loseNext int
}

func (tt *tapTransport) noteBody(b []byte) {
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return
	}
	if d, ok := m["data"].(map[string]any); ok {
		m = d
	}
	tt.mu.Lock()
	defer tt.mu.Unlock()
	if tt.seen == nil {
		tt.seen = map[string]bool{}
	}
	for _, k := range []string{"access_token", "refresh_token", "frontend_token", "token", "password"} {
		if v, ok := m[k].(string); ok && len(v) >= 8 {
			tt.seen[v] = true
		}
	}
}

func (tt *tapTransport) tokens() []string {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	var out []string
	for k := range tt.seen {
		out = append(out, k)
	}
	return out
}

func (tt *tapTransport) maxConcurrent() int {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return tt.maxInflight
}

func (tt *tapTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var reqBody []byte
	if r.Body != nil {
		reqBody, _ = io.ReadAll(r.Body)
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(reqBody))
		tt.noteBody(reqBody)
	}
	isRefresh := strings.HasSuffix(r.URL.Path, "/oauth/refresh-token")
	if isRefresh {
		tt.mu.Lock()
		if tt.loseNext > 0 {
			tt.loseNext--
			tt.mu.Unlock()
			if tr := httptrace.ContextClientTrace(r.Context()); tr != nil && tr.WroteRequest != nil {
				tr.WroteRequest(httptrace.WroteRequestInfo{})
			}
			return nil, errors.New("connection reset by peer (simulated, after sending)")
		}
		tt.inflight++
		tt.maxInflight = max(tt.maxInflight, tt.inflight)
		tt.mu.Unlock()
		defer func() {
			tt.mu.Lock()
			tt.inflight--
			tt.mu.Unlock()
		}()
	}
	resp, err := tt.base.RoundTrip(r)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	body, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	tt.noteBody(body)
	if rerr != nil {
		return nil, rerr
	}
	return resp, nil
}

func TestRefreshWindow(t *testing.T) {
	tests := []struct {
		lifetime, want time.Duration
	}{
		{20 * time.Second, 10 * time.Second},                // half the lifetime beats the 30 s floor
		{90 * time.Second, 30 * time.Second},                // 20% is 18 s: the floor wins
		{7 * 24 * time.Hour, 33*time.Hour + 36*time.Minute}, // 20%
		{60 * time.Second, 30 * time.Second},                // floor equals half
		{150 * time.Second, 30 * time.Second},               // 20% is exactly the floor
		{151 * time.Second, 30*time.Second + 200*time.Millisecond},
		{time.Second, 500 * time.Millisecond},
		{0, 0},
		{-time.Minute, 0},
		{time.Hour, 12 * time.Minute},
	}
	for _, tt := range tests {
		if got := auth.RefreshWindow(tt.lifetime); got != tt.want {
			t.Errorf("RefreshWindow(%s) = %s, want %s", tt.lifetime, got, tt.want)
		}
	}
}

func TestLoginImportAndToken(t *testing.T) {
	e := newEnv(t, envOpt{emu: emulator.Config{AccessTTL: 10 * time.Minute, RefreshTTL: time.Hour}})
	ctx := context.Background()
	u := emulator.DefaultUser()

	s, err := e.k.Login(ctx, "work", e.ep, u.Email, u.Password)
	if err != nil {
		t.Fatal(err)
	}
	if s.State != auth.StateOK || s.User.UserID != u.UserID || s.TokenFormat != "opaque" || s.AccessFP == "" || s.CreatedAt.IsZero() {
		t.Fatalf("login stored %+v", s)
	}
	sec := e.secrets("work")
	if !e.emu.Valid(sec.AccessToken, emulator.KindAccess) {
		t.Fatal("stored access token is not the one the server issued")
	}
	if e.audit.Count("work", auth.EventLogin) != 1 {
		t.Fatalf("audit %v", e.audit.Kinds("work"))
	}

	// Fresh token: no refresh.
	got, meta, err := e.k.Token(ctx, "work", 0)
	if err != nil || got.AccessToken != sec.AccessToken || meta.Name != "work" {
		t.Fatalf("Token = %v, %v", got, err)
	}
	if n := e.emu.Stats().Refreshes; n != 0 {
		t.Fatalf("%d refreshes for a fresh token", n)
	}

	// Wrong password: nothing stored.
	if _, err := e.k.Login(ctx, "other", e.ep, u.Email, "wrong"); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("bad password: %v", err)
	}
	if _, err := e.store.Get(ctx, "other"); !errors.Is(err, auth.ErrSessionNotFound) {
		t.Fatalf("failed login left a session: %v", err)
	}
	// Invalid name is refused before any network call.
	before := e.emu.Stats().Logins
	if _, err := e.k.Login(ctx, "bad name/..", e.ep, u.Email, u.Password); !errors.Is(err, auth.ErrInvalidName) {
		t.Fatalf("bad name: %v", err)
	}
	if e.emu.Stats().Logins != before {
		t.Fatal("a login was sent for an invalid name")
	}
}

func TestImport(t *testing.T) {
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	body, err := e.emu.Issue(emulator.DefaultUser().Email, time.Hour, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	e.tap.noteBody(body)
	enveloped := []byte(`{"code":200,"message":"Login successful","data":` + string(body) + `}`)

	tests := []struct {
		name, session string
		body          []byte
		ep            auth.Endpoints
		want          error
	}{
		{"flat", "flat", body, e.ep, nil},
		{"enveloped", "env", enveloped, e.ep, nil},
		{"not json", "x", []byte("hello"), e.ep, auth.ErrNotToken},
		{"error body", "x", []byte(`{"statusCode":401,"message":"Unauthorized"}`), e.ep, auth.ErrNotToken},
		{"empty", "x", nil, e.ep, auth.ErrNotToken},
		{"bad name", "a b", body, e.ep, auth.ErrInvalidName},
		{"insecure url", "x", body, auth.Endpoints{OAuthURL: "http://example.com", APIURL: "http://example.com/v3"}, auth.ErrInsecureURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := e.k.Import(ctx, tt.session, tt.ep, tt.body, auth.ImportOptions{KeepAlive: true})
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("Import = %v, want %v", err, tt.want)
				}
				if _, gerr := e.store.Get(ctx, tt.session); !errors.Is(gerr, auth.ErrSessionNotFound) && !errors.Is(gerr, auth.ErrInvalidName) {
					t.Fatalf("failed import stored something: %v", gerr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.AccessExpiry.Sub(s.IssuedAt) != time.Hour || s.RefreshExpiry.Sub(t0) != 24*time.Hour {
				t.Fatalf("lifetimes: issued %s access %s refresh %s", s.IssuedAt, s.AccessExpiry, s.RefreshExpiry)
			}
			if e.audit.Count(tt.session, auth.EventImported) != 1 {
				t.Fatalf("audit %v", e.audit.Kinds(tt.session))
			}
		})
	}
}

// TestImportWindowFromIssuedAt: a saved JWT pair imported later keeps the
// refresh window of its real lifetime (from iat), not of what is left.
func TestImportWindowFromIssuedAt(t *testing.T) {
	tests := []struct {
		format string
		want   time.Duration // window after importing a 10h token 5h after issue
	}{
		{"jwt", 2 * time.Hour}, // 20% of 10h
		{"opaque", time.Hour},  // no iat: 20% of the 5h left
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			e := newEnv(t, envOpt{emu: emulator.Config{TokenFormat: tt.format}})
			body, err := e.emu.Issue(emulator.DefaultUser().Email, 10*time.Hour, 48*time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			e.tap.noteBody(body)
			e.clock.Advance(5 * time.Hour)
			s, err := e.k.Import(context.Background(), "s", e.ep, body, auth.ImportOptions{KeepAlive: true})
			if err != nil {
				t.Fatal(err)
			}
			// iat has whole seconds: allow the fraction.
			if got := s.Window(); got < tt.want-time.Second || got > tt.want+time.Second {
				t.Fatalf("window %s (issued %s), want %s", got, s.IssuedAt, tt.want)
			}
		})
	}
}

func TestTokenMinValid(t *testing.T) {
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	e.seed("s", 10*time.Minute, time.Hour) // window 2 min

	tests := []struct {
		advance     time.Duration
		minValid    time.Duration
		wantRefresh bool
	}{
		{0, 0, false},
		{0, 9*time.Minute + 30*time.Second, false},
		{time.Minute, 9*time.Minute + 30*time.Second, true}, // 9 min left < asked
		{0, 5 * time.Minute, false},                         // the new token has 10 min
		{8*time.Minute + 30*time.Second, 0, true},           // 1.5 min left: inside the 2 min window
		{time.Minute, 0, false},
	}
	refreshes := 0
	for i, tt := range tests {
		e.clock.Advance(tt.advance)
		old := e.get("s").AccessFP
		sec, meta, err := e.k.Token(ctx, "s", tt.minValid)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if tt.wantRefresh {
			refreshes++
		}
		if got := e.emu.Stats().Refreshes; got != refreshes {
			t.Fatalf("step %d: %d refreshes, want %d", i, got, refreshes)
		}
		if (meta.AccessFP != old) != tt.wantRefresh || auth.Fingerprint(sec.AccessToken) != meta.AccessFP {
			t.Fatalf("step %d: token %s (was %s)", i, meta.AccessFP, old)
		}
		if left := meta.AccessLeft(e.clock.Now()); left < tt.minValid || left <= meta.Window() {
			t.Fatalf("step %d: handed out a token with %s left", i, left)
		}
	}
	// More than the server ever gives: refused, and once the lifetime is
	// known from a refresh, without another one.
	if _, _, err := e.k.Token(ctx, "s", time.Hour); !errors.Is(err, auth.ErrMinValid) {
		t.Fatalf("min-valid beyond the lifetime: %v", err)
	}
	if got := e.emu.Stats().Refreshes; got != refreshes {
		t.Fatalf("an impossible min-valid cost a refresh")
	}
	// An imported pair's lifetime is unknown (imported late in its life,
	// it looks short): a refresh is tried, then the answer judged.
	e.seed("imported", 10*time.Minute, time.Hour)
	if _, _, err := e.k.Token(ctx, "imported", time.Hour); !errors.Is(err, auth.ErrMinValid) {
		t.Fatalf("min-valid beyond the lifetime: %v", err)
	}
	if got := e.emu.Stats().Refreshes; got != refreshes+1 {
		t.Fatalf("%d refreshes, want %d", got, refreshes+1)
	}
}

func TestTokenConcurrentOneRefresh(t *testing.T) {
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	e.seed("s", 10*time.Minute, time.Hour)
	e.clock.Advance(9 * time.Minute) // inside the window

	const n = 16
	var wg sync.WaitGroup
	got := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sec, _, err := e.k.Token(ctx, "s", 0)
			got[i], errs[i] = sec.AccessToken, err
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if got[i] != got[0] {
			t.Fatalf("caller %d got a different token", i)
		}
	}
	st := e.emu.Stats()
	if st.Refreshes != 1 || st.ReuseDetected != 0 || st.RefreshRejections != 0 {
		t.Fatalf("emulator stats %+v, want exactly one refresh", st)
	}
	if !e.emu.Valid(e.secrets("s").RefreshToken, emulator.KindRefresh) {
		t.Fatal("the stored refresh token is not the live one")
	}
}

func TestRevokeBoth(t *testing.T) {
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	e.seed("s", time.Hour, 24*time.Hour)
	sec := e.secrets("s")

	rep, err := e.k.Revoke(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Forgotten || rep.Refresh.Err != nil || rep.Access.Err != nil ||
		rep.Refresh.Fingerprint != auth.Fingerprint(sec.RefreshToken) || rep.Access.Fingerprint != auth.Fingerprint(sec.AccessToken) {
		t.Fatalf("report %+v", rep)
	}
	if e.emu.Valid(sec.AccessToken, emulator.KindAccess) || e.emu.Valid(sec.RefreshToken, emulator.KindRefresh) {
		t.Fatal("the server still accepts a revoked token")
	}
	if _, err := e.store.Get(ctx, "s"); !errors.Is(err, auth.ErrSessionNotFound) {
		t.Fatalf("revoked session still stored: %v", err)
	}
	if e.audit.Count("s", auth.EventRevoked) != 2 || e.audit.Count("s", auth.EventForgotten) != 1 {
		t.Fatalf("audit %v", e.audit.Kinds("s"))
	}
}

func TestRevokeHalfKeepsSessionAndSaysRevoked(t *testing.T) {
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	e.seed("s", time.Hour, 24*time.Hour)
	// The server fails access-token revocations only.
	e.setIntercept(func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		if strings.HasSuffix(r.URL.Path, "/oauth/revoke-token") && strings.Contains(string(body), `"access"`) {
			http.Error(w, `{"statusCode":500,"message":"Internal Server Error"}`, http.StatusInternalServerError)
			return true
		}
		return false
	})
	rep, err := e.k.Revoke(ctx, "s")
	if err == nil || rep.Forgotten || rep.Refresh.Err != nil || !errors.Is(rep.Access.Err, auth.ErrServer) {
		t.Fatalf("Revoke = %+v, %v", rep, err)
	}
	s := e.get("s")
	if s.State != auth.StateNeedsLogin || s.Reason != auth.ReasonRevoked {
		t.Fatalf("after revoking the refresh token: %s/%s", s.State, s.Reason)
	}
	before := e.emu.Stats()
	var nl *auth.NeedsLoginError
	if _, _, err := e.k.Token(ctx, "s", time.Hour); !errors.As(err, &nl) || nl.Reason != auth.ReasonRevoked {
		t.Fatalf("Token after revoke: %v", err)
	}
	if e.emu.Stats() != before {
		t.Fatal("needs-login session caused a network call")
	}
}

func TestForgetAndPause(t *testing.T) {
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	e.seed("s", time.Hour, 24*time.Hour)
	sec := e.secrets("s")

	if err := e.k.SetPaused(ctx, "s", true); err != nil {
		t.Fatal(err)
	}
	if s := e.get("s"); !s.Paused || s.State != auth.StatePaused {
		t.Fatalf("paused: %+v", s)
	}
	if err := e.k.SetPaused(ctx, "s", false); err != nil {
		t.Fatal(err)
	}
	if s := e.get("s"); s.Paused || s.State != auth.StateOK {
		t.Fatalf("resumed: %+v", s)
	}
	res, err := e.k.Probe(ctx, "s")
	if err != nil || !res.Accepted || res.User.Email != emulator.DefaultUser().Email {
		t.Fatalf("Probe = %+v, %v", res, err)
	}
	if err := e.k.Forget(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Get(ctx, "s"); !errors.Is(err, auth.ErrSessionNotFound) {
		t.Fatalf("forgotten session still stored: %v", err)
	}
	if !e.emu.Valid(sec.RefreshToken, emulator.KindRefresh) {
		t.Fatal("forget revoked something")
	}
	if err := e.k.Forget(ctx, "s"); !errors.Is(err, auth.ErrSessionNotFound) {
		t.Fatalf("forget twice: %v", err)
	}
	want := []auth.EventKind{auth.EventImported, auth.EventPaused, auth.EventResumed, auth.EventForgotten}
	if got := e.audit.Kinds("s"); !equalKinds(got, want) {
		t.Fatalf("audit %v, want %v", got, want)
	}
}

func equalKinds(a, b []auth.EventKind) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestEventsNeverBlock(t *testing.T) {
	e := newEnv(t, envOpt{keeper: func(c *auth.KeeperConfig) { c.EventBuffer = 2 }})
	ctx := context.Background()
	e.seed("s", time.Hour, 24*time.Hour)
	for range 5 {
		if err := e.k.SetPaused(ctx, "s", true); err != nil {
			t.Fatal(err)
		}
		if err := e.k.SetPaused(ctx, "s", false); err != nil {
			t.Fatal(err)
		}
	}
	// 11 events into a buffer of 2: the newest two are kept.
	if d := e.k.DroppedEvents(); d != 9 {
		t.Fatalf("dropped %d, want 9", d)
	}
	a, b := <-e.k.Events(), <-e.k.Events()
	if a.Kind != auth.EventPaused || b.Kind != auth.EventResumed {
		t.Fatalf("kept %s, %s", a.Kind, b.Kind)
	}
	if n := len(e.audit.Events()); n != 11 {
		t.Fatalf("audit has %d events, want all 11", n)
	}
}

// trails maps a running test to its audit recorder, for failure messages.
var trails sync.Map

func auditTrail(t *testing.T) string {
	v, ok := trails.Load(t.Name())
	if !ok {
		return "(none)"
	}
	var b strings.Builder
	for _, ev := range v.(*authtest.AuditRecorder).Events() {
		b.WriteString("\n  " + ev.Time.Format("15:04:05.000") + " " + ev.Session + " " + string(ev.Kind) + " at=" + ev.At.Format("15:04:05.0") + " " + ev.Message)
	}
	return b.String()
}

// Instants that are not set are left out of the audit log and sessions.json
// rather than written as year 1, which readers would show as a date.
func TestJSONLeavesOutUnsetInstants(t *testing.T) {
	tests := []struct {
		name string
		v    any
		keys []string
	}{
		{"event", auth.Event{Time: t0, Session: "s", Kind: auth.EventRefreshing}, []string{"at"}},
		{"session", auth.Session{Name: "s", AccessExpiry: t0, RefreshExpiry: t0, IssuedAt: t0, CreatedAt: t0, UpdatedAt: t0},
			[]string{"next_attempt", "last_refresh", "refreshing_since"}},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.v)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range tt.keys {
			if _, ok := m[k]; ok {
				t.Errorf("%s: %q is present while unset: %s", tt.name, k, b)
			}
		}
	}
}

// TestLockHeldElsewhere: while another process holds a session's lock,
// every operation that needs it gives up after LockTimeout with
// ErrLockTimeout, says it once, and sends nothing.
func TestLockHeldElsewhere(t *testing.T) {
	e := newEnv(t, envOpt{keeper: func(c *auth.KeeperConfig) { c.LockTimeout = 20 * time.Millisecond }})
	ctx := context.Background()
	e.seed("s", 10*time.Minute, time.Hour)
	unlock, err := e.store.Lock(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ops := map[string]func() error{
		"refresh": func() error { _, err := e.k.Refresh(ctx, "s"); return err },
		"token":   func() error { _, _, err := e.k.Token(ctx, "s", time.Hour); return err },
		"revoke":  func() error { _, err := e.k.Revoke(ctx, "s"); return err },
		"forget":  func() error { return e.k.Forget(ctx, "s") },
		"pause":   func() error { return e.k.SetPaused(ctx, "s", true) },
	}
	for name, op := range ops {
		err := op()
		if !errors.Is(err, auth.ErrLockTimeout) {
			t.Errorf("%s: %v, want ErrLockTimeout", name, err)
			continue
		}
		if n := strings.Count(err.Error(), "lock session"); n != 1 {
			t.Errorf("%s: %q names the lock %d times", name, err, n)
		}
	}
	if st := e.emu.Stats(); requests(st) != 0 {
		t.Errorf("stats %+v: something was sent without the lock", st)
	}
}

// TestAuditLinksRotations: each rotation's event names the refresh token it
// retired and the one it issued, so the audit log is a chain from the
// login to a reuse alarm.
func TestAuditLinksRotations(t *testing.T) {
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	u := emulator.DefaultUser()
	if _, err := e.k.Login(ctx, "s", e.ep, u.Email, u.Password); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := e.k.Refresh(ctx, "s"); err != nil {
			t.Fatal(err)
		}
	}
	e.stealRefresh("s")
	if _, err := e.k.Refresh(ctx, "s"); !errors.Is(err, auth.ErrNeedsLogin) {
		t.Fatalf("Refresh after the theft = %v", err)
	}
	var chain []auth.Event
	for _, ev := range e.audit.Events() {
		switch ev.Kind {
		case auth.EventLogin, auth.EventRefreshed, auth.EventReuseSuspected:
			chain = append(chain, ev)
		}
	}
	if len(chain) != 4 {
		t.Fatalf("audit %v", e.audit.Kinds("s"))
	}
	for i, ev := range chain {
		if i < 3 && !strings.HasPrefix(ev.NewRefreshFP, "sha256:") {
			t.Fatalf("%s without the new refresh fingerprint: %+v", ev.Kind, ev)
		}
		if i > 0 && ev.OldRefreshFP != chain[i-1].NewRefreshFP {
			t.Fatalf("%s retired %q, but the previous event issued %q", ev.Kind, ev.OldRefreshFP, chain[i-1].NewRefreshFP)
		}
	}
	if last := chain[3]; last.OldRefreshFP != auth.Fingerprint(e.secrets("s").RefreshToken) {
		t.Fatalf("the reuse alarm names %s, not the stored refresh token", last.OldRefreshFP)
	}
}

// TestServerEchoesOfHeldSecretsRedacted: whatever call fails, the server's
// text shown (errors, last error, audit) holds no secret of the session,
// not only the one token that call sent, even when the server wraps the
// echo across lines.
func TestServerEchoesOfHeldSecretsRedacted(t *testing.T) {
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	e.seed("s", time.Hour, 24*time.Hour)
	sec := e.secrets("s")
	held := []string{sec.AccessToken, sec.RefreshToken, sec.FrontendToken}
	// split cuts a token in two with a line break, as a server wrapping a
	// long line would.
	split := func(tok string) string { return tok[:len(tok)/2] + "\n  " + tok[len(tok)/2:] }
	echo := "failed for access " + split(sec.AccessToken) + " refresh " + split(sec.RefreshToken)
	if sec.FrontendToken != "" {
		echo += " frontend " + split(sec.FrontendToken)
	}
	e.setIntercept(func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		http.Error(w, echo, http.StatusInternalServerError)
		return true
	})
	leaks := func(where, text string) {
		t.Helper()
		flat := strings.Join(strings.Fields(text), "")
		for _, tok := range held {
			if tok != "" && strings.Contains(flat, tok) {
				t.Errorf("%s holds a token (%s): %q", where, auth.Fingerprint(tok), text)
			}
		}
		if !strings.Contains(text, "[redacted]") {
			t.Errorf("%s does not show the redacted echo: %q", where, text)
		}
	}

	rep, err := e.k.Revoke(ctx, "s")
	if err == nil || rep.Access.Err == nil || rep.Refresh.Err == nil {
		t.Fatalf("Revoke = %+v, %v", rep, err)
	}
	leaks("revoke (refresh token) error", rep.Refresh.Err.Error())
	leaks("revoke (access token) error", rep.Access.Err.Error())

	_, err = e.k.Refresh(ctx, "s")
	if err == nil {
		t.Fatal("refresh against a failing server succeeded")
	}
	leaks("refresh error", err.Error())
	leaks("stored last error", e.get("s").LastError)

	_, err = e.k.Probe(ctx, "s")
	if err == nil {
		t.Fatal("probe against a failing server succeeded")
	}
	leaks("probe error", err.Error())

	for _, ev := range e.audit.Events() {
		b, _ := json.Marshal(ev)
		flat := strings.Join(strings.Fields(string(b)), "")
		for _, tok := range held {
			if tok != "" && strings.Contains(flat, tok) {
				t.Errorf("audit event %s holds a token: %s", ev.Kind, b)
			}
		}
	}
}
