package emulator_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth/emulator"
)

var (
	isoRE      = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	uuidRE     = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	opaqueRE   = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
	frontendRE = regexp.MustCompile(`^[a-z0-9]{32}$`)
)

// checkTokenResponse asserts the flat token response for user u issued at
// now with the given lifetimes.
func checkTokenResponse(t *testing.T, r reply, u emulator.User, now time.Time, accessTTL, refreshTTL time.Duration) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.raw)
	}
	want := []string{"access_token", "refresh_token", "frontend_token", "token_type", "expires_in", "refresh_expires_in", "user"}
	if len(r.body) != len(want) {
		t.Errorf("token response keys %v, want exactly %v", keysOf(r.body), want)
	}
	for _, k := range []string{"access_token", "refresh_token"} {
		if !opaqueRE.MatchString(r.str(k)) {
			t.Errorf("%s %q is not 43 base64url characters", k, r.str(k))
		}
	}
	if r.str("access_token") == r.str("refresh_token") {
		t.Errorf("access and refresh tokens are equal")
	}
	if !frontendRE.MatchString(r.str("frontend_token")) {
		t.Errorf("frontend_token %q is not 32 of [a-z0-9]", r.str("frontend_token"))
	}
	if r.str("token_type") != "Bearer" {
		t.Errorf("token_type %q", r.str("token_type"))
	}
	for k, ttl := range map[string]time.Duration{"expires_in": accessTTL, "refresh_expires_in": refreshTTL} {
		if !isoRE.MatchString(r.str(k)) {
			t.Errorf("%s %q is not ISO-8601 UTC with ms and Z", k, r.str(k))
		}
		if want := now.Add(ttl).UTC().Format("2006-01-02T15:04:05.000Z"); r.str(k) != want {
			t.Errorf("%s = %q, want %q", k, r.str(k), want)
		}
	}
	user, _ := r.body["user"].(map[string]any)
	wantUser := map[string]any{"user_id": float64(u.UserID), "email": u.Email, "role_id": float64(u.RoleID), "org_unit_id": float64(u.OrgUnitID)}
	if len(user) != len(wantUser) {
		t.Errorf("user %v, want %v", user, wantUser)
	}
	for k, v := range wantUser {
		if user[k] != v {
			t.Errorf("user.%s = %v, want %v", k, user[k], v)
		}
	}
	if r.header.Get("X-Request-Id") == "" {
		t.Errorf("no X-Request-Id")
	}
}

func TestLogin(t *testing.T) {
	u := emulator.User{Email: "ann@example.com", Password: "s3cret", UserID: 7, RoleID: 2, OrgUnitID: 77}
	const path = "/oauth/token"
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
	}{
		{"email key", "application/json", `{"email":"ann@example.com","password":"s3cret"}`, 200},
		{"username key", "application/json", `{"username":"ann@example.com","password":"s3cret"}`, 200},
		{"email is case-insensitive", "application/json", `{"email":"ANN@example.com","password":"s3cret"}`, 200},
		{"charset parameter", "application/json; charset=utf-8", `{"email":"ann@example.com","password":"s3cret"}`, 200},
		{"extra fields ignored", "application/json", `{"email":"ann@example.com","password":"s3cret","client_id":"x"}`, 200},
		{"form encoded", "application/x-www-form-urlencoded", `email=ann%40example.com&password=s3cret`, 400},
		{"no content type", "", `{"email":"ann@example.com","password":"s3cret"}`, 400},
		{"not JSON", "application/json", `{"email":`, 400},
		{"JSON array", "application/json", `[1,2]`, 400},
		{"trailing garbage", "application/json", `{"email":"ann@example.com","password":"s3cret"} x`, 400},
		{"wrong type", "application/json", `{"email":"ann@example.com","password":123}`, 400},
		{"missing email", "application/json", `{"password":"s3cret"}`, 400},
		{"empty email", "application/json", `{"email":"","password":"s3cret"}`, 400},
		{"missing password", "application/json", `{"email":"ann@example.com"}`, 400},
		{"wrong password", "application/json", `{"email":"ann@example.com","password":"nope"}`, 401},
		{"password case matters", "application/json", `{"email":"ann@example.com","password":"S3CRET"}`, 401},
		{"unknown user", "application/json", `{"email":"bob@example.com","password":"s3cret"}`, 401},
		{"too large", "application/json", `{"email":"ann@example.com","password":"` + strings.Repeat("x", 70<<10) + `"}`, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, emulator.Config{Users: []emulator.User{u}, AccessTTL: time.Hour, RefreshTTL: 48 * time.Hour})
			r := h.do(http.MethodPost, path, tt.contentType, tt.body)
			if tt.status == 200 {
				checkTokenResponse(t, r, u, h.clk.Now(), time.Hour, 48*time.Hour)
			} else {
				checkError(t, r, tt.status, path)
			}
			wantLogins := 0
			if tt.status == 200 {
				wantLogins = 1
			}
			if st := h.stats(); st.Logins != wantLogins || st.ActiveSessions != wantLogins {
				t.Errorf("stats %+v, want %d login and active session", st, wantLogins)
			}
		})
	}
}

