package emulator

import "testing"

// Text a client controls (path, email) cannot forge a log line or send the
// terminal an escape sequence, whatever control it uses.
func TestSanitize(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"/oauth/token", "/oauth/token"},
		{"ann@example.com", "ann@example.com"},
		{"a\nfake line", "a?fake line"},
		{"\x1b[31mred", "?[31mred"},
		{"\u009b31mred", "?31mred"},           // C1 CSI
		{"evil\u202etxt.exe", "evil?txt.exe"}, // bidi override
		{"bad\xffutf8", "bad?utf8"},
		{"\x7f", "?"},
		{"ünïcödé", "ünïcödé"},
	} {
		if got := sanitize(tt.in); got != tt.want {
			t.Errorf("sanitize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
