//go:build unix

package main

import (
	"context"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/term"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/auth/emulator"
)

// onPTY is a tokentop process whose controlling terminal is a fresh pty.
type onPTY struct {
	cmd    *exec.Cmd
	master *os.File
	tty    *os.File // kept open here, to read the terminal's settings
	screen *syncBuffer
	before *term.State
	copied chan struct{} // closed when all the process wrote is in screen
}

// startOnPTY starts tokentop args on a new pty, as a shell would start it
// in the foreground of a terminal.
func startOnPTY(t *testing.T, c *cli, args ...string) *onPTY {
	t.Helper()
	master, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	before, err := term.GetState(int(tty.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	cmd := c.command(ctx, args...)
	cmd.Env = append(cmd.Env, "TERM=dumb")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &onPTY{cmd: cmd, master: master, tty: tty, screen: &syncBuffer{}, before: before, copied: make(chan struct{})}
	go func() {
		defer close(p.copied)
		buf := make([]byte, 1024)
		for {
			n, err := master.Read(buf)
			_, _ = p.screen.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		tty.Close()
		master.Close()
		<-p.copied
	})
	return p
}

// typeAtPrompt waits for the prompt and for echo to be off, then types keys.
func (p *onPTY) typeAtPrompt(t *testing.T, prompt, keys string) {
	t.Helper()
	waitForOutput(t, p.screen, prompt, 20*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := term.GetState(int(p.tty.Fd()))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(st, p.before) {
			break // the prompt has switched echo off
		}
		if time.Now().After(deadline) {
			t.Fatalf("the prompt never switched echo off:\n%s", p.screen.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := p.master.Write([]byte(keys)); err != nil {
		t.Fatal(err)
	}
}

// wait waits for the process to exit within limit and returns its code.
func (p *onPTY) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("still running %s after the keys were typed:\n%s", limit, p.screen.String())
	}
	after, err := term.GetState(int(p.tty.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(after, p.before) {
		t.Errorf("the terminal was left changed (echo off?):\n%s", p.screen.String())
	}
	// With the last terminal end closed, the master reads to the end of
	// what the process wrote.
	p.tty.Close()
	<-p.copied
	return p.cmd.ProcessState.ExitCode()
}

// TestSecretPromptsOnATerminal types at every secret prompt on a real
// pseudo-terminal: what is typed never shows on the screen, and Ctrl-C
// ends the command at once with exit 130 and the terminal as it was.
func TestSecretPromptsOnATerminal(t *testing.T) {
	t.Parallel()
	em, url := startEmulator(t, emulator.Config{LoginRate: -1})
	user := emulator.DefaultUser()
	const pasted = "pasted-token-0123456789abcdef"
	login := append([]string{"login", "typed", "--email", user.Email}, endpointArgs(url)...)
	t.Run("prompts", func(t *testing.T) { // the parallel cases end before the stats are read
		for _, tc := range []struct {
			name   string
			args   []string
			prompt string
			keys   string
			code   int
			shows  []string
			hidden string
		}{
			{"login", login, "Password for demo@example.com: ", user.Password + "\r", 0,
				[]string{"Logged in as demo@example.com"}, user.Password},
			{"inspect --token -", []string{"inspect", "--token", "-"}, "input hidden", pasted + "\r", 0,
				[]string{auth.Fingerprint(pasted), "opaque"}, pasted},
			{"login ctrl-c", login, "Password for", "hunt\x03", 130, nil, "hunt"},
			{"inspect ctrl-c", []string{"inspect", "--token", "-"}, "input hidden", "past\x03", 130, nil, "past"},
			{"revoke ctrl-c", []string{"revoke", "--token", "-", "--type", "refresh", "--oauth-url", url}, "input hidden", "\x03", 130, nil, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				c := newCLI(t, "file")
				p := startOnPTY(t, c, tc.args...)
				p.typeAtPrompt(t, tc.prompt, tc.keys)
				limit := 2 * time.Second // "at once"
				if tc.code == 0 {
					limit = 30 * time.Second
				}
				if code := p.wait(t, limit); code != tc.code {
					t.Errorf("exit %d, want %d:\n%s", code, tc.code, p.screen.String())
				}
				for _, want := range tc.shows {
					if !strings.Contains(p.screen.String(), want) {
						t.Errorf("the screen lacks %q:\n%s", want, p.screen.String())
					}
				}
				if tc.hidden != "" && strings.Contains(p.screen.String(), tc.hidden) {
					t.Errorf("what was typed shows on the screen:\n%s", p.screen.String())
				}
			})
		}
	})
	if st := em.Stats(); st.Logins != 1 || st.Revocations != 0 {
		t.Errorf("emulator %+v: want exactly the one typed login and no revocation", st)
	}
}
