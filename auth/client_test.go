package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth/emulator"
)

// emuBase is the emulator's (and the client's) frozen clock in these tests,
// so expiries and offsets are exact.
var emuBase = time.Date(2026, 4, 3, 12, 0, 0, 0, time.UTC)

// startEmu serves an emulator on loopback; cfg.Now defaults to emuBase.
func startEmu(t testing.TB, cfg emulator.Config) (*emulator.Server, Endpoints) {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return emuBase }
	}
	emu := emulator.New(cfg)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return emu, Endpoints{OAuthURL: srv.URL, APIURL: srv.URL + "/v3"}
}

func emuClient() *Client { return NewClient(nil, fixedTestClock{emuBase}) }

func login(t *testing.T, c *Client, ep Endpoints) TokenSet {
	t.Helper()
	ts, _, err := c.Login(context.Background(), ep, emulator.DefaultUser().Email, emulator.DefaultUser().Password)
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	return ts
}

func TestEmulatorLogin(t *testing.T) {
	for _, format := range []string{emulator.FormatOpaque, emulator.FormatJWT} {
		t.Run(format, func(t *testing.T) {
			_, ep := startEmu(t, emulator.Config{TokenFormat: format, AccessTTL: time.Hour, RefreshTTL: 48 * time.Hour})
			c := emuClient()
			ts, meta, err := c.Login(context.Background(), ep, emulator.DefaultUser().Email, emulator.DefaultUser().Password)
			if err != nil {
				t.Fatal(err)
			}
			wantUser := User{UserID: emulator.DefaultUser().UserID, Email: emulator.DefaultUser().Email, RoleID: emulator.DefaultUser().RoleID, OrgUnitID: emulator.DefaultUser().OrgUnitID}
			if ts.User != wantUser {
				t.Errorf("user = %+v, want %+v", ts.User, wantUser)
			}
			if ts.AccessToken == "" || ts.RefreshToken == "" || len(ts.FrontendToken) != 32 || ts.TokenType != "Bearer" {
				t.Errorf("token set incomplete: %v, frontend %d chars, type %q", ts.Secrets(), len(ts.FrontendToken), ts.TokenType)
			}
			if !ts.AccessExpiry.Equal(emuBase.Add(time.Hour)) || !ts.RefreshExpiry.Equal(emuBase.Add(48*time.Hour)) {
				t.Errorf("expiries %v / %v, want now+1h / now+48h", ts.AccessExpiry, ts.RefreshExpiry)
			}
			if meta.Status != 200 || meta.RequestID == "" || meta.ServerTime.IsZero() {
				t.Errorf("meta = %+v, want status, request id and server time", meta)
			}
			in := Inspect(ts.AccessToken, InspectOptions{Now: emuBase, ExpectedExpiry: ts.AccessExpiry})
			wantFormat := "opaque"
			if format == emulator.FormatJWT {
				wantFormat = "jwt"
				if !in.Expires.Equal(ts.AccessExpiry) || in.Claims["tokenId"] == nil {
					t.Errorf("jwt inspection = %+v, want exp = expires_in and a tokenId", in)
				}
			}
			if in.Format != wantFormat || len(in.Warnings) != 0 {
				t.Errorf("inspection format %q warnings %q, want %q and none", in.Format, in.Warnings, wantFormat)
			}
		})
	}
}

func TestEmulatorLoginRejected(t *testing.T) {
	_, ep := startEmu(t, emulator.Config{})
	c := emuClient()
	_, meta, err := c.Login(context.Background(), ep, emulator.DefaultUser().Email, "wrong-SECRET")
	var ae *APIError
	if !errors.Is(err, ErrInvalidCredentials) || !errors.As(err, &ae) {
		t.Fatalf("err = %v, want ErrInvalidCredentials", err)
	}
	if ae.Status != 401 || ae.RequestID == "" || ae.RequestID != meta.RequestID || !strings.Contains(err.Error(), "requestId "+ae.RequestID) {
		t.Errorf("error %q lacks status 401 or the request id (meta %+v)", err, meta)
	}
	if strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error leaks the password: %q", err)
	}
}