func TestDefaultsAndUserIDs(t *testing.T) {
	h := newHarness(t, emulator.Config{})
	r := h.mustLogin()
	checkTokenResponse(t, r, emulator.DefaultUser(), h.clk.Now(), emulator.DefaultAccessTTL, emulator.DefaultRefreshTTL)
	if got := r.str("expires_in"); got != "2026-04-10T12:00:00.000Z" {
		t.Errorf("default access expiry %s, want 7 days after 2026-04-03T12:00Z", got)
	}

	// Users without an id are numbered, so each has a distinct user_id.
	a, _ := emulator.ParseUser("a@x.io:pw")
	b, _ := emulator.ParseUser("b@x.io:pw:3:5")
	em := emulator.New(emulator.Config{Users: []emulator.User{a, b}})
	us := em.Users()
	if len(us) != 2 || us[0].UserID == 0 || us[0].UserID == us[1].UserID || us[1].RoleID != 3 || us[1].OrgUnitID != 5 {
		t.Errorf("Users() = %+v, want two users with distinct ids", us)
	}
}

func TestSubSecondLifetimes(t *testing.T) {
	h := newHarness(t, emulator.Config{AccessTTL: 1500 * time.Millisecond, RefreshTTL: 3 * time.Second})
	r := h.mustLogin()
	checkTokenResponse(t, r, emulator.DefaultUser(), h.clk.Now(), 1500*time.Millisecond, 3*time.Second)
	h.clk.Advance(1499 * time.Millisecond)
	if p := h.profile(r.str("access_token")); p.status != 200 {
		t.Fatalf("profile 1ms before expiry: %d", p.status)
	}
	h.clk.Advance(time.Millisecond)
	checkError(t, h.profile(r.str("access_token")), 401, "/v3/auth/profile")
}

