package emulator_test

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth/emulator"
)

func TestFailNext(t *testing.T) {
	for _, status := range []int{500, 502, 503, 429, 401} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			h := newHarness(t, emulator.Config{})
			h.em.FailNext(2, status)
			checkError(t, h.login(emulator.DefaultUser().Email, emulator.DefaultUser().Password), status, "/oauth/token")
			// Observation is never failed, and does not use up a fault.
			if st := h.stats(); st.Logins != 0 {
				t.Fatalf("a failed login was counted: %+v", st)
			}
			r := h.refresh("whatever")
			checkError(t, r, status, "/oauth/refresh-token")
			if status == 429 && r.header.Get("Retry-After") != "1" {
				t.Errorf("Retry-After %q, want 1", r.header.Get("Retry-After"))
			}
			if status != 429 && r.header.Get("Retry-After") != "" {
				t.Errorf("unexpected Retry-After on %d", status)
			}
			h.mustLogin()
		})
	}
	t.Run("cancel", func(t *testing.T) {
		h := newHarness(t, emulator.Config{})
		h.em.FailNext(5, 500)
		h.em.FailNext(0, 500)
		h.mustLogin()
	})
}

func TestFailRate(t *testing.T) {
	h := newHarness(t, emulator.Config{FailRate: 1})
	for range 5 {
		checkError(t, h.refresh("x"), 500, "/oauth/refresh-token")
	}
	if st := h.stats(); st.RefreshRejections != 0 {
		t.Errorf("failed requests reached the handler: %+v", st)
	}

	// The same seed makes the same choices.
	pattern := func(seed uint64) string {
		h := newHarness(t, emulator.Config{FailRate: 0.5, Seed: seed})
		var b strings.Builder
		for range 40 {
			fmt.Fprint(&b, h.refresh("x").status/100)
		}
		return b.String()
	}
	a, b := pattern(42), pattern(42)
	if a != b {
		t.Errorf("seed 42 gave %s then %s", a, b)
	}
	if !strings.Contains(a, "4") || !strings.Contains(a, "5") {
		t.Errorf("fail rate 0.5 gave %s: want both outcomes", a)
	}
}

func TestLatency(t *testing.T) {
	var log syncBuffer
	h := newHarness(t, emulator.Config{Latency: time.Millisecond, Log: &log})
	h.mustLogin() // configured latency: still answered

	// A client that gives up while the server waits gets no answer, and the
	// server does no work for it.
	h.em.SetLatency(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	body := strings.NewReader(`{"email":"demo@example.com","password":"demo-password"}`)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.srv.URL+"/oauth/token", body)
	req.Header.Set("Content-Type", "application/json")
	_, err := h.srv.Client().Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("request under an hour of latency: %v, want a deadline error", err)
	}
	// Stats are never delayed.
	if st := h.stats(); st.Logins != 1 {
		t.Errorf("logins %d, want 1", st.Logins)
	}
	h.em.SetLatency(0)
	h.mustLogin()
	h.srv.Close() // waits for every handler, including the cancelled one
	if st := h.em.Stats(); st.Logins != 2 {
		t.Errorf("the cancelled login was served: logins %d, want 2", st.Logins)
	}
	if !strings.Contains(log.String(), "POST /oauth/token canceled") {
		t.Errorf("the log does not show the cancelled request:\n%s", log.String())
	}
}

func TestDropNextRefreshResponses(t *testing.T) {
	h := newHarness(t, emulator.Config{})
	l := h.mustLogin()
	h.em.DropNextRefreshResponses(1)

	// A rejected refresh does not use up the drop.
	checkError(t, h.refresh("unknown"), 401, "/oauth/refresh-token")

	b, _ := json.Marshal(map[string]string{"refresh_token": l.str("refresh_token")})
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/oauth/refresh-token", strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	res, err := h.srv.Client().Do(req)
	if err == nil {
		res.Body.Close()
		t.Fatalf("dropped refresh answered %d, want a connection error", res.StatusCode)
	}

	// The server rotated: the old refresh token is dead (presenting it now is reuse) ...
	checkError(t, h.refresh(l.str("refresh_token")), 401, "/oauth/refresh-token")
	st := h.stats()
	if st.Refreshes != 1 || st.ReuseDetected != 1 || st.ActiveSessions != 1 {
		t.Errorf("stats %+v: want 1 refresh, 1 reuse, 1 active session", st)
	}
	// ... and the pair the client never saw works.
	dropped := h.em.DroppedResponses()
	if len(dropped) != 1 {
		t.Fatalf("%d dropped responses, want 1", len(dropped))
	}
	var lost struct{ AccessToken, RefreshToken string }
	lost.AccessToken = jsonField(t, dropped[0], "access_token")
	lost.RefreshToken = jsonField(t, dropped[0], "refresh_token")
	if p := h.profile(lost.AccessToken); p.status != 200 {
		t.Errorf("lost access token: %d", p.status)
	}
	if r := h.refresh(lost.RefreshToken); r.status != 200 {
		t.Errorf("lost refresh token: %d %s", r.status, r.raw)
	}
}

