package importcmd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tokentop/tokentop/internal/cli/cmdutil"
)

// responseExample shows what import expects, in error messages and help.
const responseExample = `{"access_token": "...", "refresh_token": "...", "expires_in": "2026-04-10T12:00:00.000Z", "refresh_expires_in": "2026-10-01T12:00:00.000Z", "user": {...}}`

// readResponse reads a token response from stdin and rejects, with a
// message saying what was expected, anything that is not a JSON object. It
// never echoes the input: it may be a token.
func readResponse(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, cmdutil.MaxSecretInput+1))
	if err != nil {
		return nil, fmt.Errorf("read the token response from stdin: %w", err)
	}
	if len(data) > cmdutil.MaxSecretInput {
		return nil, cmdutil.NewUsageError(errors.New("the token response on stdin is larger than 1 MiB"))
	}
	trimmed := bytes.TrimSpace(data)
	expected := "expected the JSON the login or refresh endpoint returns, e.g. " + responseExample
	switch {
	case len(trimmed) == 0:
		return nil, cmdutil.NewUsageError(errors.New("no token response on stdin: pipe it in, e.g. `tokentop import NAME < response.json`; " + expected))
	case !json.Valid(trimmed):
		if looksLikeBareToken(trimmed) {
			return nil, cmdutil.NewUsageError(errors.New("stdin holds a bare token, not a token response (a pair with expiries is needed to keep a session alive); " + expected))
		}
		var syn *json.SyntaxError
		where := ""
		if err := json.Unmarshal(trimmed, new(any)); errors.As(err, &syn) {
			where = fmt.Sprintf(" (syntax error at byte %d)", syn.Offset)
		}
		return nil, cmdutil.NewUsageError(fmt.Errorf("stdin is not valid JSON%s; %s", where, expected))
	case trimmed[0] != '{':
		if trimmed[0] == '"' {
			return nil, cmdutil.NewUsageError(errors.New("stdin holds a quoted string, not a token response; " + expected))
		}
		return nil, cmdutil.NewUsageError(errors.New("stdin holds JSON that is not an object; " + expected))
	}
	return trimmed, nil
}

// looksLikeBareToken reports whether data is one word of token-ish
// characters (a JWT or an opaque token), the most likely mistake.
func looksLikeBareToken(data []byte) bool {
	s := strings.TrimPrefix(string(data), "Bearer ")
	if len(s) < 8 || strings.ContainsAny(s, " \t\r\n{}[]\"") {
		return false
	}
	return true
}
