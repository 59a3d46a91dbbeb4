//go:build unix

package iostreams

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// readHidden reads a line from the terminal fd with echo off. The terminal
// is put in raw mode, so Ctrl-C arrives as a byte this loop sees (and not a
// signal some other goroutine must notice), and the wait is a poll on the
// terminal and a wake-up pipe, so a cancelled ctx ends it without leaving a
// reader blocked on the terminal to swallow the next thing typed.
func readHidden(ctx context.Context, fd int) (string, error) {
	old, err := term.MakeRaw(fd)
	if err != nil {
		return "", fmt.Errorf("switch off echo on the terminal: %w", err)
	}
	defer func() { _ = term.Restore(fd, old) }()

	var wake [2]int
	if err := unix.Pipe(wake[:]); err != nil {
		return "", fmt.Errorf("prepare the prompt: %w", err)
	}
	defer unix.Close(wake[0])
	defer unix.Close(wake[1])
	stop := context.AfterFunc(ctx, func() { _, _ = unix.Write(wake[1], []byte{0}) })
	defer stop()

	var e lineEditor
	defer e.wipe()
	buf := make([]byte, 256)
	defer clear(buf)
	for {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(wake[0]), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, -1); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return "", fmt.Errorf("wait for the terminal: %w", err)
		}
		if fds[1].Revents != 0 || ctx.Err() != nil {
			return "", fmt.Errorf("%w: %w", ErrInterrupted, context.Cause(ctx))
		}
		if fds[0].Revents == 0 {
			continue
		}
		n, err := unix.Read(fd, buf)
		switch {
		case errors.Is(err, unix.EINTR), errors.Is(err, unix.EAGAIN):
			continue
		case err != nil:
			return "", fmt.Errorf("read from the terminal: %w", err)
		case n == 0:
			return "", errors.New("read from the terminal: it was closed")
		}
		for _, b := range buf[:n] {
			done, err := e.feed(b)
			if err != nil {
				return "", err
			}
			if done {
				return e.take(), nil
			}
		}
	}
}
