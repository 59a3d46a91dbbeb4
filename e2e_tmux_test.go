package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth/emulator"
)

// tmuxServer drives one tmux server on a private socket.
type tmuxServer struct {
	t    *testing.T
	sock string
}

// startTmux starts a detached 120x40 tmux session running a plain shell,
// with set-clipboard on so OSC 52 lands in tmux's paste buffer. It skips
// when tmux is missing (CI installs it; TOKENTOP_TEST_KEYRING=1 makes it
// required).
func startTmux(t *testing.T) *tmuxServer {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("TOKENTOP_TEST_KEYRING") == "1" {
			t.Fatal("tmux is required for the end-to-end TUI test (TOKENTOP_TEST_KEYRING=1)")
		}
		t.Skip("tmux not installed: skipping the end-to-end TUI test (apt-get install tmux)")
	}
	tm := &tmuxServer{t: t, sock: fmt.Sprintf("tokentop-e2e-%d-%d", os.Getpid(), time.Now().UnixNano())}
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", tm.sock, "kill-server").Run() })
	tm.run("-f", "/dev/null", "new-session", "-d", "-x", "120", "-y", "40", "-s", "e2e",
		"env", "-i", "PATH="+os.Getenv("PATH"), "HOME="+t.TempDir(), "TERM=xterm-256color", "PS1=$ ", "sh")
	tm.run("set-option", "-g", "set-clipboard", "on")
	return tm
}

