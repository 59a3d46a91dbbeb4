// Package safetexttest holds test helpers that check output is inert: no
// byte of it could act on a terminal.
package safetexttest

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/tokentop/tokentop/internal/safetext"
)

// RequireInert fails when out could act on a terminal: an ESC byte, any
// other C0 control but newline, DEL, a C1 control, a format (bidi) rune or
// bytes that are not UTF-8.
func RequireInert(t testing.TB, what string, out []byte) {
	t.Helper()
	if bytes.IndexByte(out, 0x1b) >= 0 {
		t.Fatalf("%s holds an ESC byte:\n%q", what, out)
	}
	if !utf8.Valid(out) {
		t.Fatalf("%s is not UTF-8:\n%q", what, out)
	}
	for _, r := range string(out) {
		if r != '\n' && safetext.Unsafe(r) {
			t.Fatalf("%s holds %U:\n%q", what, r, out)
		}
	}
}

// RequireInertJSON is RequireInert for a JSON document, decoded too: a
// \u001b escape is as bad as the byte once `jq -r` prints it.
func RequireInertJSON(t testing.TB, what string, out []byte) {
	t.Helper()
	RequireInert(t, what, out)
	var v any
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber() // numbers beyond float64 are still JSON
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s is not JSON: %v\n%s", what, err, out)
	}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			if safetext.Needs(x) {
				t.Fatalf("%s holds %q once decoded", what, x)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for k, e := range x {
				if safetext.Needs(k) {
					t.Fatalf("%s holds key %q once decoded", what, k)
				}
				walk(e)
			}
		}
	}
	walk(v)
}
