package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/auth/emulator"
)

// needsLogin asserts err is a *NeedsLoginError with reason, and that the
// stored session says the same.
func (e *env) needsLogin(err error, name string, reason auth.Reason) *auth.NeedsLoginError {
	e.t.Helper()
	var nl *auth.NeedsLoginError
	if !errors.As(err, &nl) || !errors.Is(err, auth.ErrNeedsLogin) {
		e.t.Fatalf("want needs-login (%s), got %v", reason, err)
	}
	if nl.Reason != reason {
		e.t.Fatalf("reason %s, want %s (%v)", nl.Reason, reason, err)
	}
	s := e.get(name)
	if s.State != auth.StateNeedsLogin || s.Reason != reason || s.LastError == "" || !s.RefreshingSince.IsZero() {
		e.t.Fatalf("stored state %s/%s %q marker %v", s.State, s.Reason, s.LastError, s.RefreshingSince)
	}
	return nl
}

func TestRefreshNeedsLogin(t *testing.T) {
	tests := []struct {
		name   string
		before func(e *env)
		reason auth.Reason
		reuse  bool // EventReuseSuspected expected
		// sends is how many refresh requests the keeper should send.
		sends int
	}{
		{
			name:   "refresh token expired",
			before: func(e *env) { e.clock.Advance(2 * time.Hour) },
			reason: auth.ReasonRefreshExpired,
			sends:  0, // known from the stored instant: nothing to ask
		},
		{
			name: "expired by server time only",
			before: func(e *env) {
				// Our clock says 30 s are left, the server's is 2 min ahead.
				e.clock.Advance(time.Hour - 30*time.Second)
				e.emu.ShiftClock(2 * time.Minute)
			},
			reason: auth.ReasonRefreshExpired,
			sends:  1,
		},
		{
			name: "revoked by us, state lost",
			before: func(e *env) {
				// Our record of the revocation survives while the state
				// does not (e.g. an older tokentop wrote the metadata).
				sec := e.secrets("s")
				c := auth.NewClient(e.srv.Client(), e.clock)
				if _, err := c.Revoke(context.Background(), e.ep, sec.RefreshToken, auth.RefreshToken); err != nil {
					e.t.Fatal(err)
				}
				s := e.get("s")
				s.RevokedRefreshFP = auth.Fingerprint(sec.RefreshToken)
				if err := e.store.PutMeta(context.Background(), s); err != nil {
					e.t.Fatal(err)
				}
			},
			reason: auth.ReasonRevoked,
			sends:  1,
		},
		{
			name: "revoked by someone else",
			before: func(e *env) {
				c := auth.NewClient(e.srv.Client(), e.clock)
				if _, err := c.Revoke(context.Background(), e.ep, e.secrets("s").RefreshToken, auth.RefreshToken); err != nil {
					e.t.Fatal(err)
				}
			},
			reason: auth.ReasonRejected,
			reuse:  true,
			sends:  1,
		},
		{
			name:   "used by someone else",
			before: func(e *env) { e.stealRefresh("s") },
			reason: auth.ReasonRejected,
			reuse:  true,
			sends:  1,
		},
		{
			name:   "rotation lost in transit",
			before: func(e *env) { e.emu.DropNextRefreshResponses(1) },
			reason: auth.ReasonRotationLost,
			sends:  2, // the lost one and one retry with the same token
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOpt{})
			e.seed("s", 10*time.Minute, time.Hour)
			tt.before(e)
			before := e.emu.Stats()
			_, err := e.k.Refresh(context.Background(), "s")
			nl := e.needsLogin(err, "s", tt.reason)
			after := e.emu.Stats()
			if sent := after.Refreshes + after.RefreshRejections - before.Refreshes - before.RefreshRejections; sent != tt.sends {
				t.Fatalf("%d refresh requests reached the server, want %d", sent, tt.sends)
			}
			if got := e.audit.Count("s", auth.EventReuseSuspected); (got == 1) != tt.reuse || got > 1 {
				t.Fatalf("%d reuse warnings (want %v): %v", got, tt.reuse, e.audit.Kinds("s"))
			}
			if e.audit.Count("s", auth.EventNeedsLogin) != 1 {
				t.Fatalf("audit %v", e.audit.Kinds("s"))
			}
			if tt.reason == auth.ReasonRotationLost && !strings.Contains(nl.Error(), "not stolen") {
				t.Fatalf("message %q does not say it was not theft", nl.Error())
			}
			if tt.reason == auth.ReasonRejected && !strings.Contains(nl.Error(), "someone else may have used") {
				t.Fatalf("message %q does not warn", nl.Error())
			}
			// Needs-login is sticky and costs no network call.
			mid := e.emu.Stats()
			if _, _, err := e.k.Token(context.Background(), "s", 0); !errors.Is(err, auth.ErrNeedsLogin) {
				t.Fatalf("Token after needs-login: %v", err)
			}
			if _, err := e.k.Refresh(context.Background(), "s"); !errors.Is(err, auth.ErrNeedsLogin) {
				t.Fatalf("Refresh after needs-login: %v", err)
			}
			if e.emu.Stats() != mid {
				t.Fatal("a needs-login session reached the server")
			}
		})
	}
}

