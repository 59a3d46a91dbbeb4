package ui

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tokentop/tokentop/internal/present"

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
	m.setStatus(fmt.Sprintf("logged in %s as %s (%s)", se.Name, userLabel(se), present.OrDash(se.AccessFP)), urgencyOK)
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
	text := fmt.Sprintf("imported %s for %s (%s)", se.Name, userLabel(se), present.OrDash(se.AccessFP))
	if se.Paused {
		text += ", paused (watch-only: nothing refreshes it); press p to keep it alive if it is yours"
	}
	m.setStatus(text, urgencyOK)
	m.pendingSelect = se.Name
	return m.reload()
}

// confirmRawRevoke asks before a checked raw revoke is sent.
func (m *Model) confirmRawRevoke(s rawSubmit) {
	fp := auth.Fingerprint(s.token)
	c := newConfirmModel(m.styles, fmt.Sprintf("Revoke this %s token?", s.kind),
		fmt.Sprintf("Token %s (%d chars) will be revoked at %s. The server answers success even for unknown tokens, so check the fingerprint.",
			fp, len(s.token), s.endpoints.OAuthURL),
		"Revoke", func() tea.Msg { return rawConfirmedMsg{sub: s} })
	m.dialog = &c
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
	text := fmt.Sprintf("revoked %s token %s at %s (HTTP %d%s)", msg.kind, msg.fingerprint, msg.rev.Endpoints.OAuthURL, msg.rev.Meta.Status, reqID(msg.rev.Meta))
	switch {
	case msg.rev.Session != "" && msg.kind == auth.RefreshToken:
		text += "; session " + msg.rev.Session + " now needs a new login"
	case msg.rev.Session != "":
		text += "; session " + msg.rev.Session + " can still refresh (x revokes both)"
	}
	m.setStatus(text, urgencyOK)
	return m.reload()
}

// onCopied words the status line by what is known: the native clipboard's
// write reports success ("copied"), OSC 52 does not ("sent"), and tmux with
// set-clipboard external (its default) or off drops OSC 52.
func (m *Model) onCopied(msg copiedMsg) tea.Cmd {
	if msg.err != nil {
		m.setStatus("copy "+msg.what+" failed: "+msg.err.Error(), urgencyNow)
		return nil
	}
	if msg.terminal || msg.native {
		m.clipClear = pendingClear{due: m.now.Add(clipboardClearAfter), valueFP: msg.valueFP, shownFP: msg.fingerprint, tmux: msg.tmuxSetClipboard}
	}
	const fix = "tmux set -s set-clipboard on"
	item := msg.what + " " + msg.fingerprint
	tmuxDrops := msg.tmuxSetClipboard == "external" || msg.tmuxSetClipboard == "off"
	switch {
	case tmuxDrops && msg.native:
		m.setStatus(fmt.Sprintf("copied %s to the system clipboard (cleared in 30s); tmux drops OSC 52 (set-clipboard %s); fix: %s",
			item, msg.tmuxSetClipboard, fix), urgencyOK)
	case tmuxDrops:
		// No system clipboard either: nothing was copied anywhere.
		m.setStatus(fmt.Sprintf("%s NOT copied: tmux drops OSC 52 (set-clipboard %s); fix: %s",
			item, msg.tmuxSetClipboard, fix), urgencyNow)
	case msg.native:
		m.setStatus(fmt.Sprintf("copied %s to the system clipboard and sent it to the terminal's (OSC 52); cleared in 30s", item), urgencyOK)
	default:
		m.setStatus(fmt.Sprintf("sent %s to the terminal clipboard (OSC 52); cleared in 30s", item), urgencyOK)
	}
	return nil
}

// onClipboardCleared reports the clean-up. tmux ignores an empty OSC 52, so
// with set-clipboard on the copy it took stays in its paste buffers (and
// whatever it passed on to the outer terminal); with external or off it
// never took the copy.
func (m *Model) onClipboardCleared(msg clipboardClearedMsg) {
	if msg.tmux != "" {
		msg.terminal = false
	}
	if msg.tmux == "on" {
		what := "tmux"
		if msg.native {
			what = "cleared the system clipboard; tmux"
		}
		m.setStatus(fmt.Sprintf("%s keeps the copy (%s) in its paste buffers, as it ignores an empty OSC 52: tmux delete-buffer", what, msg.fingerprint), urgencySoon)
		return
	}
	var which string
	switch {
	case msg.native && msg.terminal:
		which = "system and terminal clipboards"
	case msg.native:
		which = "system clipboard"
	case msg.terminal:
		which = "terminal clipboard"
	default:
		return
	}
	m.setStatus(fmt.Sprintf("cleared the %s (%s)", which, msg.fingerprint), urgencyMuted)
}

func (m *Model) onActionDone(msg actionDoneMsg) tea.Cmd {
	if msg.err != nil {
		if msg.action == "refresh" {
			lr := m.liveRow(msg.name)
			lr.refreshing = false
			lr.note, lr.noteUrg, lr.until = "failed: "+errText(msg.err), urgencyNow, m.now.Add(noteFor)
		}
		m.setStatus(fmt.Sprintf("%s %s failed: %s", msg.action, msg.name, errText(msg.err)), urgencyNow)
	} else {
		if msg.action == "refresh" {
			m.liveRow(msg.name).refreshing = false
		}
		m.setStatus(msg.text, urgencyOK)
		if msg.action == "forget" {
			delete(m.live, msg.name)
			m.leaveDetailOf(msg.name)
		}
	}
	return m.reload()
}

func (m *Model) onRevokeDone(msg revokeDoneMsg) tea.Cmd {
	rep := msg.report
	switch {
	case msg.err == nil && rep.Forgotten:
		m.setStatus(fmt.Sprintf("%s revoked at the server (refresh %s%s, access %s%s) and forgotten locally",
			msg.name, present.OrDash(rep.Refresh.Fingerprint), reqID(rep.Refresh.Meta), present.OrDash(rep.Access.Fingerprint), reqID(rep.Access.Meta)), urgencyOK)
		delete(m.live, msg.name)
		if m.banner != nil && m.banner.session == msg.name {
			m.banner = nil
		}
		m.leaveDetailOf(msg.name)
	default:
		var parts []string
		if rep.Refresh.Err != nil {
			parts = append(parts, "refresh token: "+errText(rep.Refresh.Err))
		}
		if rep.Access.Err != nil {
			parts = append(parts, "access token: "+errText(rep.Access.Err))
		}
		if msg.err != nil && len(parts) == 0 {
			parts = append(parts, errText(msg.err))
		}
		m.setStatus(fmt.Sprintf("revoke %s failed (%s); the session is kept so you can retry with x",
			msg.name, strings.Join(parts, "; ")), urgencyNow)
	}
	return m.reload()
}

func reqID(meta auth.Meta) string {
	if meta.RequestID == "" {
		return ""
	}
	return " req " + meta.RequestID
}

// errText is an error for the status line: the API error's own words.
func errText(err error) string {
	var nl *auth.NeedsLoginError
	if errors.As(err, &nl) {
		return "needs a new login: " + reasonText(nl.Reason)
	}
	return err.Error()
}
