package ui

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/safetext"
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

// EventOrigin is an optional Store capability: a session's newest events
// with the Host and User that recorded each, and the host this process
// records under, so a change another machine made can say which one (a
// shared store). A store without a shared timeline leaves Host empty and
// nothing changes.
type EventOrigin interface {
	RecentEvents(ctx context.Context, name string, limit int) ([]auth.Event, error)
	LocalHost() string
}

// remoteRecent is how old another host's event may be and still be taken
// as the cause of a change just seen: older, the change is a later write
// (a state update) the event did not make. It allows for clocks of
// machines a little apart.
const remoteRecent = time.Minute

// originLookback is how many of a session's newest events are read to find
// the one behind a change: our own keeper's reaction to it (adopting the
// new pair, planning the next refresh) may already be recorded after it.
const originLookback = 5

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
		// remote is the event another host recorded for the session, when
		// that is what changed it (nil: ours, or unknown).
		remote *auth.Event
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
		msg := changedMsg{name: name, session: se, err: err}
		if errors.Is(err, auth.ErrSessionNotFound) {
			msg = changedMsg{name: name, gone: true}
		}
		if msg.err == nil {
			msg.remote = lastRemoteEvent(ctx, m.store, name)
		}
		return msg
	}
	return tea.Batch(next, get)
}

// lastRemoteEvent is the event behind a session's change when another
// host recorded it (nil when it was ours, or the store cannot say): the
// newest event, passing over our own keeper's reactions to it. It runs in
// the command that re-read the record, never in Update.
func lastRemoteEvent(ctx context.Context, st Store, name string) *auth.Event {
	eo, ok := st.(EventOrigin)
	if !ok {
		return nil
	}
	evs, err := eo.RecentEvents(ctx, name, originLookback)
	if err != nil {
		return nil
	}
	local := eo.LocalHost()
	for i := len(evs) - 1; i >= 0; i-- {
		ev := evs[i]
		if ev.Host == "" {
			return nil
		}
		if ev.Host == local {
			switch ev.Kind {
			case auth.EventAdopted, auth.EventScheduled, auth.EventRefreshing:
				continue
			}
			return nil
		}
		return &ev
	}
	return nil
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
	cmd := m.onSessions(sessionsMsg{sessions: ss, stamp: m.stamp})
	if r := msg.remote; r != nil && r.Session == msg.name && m.now.Sub(r.Time).Abs() <= remoteRecent {
		m.noteRemote(msg.name, msg.session, msg.gone, *r)
	}
	return cmd
}

// noteRemote says on the row and the status line what another host did to
// a session, e.g. "acme-admin refreshed on build-7 (ci) · new sha256:…".
func (m *Model) noteRemote(name string, se auth.Session, gone bool, r auth.Event) {
	what, u := remoteText(r)
	if !gone {
		lr := m.liveRow(name)
		lr.note, lr.noteUrg, lr.until = what, u, m.now.Add(noteFor)
		if lr.noteFP != se.AccessFP {
			lr.oldFP = lr.noteFP
		}
		lr.noteFP, lr.remoteFP = se.AccessFP, se.AccessFP
	}
	if !m.now.Before(m.status.until) {
		m.status = statusLine{text: clock(m.now, m.loc) + " " + safetext.Escape(name) + " " + what, urg: u, at: m.now}
	}
}

// remoteHostMax bounds a host or user name another machine recorded, on
// a screen line that also names the session and the token.
const remoteHostMax = 32

// remoteText words another host's event without the session's name: what
// was done, where, by whom, and the new token's fingerprint when there is
// one. Host and user come from another machine: escaped, and cut short.
func remoteText(r auth.Event) (string, urgency) {
	verb, u := strings.ReplaceAll(string(r.Kind), "_", " "), urgencySoon
	switch r.Kind {
	case auth.EventRefreshed, auth.EventAdopted:
		verb, u = "refreshed", urgencyOK
	case auth.EventLogin:
		verb, u = "logged in", urgencyOK
	case auth.EventImported:
		verb, u = "imported", urgencyOK
	case auth.EventNeedsLogin:
		verb = "needs a new login"
	case auth.EventReuseSuspected, auth.EventFailed:
		u = urgencyNow
	}
	where := "on " + ansi.Truncate(safetext.Escape(r.Host), remoteHostMax, "…")
	if r.User != "" {
		where += " (" + ansi.Truncate(safetext.Escape(r.User), remoteHostMax, "…") + ")"
	}
	text := verb + " " + where
	switch r.Kind {
	case auth.EventRefreshed, auth.EventAdopted, auth.EventLogin, auth.EventImported:
		if r.NewFP != "" {
			text += " · new " + safetext.Escape(r.NewFP)
		}
	}
	return text, u
}