func (tm *tmuxServer) run(args ...string) string {
	tm.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", tm.sock}, args...)...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// key sends one key and gives the program a moment, so keys arrive one by
// one (runes sent together would reach the program as one key message).
func (tm *tmuxServer) key(k string) {
	tm.t.Helper()
	tm.run("send-keys", "-t", "e2e", k)
	time.Sleep(150 * time.Millisecond)
}

func (tm *tmuxServer) capture() string {
	tm.t.Helper()
	return tm.run("capture-pane", "-p", "-t", "e2e")
}

// exitLine is the shell's report of tokentop's exit status. It must start a
// line: the command line that asks for it ("…; echo TOKENTOP-EXIT=$?") is on
// screen as soon as the TUI leaves the alternate screen, before the process
// has finished exiting.
var exitLine = regexp.MustCompile(`(?m)^TOKENTOP-EXIT=(\d+)`)

// waitFor polls the pane until ok says yes, for at most d.
func (tm *tmuxServer) waitFor(what string, d time.Duration, ok func(pane string) bool) string {
	tm.t.Helper()
	deadline := time.Now().Add(d)
	for {
		pane := tm.capture()
		if ok(pane) {
			return pane
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("timed out after %s waiting for %s; the screen:\n%s", d, what, pane)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func emulatorStats(t *testing.T, url string) emulator.Stats {
	t.Helper()
	resp, err := http.Get(url + "/_emulator/stats")
	if err != nil {
		t.Fatalf("emulator stats: %v", err)
	}
	defer resp.Body.Close()
	var s emulator.Stats
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatalf("emulator stats: %v", err)
	}
	return s
}

// waitStats polls the emulator's counters until ok, for at most d.
func waitStats(t *testing.T, url, what string, d time.Duration, ok func(emulator.Stats) bool) emulator.Stats {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		s := emulatorStats(t, url)
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s; stats %+v", d, what, s)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// rowRe matches the session table's row for name (selected or not).
func rowRe(name string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^\s*(▸\s*)?` + regexp.QuoteMeta(name) + `\s`)
}

// paneLine returns the pane's line that contains s.
func paneLine(pane, s string) string {
	for _, l := range strings.Split(pane, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

// TestE2ETmuxDemo runs the real binary in tmux the way a person would:
// watches countdowns move and an auto-refresh happen (counted by the
// emulator), copies a token through OSC 52 into tmux's buffer, revokes a
// session with confirmation, and quits back to the shell.
func TestE2ETmuxDemo(t *testing.T) {
	t.Parallel()
	tm := startTmux(t)
	tm.run("send-keys", "-t", "e2e", tokentopBin+" demo --access-ttl 6s; echo TOKENTOP-EXIT=$?", "Enter")

	urlRe := regexp.MustCompile(`demo emulator (http://127\.0\.0\.1:\d+)`)
	pane := tm.waitFor("the demo's first frame", 20*time.Second, func(p string) bool {
		return urlRe.MatchString(p) && strings.Contains(p, "legacy-paused")
	})
	url := urlRe.FindStringSubmatch(pane)[1]

	// Countdowns move: the paused session's refresh countdown ticks down.
	first := paneLine(pane, "legacy-paused")
	tm.waitFor("the countdown to move", 5*time.Second, func(p string) bool {
		l := paneLine(p, "legacy-paused")
		return l != "" && l != first
	})

	// An auto-refresh happens and the emulator counts it.
	waitStats(t, url, "an auto-refresh", 30*time.Second, func(s emulator.Stats) bool { return s.Refreshes >= 1 })
	tm.waitFor("the refresh on screen", 10*time.Second, func(p string) bool {
		// At 120 columns LAST REFRESH is shown; without it "never" could
		// not be missing.
		l := paneLine(p, "support-desk")
		return strings.Contains(p, "LAST REFRESH") && l != "" && !strings.HasSuffix(strings.TrimSpace(l), "never")
	})

	// Copy the selected session's access token: OSC 52 lands in tmux's
	// buffer, and the status line names it by the same fingerprint.
	tm.key("c")
	tm.waitFor("the copy menu", 5*time.Second, func(p string) bool { return strings.Contains(p, "Copy from") })
	tm.key("a")
	pane = tm.waitFor("the copy on the status line", 5*time.Second, func(p string) bool { return strings.Contains(p, "to the terminal clipboard") })
	var buf string
	deadline := time.Now().Add(5 * time.Second)
	for buf == "" && time.Now().Before(deadline) {
		out, err := exec.Command("tmux", "-L", tm.sock, "show-buffer").Output()
		if err == nil {
			buf = string(out)
		} else {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if buf == "" {
		t.Fatalf("tmux buffer is empty after copying; the screen:\n%s", pane)
	}
	sum := sha256.Sum256([]byte(buf))
	fp := "sha256:" + hex.EncodeToString(sum[:4])
	if !strings.Contains(paneLine(pane, "to the terminal clipboard"), fp) {
		t.Fatalf("status line %q does not name the buffer's fingerprint %s", paneLine(pane, "to the terminal clipboard"), fp)
	}
	if strings.Contains(tm.capture(), buf) {
		t.Fatal("the copied token is on the screen")
	}

	// Revoke a session with confirmation; the emulator counts both tokens.
	before := emulatorStats(t, url).Revocations
	tm.key("/")
	tm.run("send-keys", "-t", "e2e", "-l", "support-desk")
	time.Sleep(150 * time.Millisecond)
	tm.key("Enter")
	tm.key("x")
	tm.waitFor("the revoke confirmation", 5*time.Second, func(p string) bool { return strings.Contains(p, "Revoke support-desk?") })
	tm.key("y")
	waitStats(t, url, "both revocations", 10*time.Second, func(s emulator.Stats) bool { return s.Revocations >= before+2 })
	tm.key("Escape") // clear the filter
	tm.waitFor("the session to disappear", 10*time.Second, func(p string) bool {
		// A table row, not the status line that tells of the revoke.
		return strings.Contains(p, "3 sessions") && !rowRe("support-desk").MatchString(p)
	})

	// q quits and gives the terminal back: the shell's output is visible
	// again and the alternate screen is gone.
	tm.key("q")
	pane = tm.waitFor("the program to exit", 20*time.Second, func(p string) bool { return exitLine.MatchString(p) })
	if exitLine.FindStringSubmatch(pane)[1] != "0" {
		t.Fatalf("tokentop exited with an error:\n%s", pane)
	}
	if strings.Contains(pane, "demo emulator") {
		t.Fatalf("the TUI is still on screen after quitting:\n%s", pane)
	}
}

// TestE2ETmuxOtherProcess: the TUI over a file-backed config dir shows a
// session that another process (a script running `tokentop import`) adds
// while it runs and the new fingerprint of one it rotates (`tokentop
// refresh`), flags the file backend in the header, and quits cleanly.
func TestE2ETmuxOtherProcess(t *testing.T) {
	t.Parallel()
	tm := startTmux(t)
	em, url := startEmulator(t, emulator.Config{})
	c := newCLI(t, "file")
	importNamed := func(name string) {
		t.Helper()
		body, err := em.Issue(emulator.DefaultUser().Email, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if r := c.run(string(body), "import", name, "--oauth-url", url, "--api-url", url+"/v3"); r.code != 0 {
			t.Fatalf("import %s: exit %d: %s", name, r.code, r.stderr)
		}
	}
	importNamed("first-one")
	tm.run("send-keys", "-t", "e2e", fmt.Sprintf("TOKENTOP_CONFIG_DIR=%s TOKENTOP_STORAGE=file %s; echo TOKENTOP-EXIT=$?", c.configDir, tokentopBin), "Enter")
	tm.waitFor("the first frame", 20*time.Second, func(p string) bool {
		return strings.Contains(p, "first-one") && strings.Contains(p, "storage: FILE")
	})
	importNamed("second-one")
	added := time.Now()
	tm.waitFor("the other process's session", 10*time.Second, func(p string) bool {
		return strings.Contains(p, "second-one") && strings.Contains(p, "2 sessions")
	})
	// Reported, not asserted (no timed assertions): other processes' changes
	// should show within about 2 s.
	t.Logf("the other process's session appeared %s after its import finished", time.Since(added).Round(10*time.Millisecond))

	// A script rotating a session shows its new access fingerprint.
	r := c.run("", "refresh", "first-one")
	if r.code != 0 {
		t.Fatalf("refresh first-one: exit %d: %s", r.code, r.stderr)
	}
	m := regexp.MustCompile(`new (sha256:[0-9a-f]{8})`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("refresh printed no new fingerprint:\n%s", r.stdout)
	}
	rotated := time.Now()
	tm.waitFor("the other process's rotation", 10*time.Second, func(p string) bool {
		return strings.Contains(paneLine(p, "first-one"), m[1]) || strings.Contains(p, "first-one has a new access token "+m[1])
	})
	t.Logf("the other process's rotation appeared %s after its refresh finished", time.Since(rotated).Round(10*time.Millisecond))
	tm.key("q")
	pane := tm.waitFor("the program to exit", 20*time.Second, func(p string) bool { return exitLine.MatchString(p) })
	if exitLine.FindStringSubmatch(pane)[1] != "0" {
		t.Fatalf("tokentop exited with an error:\n%s", pane)
	}
}
