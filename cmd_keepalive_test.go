package main

import (
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth/emulator"
)

func TestKeepaliveUnknownName(t *testing.T) {
	t.Parallel()
	em, url := startEmulator(t, shortConfig())
	c := newCLI(t, "file")
	importPair(t, c, em, url, "known", 10*time.Minute, time.Hour)
	r := c.run("", "keepalive", "known", "unknown")
	if r.code != 1 || !strings.Contains(r.stderr, "unknown") || !strings.Contains(r.stderr, "no such session") {
		t.Errorf("keepalive with an unknown name: exit %d\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "keeping") {
		t.Errorf("keepalive started before checking the names:\n%s", r.stderr)
	}
}

// TestKeepaliveNoSessionsYet: started before any login, keepalive says
// what it waits for, and keeps a session logged in afterwards.
func TestKeepaliveNoSessionsYet(t *testing.T) {
	t.Parallel()
	_, url := startEmulator(t, shortConfig())
	c := newCLI(t, "file")
	cmd, _, errb := startProcess(t, c, "keepalive")
	waitForOutput(t, errb, `keeping all saved sessions alive \(0 now, storage: file\)`, 10*time.Second)
	waitForOutput(t, errb, `no sessions are saved yet`, 10*time.Second)
	u := emulator.DefaultUser()
	if r := c.run(u.Password+"\n", append([]string{"login", "late", "--email", u.Email, "--password-stdin"}, endpointArgs(url)...)...); r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	waitForOutput(t, errb, `(?m)^\S+Z late scheduled next refresh at`, 10*time.Second)
	if code := interruptProcess(t, cmd); code != 0 {
		t.Errorf("keepalive exit %d\n%s", code, errb.String())
	}
}

func TestKeepaliveRetriesAndRecovers(t *testing.T) {
	t.Parallel()
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
			em, url := startEmulator(t, shortConfig())
			c := newCLI(t, "file")
			name := uniqueName(t, c, "ka")
			p := importDue(t, c, em, url, name, 2*time.Second, 10*time.Minute, time.Hour)
			em.FailNext(1, tc.status)
			cmd, out, errb := startProcess(t, c, "keepalive", name)
			waitForOutput(t, errb, `keeping `+name+` alive \(storage: file\)`, 10*time.Second)
			retry := waitForOutput(t, errb, `(?m)^\S+Z `+name+` retrying .*next attempt at [^\n]*`, 20*time.Second)
			if !strings.Contains(retry, "HTTP") {
				t.Errorf("the retrying line does not say why: %q", retry)
			}
			waitForOutput(t, errb, `(?m)^\S+Z `+name+` refreshed sha256:[0-9a-f]{8} -> sha256:[0-9a-f]{8}`, 30*time.Second)
			if code := interruptProcess(t, cmd); code != 0 {
				t.Errorf("keepalive exit %d after SIGINT, want 0\n%s", code, errb.String())
			}
			t.Logf("keepalive:\n%s", errb.String())
			if out.String() != "" {
				t.Errorf("keepalive printed on stdout: %q", out.String())
			}
			if !strings.HasSuffix(errb.String(), "stopped\n") {
				t.Errorf("keepalive did not say it stopped")
			}
			requireNoPairSecret(t, "keepalive", errb.String(), p)
			if st := em.Stats(); st.Refreshes != 1 || st.ReuseDetected != 0 {
				t.Errorf("emulator stats %+v: want one refresh after the failures", st)
			}
			got := listedSession(t, c, name)
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

func TestKeepaliveNeedsLoginAndSIGTERM(t *testing.T) {
	t.Parallel()
	em, url := startEmulator(t, shortConfig())
	c := newCLI(t, "file")
	importPair(t, c, em, url, "a", 10*time.Minute, time.Hour)
	p := importExpired(t, c, em, url, "b", 10*time.Minute, time.Hour)
	// b's refresh token is used by someone else, so b needs a login.
	postPath(t, url, "/oauth/refresh-token", `{"refresh_token": "`+p.refresh+`"}`)
	if r := c.run("", "token", "b"); r.code != 3 {
		t.Fatalf("token b: exit %d\n%s", r.code, r.stderr)
	}
	cmd, _, errb := startProcess(t, c, "keepalive")
	waitForOutput(t, errb, `keeping all saved sessions alive`, 10*time.Second)
	waitForOutput(t, errb, `(?m)^\S+Z b needs_login needs a new login \(rejected\); .*someone else.*left alone until you log in again`, 10*time.Second)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("keepalive exit %d (%v) after SIGTERM\n%s", code, err, errb.String())
	}
}

// TestClockSkew: the emulator's clock runs 2 minutes ahead. The skew
// is measured at login and shown, and keepalive refreshes by server time,
// before the token expires at the server (by our clock it would seem to
// have two more minutes).
func TestClockSkew(t *testing.T) {
	t.Parallel()
	em, url := startEmulator(t, emulator.Config{AccessTTL: 4 * time.Second, RefreshTTL: time.Hour, LoginRate: -1})
	em.ShiftClock(2 * time.Minute)
	c := newCLI(t, "file")
	name := uniqueName(t, c, "skew")
	r := c.run(emulator.DefaultUser().Password+"\n", append([]string{"login", name, "--email", emulator.DefaultUser().Email, "--password-stdin"}, endpointArgs(url)...)...)
	if r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	got := listedSession(t, c, name)
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

	cmd, _, errb := startProcess(t, c, "keepalive", name)
	waitForOutput(t, errb, `(?m)^\S+Z `+name+` skew server clock (1m 59s|2m 0\ds) ahead`, 10*time.Second)
	waitForOutput(t, errb, `(?m)^\S+Z `+name+` refreshed `, 20*time.Second)
	if now := em.Now(); !now.Before(*expiry) {
		t.Errorf("refreshed at server time %s, after the token expired at %s", now, *expiry)
	}
	if code := interruptProcess(t, cmd); code != 0 {
		t.Errorf("keepalive exit %d\n%s", code, errb.String())
	}
	t.Logf("keepalive:\n%s", errb.String())
	if st := em.Stats(); st.Refreshes < 1 || st.RefreshRejections != 0 {
		t.Errorf("emulator stats %+v", st)
	}
}

// TestKeepaliveInterruptedMidRefresh stops keepalive while its refresh
// waits at the server: it finishes and saves that refresh, exits 0, and the
// next process uses the saved pair without refreshing again.
func TestKeepaliveInterruptedMidRefresh(t *testing.T) {
	t.Parallel()
	s := startServer(t, shortConfig())
	c := newCLI(t, "file")
	name := uniqueName(t, c, "ka-int")
	p := importExpired(t, c, s.em, s.url, name, 10*time.Minute, time.Hour)
	s.em.SetLatency(2 * time.Second)
	cmd, _, errb := startProcess(t, c, "keepalive", name)
	waitArrived(t, s)
	if code := interruptProcess(t, cmd); code != 0 {
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
