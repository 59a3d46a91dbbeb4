package ui

import (
	"fmt"
	"strings"

	"github.com/tokentop/tokentop/internal/present"

	"github.com/charmbracelet/bubbles/help"
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
	return m.dialog == nil && m.finishing == nil && m.typing()
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
	if m.dialog != nil {
		done, cmd := m.dialog.onKey(m, msg)
		if done {
			m.dialog = nil
		}
		return cmd
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
	return m.active().onKey(m, msg)
}

// typing reports whether a text field has the keyboard (then q is a letter).
func (m Model) typing() bool { return m.active().typing() }

// onKey handles session actions on the list (through the root, app);
// movement, sorting and the filter belong to the list itself.
func (l *listModel) onKey(m *Model, msg tea.KeyMsg) tea.Cmd {
	if l.typing() {
		var cmd tea.Cmd
		*l, cmd = l.update(msg)
		return cmd
	}
	k := l.keys
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
	case key.Matches(msg, k.OpenHAR):
		m.har = m.har.reset()
		m.screen = screenHar
		return m.har.focusCmd()
	}
	se, ok := l.selected()
	if ok && key.Matches(msg, k.Proxy) {
		return m.startProxy(se)
	}
	if ok {
		if cmd, handled := m.sessionAction(msg, se, k.Refresh, k.Pause, k.Copy, k.Revoke, k.Forget); handled {
			return cmd
		}
	}
	var cmd tea.Cmd
	*l, cmd = l.update(msg)
	return cmd
}

func (l *listModel) onMsg(*Model, tea.Msg) tea.Cmd { return nil }

func (l *listModel) view(m *Model, _, _ int) string { return l.render(m.now, m.loc, m.live) }

// keyMap is the list's help: what can be done with the session under the
// cursor, or, with none, what can be done at all.
func (l *listModel) keyMap(m *Model) help.KeyMap {
	k := l.modeKeys()
	lk, ok := k.(listKeys)
	if !ok {
		return k
	}
	if m.banner != nil {
		lk.RevokeReuse.SetHelp("R", "revoke suspect session")
	}
	se, sel := l.selected()
	for _, b := range []*key.Binding{&lk.Open, &lk.Copy, &lk.Refresh, &lk.Pause, &lk.Revoke, &lk.Forget, &lk.Proxy} {
		b.SetEnabled(sel)
	}
	if sel && se.State == auth.StateNeedsLogin {
		lk.Login.SetHelp("n", "log in again")
	}
	return lk
}

// revokeSuspect asks to revoke the session the reuse banner is about.
func (m *Model) revokeSuspect() tea.Cmd {
	cmd := m.askRevoke(m.banner.session)
	if c, ok := m.dialog.(*confirmModel); ok {
		// Be honest about what this can and cannot do.
		c.body += " A pair the other party got by rotating our refresh token is not known here: " +
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
		m.dialog = &c
		return nil, true
	case key.Matches(msg, revoke):
		return m.askRevoke(se.Name), true
	case key.Matches(msg, forget):
		c := newConfirmModel(m.styles, "Forget "+se.Name+" locally?",
			"This removes the local copy only. Nothing is revoked: both tokens stay valid at the server until they expire ("+
				present.Describe(se, m.now).Refresh.Countdown()+" for the refresh token).",
			"Forget", m.forgetCmd(se.Name))
		m.dialog = &c
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
		"Both tokens ("+present.OrDash(se.RefreshFP)+" refresh, "+present.OrDash(se.AccessFP)+" access) will be revoked at "+
			se.Endpoints.OAuthURL+", then the session is forgotten locally. Anyone holding them loses access.",
		"Revoke", m.revokeCmd(name))
	m.dialog = &c
	return nil
}

func (m *Model) openDetail(name string) tea.Cmd {
	se, ok := m.session(name)
	if !ok {
		return nil
	}
	m.detail = m.detail.open(se)
	m.detail.proxies = m.proxied[name]
	m.detail.setSize(m.width, m.bodyHeight())
	m.detail.refreshContent(m.now, m.loc)
	m.screen = screenDetail
	return tea.Batch(m.secretsCmd(name), m.timelineCmd(name))
}

// onKey handles the inspector's keys and the session actions it shares
// with the list.
func (d *detailModel) onKey(m *Model, msg tea.KeyMsg) tea.Cmd {
	k := d.keys
	se := d.session
	switch {
	case m.banner != nil && key.Matches(msg, k.RevokeReuse):
		// The banner shows over every screen; so does its offer.
		return m.revokeSuspect()
	case key.Matches(msg, k.Back):
		*d = d.close()
		m.screen = screenList
		return nil
	case key.Matches(msg, k.Probe):
		d.probing = true
		d.refreshContent(m.now, m.loc)
		return m.probeCmd(se.Name)
	case key.Matches(msg, k.Reveal):
		d.reveal = !d.reveal
		d.refreshContent(m.now, m.loc)
		return nil
	}
	if cmd, handled := m.sessionAction(msg, se, k.Refresh, k.Pause, k.Copy, k.Revoke, k.Forget); handled {
		return cmd
	}
	var cmd tea.Cmd
	*d, cmd = d.update(msg)
	return cmd
}

// onMsg passes other messages (the viewport's) on.
func (d *detailModel) onMsg(_ *Model, msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	*d, cmd = d.update(msg)
	return cmd
}

func (d *detailModel) view(*Model, int, int) string { return d.render() }

func (d *detailModel) typing() bool { return false }

// keyMap is the inspector's help; R says what it does when a reuse
// warning shows.
func (d *detailModel) keyMap(m *Model) help.KeyMap {
	dk := d.keys
	if m.banner != nil {
		dk.RevokeReuse.SetHelp("R", "revoke suspect session")
	}
	return dk
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
