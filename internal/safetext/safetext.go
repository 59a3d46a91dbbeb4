// Package safetext makes text that came from outside tokentop (JWT claims
// and headers, server messages, emails, file contents) inert on a terminal
// and in a JSON document.
//
// The contract: after Escape, a string holds none of
//
//   - C0 controls U+0000–U+001F (ESC among them) and DEL U+007F,
//   - C1 controls U+0080–U+009F (U+009B is a one-byte CSI on some terminals),
//   - format characters (Unicode category Cf): the bidi embeddings,
//     overrides and isolates U+202A–U+202E and U+2066–U+2069, the marks
//     U+200E, U+200F and U+061C, and the zero-width and tag characters
//     that hide text,
//   - the line and paragraph separators U+2028 and U+2029,
//   - invalid UTF-8.
//
// Each is shown instead as a visible escape: \x1b for C0 and DEL, \u009b,
// \u202e or \U000e0041 for the others, and \xff for a byte that is not
// UTF-8. Everything else, backslashes included, is left as it was, so
// ordinary text is unchanged and Escape is idempotent (escaping twice is
// escaping once): layers that each escape what they show cannot garble it.
// The price is that a literal "\x1b" typed into a claim looks the same as
// an escaped ESC; Needs tells the two apart when it matters.
//
// Escape turns newlines into \x0a too: a value is one line, and a claim
// that carried a newline could otherwise forge a line of output. Lines is
// for a whole multi-line text that tokentop itself laid out: it keeps
// '\n' and escapes everything else.
package safetext

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape returns s with every control, format and bidi character and every
// invalid byte replaced by a visible escape (see the package comment).
func Escape(s string) string { return escape(s, false) }

// Lines is Escape for a multi-line text: '\n' is kept, everything else that
// Escape replaces is replaced.
func Lines(s string) string { return escape(s, true) }

// Needs reports whether Escape would change s.
func Needs(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || unsafeRune(r) {
			return true
		}
		i += n
	}
	return false
}

// Unsafe reports whether r is one of the runes Escape replaces. It is the
// test for callers that scan output themselves (tests, fuzzers).
func Unsafe(r rune) bool { return unsafeRune(r) }

func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r < 0xa0:
		return false
	case r == '\u2028', r == '\u2029':
		return true
	}
	return unicode.Is(unicode.Cf, r)
}

const hexDigits = "0123456789abcdef"

func escape(s string, keepNewline bool) string {
	// The common case, nothing to do, allocates nothing.
	clean := true
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || unsafeRune(r) && !(keepNewline && r == '\n') {
			clean = false
			break
		}
		i += n
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			writeHex(&b, `\x`, uint32(s[i]), 2)
		case keepNewline && r == '\n', !unsafeRune(r):
			b.WriteString(s[i : i+n])
		case r < 0x80:
			writeHex(&b, `\x`, uint32(r), 2)
		case r <= 0xffff:
			writeHex(&b, `\u`, uint32(r), 4)
		default:
			writeHex(&b, `\U`, uint32(r), 8)
		}
		i += n
	}
	return b.String()
}

func writeHex(b *strings.Builder, prefix string, v uint32, digits int) {
	b.WriteString(prefix)
	for shift := 4 * (digits - 1); shift >= 0; shift -= 4 {
		b.WriteByte(hexDigits[(v>>uint(shift))&0xf])
	}
}