func TestLoginRateLimit(t *testing.T) {
	for _, rate := range []int{0, 3} {
		t.Run("rate "+strconv.Itoa(rate), func(t *testing.T) {
			h := newHarness(t, emulator.Config{LoginRate: rate})
			limit := rate
			if rate == 0 {
				limit = emulator.DefaultLoginRate
			}
			// Every attempt counts, failed ones too (brute-force protection).
			for i := range limit {
				pw := emulator.DefaultUser().Password
				if i%2 == 1 {
					pw = "wrong"
				}
				if r := h.login(emulator.DefaultUser().Email, pw); r.status == 429 {
					t.Fatalf("request %d of %d refused", i+1, limit)
				}
				h.clk.Advance(time.Second)
			}
			r := h.mustLoginStatus(429)
			checkError(t, r, 429, "/oauth/token")
			// The first request was limit seconds ago: its slot frees in 60-limit s.
			if got, want := r.header.Get("Retry-After"), strconv.Itoa(60-limit); got != want {
				t.Errorf("Retry-After %q, want %q", got, want)
			}
			h.clk.Advance(time.Duration(60-limit)*time.Second - time.Millisecond)
			r = h.mustLoginStatus(429)
			if got := r.header.Get("Retry-After"); got != "1" {
				t.Errorf("Retry-After 1ms before the window frees: %q, want 1", got)
			}
			h.clk.Advance(time.Millisecond)
			h.mustLogin()
			// The window is full again: the next slot frees when the second request ages out.
			r = h.mustLoginStatus(429)
			if got := r.header.Get("Retry-After"); got != "1" {
				t.Errorf("Retry-After %q, want 1", got)
			}
			// Other endpoints are not limited.
			for range limit + 2 {
				if r := h.refresh("unknown"); r.status != 401 {
					t.Fatalf("refresh answered %d, want 401 (not rate limited)", r.status)
				}
			}
		})
	}
}

// mustLoginStatus logs the default user in and asserts the status.
func (h *harness) mustLoginStatus(status int) reply {
	h.t.Helper()
	r := h.login(emulator.DefaultUser().Email, emulator.DefaultUser().Password)
	if r.status != status {
		h.t.Fatalf("login: %d, want %d: %s", r.status, status, r.raw)
	}
	return r
}

func TestLoginRateUnlimitedAndShiftClock(t *testing.T) {
	h := newHarness(t, emulator.Config{LoginRate: -1})
	for range 30 {
		h.mustLogin()
	}
	h2 := newHarness(t, emulator.Config{LoginRate: 1})
	h2.mustLogin()
	h2.mustLoginStatus(429)
	h2.em.ShiftClock(time.Minute) // the window follows the shifted clock
	h2.mustLogin()
}

func TestRefreshRotation(t *testing.T) {
	h := newHarness(t, emulator.Config{AccessTTL: time.Hour, RefreshTTL: 24 * time.Hour})
	first := h.mustLogin()
	h.clk.Advance(10 * time.Minute)

	second := h.refresh(first.str("refresh_token"))
	checkTokenResponse(t, second, emulator.DefaultUser(), h.clk.Now(), time.Hour, 24*time.Hour)
	for _, k := range []string{"access_token", "refresh_token", "frontend_token"} {
		if second.str(k) == first.str(k) {
			t.Errorf("%s was not rotated", k)
		}
	}
	// refresh_expires_in restarts from now, not from the login.
	if second.str("refresh_expires_in") == first.str("refresh_expires_in") {
		t.Errorf("refresh_expires_in did not restart")
	}

	// The old refresh token is dead at once; presenting it is reuse.
	checkError(t, h.refresh(first.str("refresh_token")), 401, "/oauth/refresh-token")
	// The old access token lives until its own expiry.
	if p := h.profile(first.str("access_token")); p.status != 200 {
		t.Errorf("old access token after rotation: %d, want 200", p.status)
	}
	if !h.em.Valid(first.str("access_token"), emulator.KindAccess) || h.em.Valid(first.str("refresh_token"), emulator.KindRefresh) {
		t.Errorf("Valid disagrees: old access should be valid, old refresh not")
	}
	h.clk.Advance(50 * time.Minute)
	checkError(t, h.profile(first.str("access_token")), 401, "/v3/auth/profile")
	if p := h.profile(second.str("access_token")); p.status != 200 {
		t.Errorf("new access token: %d", p.status)
	}

	third := h.refresh(second.str("refresh_token"))
	if third.status != 200 {
		t.Fatalf("second rotation: %d %s", third.status, third.raw)
	}
	want := emulator.Stats{Logins: 1, Refreshes: 2, RefreshRejections: 1, ReuseDetected: 1, ActiveSessions: 1}
	if st := h.stats(); st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
	// Reuse does not kill the current pair.
	if !h.em.Valid(third.str("refresh_token"), emulator.KindRefresh) {
		t.Errorf("reuse killed the current refresh token")
	}
}

