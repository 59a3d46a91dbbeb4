package ui

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/atotto/clipboard"
	"github.com/aymanbagabas/go-osc52/v2"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/tokentop/tokentop/auth"
)

// clipboardClearAfter is how long a copied token may stay on the
// clipboards before tokentop clears them (the model's clock decides, see
// Model.onTick).
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
// over SSH) and to the native clipboard when there is one.
//
// OSC 52 is one-way: the terminal never says whether it took the text (many
// ask the user, or ignore it unless configured), so the status line says
// "sent" for it and "copied" only for the native clipboard, whose write
// returns an error.
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
	// TmuxSetClipboard returns tmux's set-clipboard option ("on",
	// "external", "off") when running inside tmux, "" otherwise or when it
	// cannot be read. With "external" (tmux's default) or "off", tmux drops
	// an application's OSC 52. It runs in a command, never in Update.
	TmuxSetClipboard func() string
}

// NewClipboard copies through out (the program output) and the system
// clipboard, wrapping OSC 52 for GNU screen when running inside it and
// asking tmux whether it passes OSC 52 on when running inside tmux; getenv
// is the command's environment.
func NewClipboard(out io.Writer, getenv func(string) string) *Clipboard {
	screen := getenv("TMUX") == "" && strings.HasPrefix(getenv("TERM"), "screen") && getenv("STY") != ""
	c := &Clipboard{Terminal: out, Native: SystemClipboard(), Screen: screen}
	if getenv("TMUX") != "" {
		c.TmuxSetClipboard = tmuxSetClipboard
	}
	return c
}

// tmuxSetClipboard asks the tmux server this process runs under (found
// through $TMUX) for its set-clipboard option.
func tmuxSetClipboard() string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "tmux", "show-options", "-sv", "set-clipboard").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// osc52 is the sequence setting the terminal clipboard to value ("" empties it).
func (c *Clipboard) osc52(value string) osc52.Sequence {
	seq := osc52.New(value)
	if c.Screen {
		seq = seq.Screen()
	}
	return seq
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
			if _, err := c.osc52(value).WriteTo(c.Terminal); err != nil {
				msg.err = err
			} else {
				msg.terminal = true
			}
		}
		if c.TmuxSetClipboard != nil {
			msg.tmuxSetClipboard = c.TmuxSetClipboard()
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

// clearCmd empties the clipboards once a copy's time is up (the model
// decides when). The native clipboard is emptied only if it still holds the
// value with fingerprint fp. The terminal's cannot be read back, so it gets
// an empty OSC 52, unless the native clipboard shows that the user has
// copied something else since: on a desktop the terminal writes to that
// same clipboard, and emptying it would destroy the user's newer copy. Only
// fingerprints are kept while waiting, never the token.
func (c *Clipboard) clearCmd(p pendingClear) tea.Cmd {
	if c == nil || (c.Native == nil && c.Terminal == nil) {
		return nil
	}
	return func() tea.Msg { return c.clear(p.valueFP, p.shownFP, p.tmux) }
}

// clear is clearCmd's work.
func (c *Clipboard) clear(fp, shown, tmux string) clipboardClearedMsg {
	msg := clipboardClearedMsg{fingerprint: shown, tmux: tmux}
	if c.Native != nil {
		cur, err := c.Native.ReadAll()
		switch {
		case err != nil, cur == "":
		case auth.Fingerprint(cur) == fp:
			msg.native = c.Native.WriteAll("") == nil
		default:
			return msg // the user's own, newer copy: leave both alone
		}
	}
	if c.Terminal != nil {
		_, err := c.osc52("").WriteTo(c.Terminal)
		msg.terminal = err == nil
	}
	return msg
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