func jsonField(t *testing.T, body []byte, key string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	s, _ := m[key].(string)
	return s
}

func TestIssue(t *testing.T) {
	u := emulator.User{Email: "seed@example.com", Password: "pw", UserID: 5, RoleID: 2, OrgUnitID: 3}
	h := newHarness(t, emulator.Config{Users: []emulator.User{u}, LoginRate: 1})
	if _, err := h.em.Issue("nobody@example.com", 0, 0); !errors.Is(err, emulator.ErrUnknownUser) {
		t.Errorf("Issue for an unknown user: %v", err)
	}
	var body []byte
	for range 5 { // no rate limit
		var err error
		if body, err = h.em.Issue("SEED@example.com", 20*time.Second, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	var r reply
	r.status, r.raw, r.header = 200, body, http.Header{"X-Request-Id": {"n/a"}}
	if err := json.Unmarshal(body, &r.body); err != nil {
		t.Fatal(err)
	}
	checkTokenResponse(t, r, u, h.clk.Now(), 20*time.Second, time.Minute)
	if st := h.stats(); st.Logins != 0 || st.ActiveSessions != 5 {
		t.Errorf("stats %+v: want no login and 5 sessions", st)
	}
	// Refreshes keep the session's own lifetimes.
	h.clk.Advance(10 * time.Second)
	checkTokenResponse(t, h.refresh(r.str("refresh_token")), u, h.clk.Now(), 20*time.Second, time.Minute)
	// Default lifetimes when zero.
	body, _ = h.em.Issue(u.Email, 0, 0)
	r.body = nil
	_ = json.Unmarshal(body, &r.body)
	checkTokenResponse(t, r, u, h.clk.Now(), emulator.DefaultAccessTTL, emulator.DefaultRefreshTTL)
}

func TestJWTFormat(t *testing.T) {
	h := newHarness(t, emulator.Config{TokenFormat: "jwt", AccessTTL: 90 * time.Second, RefreshTTL: time.Hour})
	h.clk.Advance(250 * time.Millisecond) // off the second: expiries round up to it
	l := h.mustLogin()
	now := h.clk.Now()
	seen := map[string]bool{}
	for _, tc := range []struct{ key, expKey string }{{"access_token", "expires_in"}, {"refresh_token", "refresh_expires_in"}} {
		parts := strings.Split(l.str(tc.key), ".")
		if len(parts) != 3 {
			t.Fatalf("%s is not a JWT: %q", tc.key, l.str(tc.key))
		}
		var header map[string]any
		decodeSegment(t, parts[0], &header)
		if header["alg"] != "HS256" || header["typ"] != "JWT" {
			t.Errorf("%s header %v", tc.key, header)
		}
		var claims map[string]any
		decodeSegment(t, parts[1], &claims)
		if len(claims) != 3 || !uuidRE.MatchString(fmt.Sprint(claims["tokenId"])) {
			t.Errorf("%s claims %v: want exactly tokenId (a UUID), iat, exp", tc.key, claims)
		}
		if seen[fmt.Sprint(claims["tokenId"])] {
			t.Errorf("tokenId repeated")
		}
		seen[fmt.Sprint(claims["tokenId"])] = true
		if iat, _ := claims["iat"].(float64); int64(iat) != now.Unix() {
			t.Errorf("%s iat %v, want %d", tc.key, claims["iat"], now.Unix())
		}
		exp, _ := claims["exp"].(float64)
		expiry, err := time.Parse(time.RFC3339, l.str(tc.expKey))
		if err != nil || int64(exp) != expiry.Unix() || expiry.Nanosecond() != 0 {
			t.Errorf("%s exp %v vs %s %s: want the same whole second", tc.key, exp, tc.expKey, l.str(tc.expKey))
		}
		if d := expiry.Sub(now); d < 0 || d > time.Second+map[string]time.Duration{"expires_in": 90 * time.Second, "refresh_expires_in": time.Hour}[tc.expKey] {
			t.Errorf("%s lifetime %v", tc.expKey, d)
		}
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		if err != nil || len(sig) != 32 || hmac.Equal(sig, make([]byte, 32)) {
			t.Errorf("%s signature is not a 32-byte HMAC: %v", tc.key, err)
		}
	}
	if !frontendRE.MatchString(l.str("frontend_token")) {
		t.Errorf("frontend_token %q", l.str("frontend_token"))
	}
	// JWT tokens work like opaque ones.
	if r := h.refresh(l.str("refresh_token")); r.status != 200 {
		t.Errorf("refresh with a JWT: %d", r.status)
	}
	if p := h.profile(l.str("access_token")); p.status != 200 {
		t.Errorf("profile with a JWT: %d", p.status)
	}
}

func decodeSegment(t *testing.T, seg string, v any) {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("segment %q: %v", seg, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("segment %s: %v", b, err)
	}
}

func TestConcurrency(t *testing.T) {
	h := newHarness(t, emulator.Config{LoginRate: -1, Now: time.Now})
	const workers, rounds = 16, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*(rounds+4))
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := h.login(emulator.DefaultUser().Email, emulator.DefaultUser().Password)
			if l.status != 200 {
				errs <- fmt.Errorf("worker %d login: %d", w, l.status)
				return
			}
			first := l.str("refresh_token")
			cur := l
			for range rounds {
				next := h.refresh(cur.str("refresh_token"))
				if next.status != 200 {
					errs <- fmt.Errorf("worker %d refresh: %d", w, next.status)
					return
				}
				if p := h.profile(next.str("access_token")); p.status != 200 {
					errs <- fmt.Errorf("worker %d profile: %d", w, p.status)
				}
				h.stats()
				cur = next
			}
			if r := h.refresh(first); r.status != 401 { // one reuse per worker
				errs <- fmt.Errorf("worker %d reuse: %d", w, r.status)
			}
			if w%2 == 0 { // half the sessions end
				h.revoke(cur.str("refresh_token"), "refresh")
				h.revoke(cur.str("access_token"), "access")
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	want := emulator.Stats{Logins: workers, Refreshes: workers * rounds, RefreshRejections: workers,
		ReuseDetected: workers, Revocations: workers, ActiveSessions: workers / 2}
	if st := h.stats(); st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
}

func TestLogHasNoSecrets(t *testing.T) {
	var log syncBuffer
	u := emulator.User{Email: "log@example.com", Password: "hunter2-very-secret", UserID: 1, RoleID: 1, OrgUnitID: 1}
	h := newHarness(t, emulator.Config{Users: []emulator.User{u}, Log: &log})
	l := h.login(u.Email, u.Password)
	h.login(u.Email, "wrong-"+u.Password)
	r := h.refresh(l.str("refresh_token"))
	h.refresh(l.str("refresh_token"))
	h.profile(r.str("access_token"))
	h.revoke(r.str("access_token"), "access")
	h.revoke(r.str("refresh_token"), "refresh")
	h.do(http.MethodGet, "/v3/auth/profile?access_token="+r.str("access_token"), "", "")
	h.stats()

	out := log.String()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 9 {
		t.Errorf("%d log lines for 9 requests:\n%s", len(lines), out)
	}
	secrets := []string{u.Password, l.str("access_token"), l.str("refresh_token"), l.str("frontend_token"),
		r.str("access_token"), r.str("refresh_token"), r.str("frontend_token")}
	for _, s := range secrets {
		if s == "" || strings.Contains(out, s) {
			t.Errorf("the log contains a secret (or the test lost one): %q", s)
		}
	}
	for _, want := range []string{
		"POST /oauth/token 200", "POST /oauth/token 401", "POST /oauth/refresh-token 401",
		"GET /v3/auth/profile 200", "POST /oauth/revoke-token 200", "GET /_emulator/stats 200",
		"user=log@example.com", "reuse-detected",
		"out.access=" + fp(l.str("access_token")), "in.refresh=" + fp(l.str("refresh_token")),
		"revoke.refresh=" + fp(r.str("refresh_token")), "ip=127.0.0.1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q:\n%s", want, out)
		}
	}
	for i, line := range lines {
		if !strings.Contains(line, " req=") || !strings.HasPrefix(line, "2026-04-03T12:00:00.000Z ") {
			t.Errorf("line %d lacks the emulator time or request id: %s", i, line)
		}
	}
}

