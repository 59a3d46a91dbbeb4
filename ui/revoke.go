package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/timefmt"
)

// Raw-revoke form rows, in tab order.
const (
	rawToken = iota
	rawType
	rawOAuth
	rawRows
)

// rawKinds are the type row's choices, in order.
var rawKinds = []auth.TokenKind{auth.AccessToken, auth.RefreshToken}

// rawRevokeModel revokes a pasted token (an admin killing a leaked one).
// The token is never echoed: the form shows what it is (fingerprint,
// format, expiry) so the admin can check they pasted the right thing.
type rawRevokeModel struct {
	form
	inspected auth.Inspection
	apiURL    string // the client checks both URLs; revoke uses only OAuth
	// holder is the saved session holding the pasted token ("" when
	// none), heldAs which of its tokens it is: it is revoked at that
	// session's OAuth URL, which the form then shows.
	holder string
	heldAs auth.TokenKind
}

func newRawRevokeModel(st *Styles, ep auth.Endpoints) rawRevokeModel {
	return rawRevokeModel{form: form{styles: st}}.reset(ep)
}

func (m rawRevokeModel) reset(ep auth.Endpoints) rawRevokeModel {
	st := m.styles
	f := make([]field, rawRows)
	f[rawToken] = hiddenField(st, "Token", "paste the token (it stays hidden)", 64<<10)
	f[rawType] = field{label: "Type"}
	for _, k := range rawKinds {
		f[rawType].choices = append(f[rawType].choices, string(k))
	}
	f[rawOAuth] = newField(st, "OAuth URL", auth.DefaultOAuthURL, 2048)
	f[rawOAuth].input.SetValue(ep.OAuthURL)
	f[rawOAuth].enterSubmits = true
	n := rawRevokeModel{form: newForm(st, "REVOKE A PASTED TOKEN", "for tokens that are not stored here",
		"ctrl+s asks for confirmation · esc cancels", "revoking…", f, nil), apiURL: ep.APIURL}
	n.setWidth(m.width)
	return n
}

// findHolder notes the saved session holding the pasted token, if any, and
// puts that session's OAuth URL and the token's kind in the form: the token
// is only ever revoked where it was issued.
func (m *rawRevokeModel) findHolder(sessions []auth.Session) {
	fp := auth.Fingerprint(m.value(rawToken))
	m.holder = ""
	for _, se := range sessions {
		if fp == "" || (se.AccessFP != fp && se.RefreshFP != fp) {
			continue
		}
		m.holder, m.heldAs = se.Name, auth.AccessToken
		if se.RefreshFP == fp {
			m.heldAs = auth.RefreshToken
		}
		m.fields[rawOAuth].input.SetValue(se.Endpoints.OAuthURL)
		for i, k := range rawKinds {
			if k == m.heldAs {
				m.fields[rawType].chosen = i
			}
		}
		return
	}
}

// kind is the chosen token type.
func (m rawRevokeModel) kind() auth.TokenKind { return rawKinds[m.fields[rawType].chosen] }

// rawSubmit is a validated raw revoke, to be confirmed by the root.
type rawSubmit struct {
	token     string
	kind      auth.TokenKind
	endpoints auth.Endpoints
}

// onKey drives the form; a valid one asks for confirmation before
// anything is sent.
func (m *rawRevokeModel) onKey(app *Model, msg tea.KeyMsg) tea.Cmd {
	ev, cmd := m.update(msg)
	switch ev {
	case formCancel:
		m.fields[rawToken].input.SetValue("")
		app.screen = screenList
		return nil
	case formEdited:
		if m.focus == rawToken {
			m.inspected = auth.Inspect(m.value(rawToken), auth.InspectOptions{Now: app.now})
			m.findHolder(app.sessions)
		}
	case formSubmit:
		if sub := m.submit(); sub != nil {
			app.confirmRawRevoke(*sub)
		}
		return tea.Batch(cmd, m.focusCmd())
	}
	return cmd
}

func (m *rawRevokeModel) onMsg(*Model, tea.Msg) tea.Cmd { return nil }
func (m *rawRevokeModel) keyMap(*Model) help.KeyMap     { return m.form.keyMap() }
func (m *rawRevokeModel) typing() bool                  { return true }
func (m *rawRevokeModel) view(app *Model, _, _ int) string {
	return m.form.view(func(i int) string { return m.below(i, app.now) }, "")
}

// below is what the form says under the token: what it is.
func (m rawRevokeModel) below(i int, now time.Time) string {
	in := m.inspected
	if i != rawToken || in.Length == 0 {
		return ""
	}
	st := m.styles
	pad := strings.Repeat(" ", formIndent)
	facts := fmt.Sprintf("%s · %d chars · %s", in.Fingerprint, in.Length, in.Format)
	if !in.Expires.IsZero() {
		facts += " · exp " + timefmt.Relative(in.Expires, now)
	}
	lines := []string{pad + st.Muted.Render(facts)}
	if m.holder != "" {
		lines = append(lines, pad+st.Warn.Render(fmt.Sprintf("the %s token of saved session %s: revoked at its OAuth URL, and the session is marked", m.heldAs, m.holder)))
	}
	for _, w := range in.Warnings {
		lines = append(lines, pad+st.Warn.Render("! "+w))
	}
	return strings.Join(lines, "\n")
}

func (m *rawRevokeModel) submit() *rawSubmit {
	if m.submitting {
		return nil
	}
	tok := m.value(rawToken)
	if tok == "" {
		m.fields[rawToken].err = "paste the token to revoke"
	}
	oauth := m.value(rawOAuth)
	if oauth == "" {
		m.fields[rawOAuth].err = "enter the OAuth base URL that issued the token"
	}
	if m.firstError() {
		return nil
	}
	return &rawSubmit{token: tok, kind: m.kind(), endpoints: auth.Endpoints{OAuthURL: oauth, APIURL: m.apiURL}}
}

// done takes the server's answer.
func (m rawRevokeModel) done(msg rawRevokeDoneMsg) rawRevokeModel {
	m.submitting = false
	if msg.err != nil {
		if u := urlError(msg.err); u != "" {
			m.fields[rawOAuth].err = u
			m.focus = rawOAuth
		} else {
			m.err = msg.err.Error()
		}
		m.focusCmd()
	}
	return m
}