func TestRefreshRejections(t *testing.T) {
	const path = "/oauth/refresh-token"
	tests := []struct {
		name   string
		setup  func(h *harness, login reply) (contentType, body string)
		status int
		reuse  bool
	}{
		{"unknown", func(h *harness, _ reply) (string, string) {
			return "application/json", `{"refresh_token":"not-a-token"}`
		}, 401, false},
		{"access token as refresh", func(h *harness, l reply) (string, string) {
			return "application/json", `{"refresh_token":"` + l.str("access_token") + `"}`
		}, 401, false},
		{"expired", func(h *harness, l reply) (string, string) {
			h.clk.Advance(2 * time.Hour)
			return "application/json", `{"refresh_token":"` + l.str("refresh_token") + `"}`
		}, 401, false},
		{"revoked", func(h *harness, l reply) (string, string) {
			if r := h.revoke(l.str("refresh_token"), "refresh"); r.status != 200 {
				h.t.Fatalf("revoke %d", r.status)
			}
			return "application/json", `{"refresh_token":"` + l.str("refresh_token") + `"}`
		}, 401, false},
		{"used", func(h *harness, l reply) (string, string) {
			h.refresh(l.str("refresh_token"))
			return "application/json", `{"refresh_token":"` + l.str("refresh_token") + `"}`
		}, 401, true},
		{"missing field", func(h *harness, _ reply) (string, string) { return "application/json", `{}` }, 400, false},
		{"empty field", func(h *harness, _ reply) (string, string) { return "application/json", `{"refresh_token":""}` }, 400, false},
		{"wrong type", func(h *harness, _ reply) (string, string) { return "application/json", `{"refresh_token":1}` }, 400, false},
		{"not JSON", func(h *harness, _ reply) (string, string) { return "application/json", `refresh_token=x` }, 400, false},
		{"wrong content type", func(h *harness, l reply) (string, string) {
			return "text/plain", `{"refresh_token":"` + l.str("refresh_token") + `"}`
		}, 400, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, emulator.Config{AccessTTL: time.Hour, RefreshTTL: time.Hour})
			l := h.mustLogin()
			before := h.stats()
			ct, body := tt.setup(h, l)
			checkError(t, h.do(http.MethodPost, path, ct, body), tt.status, path)
			st := h.stats()
			wantRej, wantReuse := 0, 0
			if tt.status == 401 {
				wantRej = 1
			}
			if tt.reuse {
				wantReuse = 1
			}
			if st.RefreshRejections-before.RefreshRejections != wantRej || st.ReuseDetected-before.ReuseDetected != wantReuse {
				t.Errorf("stats %+v → %+v: want %d more rejection(s), %d more reuse", before, st, wantRej, wantReuse)
			}
		})
	}
}