// TestEmulatorRotation: a refresh issues a whole new pair; the old refresh
// token is then rejected (and counted as reuse), the old access token lives on.
func TestEmulatorRotation(t *testing.T) {
	emu, ep := startEmu(t, emulator.Config{AccessTTL: time.Hour, RefreshTTL: 48 * time.Hour})
	c := emuClient()
	ctx := context.Background()
	first := login(t, c, ep)

	emu.ShiftClock(10 * time.Minute)
	second, meta, err := c.Refresh(ctx, ep, first.RefreshToken)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if second.AccessToken == first.AccessToken || second.RefreshToken == first.RefreshToken || second.FrontendToken == first.FrontendToken {
		t.Error("refresh did not rotate all three tokens")
	}
	now := emuBase.Add(10 * time.Minute)
	if !second.RefreshExpiry.Equal(now.Add(48*time.Hour)) || !second.AccessExpiry.Equal(now.Add(time.Hour)) {
		t.Errorf("expiries %v / %v did not restart from the refresh", second.AccessExpiry, second.RefreshExpiry)
	}
	if meta.ClockOffset != 10*time.Minute+500*time.Millisecond {
		t.Errorf("clock offset %v after ShiftClock(10m), want 10m0.5s", meta.ClockOffset)
	}

	_, _, err = c.Refresh(ctx, ep, first.RefreshToken)
	var ae *APIError
	if !errors.Is(err, ErrRefreshRejected) || !errors.As(err, &ae) || ae.Status != 401 {
		t.Fatalf("reused refresh token: err = %v, want ErrRefreshRejected with 401", err)
	}
	if st := emu.Stats(); st.ReuseDetected != 1 || st.RefreshRejections != 1 || st.Refreshes != 1 || st.Logins != 1 {
		t.Errorf("stats = %+v, want 1 login, 1 refresh, 1 rejection, 1 reuse", st)
	}

	for name, tok := range map[string]string{"old": first.AccessToken, "new": second.AccessToken} {
		pr, err := c.Probe(ctx, ep, tok)
		if err != nil || !pr.Accepted || pr.Status != 200 || pr.User.UserID != emulator.DefaultUser().UserID {
			t.Errorf("probe %s access token = %+v, %v; want accepted with the user", name, pr, err)
		}
	}
	if _, _, err := c.Refresh(ctx, ep, second.RefreshToken); err != nil {
		t.Errorf("the current refresh token stopped working after reuse of an old one: %v", err)
	}
}

func TestEmulatorRevoke(t *testing.T) {
	emu, ep := startEmu(t, emulator.Config{})
	c := emuClient()
	ctx := context.Background()
	ts := login(t, c, ep)

	if pr, err := c.Probe(ctx, ep, ts.AccessToken); err != nil || !pr.Accepted {
		t.Fatalf("probe before revoke = %+v, %v", pr, err)
	}
	for i := range 2 { // idempotent: the second revoke succeeds too
		if _, err := c.Revoke(ctx, ep, ts.AccessToken, AccessToken); err != nil {
			t.Fatalf("revoke #%d: %v", i+1, err)
		}
	}
	pr, err := c.Probe(ctx, ep, ts.AccessToken)
	if err != nil || pr.Accepted || pr.Status != 401 || pr.Message == "" || pr.Meta.RequestID == "" {
		t.Fatalf("probe after revoke = %+v, %v; want not accepted, 401, a message and a request id", pr, err)
	}
	// Revoking the access token leaves the refresh token alone.
	next, _, err := c.Refresh(ctx, ep, ts.RefreshToken)
	if err != nil {
		t.Fatalf("refresh after revoking only the access token: %v", err)
	}
	if _, err := c.Revoke(ctx, ep, next.RefreshToken, RefreshToken); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Refresh(ctx, ep, next.RefreshToken); !errors.Is(err, ErrRefreshRejected) {
		t.Errorf("refresh with a revoked refresh token: err = %v, want ErrRefreshRejected", err)
	}
	for name, tok := range map[string]string{"unknown": "never-issued-token", "unsigned JWT": "eyJhbGciOiJub25lIn0.e30."} {
		if _, err := c.Revoke(ctx, ep, tok, RefreshToken); err != nil {
			t.Errorf("revoke %s token: %v, want success", name, err)
		}
	}
	if st := emu.Stats(); st.Revocations != 5 {
		t.Errorf("revocations = %d, want 5", st.Revocations)
	}
}

// TestEmulatorRevokeBadRequests sends bodies the client itself never would.
func TestEmulatorRevokeBadRequests(t *testing.T) {
	_, ep := startEmu(t, emulator.Config{})
	c := emuClient()
	tests := []struct {
		name string
		body map[string]string
	}{
		{"missing token", map[string]string{"token_type": "access"}},
		{"empty token", map[string]string{"token": "", "token_type": "refresh"}},
		{"bad token_type", map[string]string{"token": "abc", "token_type": "id_token"}},
		{"missing token_type", map[string]string{"token": "abc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.do(context.Background(), "revoke", http.MethodPost, joinURL(ep.OAuthURL, "oauth/revoke-token"), tt.body, "")
			if err != nil {
				t.Fatal(err)
			}
			err = c.apiError("revoke", res)
			var ae *APIError
			if !errors.Is(err, ErrBadRequest) || !errors.As(err, &ae) || ae.Status != 400 || ae.Message == "" || ae.RequestID == "" {
				t.Errorf("err = %v, want ErrBadRequest 400 with a message and request id", err)
			}
		})
	}
}

