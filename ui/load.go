package ui

import (
	"context"
	"errors"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/tokentop/tokentop/auth"
)

// BatchLister is an optional Store capability: every session handed over
// in batches, in name order, so the first screenful shows long before ten
// thousand records are read.
type BatchLister interface {
	ListBatches(ctx context.Context, first, size int, fn func([]auth.Session) error) error
}

// ChangeWatcher is an optional Store capability: the names of sessions any
// process changed, and a read of one, so a change costs one record, not a
// listing of every session.
type ChangeWatcher interface {
	Watch(ctx context.Context) (<-chan string, error)
	Get(ctx context.Context, name string) (auth.Session, error)
}

// Batch sizes of the first load: a screenful first, then larger reads.
const (
	firstBatch = 100
	batchSize  = 2000
)

// fullLoadEvery is how often a watched store is still listed in full when
// its stamp moved, as a safety net for a change the watch missed.
const fullLoadEvery = time.Minute

// batchMsg is one batch of the first load; final carries the stamp taken
// before the listing and ends it.
type batchMsg struct {
	sessions []auth.Session
	final    bool
	stamp    string
	err      error
	next     <-chan batchMsg
}

// watchMsg says whether the store's watch started; changeMsg is one change
// it reported, changedMsg the record read for it.
type (
	watchMsg struct {
		ch  <-chan string
		err error
	}
	changeMsg struct {
		name string
		ch   <-chan string
	}
	changedMsg struct {
		name    string
		session auth.Session
		gone    bool
		err     error
	}
)

// firstLoadCmd loads every session, in batches when the store can.
func (m Model) firstLoadCmd() tea.Cmd {
	bl, ok := m.store.(BatchLister)
	if !ok {
		return m.loadCmd()
	}
	ctx := m.ctx
	return func() tea.Msg {
		ch := make(chan batchMsg, 2)
		go func() {
			defer close(ch)
			send := func(b batchMsg) error {
				select {
				case ch <- b:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			// Stamp first: a write during the listing then shows as a
			// changed stamp rather than being missed.
			stamp, err := m.store.Stamp(ctx)
			if err == nil {
				err = bl.ListBatches(ctx, firstBatch, batchSize, func(b []auth.Session) error {
					return send(batchMsg{sessions: b})
				})
			}
			_ = send(batchMsg{final: true, stamp: stamp, err: err})
		}()
		return nextBatch(ch)()
	}
}

func nextBatch(ch <-chan batchMsg) tea.Cmd {
	return func() tea.Msg {
		b, ok := <-ch
		if !ok {
			return nil
		}
		b.next = ch
		return b
	}
}

// onBatch shows the sessions read so far (on the first load, when there is
// nothing else to show) and ends the load with the final batch.
func (m *Model) onBatch(b batchMsg) tea.Cmd {
	if b.final {
		all := m.loadBuf
		m.loadBuf = nil
		if b.err != nil {
			return m.onSessions(sessionsMsg{err: b.err})
		}
		m.lastFullLoad = m.now
		return m.onSessions(sessionsMsg{sessions: all, stamp: b.stamp})
	}
	m.loadBuf = append(m.loadBuf, b.sessions...)
	if len(m.sessions) <= len(m.loadBuf) {
		m.setSessions(append([]auth.Session(nil), m.loadBuf...))
	}
	return nextBatch(b.next)
}

// watchCmd starts the store's watch, when it has one.
func (m Model) watchCmd() tea.Cmd {
	cw, ok := m.store.(ChangeWatcher)
	if !ok {
		return nil
	}
	return func() tea.Msg {
		ch, err := cw.Watch(m.ctx)
		return watchMsg{ch: ch, err: err}
	}
}

func waitChange(ch <-chan string) tea.Cmd {
	return func() tea.Msg {
		name, ok := <-ch
		if !ok {
			return watchMsg{err: errors.New("the watch ended")}
		}
		return changeMsg{name: name, ch: ch}
	}
}

func (m *Model) onWatch(msg watchMsg) tea.Cmd {
	if msg.err != nil {
		// Back to comparing stamps every tick.
		m.watching = false
		return nil
	}
	m.watching = true
	return waitChange(msg.ch)
}

// onChange reads the one session that changed ("" means changes were
// lost: list everything again).
func (m *Model) onChange(msg changeMsg) tea.Cmd {
	next := waitChange(msg.ch)
	if msg.name == "" {
		return tea.Batch(next, m.reload())
	}
	cw := m.store.(ChangeWatcher)
	name := msg.name
	get := func() tea.Msg {
		ctx, cancel := m.withTimeout(storeTimeout)
		defer cancel()
		se, err := cw.Get(ctx, name)
		if errors.Is(err, auth.ErrSessionNotFound) {
			return changedMsg{name: name, gone: true}
		}
		return changedMsg{name: name, session: se, err: err}
	}
	return tea.Batch(next, get)
}

// onChanged puts one re-read session in place (or takes it out), as a full
// reload would, without reading the others.
func (m *Model) onChanged(msg changedMsg) tea.Cmd {
	if msg.err != nil || m.loadBuf != nil {
		return nil // a damaged record shows at the next full load; a load in flight has it
	}
	// A copy (the list keeps the old slice until it is replaced), in the
	// store's name order; the list sorts for the screen itself.
	ss := make([]auth.Session, 0, len(m.sessions)+1)
	placed := msg.gone
	for _, se := range m.sessions {
		switch {
		case se.Name == msg.name:
			continue
		case !placed && se.Name > msg.name:
			ss, placed = append(ss, msg.session), true
		}
		ss = append(ss, se)
	}
	if !placed {
		ss = append(ss, msg.session)
	}
	return m.onSessions(sessionsMsg{sessions: ss, stamp: m.stamp})
}
