package ui

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// colourStyles are true-colour styles: what a real terminal costs to draw.
func colourStyles() Styles {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.TrueColor)
	r.SetHasDarkBackground(true)
	return NewStyles(r)
}

func benchModel(b *testing.B, n int) Model {
	b.Helper()
	ss := manySessions(n)
	st := newFakeStore(ss...)
	m := New(Config{Store: st, Keeper: newFakeKeeper(st), Styles: colourStyles(), Sessions: ss, Stamp: "1",
		Now: fixedNow, Location: time.UTC, DisableTick: true, Context: context.Background()})
	next, _ := m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	return next.(Model)
}

// BenchmarkListView renders one frame of the session list at 120x40. Only
// the visible rows are drawn, so 10,000 sessions should cost about what
// 1,000 do. Each iteration advances the clock (as the tick does) and moves
// the cursor, so nothing is served from a cache.
func BenchmarkListView(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) {
			m := benchModel(b, n)
			// Start in the middle of the list.
			for range n / 2 {
				m.list.cursor++
			}
			m.list.clamp()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				next, _ := m.Update(tickMsg{now: fixedNow.Add(time.Duration(i) * time.Second)})
				m = next.(Model)
				if len(m.View()) == 0 {
					b.Fatal("empty frame")
				}
			}
		})
	}
}

// BenchmarkStartup measures building the model from 1,000 sessions'
// metadata (already read from sessions.json: no keyring call) up to the
// first frame.
func BenchmarkStartup(b *testing.B) {
	ss := manySessions(1000)
	st := newFakeStore(ss...)
	styles := colourStyles()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		m := New(Config{Store: st, Keeper: newFakeKeeper(st), Styles: styles, Sessions: ss, Stamp: "1",
			Now: fixedNow, Location: time.UTC, DisableTick: true})
		next, _ := m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
		if len(next.View()) == 0 {
			b.Fatal("empty frame")
		}
	}
}

// BenchmarkFilter measures one keystroke in the filter over 10,000 sessions.
func BenchmarkFilter(b *testing.B) {
	m := benchModel(b, 10000)
	next, _ := m.Update(keyMsg("/"))
	m = next.(Model)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		k := "9"
		if i%2 == 1 {
			k = "backspace"
		}
		next, _ := m.Update(keyMsg(k))
		m = next.(Model)
		_ = m.View()
	}
}