func TestRevoke(t *testing.T) {
	const path = "/oauth/revoke-token"
	t.Run("bad requests", func(t *testing.T) {
		for _, body := range []string{
			`{"token_type":"access"}`,
			`{"token":"","token_type":"access"}`,
			`{"token":"x"}`,
			`{"token":"x","token_type":"bearer"}`,
			`{"token":"x","token_type":"ACCESS"}`,
			`{"token":"x","token_type":1}`,
			`nonsense`,
		} {
			h := newHarness(t, emulator.Config{})
			checkError(t, h.do(http.MethodPost, path, "application/json", body), 400, path)
			if st := h.stats(); st.Revocations != 0 {
				t.Errorf("%s: counted a revocation for a 400", body)
			}
		}
	})

	t.Run("idempotent", func(t *testing.T) {
		h := newHarness(t, emulator.Config{AccessTTL: time.Minute})
		l := h.mustLogin()
		h.clk.Advance(2 * time.Minute) // the access token has expired
		for _, tc := range []struct{ tok, kind string }{
			{"never-issued", "access"}, {"never-issued", "refresh"},
			{l.str("access_token"), "access"}, // expired
			{l.str("refresh_token"), "refresh"},
			{l.str("refresh_token"), "refresh"}, // already revoked
		} {
			r := h.revoke(tc.tok, tc.kind)
			if r.status != 200 || r.str("message") != "Token revoked successfully" || len(r.body) != 1 {
				t.Errorf("revoke %s: %d %s", tc.kind, r.status, r.raw)
			}
		}
		if st := h.stats(); st.Revocations != 5 || st.ActiveSessions != 0 {
			t.Errorf("stats %+v, want 5 revocations and no active session", st)
		}
	})

	t.Run("access only", func(t *testing.T) {
		h := newHarness(t, emulator.Config{})
		l := h.mustLogin()
		h.revoke(l.str("access_token"), "access")
		checkError(t, h.profile(l.str("access_token")), 401, "/v3/auth/profile")
		if r := h.refresh(l.str("refresh_token")); r.status != 200 {
			t.Errorf("refresh after revoking the access token: %d", r.status)
		}
	})

	t.Run("refresh only", func(t *testing.T) {
		h := newHarness(t, emulator.Config{})
		l := h.mustLogin()
		h.revoke(l.str("refresh_token"), "refresh")
		if p := h.profile(l.str("access_token")); p.status != 200 {
			t.Errorf("profile after revoking the refresh token: %d", p.status)
		}
		checkError(t, h.refresh(l.str("refresh_token")), 401, "/oauth/refresh-token")
		if st := h.stats(); st.ActiveSessions != 0 || st.ReuseDetected != 0 {
			t.Errorf("stats %+v: want no active session and no reuse", st)
		}
	})

	t.Run("type names the kind", func(t *testing.T) {
		h := newHarness(t, emulator.Config{})
		l := h.mustLogin()
		// A refresh token revoked as "access" (and vice versa) is left alone.
		h.revoke(l.str("refresh_token"), "access")
		h.revoke(l.str("access_token"), "refresh")
		if !h.em.Valid(l.str("access_token"), "access") || !h.em.Valid(l.str("refresh_token"), "refresh") {
			t.Errorf("a mismatched token_type killed a token")
		}
	})
}

func TestProfile(t *testing.T) {
	const path = "/v3/auth/profile"
	u := emulator.User{Email: "p@example.com", Password: "pw", UserID: 42, RoleID: 3, OrgUnitID: 9}
	h := newHarness(t, emulator.Config{Users: []emulator.User{u}, AccessTTL: time.Hour})
	l := h.login(u.Email, u.Password)

	r := h.profile(l.str("access_token"))
	if r.status != 200 {
		t.Fatalf("profile: %d %s", r.status, r.raw)
	}
	if f, _ := r.body["code"].(float64); f != 200 || r.str("message") != "Success" || len(r.body) != 5 {
		t.Errorf("envelope %s", r.raw)
	}
	if r.str("request_id") != r.header.Get("X-Request-Id") || !uuidRE.MatchString(r.str("request_id")) {
		t.Errorf("request_id %q vs header %q", r.str("request_id"), r.header.Get("X-Request-Id"))
	}
	if r.str("timestamp") != "2026-04-03T12:00:00.000Z" {
		t.Errorf("timestamp %q, want the emulator's clock", r.str("timestamp"))
	}
	data, _ := r.body["data"].(map[string]any)
	if data["user_id"] != float64(42) || data["email"] != u.Email || data["role_id"] != float64(3) || data["org_unit_id"] != float64(9) || len(data) != 4 {
		t.Errorf("data %v", data)
	}

	for _, tc := range []struct{ name, header string }{
		{"no header", ""},
		{"basic scheme", "Basic " + l.str("access_token")},
		{"no token", "Bearer "},
		{"refresh token", "Bearer " + l.str("refresh_token")},
		{"unknown", "Bearer nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.header != "" {
				hdr = []string{"Authorization", tc.header}
			}
			checkError(t, h.do(http.MethodGet, path, "", "", hdr...), 401, path)
		})
	}
	h.clk.Advance(time.Hour)
	checkError(t, h.profile(l.str("access_token")), 401, path)
}

