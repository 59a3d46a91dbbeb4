package ui

import (
	"context"
	"fmt"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/tokentop/tokentop/auth"
)

// watchingStore is a fakeStore that hands sessions over in batches and
// reports changes by name, as storage does with per-session records.
type watchingStore struct {
	*fakeStore
	batches [][]auth.Session // what ListBatches hands over
	changes chan string
	gets    []string
}

func (w *watchingStore) ListBatches(_ context.Context, _, _ int, fn func([]auth.Session) error) error {
	for _, b := range w.batches {
		if err := fn(b); err != nil {
			return err
		}
	}
	return nil
}

func (w *watchingStore) Watch(context.Context) (<-chan string, error) { return w.changes, nil }

func (w *watchingStore) Get(_ context.Context, name string) (auth.Session, error) {
	w.gets = append(w.gets, name)
	w.mu.Lock()
	defer w.mu.Unlock()
	se, ok := w.sessions[name]
	if !ok {
		return auth.Session{}, fmt.Errorf("%s: %w", name, auth.ErrSessionNotFound)
	}
	return se, nil
}

// The first load shows its first batch before the rest is read, says it is
// reading rather than "no sessions" before that, and never lists in full.
func TestFirstLoadShowsRowsAsTheyAreRead(t *testing.T) {
	ss := manySessions(250)
	st := &watchingStore{fakeStore: newFakeStore(ss...), batches: [][]auth.Session{ss[:100], ss[100:]}, changes: make(chan string, 4)}
	h := newHarness(t, 100, 30, func(c *Config) { c.Store, c.Sessions, c.Stamp = st, nil, "" })
	h.requireContains("Reading the sessions…")
	h.requireNotContains("No sessions yet")

	first := h.m.firstLoadCmd()()
	b, ok := first.(batchMsg)
	if !ok || len(b.sessions) != 100 {
		t.Fatalf("first message = %T with %d sessions, want the first batch of 100", first, len(b.sessions))
	}
	next, cmd := h.m.Update(b)
	h.m = next.(Model)
	h.requireContains("s00000")
	if n := len(h.m.sessions); n != 100 {
		t.Fatalf("%d sessions shown after the first batch, want 100", n)
	}
	h.send(cmd()) // the rest, then the final batch
	if n := len(h.m.sessions); n != 250 {
		t.Fatalf("%d sessions after the load, want 250", n)
	}
	if st.lists != 0 {
		t.Fatalf("List called %d times: the load should come in batches", st.lists)
	}
}

// A watched change re-reads that one session and updates its row; a
// removal takes the row out; neither lists every session.
func TestWatchedChangeReadsOneSession(t *testing.T) {
	ss, sec := tuiSessions()
	st := &watchingStore{fakeStore: newFakeStore(ss...), changes: make(chan string, 4)}
	st.secrets = sec
	h := newHarness(t, 100, 30, func(c *Config) { c.Store = st })
	// Update directly: the command it returns waits for the next change.
	next, _ := h.m.Update(h.m.watchCmd()())
	h.m = next.(Model)
	if !h.m.watching {
		t.Fatal("the model did not take up the store's watch")
	}
	changed := ss[0]
	changed.Email, changed.User.Email = "other@example.com", "other@example.com"
	st.put(changed, sec[changed.Name])
	lists := st.lists
	cmd := h.m.onChange(changeMsg{name: changed.Name, ch: st.changes})
	for _, msg := range runBatch(cmd, st.changes) {
		h.send(msg)
	}
	h.requireContains("other@example.com")
	st.remove(changed.Name)
	for _, msg := range runBatch(h.m.onChange(changeMsg{name: changed.Name, ch: st.changes}), st.changes) {
		h.send(msg)
	}
	h.requireNotContains(changed.Name)
	if st.lists != lists {
		t.Fatalf("List called %d times for two watched changes", st.lists-lists)
	}
}

// runBatch runs a batch of commands, leaving out the one waiting on the
// watch channel (it would block: nothing else changes).
func runBatch(cmd tea.Cmd, _ chan string) []tea.Msg {
	var out []tea.Msg
	msg := cmd()
	bm, ok := msg.(tea.BatchMsg)
	if !ok {
		return []tea.Msg{msg}
	}
	for _, c := range bm[1:] { // bm[0] waits for the next change
		if c != nil {
			out = append(out, c())
		}
	}
	return out
}
