package main

import (
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/auth/emulator"
)

func TestSessKeepaliveUnknownName(t *testing.T) {
	t.Parallel()
	em, url := startEmulator(t, sessShortConfig())
	c := newCLI(t, "file")
	sessImport(t, c, em, url, "known", 10*time.Minute, time.Hour)
	r := c.run("", "keepalive", "known", "unknown")
	if r.code != 1 || !strings.Contains(r.stderr, "unknown") || !strings.Contains(r.stderr, "no such session") {
		t.Errorf("keepalive with an unknown name: exit %d\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "keeping") {
		t.Errorf("keepalive started before checking the names:\n%s", r.stderr)
	}
}

// TestSessKeepaliveNoSessionsYet: started before any login, keepalive says
// what it waits for, and keeps a session logged in afterwards.
func TestSessKeepaliveNoSessionsYet(t *testing.T) {
	t.Parallel()
	_, url := startEmulator(t, sessShortConfig())
	c := newCLI(t, "file")
	cmd, _, errb := sessStart(t, c, "keepalive")
	sessWaitFor(t, errb, `keeping all saved sessions alive \(0 now, storage: file\)`, 10*time.Second)
	sessWaitFor(t, errb, `no sessions are saved yet`, 10*time.Second)
	u := emulator.DefaultUser()
	if r := c.run(u.Password+"\n", append([]string{"login", "late", "--email", u.Email, "--password-stdin"}, sessEndpointArgs(url)...)...); r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	sessWaitFor(t, errb, `(?m)^\S+Z late scheduled next refresh at`, 10*time.Second)
	if code := sessInterrupt(t, cmd); code != 0 {
		t.Errorf("keepalive exit %d\n%s", code, errb.String())
	}
}

func TestSessKeepaliveRetriesAndRecovers(t *testing.T) {
	cases := []struct {
		name   string
		status int
	}{
		{"500", http.StatusInternalServerError},
		{"429 with Retry-After", http.StatusTooManyRequests},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			em, url := startEmulator(t, sessShortConfig())
			c := newCLI(t, "file")
			name := sessName(t, c, "ka")
			p := sessImportDue(t, c, em, url, name, 2*time.Second, 10*time.Minute, time.Hour)
			em.FailNext(1, tc.status)
			cmd, out, errb := sessStart(t, c, "keepalive", name)
			sessWaitFor(t, errb, `keeping `+name+` alive \(storage: file\)`, 10*time.Second)
			retry := sessWaitFor(t, errb, `(?m)^\S+Z `+name+` retrying .*next attempt at [^\n]*`, 20*time.Second)
			if !strings.Contains(retry, "HTTP") {
				t.Errorf("the retrying line does not say why: %q", retry)
			}
			sessWaitFor(t, errb, `(?m)^\S+Z `+name+` refreshed sha256:[0-9a-f]{8} -> sha256:[0-9a-f]{8}`, 30*time.Second)
			if code := sessInterrupt(t, cmd); code != 0 {
				t.Errorf("keepalive exit %d after SIGINT, want 0\n%s", code, errb.String())
			}
			t.Logf("keepalive:\n%s", errb.String())
			if out.String() != "" {
				t.Errorf("keepalive printed on stdout: %q", out.String())
			}
			if !strings.HasSuffix(errb.String(), "stopped\n") {
				t.Errorf("keepalive did not say it stopped")
			}
			sessNoSecrets(t, "keepalive", errb.String(), p)
			if st := em.Stats(); st.Refreshes != 1 || st.ReuseDetected != 0 {
				t.Errorf("emulator stats %+v: want one refresh after the failures", st)
			}
			got := sessListSession(t, c, name)
			if got.State != "ok" || got.Refreshes != 1 {
				t.Errorf("after recovering: %s, %d refreshes", got.State, got.Refreshes)
			}
			// No lock left behind: a refresh now goes through at once.
			if r := c.run("", "refresh", name); r.code != 0 {
				t.Errorf("refresh after keepalive stopped: exit %d\n%s", r.code, r.stderr)
			}
		})
	}
}

