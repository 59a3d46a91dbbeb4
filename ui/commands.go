package ui

import (
	"context"
	"fmt"
	"time"

	"github.com/tokentop/tokentop/internal/present"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/tokentop/tokentop/auth"
)

// The commands below do all the blocking work (store, keyring, network,
// clipboard) off the update loop and come back as typed messages.

// tick arms the next one-second tick, aligned to the wall clock so every
// countdown on screen changes at the same moment. The tick also carries
// the store's change stamp, read here in the command's goroutine: one
// message (and one frame) a second instead of two.
func (m Model) tick() tea.Cmd {
	return tea.Every(time.Second, m.stampedTick)
}

// tickStampTimeout bounds the stamp a tick carries: the countdowns move
// only when the tick arrives, so a store that stopped answering (an etcd
// cluster out of reach, before its health says so) must not hold them for
// the store's whole timeout. A tick without a stamp just loads nothing.
const tickStampTimeout = 900 * time.Millisecond

// stampedTick is the tick's message for time t: t and the store's stamp
// (cheap: a stat of the index, no secrets, no parsing).
func (m Model) stampedTick(t time.Time) tea.Msg {
	if !m.disconnected.IsZero() {
		// Out of reach, the stamp would only time out, and the countdowns
		// would freeze meanwhile; everything is read again on return.
		return tickMsg{now: t}
	}
	ctx, cancel := m.withTimeout(tickStampTimeout)
	defer cancel()
	s, err := m.store.Stamp(ctx)
	return tickMsg{now: t, stamp: s, stampErr: err}
}

// waitEvent waits for the keeper's next event; the root re-arms it after
// each one, so exactly one waiter is ever pending.
func waitEvent(ch <-chan auth.Event) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		e, ok := <-ch
		if !ok {
			return keeperClosedMsg{}
		}
		return keeperEventMsg{event: e}
	}
}

func (m Model) withTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(m.ctx, d)
}

// secretsCheckCmd asks a store that can tell whether its secret backend
// works (nil for one that cannot).
func (m Model) secretsCheckCmd() tea.Cmd {
	sc, ok := m.store.(SecretsChecker)
	if !ok {
		return nil
	}
	return func() tea.Msg {
		ctx, cancel := m.withTimeout(storeTimeout)
		defer cancel()
		return secretsAvailMsg{err: sc.SecretsAvailable(ctx)}
	}
}

// loadCmd re-reads all sessions' metadata (never secrets).
func (m Model) loadCmd() tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := m.withTimeout(storeTimeout)
		defer cancel()
		// Stamp first: a write between the two reads then shows up as a
		// changed stamp on the next tick rather than being missed.
		stamp, err := m.store.Stamp(ctx)
		if err != nil {
			return sessionsMsg{err: err}
		}
		ss, err := m.store.List(ctx)
		return sessionsMsg{sessions: ss, stamp: stamp, err: err}
	}
}

func (m Model) secretsCmd(name string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := m.withTimeout(storeTimeout)
		defer cancel()
		sec, err := m.store.Secrets(ctx, name)
		return secretsMsg{name: name, secrets: sec, err: err}
	}
}

// timelineLimit is how many audit events the inspector shows.
const timelineLimit = 20

func (m Model) timelineCmd(name string) tea.Cmd {
	return func() tea.Msg {
		ev, err := m.store.Events(name, timelineLimit)
		return timelineMsg{name: name, events: ev, err: err}
	}
}

func (m Model) probeCmd(name string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := m.withTimeout(callTimeout)
		defer cancel()
		res, err := m.keeper.Probe(ctx, name)
		return probeMsg{name: name, at: time.Now(), result: res, err: err}
	}
}

func (m Model) refreshCmd(name string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := m.withTimeout(callTimeout)
		defer cancel()
		res, err := m.keeper.Refresh(ctx, name)
		if err != nil {
			return actionDoneMsg{name: name, action: "refresh", err: err}
		}
		text := fmt.Sprintf("%s refreshed %s → %s", name, present.OrDash(res.Old.AccessFP), present.OrDash(res.New.AccessFP))
		if res.Adopted {
			text = fmt.Sprintf("%s: adopted %s, already refreshed by another process", name, present.OrDash(res.New.AccessFP))
		}
		return actionDoneMsg{name: name, action: "refresh", text: text}
	}
}

func (m Model) pauseCmd(name string, paused bool) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := m.withTimeout(storeTimeout)
		defer cancel()
		err := m.keeper.SetPaused(ctx, name, paused)
		text := name + ": auto-refresh resumed"
		if paused {
			text = name + ": auto-refresh paused (the access token will expire unless you press r)"
		}
		return actionDoneMsg{name: name, action: "pause", text: text, err: err}
	}
}

func (m Model) forgetCmd(name string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := m.withTimeout(storeTimeout)
		defer cancel()
		err := m.keeper.Forget(ctx, name)
		text := name + " forgotten locally. Nothing was revoked: its tokens stay valid at the server until they expire."
		return actionDoneMsg{name: name, action: "forget", text: text, err: err}
	}
}

func (m Model) revokeCmd(name string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := m.withTimeout(callTimeout)
		defer cancel()
		rep, err := m.keeper.Revoke(ctx, name)
		return revokeDoneMsg{name: name, report: rep, err: err}
	}
}

func (m Model) loginCmd(name string, ep auth.Endpoints, email, password string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := m.withTimeout(callTimeout)
		defer cancel()
		se, err := m.keeper.Login(ctx, name, ep, email, password)
		return loginDoneMsg{session: se, at: time.Now(), err: err}
	}
}

func (m Model) importCmd(name string, ep auth.Endpoints, body []byte) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := m.withTimeout(callTimeout)
		defer cancel()
		// The TUI's import is the support engineer's: someone else's pair,
		// watch-only until p resumes it.
		se, err := m.keeper.Import(ctx, name, ep, body, auth.ImportOptions{})
		return importDoneMsg{session: se, err: err}
	}
}

func (m Model) rawRevokeCmd(ep auth.Endpoints, token string, kind auth.TokenKind) tea.Cmd {
	fp := auth.Fingerprint(token)
	return func() tea.Msg {
		ctx, cancel := m.withTimeout(callTimeout)
		defer cancel()
		rev, err := m.keeper.RevokeToken(ctx, ep, token, kind)
		return rawRevokeDoneMsg{fingerprint: fp, kind: kind, rev: rev, err: err}
	}
}

// copy targets.
const (
	copyAccess   = "access token"
	copyRefresh  = "refresh token"
	copyFrontend = "frontend token"
	copyBearer   = "Authorization: Bearer line"
)

// copySessionCmd loads the session's secrets and copies one of them.
func (m Model) copySessionCmd(name, what string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := m.withTimeout(storeTimeout)
		defer cancel()
		sec, err := m.store.Secrets(ctx, name)
		if err != nil {
			return copiedMsg{what: name + " " + what, err: err}
		}
		var v, shown string
		switch what {
		case copyAccess:
			v = sec.AccessToken
		case copyRefresh:
			v = sec.RefreshToken
		case copyFrontend:
			v = sec.FrontendToken
		case copyBearer:
			if sec.AccessToken != "" {
				v = "Authorization: Bearer " + sec.AccessToken
				// Name the token, not the line: it is what the list shows.
				what += " with access token"
				shown = auth.Fingerprint(sec.AccessToken)
			}
		}
		if v == "" {
			return copiedMsg{what: name + " " + what, err: fmt.Errorf("%s has no %s", name, what)}
		}
		return m.clipboard.copyCmd(name+" "+what, v, shown)()
	}
}
