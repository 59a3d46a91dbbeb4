package cmdutil

import (
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/tokentop/tokentop/internal/cli/iostreams"
)

// The first signal cancels, the second exits with 128+N; once a command has
// handed the signals over (exec with its child running), neither happens:
// exiting would orphan the child.
func TestOnSignals(t *testing.T) {
	run := func(handOff bool, sigs ...os.Signal) (cancels int, code int) {
		ios, _, _, _ := iostreams.Test()
		f := New(ios, func(string) string { return "" }, os.Environ)
		if handOff {
			f.HandOffSignals()
		}
		ch := make(chan os.Signal, len(sigs))
		for _, s := range sigs {
			ch <- s
		}
		close(ch)
		code = -1
		done := make(chan struct{})
		go func() {
			defer close(done)
			f.OnSignals(ch, func() { cancels++ }, func(c int) { code = c })
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("OnSignals did not return")
		}
		return cancels, code
	}
	if c, code := run(false, syscall.SIGHUP); c != 1 || code != -1 {
		t.Fatalf("one SIGHUP: %d cancels, exit %d; want a cancel and no exit", c, code)
	}
	if _, code := run(false, syscall.SIGTERM, syscall.SIGTERM); code != 128+int(syscall.SIGTERM) {
		t.Fatalf("two SIGTERMs: exit %d, want %d", code, 128+int(syscall.SIGTERM))
	}
	if c, code := run(true, syscall.SIGTERM, syscall.SIGTERM, os.Interrupt); c != 0 || code != -1 {
		t.Fatalf("after HandOffSignals: %d cancels, exit %d; want neither", c, code)
	}
	ios, _, _, _ := iostreams.Test()
	f := New(ios, func(string) string { return "" }, os.Environ)
	ch := make(chan os.Signal, 1)
	ch <- syscall.SIGINT
	close(ch)
	f.OnSignals(ch, func() {}, func(int) {})
	if n := f.SignalsSeen(); n != 1 {
		t.Fatalf("SignalsSeen = %d after one signal", n)
	}
}
