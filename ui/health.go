package ui

import (
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/tokentop/tokentop/internal/safetext"
	"github.com/tokentop/tokentop/internal/timefmt"
)

// HealthWatcher is an optional Store capability, for a store on a cluster
// that can be out of reach: each change between reaching it (nil) and not
// (why not). While it is out of reach the UI keeps showing and copying the
// tokens it holds, and says in the header that it is disconnected.
type HealthWatcher interface {
	Health(ctx context.Context) (<-chan error, error)
}

// healthMsg is one change of the store's reachability; ch is nil when the
// store has no such signal or it ended.
type healthMsg struct {
	err error
	ch  <-chan error
}

// healthCmd starts following the store's reachability, when it has one.
func (m Model) healthCmd() tea.Cmd {
	hw, ok := m.store.(HealthWatcher)
	if !ok {
		return nil
	}
	ctx := m.ctx
	return func() tea.Msg {
		ch, err := hw.Health(ctx)
		if err != nil {
			return nil // a store of this kind that cannot be out of reach
		}
		return waitHealth(ch)()
	}
}

func waitHealth(ch <-chan error) tea.Cmd {
	return func() tea.Msg {
		err, ok := <-ch
		if !ok {
			return nil
		}
		return healthMsg{err: err, ch: ch}
	}
}

// onHealth marks the store disconnected from now, or connected again; back
// in reach, everything is read again, so what changed meanwhile shows.
func (m *Model) onHealth(msg healthMsg) tea.Cmd {
	next := waitHealth(msg.ch)
	backend := m.store.Backend()
	if msg.err != nil {
		if m.disconnected.IsZero() {
			m.disconnected = m.now
			m.setStatus(backend+" out of reach, serving the tokens already read: "+safetext.Escape(msg.err.Error()), urgencyNow)
		}
		return next
	}
	if m.disconnected.IsZero() {
		return next
	}
	m.setStatus(backend+" reconnected after "+timefmt.Countdown(m.now.Sub(m.disconnected)), urgencyOK)
	m.disconnected = time.Time{}
	return tea.Batch(next, m.reload())
}
