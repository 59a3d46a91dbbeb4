package ui

import (
	"fmt"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/tokentop/tokentop/auth"
)

// The root's handlers for the forms' outcomes.

func (m *Model) onLoginDone(msg loginDoneMsg) tea.Cmd {
	m.login = m.login.done(msg)
	if msg.err != nil {
		m.setStatus("login failed: "+errText(msg.err), urgencyNow)
		return nil
	}
	se := msg.session
	m.login = m.login.reset(m.endpoints)
	m.screen = screenList
	m.setStatus(fmt.Sprintf("logged in %s as %s (%s)", se.Name, userLabel(se), orDash(se.AccessFP)), urgencyOK)
	m.pendingSelect = se.Name
	return m.reload()
}

func (m *Model) onImportDone(msg importDoneMsg) tea.Cmd {
	var cmd tea.Cmd
	m.imp, cmd = m.imp.done(msg)
	if msg.err != nil {
		m.setStatus("import failed: "+errText(msg.err), urgencyNow)
		return cmd
	}
	se := msg.session
	m.imp = m.imp.reset(m.endpoints)
	m.screen = screenList
	m.setStatus(fmt.Sprintf("imported %s for %s (%s)", se.Name, userLabel(se), orDash(se.AccessFP)), urgencyOK)
	m.pendingSelect = se.Name
	return m.reload()
}

// onRawRevokeKey drives the raw-revoke form; a valid form asks for
// confirmation before anything is sent.
func (m *Model) onRawRevokeKey(msg tea.KeyMsg) tea.Cmd {
	var cmd tea.Cmd
	var sub *rawSubmit
	m.raw, sub, cmd = m.raw.update(msg, m.now)
	if m.raw.cancelled {
		m.raw.cancelled = false
		m.screen = screenList
		return cmd
	}
	if sub == nil {
		return cmd
	}
	s := *sub
	fp := auth.Fingerprint(s.token)
	c := newConfirmModel(m.styles, fmt.Sprintf("Revoke this %s token?", s.kind),
		fmt.Sprintf("Token %s (%d chars) will be revoked at %s. The server answers success even for unknown tokens, so check the fingerprint.",
			fp, len(s.token), s.endpoints.OAuthURL),
		"Revoke", func() tea.Msg { return rawConfirmedMsg{sub: s} })
	m.confirm = &c
	return cmd
}

// rawConfirmedMsg says the raw revoke was confirmed.
type rawConfirmedMsg struct{ sub rawSubmit }

func (m *Model) onRawConfirmed(msg rawConfirmedMsg) tea.Cmd {
	m.raw.submitting = true
	return m.rawRevokeCmd(msg.sub.endpoints, msg.sub.token, msg.sub.kind)
}

func (m *Model) onRawRevokeDone(msg rawRevokeDoneMsg) tea.Cmd {
	m.raw = m.raw.done(msg)
	if msg.err != nil {
		m.setStatus(fmt.Sprintf("revoke %s token %s failed: %s", msg.kind, msg.fingerprint, errText(msg.err)), urgencyNow)
		return nil
	}
	m.raw = m.raw.reset(m.endpoints)
	if m.screen == screenRawRevoke {
		m.screen = screenList
	}
	m.setStatus(fmt.Sprintf("revoked %s token %s at the server (HTTP %d%s)", msg.kind, msg.fingerprint, msg.meta.Status, reqID(msg.meta)), urgencyOK)
	return nil
}