func TestAnswerLostRetrySucceeds(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.seed("s", 10*time.Minute, time.Hour)
	// The request "went out" but never reached the server; the retry does.
	e.tap.mu.Lock()
	e.tap.loseNext = 1
	e.tap.mu.Unlock()
	res, err := e.k.Refresh(context.Background(), "s")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Note, "retried once") || res.New.State != auth.StateOK {
		t.Fatalf("result %+v", res)
	}
	if st := e.emu.Stats(); st.Refreshes != 1 || st.ReuseDetected != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestInterruptedRefresh(t *testing.T) {
	tests := []struct {
		name string
		// rotated: the killed process's request reached the server.
		rotated bool
		reason  auth.Reason
	}{
		{"killed before the server rotated", false, auth.ReasonNone},
		{"killed after the server rotated", true, auth.ReasonRotationLost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOpt{})
			ctx := context.Background()
			e.seed("s", 10*time.Minute, time.Hour)
			// What a process killed mid-refresh leaves behind.
			s := e.get("s")
			s.State = auth.StateRefreshing
			s.RefreshingSince = e.clock.Now().Add(-2 * time.Minute)
			s.RefreshingPID = 99999
			s.RefreshingFP = s.RefreshFP
			if err := e.store.PutMeta(ctx, s); err != nil {
				t.Fatal(err)
			}
			if tt.rotated {
				e.stealRefresh("s") // the server answered; nobody saved it
			}
			res, err := e.k.Refresh(ctx, "s")
			if tt.reason == auth.ReasonNone {
				if err != nil {
					t.Fatal(err)
				}
				if !res.Recovered || !strings.Contains(res.Note, "pid 99999") || !strings.Contains(res.Note, "recovered") {
					t.Fatalf("result %+v", res)
				}
				if got := e.get("s"); got.State != auth.StateOK || !got.RefreshingSince.IsZero() {
					t.Fatalf("after recovery %+v", got)
				}
				return
			}
			nl := e.needsLogin(err, "s", tt.reason)
			if !strings.Contains(nl.Error(), "pid 99999") || !strings.Contains(nl.Error(), "interrupted") {
				t.Fatalf("message %q does not tell what happened", nl.Error())
			}
			if e.audit.Count("s", auth.EventReuseSuspected) != 0 {
				t.Fatal("an interrupted refresh was reported as reuse")
			}
		})
	}
}