func TestSessKeepaliveNeedsLoginAndSIGTERM(t *testing.T) {
	t.Parallel()
	em, url := startEmulator(t, sessShortConfig())
	c := newCLI(t, "file")
	sessImport(t, c, em, url, "a", 10*time.Minute, time.Hour)
	p := sessImportExpired(t, c, em, url, "b", 10*time.Minute, time.Hour)
	// b's refresh token is used by someone else, so b needs a login.
	sessPost(t, url, "/oauth/refresh-token", `{"refresh_token": "`+p.refresh+`"}`)
	if r := c.run("", "token", "b"); r.code != 3 {
		t.Fatalf("token b: exit %d\n%s", r.code, r.stderr)
	}
	cmd, _, errb := sessStart(t, c, "keepalive")
	sessWaitFor(t, errb, `keeping all saved sessions alive`, 10*time.Second)
	sessWaitFor(t, errb, `(?m)^\S+Z b needs_login needs a new login \(rejected\); .*someone else.*left alone until you log in again`, 10*time.Second)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("keepalive exit %d (%v) after SIGTERM\n%s", code, err, errb.String())
	}
}

// TestSessClockSkew: the emulator's clock runs 2 minutes ahead. The skew
// is measured at login and shown, and keepalive refreshes by server time,
// before the token expires at the server (by our clock it would seem to
// have two more minutes).
func TestSessClockSkew(t *testing.T) {
	t.Parallel()
	em, url := startEmulator(t, emulator.Config{AccessTTL: 4 * time.Second, RefreshTTL: time.Hour, LoginRate: -1})
	em.ShiftClock(2 * time.Minute)
	c := newCLI(t, "file")
	name := sessName(t, c, "skew")
	r := c.run(emulator.DefaultUser().Password+"\n", append([]string{"login", name, "--email", emulator.DefaultUser().Email, "--password-stdin"}, sessEndpointArgs(url)...)...)
	if r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	got := sessListSession(t, c, name)
	if got.ClockSkewSeconds < 115 || got.ClockSkewSeconds > 125 {
		t.Errorf("list --json clock_skew_seconds = %v, want about 120", got.ClockSkewSeconds)
	}
	if l := c.run("", "list"); !regexp.MustCompile(`server clock (1m 59s|2m 0\ds) ahead`).MatchString(l.stdout) {
		t.Errorf("list does not show the skew:\n%s", l.stdout)
	}
	expiry := got.AccessExpiresAt
	if expiry == nil {
		t.Fatal("no access expiry listed")
	}
	// Counted by the server's clock: 4s, not 2m 04s.
	if got.AccessExpiresIn > 5 {
		t.Errorf("access_expires_in_seconds = %d, want at most the 4s lifetime", got.AccessExpiresIn)
	}

	cmd, _, errb := sessStart(t, c, "keepalive", name)
	sessWaitFor(t, errb, `(?m)^\S+Z `+name+` skew server clock (1m 59s|2m 0\ds) ahead`, 10*time.Second)
	sessWaitFor(t, errb, `(?m)^\S+Z `+name+` refreshed `, 20*time.Second)
	if now := em.Now(); !now.Before(*expiry) {
		t.Errorf("refreshed at server time %s, after the token expired at %s", now, *expiry)
	}
	if code := sessInterrupt(t, cmd); code != 0 {
		t.Errorf("keepalive exit %d\n%s", code, errb.String())
	}
	t.Logf("keepalive:\n%s", errb.String())
	if st := em.Stats(); st.Refreshes < 1 || st.RefreshRejections != 0 {
		t.Errorf("emulator stats %+v", st)
	}
}

