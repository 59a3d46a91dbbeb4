package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/tokentop/tokentop/auth"
)

// onKeys applies a key message. Bubble Tea reads runes typed faster than
// it reads them (jj, kkk, typing over SSH) as one message: outside a text
// field each rune is a key press of its own and all are applied in order,
// so jjx revokes the session two rows down, not the first; once a rune
// opens a text field (/ for the filter), the rest is typed into it whole.
// A bracketed paste is text, never a string of commands: outside a field
// it is dropped.
func (m *Model) onKeys(msg tea.KeyMsg) tea.Cmd {
	if msg.Type != tea.KeyRunes || m.textFocused() {
		return m.onKey(msg)
	}
	if msg.Paste {
		m.setStatus("paste ignored: no text field has the keyboard (/ filters, i imports, X revokes a pasted token)", urgencySoon)
		return nil
	}
	if len(msg.Runes) <= 1 {
		return m.onKey(msg)
	}
	var cmds []tea.Cmd
	for i, r := range msg.Runes {
		if m.quitting || m.finishing != nil {
			break
		}
		if m.textFocused() {
			rest := msg
			rest.Runes = msg.Runes[i:]
			cmds = append(cmds, m.onKey(rest))
			break
		}
		one := msg
		one.Runes = []rune{r}
		cmds = append(cmds, m.onKey(one))
		m.relayout()
	}
	return tea.Batch(cmds...)
}

// textFocused reports whether a text field gets the next key: a form's
// or the filter's, with no dialog over it.
func (m Model) textFocused() bool {
	return m.confirm == nil && m.copy == nil && m.finishing == nil && m.typing()
}

// onKey routes a key: quitting first, then an open dialog, then global
// keys (unless a field is being typed in), then the active screen.
func (m *Model) onKey(msg tea.KeyMsg) tea.Cmd {
	if m.finishing != nil {
		// Waiting for a refresh to finish before quitting: only a second
		// quit does anything, and it abandons the refresh.
		if msg.Type == tea.KeyCtrlC || key.Matches(msg, m.quitKeys) {
			m.abandoned, m.quitting = true, true
			return tea.Quit
		}
		return nil
	}
	if msg.Type == tea.KeyCtrlC {
		return m.quit()
	}
	if m.confirm != nil {
		c, done, cmd := m.confirm.update(msg)
		m.confirm = &c
		if done {
			m.confirm = nil
		}
		return cmd
	}
	if m.copy != nil {
		done, what := m.copy.update(msg)
		name := m.copy.name
		if done {
			m.copy = nil
		}
		if what != "" {
			m.setStatus(fmt.Sprintf("copying %s %s…", name, what), urgencyMuted)
			return m.copySessionCmd(name, what)
		}
		return nil
	}
	if !m.typing() {
		switch {
		case key.Matches(msg, m.quitKeys):
			return m.quit()
		case key.Matches(msg, m.helpKeys):
			m.help.ShowAll = !m.help.ShowAll
			return nil
		}
	}
	switch m.screen {
	case screenList:
		return m.onListKey(msg)
	case screenDetail:
		return m.onDetailKey(msg)
	case screenLogin:
		var cmd tea.Cmd
		var sub *loginSubmit
		m.login, sub, cmd = m.login.update(msg, m.now)
		if m.login.cancelled {
			m.login.cancelled = false
			m.screen = screenList
		}
		if sub != nil {
			return tea.Batch(cmd, m.loginCmd(sub.name, sub.endpoints, sub.email, sub.password))
		}
		return cmd
	case screenImport:
		var cmd tea.Cmd
		var sub *importSubmit
		m.imp, sub, cmd = m.imp.update(msg, m.now)
		if m.imp.cancelled {
			m.imp.cancelled = false
			m.screen = screenList
		}
		if sub != nil {
			return tea.Batch(cmd, m.importCmd(sub.name, sub.endpoints, sub.body))
		}
		return cmd
	case screenRawRevoke:
		return m.onRawRevokeKey(msg)
	}
	return nil
}

// typing reports whether a text field has the keyboard (then q is a letter).
func (m Model) typing() bool {
	switch m.screen {
	case screenList:
		return m.list.typing()
	case screenLogin, screenImport, screenRawRevoke:
		return true
	}
	return false
}

// onListKey handles session actions on the list; movement and the filter
// belong to the list model.
func (m *Model) onListKey(msg tea.KeyMsg) tea.Cmd {
	if m.list.typing() {
		var cmd tea.Cmd
		m.list, cmd = m.list.update(msg)
		return cmd
	}
	k := m.list.keys
	if m.banner != nil {
		switch {
		case key.Matches(msg, k.RevokeReuse):
			return m.revokeSuspect()
		case msg.Type == tea.KeyEsc:
			m.banner = nil
			return nil
		}
	}
	switch {
	case key.Matches(msg, k.Login):
		m.login = m.login.reset(m.endpoints)
		if se, ok := m.list.selected(); ok && se.State == auth.StateNeedsLogin {
			// The usual reason to log in: this session died. Fill in what
			// is known, so only the password is left to type.
			m.login = m.login.relogin(se)
		}
		m.screen = screenLogin
		return m.login.focusCmd()
	case key.Matches(msg, k.Import):
		m.imp = m.imp.reset(m.endpoints)
		m.screen = screenImport
		return m.imp.focusCmd()
	case key.Matches(msg, k.RevokeRaw):
		m.raw = m.raw.reset(m.endpoints)
		m.screen = screenRawRevoke
		return m.raw.focusCmd()
	}
	se, ok := m.list.selected()
	if ok {
		if cmd, handled := m.sessionAction(msg, se, k.Refresh, k.Pause, k.Copy, k.Revoke, k.Forget); handled {
			return cmd
		}
	}
	var cmd tea.Cmd
	m.list, cmd = m.list.update(msg)
	return cmd
}