func TestTransientFailures(t *testing.T) {
	retryAfter := func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
		if !strings.HasSuffix(r.URL.Path, "/oauth/refresh-token") {
			return false
		}
		w.Header().Set("Retry-After", "120")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"statusCode":429,"message":"Too Many Requests","error":"slow down"}`))
		return true
	}
	tests := []struct {
		name      string
		fail      func(e *env)
		kind      error
		wantDelay time.Duration
	}{
		{"server error", func(e *env) { e.emu.FailNext(1, http.StatusInternalServerError) }, auth.ErrServer, 1500 * time.Millisecond},
		{"rate limited with Retry-After", func(e *env) { e.setIntercept(retryAfter) }, auth.ErrRateLimited, 120 * time.Second},
		{"server down", func(e *env) {
			dead := httptest.NewServer(http.NotFoundHandler())
			dead.Close()
			s := e.get("s")
			s.Endpoints = auth.Endpoints{OAuthURL: dead.URL, APIURL: dead.URL + "/v3"}
			if err := e.store.PutMeta(context.Background(), s); err != nil {
				e.t.Fatal(err)
			}
		}, auth.ErrNetwork, 1500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOpt{})
			ctx := context.Background()
			e.seed("s", 10*time.Minute, time.Hour)
			tt.fail(e)
			_, err := e.k.Refresh(ctx, "s")
			var re *auth.RetryError
			if !errors.As(err, &re) || !errors.Is(err, tt.kind) {
				t.Fatalf("Refresh = %v, want a retry error matching %v", err, tt.kind)
			}
			s := e.get("s")
			want := e.clock.Now().Add(tt.wantDelay)
			if s.State != auth.StateRetrying || !s.NextAttempt.Equal(want) || !re.NextAttempt.Equal(want) || s.Failures != 1 ||
				s.LastError == "" || !s.RefreshingSince.IsZero() {
				t.Fatalf("stored %s next %s (want %s) failures %d %q marker %v", s.State, s.NextAttempt, want, s.Failures, s.LastError, s.RefreshingSince)
			}
			ev := e.audit.Events()
			last := ev[len(ev)-1]
			if last.Kind != auth.EventRetrying || !last.At.Equal(want) {
				t.Fatalf("last event %+v", last)
			}
			// The token is still good for a while: Token hands it out
			// without hammering the server before NextAttempt.
			sent := e.emu.Stats()
			if _, _, err := e.k.Token(ctx, "s", time.Minute); err != nil {
				t.Fatalf("Token while retrying: %v", err)
			}
			if e.emu.Stats() != sent {
				t.Fatal("Token called the server before the next attempt")
			}
			// The server recovers.
			e.setIntercept(nil)
			s = e.get("s")
			s.Endpoints = e.ep
			if err := e.store.PutMeta(ctx, s); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(tt.wantDelay)
			if _, err := e.k.Refresh(ctx, "s"); err != nil {
				t.Fatal(err)
			}
			if s := e.get("s"); s.State != auth.StateOK || s.Failures != 0 || s.LastError != "" || !s.NextAttempt.IsZero() {
				t.Fatalf("after recovery %+v", s)
			}
		})
	}
}

func TestBackoffGrowsAndStaysBeforeExpiry(t *testing.T) {
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	e.seed("s", time.Hour, 24*time.Hour)
	e.clock.Advance(45 * time.Minute) // 15 min left
	e.emu.FailNext(100, http.StatusBadGateway)
	var delays []time.Duration
	for range 10 {
		_, err := e.k.Refresh(ctx, "s")
		var re *auth.RetryError
		if !errors.As(err, &re) {
			t.Fatalf("Refresh = %v", err)
		}
		delays = append(delays, re.NextAttempt.Sub(e.clock.Now()))
	}
	// Jitter 0.5: 3/4 of 2 s, 4 s, 8 s ... capped at 5 min, and never past
	// 10 s before the access expiry (15 min away here).
	want := []time.Duration{1500 * time.Millisecond, 3 * time.Second, 6 * time.Second, 12 * time.Second, 24 * time.Second,
		48 * time.Second, 96 * time.Second, 192 * time.Second, 225 * time.Second, 225 * time.Second}
	for i := range want {
		if delays[i] != want[i] {
			t.Fatalf("delays %v, want %v", delays, want)
		}
	}
	e.clock.Advance(14*time.Minute + 45*time.Second) // 15 s left
	_, err := e.k.Refresh(ctx, "s")
	var re *auth.RetryError
	if !errors.As(err, &re) || re.NextAttempt.Sub(e.clock.Now()) != 5*time.Second {
		t.Fatalf("near expiry: %v", err)
	}
	// Expired access token and a failing server: the transient error.
	e.clock.Advance(time.Minute)
	if _, _, err := e.k.Token(ctx, "s", 0); !errors.Is(err, auth.ErrServer) || !errors.As(err, &re) {
		t.Fatalf("Token with an expired token and a failing server: %v", err)
	}
}

func TestAdoptAfterRejection(t *testing.T) {
	// A 401 is answered by re-reading the store: here a pair saved without
	// the lock (as an old version or a manual import might) is adopted.
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	e.seed("s", 10*time.Minute, time.Hour)
	e.setIntercept(func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		if !strings.HasSuffix(r.URL.Path, "/oauth/refresh-token") {
			return false
		}
		// Meanwhile, someone imports a new pair.
		fresh, err := e.emu.Issue(emulator.DefaultUser().Email, 10*time.Minute, time.Hour)
		if err != nil {
			t.Error(err)
		}
		e.tap.noteBody(fresh)
		ts, err := auth.ParseTokenResponse(fresh, e.clock.Now())
		if err != nil {
			t.Error(err)
		}
		s := e.get("s")
		s.AccessFP, s.RefreshFP = auth.Fingerprint(ts.AccessToken), auth.Fingerprint(ts.RefreshToken)
		if err := e.store.Put(ctx, s, ts.Secrets()); err != nil {
			t.Error(err)
		}
		http.Error(w, `{"statusCode":401,"message":"Unauthorized","error":"Invalid refresh token"}`, http.StatusUnauthorized)
		return true
	})
	res, err := e.k.Refresh(ctx, "s")
	if err != nil || !res.Adopted {
		t.Fatalf("Refresh = %+v, %v", res, err)
	}
	if e.audit.Count("s", auth.EventAdopted) != 1 || e.audit.Count("s", auth.EventReuseSuspected) != 0 {
		t.Fatalf("audit %v", e.audit.Kinds("s"))
	}
}

func TestSkewDetected(t *testing.T) {
	e := newEnv(t, envOpt{emu: emulator.Config{AccessTTL: 10 * time.Minute, RefreshTTL: time.Hour}})
	ctx := context.Background()
	u := emulator.DefaultUser()
	if _, err := e.k.Login(ctx, "s", e.ep, u.Email, u.Password); err != nil {
		t.Fatal(err)
	}
	if e.audit.Count("s", auth.EventSkew) != 0 {
		t.Fatal("skew reported for a server in step")
	}
	e.emu.ShiftClock(2 * time.Minute)
	if _, err := e.k.Refresh(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	s := e.get("s")
	if s.ClockSkew < 2*time.Minute-time.Second || s.ClockSkew > 2*time.Minute+time.Second {
		t.Fatalf("stored skew %s", s.ClockSkew)
	}
	if e.audit.Count("s", auth.EventSkew) != 1 {
		t.Fatalf("audit %v", e.audit.Kinds("s"))
	}
	// By server time, the pair was issued 2 min ahead of our clock: the
	// refresh is due 2 min earlier by ours.
	// (Less the session's fixed spread: a quarter of its 2-minute window at most.)
	if due, want := s.RefreshDue(), t0.Add(10*time.Minute-2*time.Minute-auth.Spread("s", 30*time.Second)); due.Sub(want) > time.Second || want.Sub(due) > time.Second {
		t.Fatalf("due %s, want about %s", due, want)
	}
	// The same skew again is not news.
	if _, err := e.k.Refresh(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	if e.audit.Count("s", auth.EventSkew) != 1 {
		t.Fatalf("skew reported twice: %v", e.audit.Kinds("s"))
	}
}

// flakyStore refuses Put while failPuts > 0, as a locked keyring would.
type flakyStore struct {
	auth.SessionStore
	mu       sync.Mutex
	failPuts int
}

func (f *flakyStore) Put(ctx context.Context, s auth.Session, sec auth.Secrets) error {
	f.mu.Lock()
	fail := f.failPuts > 0
	if fail {
		f.failPuts--
	}
	f.mu.Unlock()
	if fail {
		return fmt.Errorf("keyring: %w", auth.ErrStoreUnavailable)
	}
	return f.SessionStore.Put(ctx, s, sec)
}

func TestUnsavedPairIsKeptAndSavedLater(t *testing.T) {
	var fs *flakyStore
	e := newEnv(t, envOpt{keeper: func(c *auth.KeeperConfig) {
		fs = &flakyStore{SessionStore: c.Store}
		c.Store = fs
		c.SaveRetryFor = -1 // no waiting: this is about the pair held in memory
	}})
	ctx := context.Background()
	e.seed("s", 10*time.Minute, time.Hour)
	fs.mu.Lock()
	fs.failPuts = 1 // the save of the new pair fails
	fs.mu.Unlock()
	_, err := e.k.Refresh(ctx, "s")
	if !errors.Is(err, auth.ErrStoreUnavailable) {
		t.Fatalf("Refresh with a failing store: %v", err)
	}
	if e.audit.Count("s", auth.EventFailed) != 1 {
		t.Fatalf("audit %v", e.audit.Kinds("s"))
	}
	// The store works again: the pair the server issued is saved before
	// anything else, without sending the stored (dead) refresh token.
	res, err := e.k.Refresh(ctx, "s")
	if err != nil || !strings.Contains(res.Note, "earlier refresh") {
		t.Fatalf("Refresh = %+v, %v", res, err)
	}
	st := e.emu.Stats()
	if st.Refreshes != 1 || st.RefreshRejections != 0 || st.ReuseDetected != 0 {
		t.Fatalf("stats %+v: the unsaved pair was not used", st)
	}
	if !e.emu.Valid(e.secrets("s").RefreshToken, emulator.KindRefresh) || res.New.AccessFP != e.get("s").AccessFP {
		t.Fatal("the stored pair is not the live one")
	}
}

func TestRevokeToken(t *testing.T) {
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	e.seed("s", 10*time.Minute, time.Hour)
	e.seed("other", 10*time.Minute, time.Hour)
	sec := e.secrets("s")

	// A raw access token: revoked, the session can still refresh.
	rev, err := e.k.RevokeToken(ctx, e.ep, sec.AccessToken, auth.AccessToken)
	name := rev.Session
	if err != nil || name != "s" || e.emu.Valid(sec.AccessToken, emulator.KindAccess) {
		t.Fatalf("RevokeToken(access) = %q, %v", name, err)
	}
	if s := e.get("s"); s.State != auth.StateOK {
		t.Fatalf("state after access revoke: %s", s.State)
	}
	// A raw refresh token held by a stored session: it is marked revoked.
	rev, err = e.k.RevokeToken(ctx, e.ep, sec.RefreshToken, auth.RefreshToken)
	name = rev.Session
	if err != nil || name != "s" || e.emu.Valid(sec.RefreshToken, emulator.KindRefresh) {
		t.Fatalf("RevokeToken(refresh) = %q, %v", name, err)
	}
	if s := e.get("s"); s.State != auth.StateNeedsLogin || s.Reason != auth.ReasonRevoked {
		t.Fatalf("after refresh revoke: %s/%s", s.State, s.Reason)
	}
	if s := e.get("other"); s.State != auth.StateOK {
		t.Fatal("another session was marked")
	}
	// A token nobody stores.
	body, _ := e.emu.Issue(emulator.DefaultUser().Email, 0, 0)
	e.tap.noteBody(body)
	ts, _ := auth.ParseTokenResponse(body, e.clock.Now())
	if rev, err := e.k.RevokeToken(ctx, e.ep, ts.RefreshToken, auth.RefreshToken); err != nil || rev.Session != "" {
		t.Fatalf("RevokeToken(unknown) = %q, %v", rev.Session, err)
	}
	if e.audit.Count("", auth.EventRevoked) != 3 {
		t.Fatalf("audit %v", e.audit.Kinds(""))
	}
}

func TestLostAnswerThenServerDownRemembersTheRotation(t *testing.T) {
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	e.seed("s", 10*time.Minute, time.Hour)
	// The first refresh rotates at the server and its answer is lost; the
	// immediate retry meets a server error, so the outcome stays unknown.
	e.emu.DropNextRefreshResponses(1)
	var mu sync.Mutex
	refreshes := 0
	e.setIntercept(func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
		if !strings.HasSuffix(r.URL.Path, "/oauth/refresh-token") {
			return false
		}
		mu.Lock()
		refreshes++
		n := refreshes
		mu.Unlock()
		if n == 2 {
			http.Error(w, `{"statusCode":503,"message":"Service Unavailable"}`, http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	_, err := e.k.Refresh(ctx, "s")
	if !errors.Is(err, auth.ErrServer) {
		t.Fatalf("Refresh = %v", err)
	}
	s := e.get("s")
	if s.State != auth.StateRetrying || s.RefreshingSince.IsZero() || s.RefreshingFP != s.RefreshFP {
		t.Fatalf("the unknown outcome was not remembered: %+v", s)
	}
	// The next attempt is refused: that is the lost rotation, not theft.
	e.clock.Advance(s.NextAttempt.Sub(e.clock.Now()))
	_, err = e.k.Refresh(ctx, "s")
	e.needsLogin(err, "s", auth.ReasonRotationLost)
	if e.audit.Count("s", auth.EventReuseSuspected) != 0 {
		t.Fatal("a lost rotation was reported as reuse")
	}
}

// While the store still refuses the pair the server issued, nothing may
// send the stored refresh token: the server retired it, so sending it would
// read as a lost rotation (or theft) and end the session we still hold.
func TestUnsavedPairIsNeverRefreshedOver(t *testing.T) {
	var fs *flakyStore
	e := newEnv(t, envOpt{keeper: func(c *auth.KeeperConfig) {
		fs = &flakyStore{SessionStore: c.Store}
		c.Store = fs
		c.SaveRetryFor = -1
	}})
	ctx := context.Background()
	e.seed("s", 10*time.Minute, time.Hour)
	fs.mu.Lock()
	fs.failPuts = 2 // the save of the first refresh, and the next attempt's
	fs.mu.Unlock()
	if _, err := e.k.Refresh(ctx, "s"); !errors.Is(err, auth.ErrStoreUnavailable) {
		t.Fatalf("first Refresh with a failing store: %v", err)
	}
	// Token and Refresh both land on the pair that could not be saved.
	if _, _, err := e.k.Token(ctx, "s", 20*time.Minute); !errors.Is(err, auth.ErrStoreUnavailable) {
		t.Fatalf("Token while the pair is still unsaved: %v, want the store error", err)
	}
	if st := e.emu.Stats(); st.Refreshes != 1 || st.RefreshRejections != 0 || st.ReuseDetected != 0 {
		t.Fatalf("stats %+v: the retired refresh token was sent while the live pair was held in memory", st)
	}
	if s := e.get("s"); s.State == auth.StateNeedsLogin {
		t.Fatalf("the session was given up (%s: %s) while its live pair is held in memory", s.Reason, s.LastError)
	}
	// The store is back: the held pair is saved, not rotated again.
	res, err := e.k.Refresh(ctx, "s")
	if err != nil || !strings.Contains(res.Note, "earlier refresh") {
		t.Fatalf("Refresh after the store recovered = %+v, %v", res, err)
	}
	if !e.emu.Valid(e.secrets("s").RefreshToken, emulator.KindRefresh) {
		t.Fatal("the stored refresh token is not the live one")
	}
	if st := e.emu.Stats(); st.Refreshes != 1 || st.ReuseDetected != 0 {
		t.Fatalf("stats %+v: want the one refresh whose pair was held", st)
	}
}

// TestRetryAfterHonouredByEveryCaller: after a 429 with Retry-After, no
// caller (another process's token or refresh, a second keeper) sends a
// refresh before it ends, even one that needs a fresher token; they get
// the rate-limit error, and the current token where it still serves.
func TestRetryAfterHonouredByEveryCaller(t *testing.T) {
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	e.seed("s", 10*time.Minute, time.Hour)
	e.setIntercept(func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
		if !strings.HasSuffix(r.URL.Path, "/oauth/refresh-token") {
			return false
		}
		w.Header().Set("Retry-After", "120")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"statusCode":429,"message":"Too Many Requests"}`))
		return true
	})
	if _, err := e.k.Refresh(ctx, "s"); !errors.Is(err, auth.ErrRateLimited) {
		t.Fatalf("first Refresh = %v", err)
	}
	e.setIntercept(nil) // the server would answer now; it asked us to wait
	sent := requests(e.emu.Stats())
	other := e.newKeeper()
	e.clock.Advance(time.Minute)
	checks := map[string]func() error{
		"refresh":               func() error { _, err := other.Refresh(ctx, "s"); return err },
		"token beyond its life": func() error { _, _, err := other.Token(ctx, "s", 20*time.Minute); return err },
	}
	for name, f := range checks {
		err := f()
		var re *auth.RetryError
		var ae *auth.APIError
		if !errors.As(err, &re) || !errors.Is(err, auth.ErrRateLimited) || !re.NextAttempt.Equal(t0.Add(120*time.Second)) ||
			!errors.As(err, &ae) || ae.Op != "refresh" || ae.RetryAfter != time.Minute {
			t.Errorf("%s during Retry-After: %v", name, err)
		}
	}
	if sec, _, err := other.Token(ctx, "s", time.Minute); err != nil || sec.AccessToken == "" {
		t.Errorf("Token within what the current token covers: %v", err)
	}
	if got := requests(e.emu.Stats()); got != sent {
		t.Fatalf("%d requests sent before Retry-After ended", got-sent)
	}
	e.clock.Advance(time.Minute)
	if _, err := other.Refresh(ctx, "s"); err != nil {
		t.Fatalf("Refresh after Retry-After: %v", err)
	}
	if s := e.get("s"); !s.RetryAfterUntil.IsZero() || s.State != auth.StateOK {
		t.Fatalf("after the refresh: %+v", s)
	}
}

