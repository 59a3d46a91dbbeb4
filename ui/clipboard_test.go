package ui

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
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
	if c.clearCmd("sha256:x", "sha256:x") != nil {
		t.Fatal("nothing to clear without a native clipboard")
	}
}
