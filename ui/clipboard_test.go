package ui

import (
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
)

// TestSyncWriterKeepsFramesWhole: frames (one Write each, as Bubble Tea's
// renderer does) and OSC 52 copies written concurrently through one
// SyncWriter never interleave: every sequence lands between two frames.
func TestSyncWriterKeepsFramesWhole(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "term"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := NewSyncWriter(f)
	cb := &Clipboard{Terminal: w}
	frame := "<frame>" + strings.Repeat("row of a frame\r\n", 200) + "</frame>"
	const n = 100
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for range n {
			if _, err := w.Write([]byte(frame)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for range n {
			if msg := cb.copyCmd("x", "token-value", "")().(copiedMsg); msg.err != nil {
				t.Error(msg.err)
				return
			}
		}
	}()
	wg.Wait()
	data, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	osc := "\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte("token-value")) + "\x07"
	whole := regexp.MustCompile("^(" + regexp.QuoteMeta(frame) + "|" + regexp.QuoteMeta(osc) + ")*$")
	if !whole.Match(data) {
		t.Fatal("a clipboard sequence was written inside a frame")
	}
	if got := strings.Count(string(data), osc); got != n {
		t.Fatalf("%d clipboard sequences, want %d", got, n)
	}
	if w.Fd() != f.Fd() {
		t.Fatal("SyncWriter hides the terminal's file descriptor (Bubble Tea needs it for raw mode and size)")
	}
}

func TestCopyWithoutClipboard(t *testing.T) {
	var c *Clipboard
	msg := c.copyCmd("acme access token", "tok", "")().(copiedMsg)
	if msg.err == nil {
		t.Fatal("copy without a clipboard should say so")
	}
	if c.clearCmd(pendingClear{valueFP: "sha256:x", shownFP: "sha256:x"}) != nil {
		t.Fatal("nothing to clear without a clipboard")
	}
}

// emptyOSC52 is what clears the terminal clipboard: an OSC 52 with no data.
const emptyOSC52 = "\x1b]52;c;\x07"

func osc52Of(v string) string {
	return "\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte(v)) + "\x07"
}

// Without a system clipboard the copy goes to the terminal only: the status
// line says it was sent (nobody can know whether the terminal took it), and
// 30 s later an empty OSC 52 follows.
func TestCopyTerminalOnlyClearedAfter30s(t *testing.T) {
	_, sec := tuiSessions()
	tok := sec["acme-admin"].AccessToken
	fp := auth.Fingerprint(tok)
	h := newHarness(t, 200, 30)
	h.keys("c", "a")
	if got := h.term.String(); got != osc52Of(tok) {
		t.Fatalf("terminal got %q", got)
	}
	h.requireContains("sent acme-admin access token " + fp + " to the terminal clipboard (OSC 52); cleared in 30s")
	h.requireNotContains("copied")
	h.send(tickMsg{now: fixedNow.Add(29 * time.Second)})
	if got := h.term.String(); got != osc52Of(tok) {
		t.Fatalf("terminal cleared early: %q", got)
	}
	h.send(tickMsg{now: fixedNow.Add(31 * time.Second)})
	if got := h.term.String(); got != osc52Of(tok)+emptyOSC52 {
		t.Fatalf("terminal got %q after 30 s, want an empty OSC 52 after the copy", got)
	}
	h.requireContains("cleared the terminal clipboard (" + fp + ")")
}

// A newer copy restarts the 30 s: the older copy's time does not clear it.
func TestNewerCopyRestartsTheClear(t *testing.T) {
	_, sec := tuiSessions()
	h := newHarness(t, 200, 30)
	h.keys("c", "a")
	h.send(tickMsg{now: fixedNow.Add(20 * time.Second)})
	h.keys("c", "r")
	both := osc52Of(sec["acme-admin"].AccessToken) + osc52Of(sec["acme-admin"].RefreshToken)
	h.send(tickMsg{now: fixedNow.Add(30 * time.Second)})
	if got := h.term.String(); got != both {
		t.Fatalf("the first copy's 30 s cleared the second: %q", got)
	}
	h.send(tickMsg{now: fixedNow.Add(50 * time.Second)})
	if got := h.term.String(); got != both+emptyOSC52 {
		t.Fatalf("terminal got %q, want one clear after the second copy's 30 s", got)
	}
}

// When the system clipboard shows the user has copied something else
// since, neither clipboard is touched: on a desktop the terminal's
// clipboard is that same clipboard.
func TestClearLeavesTheUsersNewerCopy(t *testing.T) {
	h := newHarness(t, 200, 30)
	native := &fakeNative{}
	h.m.clipboard.Native = native
	h.keys("c", "a")
	before := h.term.String()
	native.text = "the user's own copy"
	h.send(tickMsg{now: fixedNow.Add(30 * time.Second)})
	if native.text != "the user's own copy" || h.term.String() != before {
		t.Fatalf("the clean-up overwrote the user's newer copy: native %q, terminal %q", native.text, h.term.String())
	}
}

// Inside tmux with set-clipboard external (its default) or off, tmux drops
// an application's OSC 52: the status line says so and how to fix it.
func TestCopyUnderTmux(t *testing.T) {
	_, sec := tuiSessions()
	fp := auth.Fingerprint(sec["acme-admin"].AccessToken)
	// tmux ignores the empty OSC 52 that clears a terminal clipboard, so
	// after 30 s nothing may claim the terminal's was cleared.
	for _, tc := range []struct {
		setClipboard string
		native       bool
		want         string
		after        string // the status line 30 s later
	}{
		{"external", false, "acme-admin access token " + fp + " NOT copied: tmux drops OSC 52 (set-clipboard external); fix: tmux set -s set-clipboard on", "NOT copied"},
		{"off", true, "copied acme-admin access token " + fp + " to the system clipboard (cleared in 30s); tmux drops OSC 52 (set-clipboard off); fix: tmux set -s set-clipboard on",
			"cleared the system clipboard (" + fp + ")"},
		{"on", false, "sent acme-admin access token " + fp + " to the terminal clipboard (OSC 52)",
			"tmux keeps the copy (" + fp + ") in its paste buffers, as it ignores an empty OSC 52: tmux delete-buffer"},
		{"on", true, "copied acme-admin access token " + fp + " to the system clipboard and sent it to the terminal's (OSC 52)",
			"cleared the system clipboard; tmux keeps the copy (" + fp + ") in its paste buffers"},
	} {
		t.Run(tc.setClipboard, func(t *testing.T) {
			h := newHarness(t, 250, 30)
			h.m.clipboard.TmuxSetClipboard = func() string { return tc.setClipboard }
			if tc.native {
				h.m.clipboard.Native = &fakeNative{}
			}
			h.keys("c", "a")
			h.requireContains(tc.want)
			h.send(tickMsg{now: fixedNow.Add(30 * time.Second)})
			h.requireContains(tc.after)
			h.requireNotContains("terminal clipboard (")
		})
	}
}

// tmuxSetClipboard reads the option from the tmux server named by $TMUX,
// as it is inside a tmux pane.
func TestTmuxSetClipboardReadsTheServer(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not installed")
	}
	sock := fmt.Sprintf("tokentop-ui-%d", os.Getpid())
	tmux := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("tmux", append([]string{"-L", sock, "-f", "/dev/null"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	tmux("new-session", "-d", "sleep 60")
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", sock, "kill-server").Run() })
	t.Setenv("TMUX", tmux("display-message", "-p", "#{socket_path},#{pid},0"))
	for _, v := range []string{"external", "on", "off"} {
		tmux("set-option", "-s", "set-clipboard", v)
		ask := NewClipboard(io.Discard, os.Getenv).TmuxSetClipboard
		if ask == nil {
			t.Fatal("inside tmux, tmux is not asked about its clipboard")
		}
		if got := ask(); got != v {
			t.Fatalf("with set-clipboard %s: TmuxSetClipboard() = %q", v, got)
		}
	}
	t.Setenv("TMUX", "")
	if NewClipboard(io.Discard, os.Getenv).TmuxSetClipboard != nil {
		t.Fatal("outside tmux, tmux is asked about its clipboard")
	}
}