// revokeSuspect asks to revoke the session the reuse banner is about.
func (m *Model) revokeSuspect() tea.Cmd {
	cmd := m.askRevoke(m.banner.session)
	if m.confirm != nil {
		// Be honest about what this can and cannot do.
		m.confirm.body += " A pair the other party got by rotating our refresh token is not known here: " +
			"have an admin revoke it at the server, then log in again."
	}
	return cmd
}

// sessionAction runs the actions shared by the list and the inspector.
func (m *Model) sessionAction(msg tea.KeyMsg, se auth.Session, refresh, pause, copyKey, revoke, forget key.Binding) (tea.Cmd, bool) {
	switch {
	case key.Matches(msg, refresh):
		m.liveRow(se.Name).refreshing = true
		m.setStatus("refreshing "+se.Name+"…", urgencyMuted)
		return m.refreshCmd(se.Name), true
	case key.Matches(msg, pause):
		return m.pauseCmd(se.Name, !se.Paused && se.State != auth.StatePaused), true
	case key.Matches(msg, copyKey):
		c := newCopyModel(m.styles, se)
		m.copy = &c
		return nil, true
	case key.Matches(msg, revoke):
		return m.askRevoke(se.Name), true
	case key.Matches(msg, forget):
		c := newConfirmModel(m.styles, "Forget "+se.Name+" locally?",
			"This removes the local copy only. Nothing is revoked: both tokens stay valid at the server until they expire ("+
				countdown(se.RefreshExpiry, se.ServerNow(m.now))+" for the refresh token).",
			"Forget", m.forgetCmd(se.Name))
		m.confirm = &c
		return nil, true
	}
	return nil, false
}

func (m *Model) askRevoke(name string) tea.Cmd {
	se, ok := m.session(name)
	if !ok {
		m.setStatus(name+" is no longer stored", urgencySoon)
		return nil
	}
	c := newConfirmModel(m.styles, "Revoke "+name+"?",
		"Both tokens ("+orDash(se.RefreshFP)+" refresh, "+orDash(se.AccessFP)+" access) will be revoked at "+
			se.Endpoints.OAuthURL+", then the session is forgotten locally. Anyone holding them loses access.",
		"Revoke", m.revokeCmd(name))
	m.confirm = &c
	return nil
}

func (m *Model) openDetail(name string) tea.Cmd {
	se, ok := m.session(name)
	if !ok {
		return nil
	}
	m.detail = m.detail.open(se)
	m.detail.setSize(m.width, m.bodyHeight())
	m.detail.refreshContent(m.now, m.loc)
	m.screen = screenDetail
	return tea.Batch(m.secretsCmd(name), m.timelineCmd(name))
}

func (m *Model) onDetailKey(msg tea.KeyMsg) tea.Cmd {
	k := m.detail.keys
	se := m.detail.session
	switch {
	case m.banner != nil && key.Matches(msg, k.RevokeReuse):
		// The banner shows over every screen; so does its offer.
		return m.revokeSuspect()
	case key.Matches(msg, k.Back):
		m.detail = m.detail.close()
		m.screen = screenList
		return nil
	case key.Matches(msg, k.Probe):
		m.detail.probing = true
		m.detail.refreshContent(m.now, m.loc)
		return m.probeCmd(se.Name)
	case key.Matches(msg, k.Reveal):
		m.detail.reveal = !m.detail.reveal
		m.detail.refreshContent(m.now, m.loc)
		return nil
	}
	if cmd, handled := m.sessionAction(msg, se, k.Refresh, k.Pause, k.Copy, k.Revoke, k.Forget); handled {
		return cmd
	}
	var cmd tea.Cmd
	m.detail, cmd = m.detail.update(msg)
	return cmd
}

func (m *Model) leaveDetailOf(name string) {
	if m.screen == screenDetail && m.detail.name == name {
		m.detail = m.detail.close()
		m.screen = screenList
	}
}

// quit ends the program, unless a refresh whose request may have reached
// the server is still in flight: then the new pair would be lost with the
// process, so it waits for the keeper to save it and says so.
func (m *Model) quit() tea.Cmd {
	names := m.keeper.Exchanging()
	if len(names) == 0 {
		m.quitting = true
		return tea.Quit
	}
	m.finishing = names
	m.setStatus(fmt.Sprintf("finishing refresh of %s… (q again quits now, losing the new pair: it would need a new login)",
		strings.Join(names, ", ")), urgencySoon)
	settled := m.keeper.Settled()
	return func() tea.Msg {
		<-settled
		return settledMsg{}
	}
}
