package ui

import (
	"github.com/charmbracelet/bubbles/help"
	tea "github.com/charmbracelet/bubbletea"
)

// screen is what the root asks of the screen that has the keyboard: the
// session list, the inspector, or one of the forms. The root keeps the
// shared state (sessions, time, status line, dialogs) and hands itself to
// the screen as app, so a screen can run the session actions and switch
// screens; dialogs are drawn over whichever screen is active.
type screen interface {
	// onKey handles a key no dialog or global binding took.
	onKey(app *Model, msg tea.KeyMsg) tea.Cmd
	// onMsg takes any other message the root does not handle itself.
	onMsg(app *Model, msg tea.Msg) tea.Cmd
	// view draws the screen for the body's width and height.
	view(app *Model, width, height int) string
	// keyMap is the help for the screen as it is now.
	keyMap(app *Model) help.KeyMap
	// typing reports whether a text field has the keyboard (then q and
	// ? are letters, and runes that arrive together are text).
	typing() bool
}

// dialog is a question or menu drawn over the active screen; it has the
// keyboard until it is done.
type dialog interface {
	// onKey handles a key and reports whether the dialog is finished.
	onKey(app *Model, msg tea.KeyMsg) (done bool, cmd tea.Cmd)
	view(width, height int) string
	keyMap() help.KeyMap
}

// active is the screen that has the keyboard. This is the one place that
// maps a screenID to its model.
func (m *Model) active() screen {
	switch m.screen {
	case screenDetail:
		return &m.detail
	case screenLogin:
		return &m.login
	case screenImport:
		return &m.imp
	case screenRawRevoke:
		return &m.raw
	case screenHar:
		return &m.har
	}
	return &m.list
}
