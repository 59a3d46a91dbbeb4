//go:build !unix

package iostreams

import (
	"context"
	"fmt"

	"golang.org/x/term"
)

// readHidden reads a line without echo where there is no poll(2): the read
// runs aside, so a cancelled ctx still returns at once (the terminal is
// restored; the abandoned read ends with the process).
func readHidden(ctx context.Context, fd int) (string, error) {
	state, err := term.GetState(fd)
	if err != nil {
		return "", fmt.Errorf("read from the terminal: %w", err)
	}
	type answer struct {
		b   []byte
		err error
	}
	done := make(chan answer, 1)
	go func() {
		b, err := term.ReadPassword(fd)
		done <- answer{b, err}
	}()
	select {
	case a := <-done:
		if a.err != nil {
			return "", fmt.Errorf("read from the terminal: %w", a.err)
		}
		return string(a.b), nil
	case <-ctx.Done():
		_ = term.Restore(fd, state)
		return "", fmt.Errorf("%w: %w", ErrInterrupted, ctx.Err())
	}
}
