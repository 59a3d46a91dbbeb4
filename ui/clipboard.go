package ui

import (
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/atotto/clipboard"
	"github.com/aymanbagabas/go-osc52/v2"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/tokentop/tokentop/auth"
)

// clipboardClearAfter is how long a copied token may stay on the native
// clipboard before we clear it (if it still holds our value).
const clipboardClearAfter = 30 * time.Second

// NativeClipboard is the system clipboard (xclip, wl-copy, pbcopy...).
type NativeClipboard interface {
	ReadAll() (string, error)
	WriteAll(text string) error
}

// SystemClipboard returns the native clipboard, or nil when this system has
// none (no xclip/xsel/wl-copy on Linux, for example over SSH).
func SystemClipboard() NativeClipboard {
	if clipboard.Unsupported {
		return nil
	}
	return atottoClipboard{}
}

type atottoClipboard struct{}

func (atottoClipboard) ReadAll() (string, error)   { return clipboard.ReadAll() }
func (atottoClipboard) WriteAll(text string) error { return clipboard.WriteAll(text) }

// Clipboard copies text with OSC 52 (the terminal's clipboard, which works
// over SSH and inside tmux) and to the native clipboard when there is one.
type Clipboard struct {
	// Terminal receives the OSC 52 sequence. Give it the program's own
	// output (a *SyncWriter also given to tea.WithOutput): see SyncWriter
	// for why that cannot tear a frame.
	Terminal io.Writer
	// Native is the system clipboard; nil when there is none.
	Native NativeClipboard
	// Screen wraps OSC 52 for GNU screen, which does not pass it on itself
	// (tmux with set-clipboard on handles plain OSC 52 and is not wrapped).
	Screen bool
}

// NewClipboard copies through out (the program output) and the system
// clipboard, wrapping OSC 52 for GNU screen when running inside it.
func NewClipboard(out io.Writer) *Clipboard {
	screen := os.Getenv("TMUX") == "" && strings.HasPrefix(os.Getenv("TERM"), "screen") && os.Getenv("STY") != ""
	return &Clipboard{Terminal: out, Native: SystemClipboard(), Screen: screen}
}

// copyCmd copies value in the background and reports by fingerprint:
// shown is the fingerprint the status line names (the token's, also when
// value is a whole "Authorization: Bearer …" line), or "" for value's own.
func (c *Clipboard) copyCmd(what, value, shown string) tea.Cmd {
	fp := auth.Fingerprint(value)
	if shown == "" {
		shown = fp
	}
	if c == nil {
		return func() tea.Msg {
			return copiedMsg{what: what, fingerprint: shown, valueFP: fp, err: errors.New("no clipboard configured")}
		}
	}
	return func() tea.Msg {
		msg := copiedMsg{what: what, fingerprint: shown, valueFP: fp}
		if c.Terminal != nil {
			seq := osc52.New(value)
			if c.Screen {
				seq = seq.Screen()
			}
			if _, err := seq.WriteTo(c.Terminal); err != nil {
				msg.err = err
			}
		}
		if c.Native != nil {
			if err := c.Native.WriteAll(value); err != nil {
				msg.nativeErr = err
			} else {
				msg.native = true
			}
		}
		return msg
	}
}

// clearCmd empties the native clipboard after clipboardClearAfter if it
// still holds the value with fingerprint fp (the user may have copied
// something else since; that is left alone), and reports it as shown. Only
// fingerprints are kept while waiting, never the token.
func (c *Clipboard) clearCmd(fp, shown string) tea.Cmd {
	if c == nil || c.Native == nil {
		return nil
	}
	return tea.Tick(clipboardClearAfter, func(time.Time) tea.Msg { return c.clearIfOurs(fp, shown) })
}

// clearIfOurs is clearCmd's work once the time is up.
func (c *Clipboard) clearIfOurs(fp, shown string) tea.Msg {
	cur, err := c.Native.ReadAll()
	if err != nil || auth.Fingerprint(cur) != fp {
		return clipboardClearedMsg{fingerprint: shown}
	}
	return clipboardClearedMsg{fingerprint: shown, cleared: c.Native.WriteAll("") == nil}
}

// SyncWriter serialises writes to the terminal. Bubble Tea's standard
// renderer writes each frame with a single Write call; giving the program a
// SyncWriter (tea.WithOutput) and sending OSC 52 through the same SyncWriter
// means a clipboard sequence is written whole between two frames, never in
// the middle of one. Writing to os.Stdout directly from a command's goroutine
// could interleave with a frame and corrupt the screen.
//
// It keeps the terminal's file descriptor visible (Fd, Read, Close), so Bubble
// Tea still recognises the output as a terminal: raw mode, window size and
// resize events work as with os.Stdout.
type SyncWriter struct {
	mu sync.Mutex
	f  *os.File
}

// NewSyncWriter wraps f (normally os.Stdout).
func NewSyncWriter(f *os.File) *SyncWriter { return &SyncWriter{f: f} }

// Write writes p whole, after any write in progress.
func (w *SyncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.f.Write(p)
}

// Read reads from the underlying file.
func (w *SyncWriter) Read(p []byte) (int, error) { return w.f.Read(p) }

// Close does nothing: the terminal outlives the program.
func (w *SyncWriter) Close() error { return nil }

// Fd is the underlying file descriptor.
func (w *SyncWriter) Fd() uintptr { return w.f.Fd() }
