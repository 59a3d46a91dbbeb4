package ui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// overlay draws fg centred over bg, a frame of width × height cells; what
// fg does not cover stays visible. fg is cut to the frame, never wrapped.
func overlay(bg, fg string, width, height int) string {
	back := strings.Split(padLines(bg, width, height), "\n")
	front := strings.Split(fg, "\n")
	if len(front) > height {
		front = front[:height]
	}
	fw := 0
	for i, l := range front {
		if ansi.StringWidth(l) > width {
			front[i] = ansi.Truncate(l, width, "")
		}
		fw = max(fw, ansi.StringWidth(front[i]))
	}
	x, y := (width-fw)/2, (height-len(front))/2
	for i, l := range front {
		row := back[y+i]
		left := ansi.Truncate(row, x, "")
		if lw := ansi.StringWidth(left); lw < x {
			left += strings.Repeat(" ", x-lw)
		}
		l += strings.Repeat(" ", fw-ansi.StringWidth(l))
		right := ansi.TruncateLeft(row, x+fw, "")
		// A style left open by the cut (the selected row's background)
		// must not run into the dialog, nor the dialog's into the row.
		back[y+i] = left + resetIfStyled(left) + l + resetIfStyled(l) + right
	}
	return strings.Join(back, "\n")
}

// resetIfStyled is the SGR reset when s holds escape sequences ("" for
// plain text, so colourless frames stay plain).
func resetIfStyled(s string) string {
	if strings.ContainsRune(s, '\x1b') {
		return "\x1b[m"
	}
	return ""
}