func TestSessEventLines(t *testing.T) {
	now := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		e    auth.Event
		want string
	}{
		{auth.Event{Time: now, Session: "w", Kind: auth.EventScheduled, At: now.Add(90 * time.Second)},
			"2026-04-10T12:00:00Z w scheduled at 2026-04-10 12:01:30Z (in 1m 30s)"},
		{auth.Event{Time: now, Session: "w", Kind: auth.EventRefreshed, OldFP: "sha256:aaaaaaaa", NewFP: "sha256:bbbbbbbb", Status: 200, RequestID: "r1"},
			"2026-04-10T12:00:00Z w refreshed sha256:aaaaaaaa -> sha256:bbbbbbbb; HTTP 200; request r1"},
		{auth.Event{Time: now, Session: "w", Kind: auth.EventRetrying, At: now.Add(2 * time.Second), Status: 503, Message: "refresh: server error"},
			"2026-04-10T12:00:00Z w retrying next attempt at 2026-04-10 12:00:02Z (in 2s); HTTP 503; refresh: server error"},
		{auth.Event{Time: now, Session: "w", Kind: auth.EventNeedsLogin, Reason: auth.ReasonRotationLost, Message: "line one\nline two"},
			"2026-04-10T12:00:00Z w needs_login needs a new login (rotation_lost); line one line two"},
		{auth.Event{Time: now, Session: "w", Kind: auth.EventNeedsLogin, Reason: auth.ReasonRotationLost},
			"2026-04-10T12:00:00Z w needs_login needs a new login (rotation_lost); an earlier refresh was interrupted"},
		{auth.Event{Time: now, Session: "w", Kind: auth.EventScheduled, At: now.Add(-3 * time.Minute), Message: "next refresh"},
			"2026-04-10T12:00:00Z w scheduled next refresh now (due since 2026-04-10 11:57:00Z)\n"},
		{auth.Event{Time: now, Session: "w", Kind: auth.EventScheduled, At: now.Add(10 * time.Second), Message: "next refresh"},
			"2026-04-10T12:00:00Z w scheduled next refresh at 2026-04-10 12:00:10Z (in 10s)\n"},
		{auth.Event{Time: now, Session: "w", Kind: auth.EventAdopted, OldFP: "sha256:aaaaaaaa", NewFP: "sha256:bbbbbbbb",
			Message: "another process had refreshed already; its pair was adopted"},
			"2026-04-10T12:00:00Z w adopted sha256:aaaaaaaa -> sha256:bbbbbbbb; another process had refreshed already; its pair was adopted\n"},
		{auth.Event{Time: now, Session: "w", Kind: auth.EventAdopted, OldFP: "sha256:aaaaaaaa", NewFP: "sha256:bbbbbbbb"},
			"2026-04-10T12:00:00Z w adopted sha256:aaaaaaaa -> sha256:bbbbbbbb; saved by another process\n"},
		{auth.Event{Time: now, Session: "w", Kind: auth.EventReuseSuspected, OldFP: "sha256:cccccccc", Status: 401, RequestID: "r3",
			Message: "REFRESH TOKEN REUSE SUSPECTED: someone else may hold a copy of refresh token sha256:cccccccc"},
			"2026-04-10T12:00:00Z w reuse_suspected REFRESH TOKEN REUSE SUSPECTED: someone else may hold a copy of refresh token sha256:cccccccc; HTTP 401; request r3\n"},
		{auth.Event{Time: now, Session: "w", Kind: auth.EventNeedsLogin, Reason: auth.ReasonRefreshExpired},
			"2026-04-10T12:00:00Z w needs_login needs a new login (refresh_expired); the refresh token has expired"},
		{auth.Event{Time: now, Session: "w", Kind: auth.EventRetrying, Status: 429, RequestID: "r2", Message: "rate limited (HTTP 429; requestId r2)"},
			"2026-04-10T12:00:00Z w retrying rate limited (HTTP 429; requestId r2)\n"},
		{auth.Event{Time: now, Session: "w", Kind: auth.EventSkew, Skew: -7 * time.Second},
			"2026-04-10T12:00:00Z w skew server clock 7s behind; scheduling by server time"},
		{auth.Event{Time: now, Session: "w", Kind: auth.EventReuseSuspected},
			"2026-04-10T12:00:00Z w reuse_suspected WARNING"},
	}
	for _, tc := range cases {
		var b strings.Builder
		sessWriteEvent(&b, tc.e, now)
		line := b.String()
		if !strings.HasPrefix(line, tc.want) {
			t.Errorf("got  %q\nwant %q...", line, tc.want)
		}
		if strings.Count(line, "\n") != 1 {
			t.Errorf("not one line: %q", line)
		}
	}
}

