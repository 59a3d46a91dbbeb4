package iostreams

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// ErrInterrupted is returned by ReadSecret when the user pressed Ctrl-C at
// the prompt, or the command was cancelled (a signal) while it waited.
var ErrInterrupted = errors.New("interrupted at the prompt")

// ErrNoTerminal is returned by ReadSecret when stdin is not a terminal:
// there is no one to prompt, and reading a pipe silently would hide a
// forgotten flag.
var ErrNoTerminal = errors.New("stdin is not a terminal")

// maxSecret bounds a typed or pasted secret.
const maxSecret = 1 << 20

// ReadSecret writes prompt to stderr and reads one line from the terminal
// on stdin without echoing it. It returns ErrInterrupted at once on Ctrl-C
// or when ctx is cancelled, and leaves the terminal as it found it in every
// case. Backspace and Ctrl-U edit the line; Enter ends it.
func (s *IOStreams) ReadSecret(ctx context.Context, prompt string) (string, error) {
	if !s.IsStdinTTY() {
		return "", ErrNoTerminal
	}
	fmt.Fprint(s.ErrOut, prompt)
	var (
		secret string
		err    error
	)
	if f, ok := fileOf(s.In); ok {
		secret, err = readHidden(ctx, int(f.Fd()))
	} else {
		// A test double standing in for a terminal: its bytes are what
		// was typed.
		secret, err = readTyped(ctx, s.In)
	}
	// The user's Enter was not echoed either: end the prompt's line.
	fmt.Fprintln(s.ErrOut)
	return secret, err
}

// lineEditor collects typed bytes into a line, as a terminal in canonical
// mode would, but without echo and with Ctrl-C as a key rather than a
// signal.
type lineEditor struct{ line []byte }

// feed takes one typed byte; done is set when the line is complete.
func (e *lineEditor) feed(b byte) (done bool, err error) {
	switch b {
	case 0x03: // Ctrl-C
		return true, ErrInterrupted
	case '\r', '\n':
		return true, nil
	case 0x04: // Ctrl-D: end of input, as on an empty canonical line
		if len(e.line) == 0 {
			return true, errors.New("no input (Ctrl-D)")
		}
	case 0x7f, 0x08: // Backspace: one character, not one byte
		if len(e.line) > 0 {
			_, size := utf8.DecodeLastRune(e.line)
			e.line = e.line[:len(e.line)-size]
		}
	case 0x15: // Ctrl-U
		e.wipe()
		e.line = e.line[:0]
	default:
		if b < 0x20 && b != '\t' {
			return false, nil // other control keys (arrows' ESC) mean nothing here
		}
		if len(e.line) >= maxSecret {
			return true, errors.New("the input is longer than 1 MiB")
		}
		e.line = append(e.line, b)
	}
	return false, nil
}

// take returns the line and clears the buffer that held it.
func (e *lineEditor) take() string {
	s := string(e.line)
	e.wipe()
	return s
}

func (e *lineEditor) wipe() {
	for i := range e.line {
		e.line[i] = 0
	}
}

// readTyped reads a "typed" line from a reader that is not a real terminal.
func readTyped(ctx context.Context, r io.Reader) (string, error) {
	var e lineEditor
	br := bufio.NewReader(r)
	for {
		if ctx.Err() != nil {
			e.wipe()
			return "", fmt.Errorf("%w: %w", ErrInterrupted, ctx.Err())
		}
		b, err := br.ReadByte()
		if err != nil {
			if len(e.line) > 0 {
				return e.take(), nil
			}
			return "", fmt.Errorf("read from the terminal: %w", err)
		}
		done, err := e.feed(b)
		if err != nil {
			e.wipe()
			return "", err
		}
		if done {
			return e.take(), nil
		}
	}
}
