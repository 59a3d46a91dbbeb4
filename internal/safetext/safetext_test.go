package safetext

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain ASCII", "admin@acme.example", "admin@acme.example"},
		{"backslash kept", `C:\Users\x1b`, `C:\Users\x1b`},
		{"non-ASCII letters kept", "Zoë 東京 ü", "Zoë 東京 ü"},
		{"emoji kept", "ok 👍", "ok 👍"},
		{"no-break space kept", "a\u00a0b", "a\u00a0b"},
		{"NUL", "a\x00b", `a\x00b`},
		{"ESC clear screen", "\x1b[2J", `\x1b[2J`},
		{"OSC 52 clipboard", "\x1b]52;c;aGk=\x07", `\x1b]52;c;aGk=\x07`},
		{"OSC 0 title", "\x1b]0;owned\x07", `\x1b]0;owned\x07`},
		{"newline and tab", "a\nb\tc\r", `a\x0ab\x09c\x0d`},
		{"DEL", "a\x7fb", `a\x7fb`},
		{"C1 CSI", "a\u009b2Jb", `a\u009b2Jb`},
		{"C1 NEL and first and last", "\u0080\u0085\u009f", `\u0080\u0085\u009f`},
		{"U+00A0 is not C1", "\u00a0", "\u00a0"},
		{"bidi RLO", "abc\u202etxt.exe", `abc\u202etxt.exe`},
		{"bidi embeddings", "\u202a\u202b\u202c\u202d", `\u202a\u202b\u202c\u202d`},
		{"bidi isolates", "\u2066\u2067\u2068\u2069", `\u2066\u2067\u2068\u2069`},
		{"bidi marks", "\u200e\u200f\u061c", `\u200e\u200f\u061c`},
		{"zero-width space and BOM", "a\u200bb\ufeff", `a\u200bb\ufeff`},
		{"line and paragraph separators", "a\u2028b\u2029", `a\u2028b\u2029`},
		{"tag characters", "x\U000E0041", `x\U000e0041`},
		{"invalid UTF-8", "a\xffb\xc3", `a\xffb\xc3`},
		{"C1 as raw bytes is invalid UTF-8", "\x9b", `\x9b`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Escape(tc.in)
			if got != tc.want {
				t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if again := Escape(got); again != got {
				t.Errorf("Escape is not idempotent: %q then %q", got, again)
			}
			if Needs(tc.in) != (tc.in != tc.want) {
				t.Errorf("Needs(%q) = %v, want %v", tc.in, Needs(tc.in), tc.in != tc.want)
			}
			assertInert(t, got, false)
		})
	}
}

func TestLinesKeepsNewlinesOnly(t *testing.T) {
	in := "line one\n\x1b[31mred\x1b[0m\r\n\u202eend\tx"
	want := "line one\n" + `\x1b[31mred\x1b[0m\x0d` + "\n" + `\u202eend\x09x`
	if got := Lines(in); got != want {
		t.Errorf("Lines(%q) = %q, want %q", in, got, want)
	}
	if got := Lines("plain\ntext\n"); got != "plain\ntext\n" {
		t.Errorf("Lines changed plain text: %q", got)
	}
}

func TestJSON(t *testing.T) {
	doc := []byte(`{"z\u001b]0;t\u0007":1,"a":["\u009b2J","ok",{"k\u202e":null,"n":12345678901234567890}],"b":true,"s":"\ud800"}`)
	got, err := JSON(doc, "")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"z\\x1b]0;t\\x07":1,"a":["\\u009b2J","ok",{"k\\u202e":null,"n":12345678901234567890}],"b":true,"s":"` + "\ufffd" + `"}`
	if string(got) != want {
		t.Errorf("JSON =\n%s\nwant\n%s", got, want)
	}
	assertInertJSON(t, got)
}

func TestJSONKeepsKeyOrderAndIndents(t *testing.T) {
	got, err := JSON([]byte(`{"b":1,"a":{"y":[],"x":{}}}`), "  ")
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"b\": 1,\n  \"a\": {\n    \"y\": [],\n    \"x\": {}\n  }\n}"
	if string(got) != want {
		t.Errorf("JSON =\n%s\nwant\n%s", got, want)
	}
}

func TestJSONKeysThatCollideAfterEscaping(t *testing.T) {
	got, err := JSON([]byte(`{"a\u001b":1,"a\\x1b":2}`), "")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]int
	if err := json.Unmarshal(got, &m); err != nil {
		t.Fatal(err)
	}
	if len(m) != 2 || m[`a\x1b`] != 1 || m[`a\x1b (2)`] != 2 {
		t.Errorf("JSON = %s, want both values under distinct keys", got)
	}
}

func TestJSONRejectsBrokenDocuments(t *testing.T) {
	for _, doc := range []string{``, `{`, `{"a":1}{}`, `[1,]`} {
		if _, err := JSON([]byte(doc), ""); err == nil {
			t.Errorf("JSON(%q) succeeded", doc)
		}
	}
}

// assertInert fails when s holds a rune that could act on a terminal
// (newline allowed only with lines).
func assertInert(t testing.TB, s string, lines bool) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("output is not UTF-8: %q", s)
	}
	for _, r := range s {
		if lines && r == '\n' {
			continue
		}
		if Unsafe(r) {
			t.Fatalf("output holds %U: %q", r, s)
		}
	}
}

// assertInertJSON fails when a JSON document holds, raw or as a \u escape
// that a decoder would turn back, anything Escape replaces.
func assertInertJSON(t testing.TB, doc []byte) {
	t.Helper()
	assertInert(t, string(doc), true)
	var v any
	dec := json.NewDecoder(strings.NewReader(string(doc)))
	dec.UseNumber() // numbers beyond float64 are still JSON
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	walk(t, v)
}

func walk(t testing.TB, v any) {
	t.Helper()
	switch x := v.(type) {
	case string:
		assertInert(t, x, false)
	case []any:
		for _, e := range x {
			walk(t, e)
		}
	case map[string]any:
		for k, e := range x {
			assertInert(t, k, false)
			walk(t, e)
		}
	}
}

func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b]52;c;aGk=\x07", "\u009b\u202e\u2066", "\xff\xfe", "a\nb", `\x1b`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Escape(s)
		assertInert(t, got, false)
		if Escape(got) != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, got, Escape(got))
		}
		if !Needs(s) && got != s {
			t.Fatalf("changed text that needs nothing: %q -> %q", s, got)
		}
		l := Lines(s)
		assertInert(t, l, true)
		if strings.Count(l, "\n") != strings.Count(s, "\n") {
			t.Fatalf("Lines changed the number of lines: %q -> %q", s, l)
		}
	})
}

func FuzzJSON(f *testing.F) {
	f.Add(`{"a\u001b":"\u009b","b":["\u202e"]}`)
	f.Add(`["x",1,true,null]`)
	f.Add(`"\u0007"`)
	f.Fuzz(func(t *testing.T, doc string) {
		if !json.Valid([]byte(doc)) {
			return
		}
		got, err := JSON([]byte(doc), "  ")
		if err != nil {
			t.Fatalf("JSON(%q): %v", doc, err)
		}
		if !json.Valid(got) {
			t.Fatalf("JSON(%q) = %q, not valid JSON", doc, got)
		}
		assertInertJSON(t, got)
	})
}
