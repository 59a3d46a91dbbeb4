//go:build unix

package iostreams

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/term"
)

// ptyStreams gives streams whose stdin is the terminal end of a fresh pty,
// the pty's other end (the "keyboard and screen"), and what the master has
// shown, read as it comes so the terminal never blocks on a full buffer.
type ptyRig struct {
	ios    *IOStreams
	master *os.File
	tty    *os.File
	mu     sync.Mutex
	shown  bytes.Buffer
	errOut bytes.Buffer
}

func newPTY(t *testing.T) *ptyRig {
	t.Helper()
	master, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	r := &ptyRig{master: master, tty: tty}
	r.ios = &IOStreams{In: tty, Out: io.Discard, ErrOut: &r.errOut}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 256)
		for {
			n, err := master.Read(buf)
			r.mu.Lock()
			r.shown.Write(buf[:n])
			r.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		tty.Close()
		master.Close()
		<-done
	})
	return r
}

func (r *ptyRig) screen() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.shown.String()
}

// typeAfterRaw sends keys once the prompt has changed the terminal's
// settings (echo off), as a person would: keys typed earlier would go
// through the terminal's normal line processing instead.
func (r *ptyRig) typeAfterRaw(t *testing.T, before *term.State, keys string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := term.GetState(int(r.tty.Fd()))
		if err != nil {
			t.Error(err)
			return
		}
		if !reflect.DeepEqual(st, before) {
			break
		}
		if time.Now().After(deadline) {
			t.Error("the prompt never switched echo off")
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := r.master.Write([]byte(keys)); err != nil {
		t.Error(err)
	}
}

// TestReadSecretOnATerminal types at a real pseudo-terminal: what is typed
// is read without being shown, line editing works, and Ctrl-C or a
// cancelled context return at once; the terminal is as it was afterwards
// in every case.
func TestReadSecretOnATerminal(t *testing.T) {
	for _, tc := range []struct {
		name    string
		keys    string
		cancel  bool
		want    string
		wantErr error
	}{
		{name: "enter", keys: "hunter2\r", want: "hunter2"},
		{name: "newline", keys: "hunter2\n", want: "hunter2"},
		{name: "backspace", keys: "hunx\x7fter2\r", want: "hunter2"},
		{name: "backspace a multibyte character", keys: "pässé\x7f\r", want: "päss"},
		{name: "ctrl-u", keys: "wrong\x15hunter2\r", want: "hunter2"},
		{name: "ctrl-c", keys: "hun\x03", wantErr: ErrInterrupted},
		{name: "ctrl-c alone", keys: "\x03", wantErr: ErrInterrupted},
		{name: "cancelled", cancel: true, wantErr: ErrInterrupted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newPTY(t)
			fd := int(r.tty.Fd())
			before, err := term.GetState(fd)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// The typist is waited for before the pty is closed (a
			// cleanup): it reads the terminal's settings until then.
			typed := make(chan struct{})
			go func() {
				defer close(typed)
				if tc.cancel {
					r.typeAfterRaw(t, before, "")
					cancel()
					return
				}
				r.typeAfterRaw(t, before, tc.keys)
			}()
			defer func() { <-typed }()
			type answer struct {
				s   string
				err error
			}
			got := make(chan answer, 1)
			go func() {
				s, err := r.ios.ReadSecret(ctx, "Password: ")
				got <- answer{s, err}
			}()
			var a answer
			select {
			case a = <-got:
			case <-time.After(5 * time.Second):
				t.Fatal("ReadSecret did not return within 5s")
			}
			if !errors.Is(a.err, tc.wantErr) || a.s != tc.want {
				t.Fatalf("ReadSecret = %q, %v; want %q, %v", a.s, a.err, tc.want, tc.wantErr)
			}
			after, err := term.GetState(fd)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(before, after) {
				t.Errorf("the terminal's settings changed: before %+v, after %+v", before, after)
			}
			if tc.want != "" && strings.Contains(r.screen(), tc.want) {
				t.Errorf("the secret was echoed: %q", r.screen())
			}
			if !strings.HasPrefix(r.errOut.String(), "Password: ") || !strings.HasSuffix(r.errOut.String(), "\n") {
				t.Errorf("stderr %q: want the prompt, then a line end", r.errOut.String())
			}
		})
	}
}

// Without a terminal there is no one to ask: ReadSecret says so and reads
// nothing.
func TestReadSecretNeedsATerminal(t *testing.T) {
	ios, stdin, _, stderr := Test()
	stdin.WriteString("hunter2\n")
	if _, err := ios.ReadSecret(context.Background(), "Password: "); !errors.Is(err, ErrNoTerminal) {
		t.Fatalf("err %v, want ErrNoTerminal", err)
	}
	if stdin.Len() != len("hunter2\n") || stderr.Len() != 0 {
		t.Errorf("read %d bytes of stdin and prompted %q; want neither", len("hunter2\n")-stdin.Len(), stderr.String())
	}
}
