package ui

import (
	"fmt"
	"io"
	"math"
	"strings"
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

// TestTextContrast: every style that carries words stays readable on a
// plain light and a plain dark background (at least 3:1, WCAG's bar for
// large or bold text; faint colours are for separators and bars only).
func TestTextContrast(t *testing.T) {
	st := NewStyles(lipgloss.NewRenderer(io.Discard))
	text := map[string]lipgloss.Style{
		"Title": st.Title, "HeaderInfo": st.HeaderInfo, "Warn": st.Warn, "Bad": st.Bad, "Good": st.Good,
		"Muted": st.Muted, "Accent": st.Accent, "ColumnHeader": st.ColumnHeader, "Status": st.Status,
		"StatusError": st.StatusError, "Label": st.Label, "FieldError": st.FieldError, "Section": st.Section,
		"help key": st.Help.ShortKey, "help desc": st.Help.ShortDesc,
		"full help key": st.Help.FullKey, "full help desc": st.Help.FullDesc,
	}
	for name, s := range text {
		c, ok := s.GetForeground().(lipgloss.AdaptiveColor)
		if !ok {
			t.Errorf("%s: foreground %T is not adaptive", name, s.GetForeground())
			continue
		}
		if r := contrast(c.Light, "#FFFFFF"); r < 3 {
			t.Errorf("%s: %s on white is %.2f:1", name, c.Light, r)
		}
		if r := contrast(c.Dark, "#000000"); r < 3 {
			t.Errorf("%s: %s on black is %.2f:1", name, c.Dark, r)
		}
	}
}

// contrast is the WCAG contrast ratio of two #RRGGBB colours.
func contrast(a, b string) float64 {
	lum := func(hex string) float64 {
		var rgb [3]float64
		for i := range rgb {
			var v int
			fmt.Sscanf(hex[1+2*i:3+2*i], "%02x", &v)
			c := float64(v) / 255
			if c <= 0.03928 {
				rgb[i] = c / 12.92
			} else {
				rgb[i] = math.Pow((c+0.055)/1.055, 2.4)
			}
		}
		return 0.2126*rgb[0] + 0.7152*rgb[1] + 0.0722*rgb[2]
	}
	la, lb := lum(a), lum(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

// TestSelectedRowKeepsColours: the cursor's row shows its urgency colours
// on the selection background, and every reset inside it is followed by
// the selection again, so the background runs the whole row.
func TestSelectedRowKeepsColours(t *testing.T) {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.TrueColor)
	r.SetHasDarkBackground(true)
	st := NewStyles(r)
	h := newHarness(t, 120, 30, func(c *Config) { c.Styles = st })
	h.keys("G") // viewer-dead: expired, needs login
	var line string
	for _, l := range strings.Split(h.view(), "\n") {
		if strings.Contains(l, "▸") {
			line = l
		}
	}
	if !strings.Contains(line, "viewer-dead") {
		t.Fatalf("no selected viewer-dead row in:\n%s", h.view())
	}
	if !strings.Contains(line, st.urgencyPaint[urgencyNow].pre+" expired") {
		t.Errorf("the selected row's expired countdown is not painted as urgent: %q", line)
	}
	if !strings.HasPrefix(line, st.selected.pre) {
		t.Errorf("the selected row does not start with the selection style: %q", line)
	}
	parts := strings.Split(line, "\x1b[0m")
	for i, p := range parts[1 : len(parts)-1] {
		if !strings.HasPrefix(p, st.selected.pre) {
			t.Errorf("reset %d is not followed by the selection style: …%q", i+1, p)
		}
	}
}
