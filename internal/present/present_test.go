package present

import (
	"strings"
	"testing"

	"github.com/tokentop/tokentop/internal/safetext"
)

// OneLine's fast path returns exactly what the full path would.
func TestOneLineFastPathAgrees(t *testing.T) {
	for _, s := range []string{"", "a", "demo@example.com", "a b", " a", "a ", "a  b", "a\tb", "a\nb", "é", "a\u00a0b", "\x1b[31m", "x\x7f", "in 5m 3s"} {
		slow := safetext.Escape(strings.Join(strings.Fields(s), " "))
		if got := OneLine(s); got != slow {
			t.Errorf("OneLine(%q) = %q, want %q", s, got, slow)
		}
	}
}