func TestRoutingErrors(t *testing.T) {
	h := newHarness(t, emulator.Config{})
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/", 404, ""},
		{"POST", "/oauth/token/", 404, ""},
		{"GET", "/v3/users/list", 404, ""},
		{"GET", "/oauth/token", 405, "POST"},
		{"PUT", "/oauth/refresh-token", 405, "POST"},
		{"DELETE", "/oauth/revoke-token", 405, "POST"},
		{"POST", "/v3/auth/profile", 405, "GET"},
		{"POST", "/_emulator/stats", 405, "GET"},
	} {
		r := h.do(tc.method, tc.path, "application/json", "{}")
		checkError(t, r, tc.status, tc.path)
		if r.header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, r.header.Get("Allow"), tc.allow)
		}
	}
}

func TestStatsShape(t *testing.T) {
	h := newHarness(t, emulator.Config{})
	h.mustLogin()
	r := h.do(http.MethodGet, "/_emulator/stats", "", "")
	want := map[string]any{"logins": float64(1), "refreshes": float64(0), "refresh_rejections": float64(0),
		"reuse_detected": float64(0), "revocations": float64(0), "active_sessions": float64(1)}
	if len(r.body) != len(want) {
		t.Errorf("stats keys %v", keysOf(r.body))
	}
	for k, v := range want {
		if r.body[k] != v {
			t.Errorf("%s = %v, want %v", k, r.body[k], v)
		}
	}
	if h.em.ActiveSessions() != 1 || h.em.Stats().Logins != 1 {
		t.Errorf("Go API disagrees with the endpoint")
	}
	// Expiry of the refresh token ends the session.
	h.clk.Advance(emulator.DefaultRefreshTTL)
	if st := h.stats(); st.ActiveSessions != 0 {
		t.Errorf("active sessions after refresh expiry: %d", st.ActiveSessions)
	}
}

func TestDateFollowsShiftClock(t *testing.T) {
	h := newHarness(t, emulator.Config{})
	for _, shift := range []time.Duration{0, 90 * time.Second, -3 * time.Hour} {
		h.em.ShiftClock(shift)
		want := h.em.Now()
		for _, path := range []string{"/_emulator/stats", "/nowhere"} {
			r := h.do(http.MethodGet, path, "", "")
			got, err := http.ParseTime(r.header.Get("Date"))
			if err != nil || !got.Equal(want.Truncate(time.Second)) {
				t.Errorf("after shifting %v: Date %q (%v), want %v", shift, r.header.Get("Date"), err, want)
			}
		}
	}
	if got, want := h.em.Now(), h.clk.Now().Add(90*time.Second-3*time.Hour); !got.Equal(want) {
		t.Errorf("shifts do not add up: Now %v, want %v", got, want)
	}
	// Expiry follows the shifted clock.
	h2 := newHarness(t, emulator.Config{AccessTTL: time.Hour})
	l := h2.mustLogin()
	h2.em.ShiftClock(time.Hour)
	checkError(t, h2.profile(l.str("access_token")), 401, "/v3/auth/profile")
}