// TestSessEventPrinterSaysTheRetryOnce: the scheduler's "scheduled" event
// for the retry that the "retrying" line announced is not printed again;
// a later rescheduling (another process wrote) still is.
func TestSessEventPrinterSaysTheRetryOnce(t *testing.T) {
	now := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	next := now.Add(3 * time.Second)
	var b strings.Builder
	p := sessEventPrinter{w: &b, retryAt: map[string]time.Time{}}
	for _, e := range []auth.Event{
		{Time: now, Session: "w", Kind: auth.EventRetrying, At: next, Status: 503, Message: "refresh: server error"},
		{Time: now, Session: "v", Kind: auth.EventScheduled, At: next, Message: "next refresh"},
		{Time: now, Session: "w", Kind: auth.EventScheduled, At: next, Message: "next retry"},
		{Time: now, Session: "w", Kind: auth.EventScheduled, At: next.Add(time.Minute), Message: "next refresh"},
	} {
		p.print(e, now)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 3 || strings.Contains(b.String(), "next retry") ||
		!strings.Contains(lines[1], "v scheduled") || !strings.Contains(lines[2], "w scheduled next refresh") {
		t.Errorf("printed:\n%s", b.String())
	}
}

// TestSessKeepaliveInterruptedMidRefresh stops keepalive while its refresh
// waits at the server: it finishes and saves that refresh, exits 0, and the
// next process uses the saved pair without refreshing again.
func TestSessKeepaliveInterruptedMidRefresh(t *testing.T) {
	t.Parallel()
	s := sessStartServer(t, sessShortConfig())
	c := newCLI(t, "file")
	name := sessName(t, c, "ka-int")
	p := sessImportExpired(t, c, s.em, s.url, name, 10*time.Minute, time.Hour)
	s.em.SetLatency(2 * time.Second)
	cmd, _, errb := sessStart(t, c, "keepalive", name)
	sessWaitArrived(t, s)
	if code := sessInterrupt(t, cmd); code != 0 {
		t.Errorf("keepalive exit %d after SIGINT mid-refresh\n%s", code, errb.String())
	}
	t.Logf("keepalive:\n%s", errb.String())
	s.em.SetLatency(0)
	r := c.run("", "token", name)
	t.Logf("token:\n%s", r.stderr)
	if r.code != 0 || !s.em.Valid(strings.TrimSpace(r.stdout), emulator.KindAccess) {
		t.Fatalf("token after keepalive was stopped mid-refresh: exit %d\n%s", r.code, r.stderr)
	}
	if strings.TrimSpace(r.stdout) == p.access {
		t.Error("token printed the expired token")
	}
	if st := s.em.Stats(); st.ReuseDetected != 0 || st.RefreshRejections != 0 || st.Refreshes != 1 {
		t.Errorf("emulator stats %+v: want the one refresh keepalive finished, nothing presented twice", st)
	}
	// The refresh in flight was finished and saved before stopping.
	if out := errb.String(); !regexp.MustCompile(`refreshed [^\n]*\n[^\n]*stopped\n$`).MatchString(out) {
		t.Errorf("keepalive did not finish the refresh in flight before stopping:\n%s", out)
	}
}