func TestPerUserTokenFormat(t *testing.T) {
	jwtUser := emulator.User{Email: "jwt@example.com", Password: "pw", TokenFormat: emulator.FormatJWT}
	plain := emulator.User{Email: "plain@example.com", Password: "pw"}
	em := emulator.New(emulator.Config{Users: []emulator.User{jwtUser, plain}, AccessTTL: time.Minute, RefreshTTL: time.Hour})
	for _, tc := range []struct {
		email   string
		wantJWT bool
	}{{jwtUser.Email, true}, {plain.Email, false}} {
		body, err := em.Issue(tc.email, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Access  string `json:"access_token"`
			Refresh string `json:"refresh_token"`
		}
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{r.Access, r.Refresh} {
			if got := strings.Count(tok, ".") == 2; got != tc.wantJWT {
				t.Errorf("%s: token %s looks like a JWT: %v, want %v", tc.email, emuTokenShape(tok), got, tc.wantJWT)
			}
		}
		if !em.Valid(r.Access, emulator.KindAccess) {
			t.Errorf("%s: issued access token not valid", tc.email)
		}
	}
}

// emuTokenShape describes a token without printing it.
func emuTokenShape(tok string) string {
	return strconv.Itoa(len(tok)) + " chars, " + strconv.Itoa(strings.Count(tok, ".")) + " dots"
}
