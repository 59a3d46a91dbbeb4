// Package iostreams owns a command's standard streams and everything that
// asks about the terminal behind them: whether each is a terminal, its
// width, whether colour is wanted, and the one prompt for secrets.
//
// Commands never type-assert a stream to *os.File themselves: tests swap
// the streams for buffers (Test) and say which of them count as terminals.
package iostreams

import (
	"bytes"
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams is one command's stdin, stdout and stderr.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	// Getenv reads the environment (NO_COLOR); nil reads nothing.
	Getenv func(string) string

	// Overrides for tests: nil asks the stream itself.
	stdinTTY, stdoutTTY, stderrTTY *bool
	width                          int
}

// System is the process's own streams.
func System() *IOStreams {
	return &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, Getenv: os.Getenv}
}

// Test gives streams over buffers, none of them a terminal, and the buffers:
// what to feed stdin, and what was written to stdout and stderr.
func Test() (ios *IOStreams, stdin, stdout, stderr *bytes.Buffer) {
	stdin, stdout, stderr = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: stdin, Out: stdout, ErrOut: stderr, Getenv: func(string) string { return "" }}, stdin, stdout, stderr
}

// fileOf is the *os.File behind a stream, if there is one.
func fileOf(v any) (*os.File, bool) {
	f, ok := v.(*os.File)
	return f, ok && f != nil
}

func isTerminal(v any) bool {
	f, ok := fileOf(v)
	return ok && term.IsTerminal(int(f.Fd()))
}

// IsStdinTTY reports whether stdin is a terminal (someone may be typing).
func (s *IOStreams) IsStdinTTY() bool {
	if s.stdinTTY != nil {
		return *s.stdinTTY
	}
	return isTerminal(s.In)
}

// IsStdoutTTY reports whether stdout is a terminal.
func (s *IOStreams) IsStdoutTTY() bool {
	if s.stdoutTTY != nil {
		return *s.stdoutTTY
	}
	return isTerminal(s.Out)
}

// IsStderrTTY reports whether stderr is a terminal.
func (s *IOStreams) IsStderrTTY() bool {
	if s.stderrTTY != nil {
		return *s.stderrTTY
	}
	return isTerminal(s.ErrOut)
}

// SetStdinTTY makes IsStdinTTY answer v (tests).
func (s *IOStreams) SetStdinTTY(v bool) { s.stdinTTY = &v }

// SetStdoutTTY makes IsStdoutTTY answer v (tests).
func (s *IOStreams) SetStdoutTTY(v bool) { s.stdoutTTY = &v }

// SetStderrTTY makes IsStderrTTY answer v (tests).
func (s *IOStreams) SetStderrTTY(v bool) { s.stderrTTY = &v }

// SetTerminalWidth makes TerminalWidth answer w (tests).
func (s *IOStreams) SetTerminalWidth(w int) { s.width = w }

// TerminalWidth is stdout's width in columns when it is a terminal, else 0:
// output to a pipe has no width limit, so scripts get every column.
func (s *IOStreams) TerminalWidth() int {
	if s.width > 0 {
		return s.width
	}
	f, ok := fileOf(s.Out)
	if !ok || !s.IsStdoutTTY() {
		return 0
	}
	w, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return w
}

// ColorEnabled reports whether stdout wants colour: a terminal, and NO_COLOR
// unset (https://no-color.org: any non-empty value turns colour off).
func (s *IOStreams) ColorEnabled() bool {
	if s.Getenv != nil && s.Getenv("NO_COLOR") != "" {
		return false
	}
	return s.IsStdoutTTY()
}

// TerminalOut is stdout as a terminal file, for a full-screen program that
// must draw on it; ok is false when stdout is not a terminal.
func (s *IOStreams) TerminalOut() (f *os.File, ok bool) {
	f, ok = fileOf(s.Out)
	if !ok || !s.IsStdoutTTY() {
		return nil, false
	}
	return f, true
}
