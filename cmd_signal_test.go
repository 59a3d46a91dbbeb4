package main

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// A graceful stop (SIGTERM, or Ctrl-C's SIGINT) that arrives after the
// refresh request left does not abandon it: the process waits for the
// answer, saves the new pair, says what it is doing, and exits 0; the next
// run finds a live session, and no refresh token was presented twice.
func TestSignalMidRefreshFinishesTheExchange(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		sig  syscall.Signal
		args func(name string) []string
	}{
		{"SIGTERM refresh", syscall.SIGTERM, func(n string) []string { return []string{"refresh", n} }},
		{"SIGINT token", syscall.SIGINT, func(n string) []string { return []string{"token", n} }},
	} {
		for _, b := range backends(t) {
			t.Run(tc.name+"/"+b, func(t *testing.T) {
				t.Parallel()
				s := startServer(t, shortConfig())
				c := newCLI(t, b)
				name := uniqueName(t, c, "stopped")
				p := importExpired(t, c, s.em, s.url, name, 10*time.Minute, time.Hour)

				// The server sits on the request for a while, then rotates
				// and answers.
				s.em.SetLatency(1500 * time.Millisecond)
				cmd, out, errb := startProcess(t, c, tc.args(name)...)
				waitArrived(t, s)
				if err := cmd.Process.Signal(tc.sig); err != nil {
					t.Fatal(err)
				}
				waitForOutput(t, errb, "finishing the refresh of "+name, 10*time.Second)
				_ = cmd.Wait()
				s.em.SetLatency(0)
				if code := cmd.ProcessState.ExitCode(); code != 0 {
					t.Fatalf("exit %d after %s mid-refresh, want 0 (finished and saved)\n%s", code, tc.sig, errb.String())
				}
				if strings.Contains(errb.String(), "not sent") {
					t.Errorf("stderr blames a request not sent:\n%s", errb.String())
				}
				requireNoPairSecret(t, "stderr", errb.String(), p)
				if tc.args(name)[0] == "token" && strings.TrimSpace(out.String()) == "" {
					t.Errorf("token printed nothing after finishing the refresh")
				}

				r := c.run("", "refresh", name)
				if r.code != 0 {
					t.Fatalf("the next refresh: exit %d\n%s", r.code, r.stderr)
				}
				if st := s.em.Stats(); st.Refreshes != 2 || st.RefreshRejections != 0 || st.ReuseDetected != 0 {
					t.Fatalf("emulator stats %+v: want 2 refreshes and no rejection", st)
				}
			})
		}
	}
}

// A second signal forces the exit, after saying what that loses.
func TestSecondSignalForcesTheExit(t *testing.T) {
	t.Parallel()
	s := startServer(t, shortConfig())
	c := newCLI(t, "file")
	name := uniqueName(t, c, "forced")
	importExpired(t, c, s.em, s.url, name, 10*time.Minute, time.Hour)
	s.em.SetLatency(time.Minute)
	t.Cleanup(func() { s.em.SetLatency(0) })
	cmd, _, errb := startProcess(t, c, "refresh", name)
	waitArrived(t, s)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	waitForOutput(t, errb, "stopping again now abandons it", 10*time.Second)
	if code := interruptProcess(t, cmd); code != 130 {
		t.Fatalf("exit %d after the second SIGINT, want 130\n%s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "abandoned the refresh of "+name) {
		t.Errorf("the forced exit does not say what it lost:\n%s", errb.String())
	}
}