func TestParseUser(t *testing.T) {
	tests := []struct {
		spec    string
		want    emulator.User
		wantErr string
	}{
		{"a@b.c:pw", emulator.User{Email: "a@b.c", Password: "pw", RoleID: 1, OrgUnitID: 1001}, ""},
		{"a@b.c:pw:2", emulator.User{Email: "a@b.c", Password: "pw", RoleID: 2, OrgUnitID: 1001}, ""},
		{"a@b.c:pw:3:77", emulator.User{Email: "a@b.c", Password: "pw", RoleID: 3, OrgUnitID: 77}, ""},
		{"a@b.c", emulator.User{}, "want EMAIL:PASSWORD"},
		{"a@b.c:pw:1:2:3", emulator.User{}, "may not contain ':'"},
		{"ab.c:pw", emulator.User{}, "EMAIL must be"},
		{":pw", emulator.User{}, "EMAIL must be"},
		{"a@b.c:", emulator.User{}, "PASSWORD is empty"},
		{"a@b.c:pw:0", emulator.User{}, "ROLE_ID"},
		{"a@b.c:pw:4", emulator.User{}, "ROLE_ID"},
		{"a@b.c:pw:admin", emulator.User{}, "ROLE_ID"},
		{"a@b.c:pw:1:x", emulator.User{}, "ORG_UNIT_ID"},
		{"a@b.c:pw:1:-5", emulator.User{}, "ORG_UNIT_ID"},
		// A password with ':' spills into the later fields: no part of it
		// may be echoed, whichever check fails.
		{"a@b.c:hun:ter2", emulator.User{}, "ROLE_ID"},
		{"a@b.c:hun:2:ter2", emulator.User{}, "ORG_UNIT_ID"},
		{"a@b.c:hu:Qx7:Zk9:22", emulator.User{}, "may not contain ':'"},
	}
	for _, tt := range tests {
		got, err := emulator.ParseUser(tt.spec)
		if tt.wantErr == "" {
			if err != nil || got != tt.want {
				t.Errorf("ParseUser(%q) = %+v, %v; want %+v", tt.spec, got, err, tt.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, emulator.ErrBadUser) {
			t.Errorf("ParseUser(%q) error %v, want one containing %q", tt.spec, err, tt.wantErr)
		}
		if err != nil && strings.Contains(tt.spec, ":pw") && strings.Contains(err.Error(), "pw") {
			t.Errorf("ParseUser(%q) error shows the password: %v", tt.spec, err)
		}
		for _, frag := range []string{"hun", "ter2", "Qx7", "Zk9"} {
			if err != nil && strings.Contains(tt.spec, ":"+frag) && strings.Contains(err.Error(), frag) {
				t.Errorf("ParseUser(%q) error shows part of the password (%q): %v", tt.spec, frag, err)
			}
		}
	}
}

// The limit is per client address (RemoteAddr), and forwarding headers do
// not let a client pick another one. httptest.NewRequest sets RemoteAddr,
// which a loopback server cannot vary.
func TestLoginRatePerClientIP(t *testing.T) {
	clk := newFakeClock()
	em := emulator.New(emulator.Config{LoginRate: 2, Now: clk.Now})
	login := func(remote, forwarded string) int {
		req := httptest.NewRequest(http.MethodPost, "/oauth/token",
			strings.NewReader(`{"email":"demo@example.com","password":"demo-password"}`))
		req.Header.Set("Content-Type", "application/json")
		req.RemoteAddr = remote
		if forwarded != "" {
			req.Header.Set("X-Forwarded-For", forwarded)
		}
		rec := httptest.NewRecorder()
		em.ServeHTTP(rec, req)
		return rec.Code
	}
	for _, tc := range []struct {
		remote, forwarded string
		want              int
	}{
		{"192.0.2.1:1000", "", 200},
		{"192.0.2.1:1001", "", 200}, // another port, same address
		{"192.0.2.1:1002", "198.51.100.7", 429},
		{"192.0.2.2:1000", "", 200},
		{"[2001:db8::1]:443", "", 200},
		{"192.0.2.2:1000", "", 200},
		{"192.0.2.2:1000", "", 429},
	} {
		if got := login(tc.remote, tc.forwarded); got != tc.want {
			t.Errorf("login from %s (forwarded %q): %d, want %d", tc.remote, tc.forwarded, got, tc.want)
		}
	}
}
