package ui

import (
	"io"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// TestPaintMatchesRender: the pre-rendered sequences draw exactly what
// lipgloss would, in colour and without.
func TestPaintMatchesRender(t *testing.T) {
	for _, p := range []termenv.Profile{termenv.TrueColor, termenv.ANSI256, termenv.ANSI, termenv.Ascii} {
		for _, dark := range []bool{true, false} {
			r := lipgloss.NewRenderer(io.Discard)
			r.SetColorProfile(p)
			r.SetHasDarkBackground(dark)
			st := NewStyles(r)
			for u := urgencyOK; u <= urgencyMuted; u++ {
				if got, want := st.urgencyPaint[u].render("1m 02s"), st.urgent(u).Render("1m 02s"); got != want {
					t.Errorf("profile %v dark %v urgency %d: %q, want %q", p, dark, u, got, want)
				}
			}
			if got, want := st.colHeader.render("NAME"), st.ColumnHeader.Render("NAME"); got != want {
				t.Errorf("profile %v dark %v header: %q, want %q", p, dark, got, want)
			}
		}
	}
}

// TestNoColor: the ASCII profile (NO_COLOR) draws no escape sequences.
func TestNoColor(t *testing.T) {
	h := newHarness(t, 120, 30)
	h.keys("?")
	for _, r := range h.view() {
		if r == '\x1b' {
			t.Fatalf("escape sequence in a colourless frame:\n%q", h.view())
		}
	}
}
