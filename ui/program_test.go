package ui

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/tokentop/tokentop/auth"
)

// TestProgramKeeperEventsAndQuit runs the model in a real Bubble Tea
// program (teatest): keeper events arrive through the command that waits on
// Events() and re-arms itself (so the second event arrives too), and q ends
// the program.
func TestProgramKeeperEventsAndQuit(t *testing.T) {
	ss, sec := tuiSessions()
	st := newFakeStore(ss...)
	st.secrets = sec
	k := newFakeKeeper(st)
	k.events = make(chan auth.Event, 4)
	m := New(Config{Store: st, Keeper: k, Styles: asciiStyles(), Sessions: ss, Stamp: "1",
		Now: fixedNow, Location: time.UTC, DisableTick: true, Context: context.Background()})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(100, 30))
	waitFor := func(what string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(what)) },
			teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	}
	waitFor("acme-admin")

	k.events <- auth.Event{Time: fixedNow, Session: "acme-admin", Kind: auth.EventRefreshing}
	waitFor("refreshing…")
	k.events <- auth.Event{Time: fixedNow, Session: "acme-admin", Kind: auth.EventRefreshed, OldFP: "sha256:a10003e9", NewFP: "sha256:feedf00d"}
	waitFor("sha256:feedf00d")

	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(Model)
	if !final.quitting {
		t.Fatal("q did not end the program")
	}
	if _, err := io.ReadAll(tm.FinalOutput(t)); err != nil {
		t.Fatal(err)
	}
}