// Watch passes the wrapped store's watch through.
func (f *flakyStore) Watch(ctx context.Context) (<-chan string, error) {
	if w, ok := f.SessionStore.(auth.Watcher); ok {
		return w.Watch(ctx)
	}
	return nil, errors.ErrUnsupported
}

// A pasted token that a saved session holds is revoked at that session's
// OAuth URL, not the production default, and never sent to another server
// (which would answer "revoked" and kill nothing).
func TestRevokeTokenAtItsSessionsServer(t *testing.T) {
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	e.seed("s", 10*time.Minute, time.Hour)
	sec := e.secrets("s")

	before := requests(e.emu.Stats())
	_, err := e.k.RevokeToken(ctx, auth.Endpoints{OAuthURL: auth.DefaultOAuthURL}, sec.RefreshToken, auth.RefreshToken)
	if !errors.Is(err, auth.ErrOtherServer) || !strings.Contains(err.Error(), e.ep.OAuthURL) || !strings.Contains(err.Error(), `"s"`) {
		t.Fatalf("RevokeToken at another server: %v, want ErrOtherServer naming the session and its URL", err)
	}
	if requests(e.emu.Stats()) != before || !e.emu.Valid(sec.RefreshToken, emulator.KindRefresh) {
		t.Fatal("the token was sent somewhere")
	}

	rev, err := e.k.RevokeToken(ctx, auth.Endpoints{}, sec.RefreshToken, auth.RefreshToken)
	if err != nil || rev.Session != "s" || rev.Endpoints.OAuthURL != e.ep.OAuthURL {
		t.Fatalf("RevokeToken with no URL = %+v, %v; want session s at %s", rev, err, e.ep.OAuthURL)
	}
	if e.emu.Valid(sec.RefreshToken, emulator.KindRefresh) {
		t.Fatal("the refresh token is still alive")
	}
	if s := e.get("s"); s.State != auth.StateNeedsLogin || s.Reason != auth.ReasonRevoked {
		t.Fatalf("after revoke: %s (%s), want needs_login (revoked)", s.State, s.Reason)
	}
}
