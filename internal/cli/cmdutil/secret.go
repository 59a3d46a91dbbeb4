package cmdutil

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tokentop/tokentop/internal/cli/iostreams"
)

// MaxSecretInput bounds what is read from stdin for a password, a token or
// a token response.
const MaxSecretInput = 1 << 20

// SecretFromStdin reads a password or token from r (stdin, a pipe or a
// file): the first line, without its line ending. what names it in errors
// ("password", "token").
func SecretFromStdin(r io.Reader, what string) (string, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSecretInput+1))
	if err != nil {
		return "", fmt.Errorf("read the %s from stdin: %w", what, err)
	}
	if len(data) > MaxSecretInput {
		return "", UsageErrorf("the %s on stdin is larger than 1 MiB", what)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	line = strings.TrimRight(line, "\r")
	if strings.TrimSpace(line) == "" {
		return "", UsageErrorf("no %s on stdin: pipe it in, e.g. `pass show convirza | tokentop ...`", what)
	}
	return line, nil
}

// TokenFromStdin reads the token for --token -: from a pipe or file as
// SecretFromStdin does, or, when stdin is a terminal, from the prompt that
// does not echo, so a pasted token never lands on the screen or in
// scrollback.
func TokenFromStdin(ctx context.Context, ios *iostreams.IOStreams) (string, error) {
	if !ios.IsStdinTTY() {
		return SecretFromStdin(ios.In, "token")
	}
	tok, err := ios.ReadSecret(ctx, "Paste the token (input hidden), then press Enter: ")
	if err != nil {
		if errors.Is(err, iostreams.ErrInterrupted) {
			return "", err
		}
		return "", fmt.Errorf("read the token: %w", err)
	}
	return SecretFromStdin(bytes.NewReader([]byte(tok)), "token")
}