func TestEmulatorRateLimit(t *testing.T) {
	emu, ep := startEmu(t, emulator.Config{LoginRate: 3})
	c := emuClient()
	ctx := context.Background()
	for i := range 3 {
		pw := emulator.DefaultUser().Password
		if i == 1 {
			pw = "wrong" // failed attempts count too
		}
		if _, _, err := c.Login(ctx, ep, emulator.DefaultUser().Email, pw); err != nil && !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("login %d: %v", i+1, err)
		}
	}
	_, _, err := c.Login(ctx, ep, emulator.DefaultUser().Email, emulator.DefaultUser().Password)
	var ae *APIError
	if !errors.Is(err, ErrRateLimited) || !errors.As(err, &ae) {
		t.Fatalf("4th login: err = %v, want ErrRateLimited", err)
	}
	// The emulator's clock is frozen, so the oldest attempt leaves the
	// window exactly a minute from now.
	if ae.RetryAfter != time.Minute || ae.Status != 429 {
		t.Errorf("RetryAfter = %v status %d, want 1m0s and 429", ae.RetryAfter, ae.Status)
	}
	// Refresh is not rate limited. Issue seeds a pair without a login.
	body, err := emu.Issue(emulator.DefaultUser().Email, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := ParseTokenResponse(body, emuBase)
	if err != nil {
		t.Fatalf("parse Issue's body: %v", err)
	}
	if _, _, err := c.Refresh(ctx, ep, ts.RefreshToken); err != nil {
		t.Errorf("refresh while login is rate limited: %v", err)
	}
}

func TestEmulatorClockOffset(t *testing.T) {
	emu, ep := startEmu(t, emulator.Config{})
	c := emuClient()
	ctx := context.Background()
	ts := login(t, c, ep)
	for _, shift := range []time.Duration{0, 90 * time.Second, -2 * time.Hour} {
		if shift != 0 {
			emu.ShiftClock(shift)
		}
		pr, err := c.Probe(ctx, ep, ts.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		total := emu.Now().Sub(emuBase)
		if want := total + 500*time.Millisecond; pr.Meta.ClockOffset != want {
			t.Errorf("after shifting %v: offset %v, want %v", shift, pr.Meta.ClockOffset, want)
		}
	}
}

func TestEmulatorFaults(t *testing.T) {
	emu, ep := startEmu(t, emulator.Config{})
	c := emuClient()
	ctx := context.Background()
	ts := login(t, c, ep)

	emu.FailNext(1, http.StatusServiceUnavailable)
	if _, _, err := c.Refresh(ctx, ep, ts.RefreshToken); !errors.Is(err, ErrServer) {
		t.Fatalf("refresh during FailNext: err = %v, want ErrServer", err)
	}

	// The server rotates, then the answer is lost: MaybeSent, and the old
	// token is now dead (the rotation was lost in transit, not stolen).
	emu.DropNextRefreshResponses(1)
	_, _, err := c.Refresh(ctx, ep, ts.RefreshToken)
	var ne *NetworkError
	if !errors.As(err, &ne) || !ne.MaybeSent {
		t.Fatalf("dropped refresh: err = %v, want a NetworkError with MaybeSent", err)
	}
	if _, _, err := c.Refresh(ctx, ep, ts.RefreshToken); !errors.Is(err, ErrRefreshRejected) {
		t.Fatalf("retry after a lost rotation: err = %v, want ErrRefreshRejected", err)
	}
	lost := emu.DroppedResponses()
	if len(lost) != 1 {
		t.Fatalf("%d dropped responses, want 1", len(lost))
	}
	rescued, err := ParseTokenResponse(lost[0], emuBase)
	if err != nil {
		t.Fatalf("parse the dropped response: %v", err)
	}
	if _, _, err := c.Refresh(ctx, ep, rescued.RefreshToken); err != nil {
		t.Errorf("refresh with the rescued pair: %v", err)
	}

	// A slow server: the deadline passes once the request has arrived.
	emu.SetLatency(time.Minute)
	short := newDeadlineOnSignal()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		short.fire()
		emu.ServeHTTP(w, r)
	}))
	defer slow.Close()
	_, err = c.Probe(short, Endpoints{OAuthURL: slow.URL, APIURL: slow.URL + "/v3"}, ts.AccessToken)
	if !errors.As(err, &ne) || !ne.MaybeSent || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow server: err = %v, want a deadline NetworkError with MaybeSent", err)
	}
}
