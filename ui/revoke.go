package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
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

// rawRevokeModel revokes a pasted token (an admin killing a leaked one).
// The token is never echoed: the form shows what it is (fingerprint,
// format, expiry) so the admin can check they pasted the right thing.
type rawRevokeModel struct {
	styles     *Styles
	keys       formKeys
	token      field
	oauth      field
	kind       auth.TokenKind
	focus      int
	inspected  auth.Inspection
	submitting bool
	err        string
	cancelled  bool
	width      int
	apiURL     string // the client checks both URLs; revoke uses only OAuth
}

func newRawRevokeModel(st *Styles, ep auth.Endpoints) rawRevokeModel {
	m := rawRevokeModel{styles: st, keys: newFormKeys()}
	return m.reset(ep)
}

func (m rawRevokeModel) reset(ep auth.Endpoints) rawRevokeModel {
	st := m.styles
	tok := newField(st, "Token", "paste the token (it stays hidden)", 64<<10)
	tok.input.EchoMode = textinput.EchoNone
	oauth := newField(st, "OAuth URL", auth.DefaultOAuthURL, 2048)
	oauth.input.SetValue(ep.OAuthURL)
	n := rawRevokeModel{styles: st, keys: m.keys, token: tok, oauth: oauth, kind: auth.AccessToken, apiURL: ep.APIURL}
	n.setWidth(m.width)
	return n
}

func (m *rawRevokeModel) setWidth(w int) {
	m.width = w
	m.token.input.Width = max(w-16, 10)
	m.oauth.input.Width = max(w-16, 10)
}

func (m *rawRevokeModel) focusCmd() tea.Cmd {
	m.token.input.Blur()
	m.oauth.input.Blur()
	switch m.focus {
	case rawToken:
		return m.token.input.Focus()
	case rawOAuth:
		return m.oauth.input.Focus()
	}
	return nil
}

// keyMap shows the type toggle's keys only where they work.
func (m rawRevokeModel) keyMap() formKeys {
	k := m.keys
	k.Toggle.SetEnabled(m.focus == rawType)
	return k
}

// rawSubmit is a validated raw revoke, to be confirmed by the root.
type rawSubmit struct {
	token     string
	kind      auth.TokenKind
	endpoints auth.Endpoints
}

func (m rawRevokeModel) update(msg tea.KeyMsg, now time.Time) (rawRevokeModel, *rawSubmit, tea.Cmd) {
	switch {
	case key.Matches(msg, m.keys.Cancel):
		m.cancelled = true
		m.token.input.SetValue("")
		return m, nil, nil
	case key.Matches(msg, m.keys.Submit), msg.Type == tea.KeyEnter && m.focus == rawOAuth:
		return m.submit()
	case key.Matches(msg, m.keys.Next), msg.Type == tea.KeyEnter:
		m.focus = (m.focus + 1) % rawRows
		return m, nil, m.focusCmd()
	case key.Matches(msg, m.keys.Prev):
		m.focus = (m.focus + rawRows - 1) % rawRows
		return m, nil, m.focusCmd()
	case m.focus == rawType && key.Matches(msg, m.keys.Toggle):
		if m.kind == auth.AccessToken {
			m.kind = auth.RefreshToken
		} else {
			m.kind = auth.AccessToken
		}
		return m, nil, nil
	}
	var cmd tea.Cmd
	switch m.focus {
	case rawToken:
		before := m.token.input.Value()
		m.token.input, cmd = m.token.input.Update(msg)
		if v := m.token.input.Value(); v != before {
			m.token.err = ""
			m.inspected = auth.Inspect(strings.TrimSpace(v), auth.InspectOptions{Now: now})
		}
	case rawOAuth:
		m.oauth.input, cmd = m.oauth.input.Update(msg)
		m.oauth.err = ""
	}
	return m, nil, cmd
}

func (m rawRevokeModel) submit() (rawRevokeModel, *rawSubmit, tea.Cmd) {
	if m.submitting {
		return m, nil, nil
	}
	tok := strings.TrimSpace(m.token.input.Value())
	if tok == "" {
		m.token.err = "paste the token to revoke"
		m.focus = rawToken
		return m, nil, m.focusCmd()
	}
	oauth := strings.TrimSpace(m.oauth.input.Value())
	if oauth == "" {
		m.oauth.err = "enter the OAuth base URL that issued the token"
		m.focus = rawOAuth
		return m, nil, m.focusCmd()
	}
	return m, &rawSubmit{token: tok, kind: m.kind, endpoints: auth.Endpoints{OAuthURL: oauth, APIURL: m.apiURL}}, nil
}

// done takes the server's answer.
func (m rawRevokeModel) done(msg rawRevokeDoneMsg) rawRevokeModel {
	m.submitting = false
	if msg.err != nil {
		if u := urlError(msg.err); u != "" {
			m.oauth.err = u
			m.focus = rawOAuth
		} else {
			m.err = msg.err.Error()
		}
		return m
	}
	return m
}

func (m rawRevokeModel) view(now time.Time) string {
	st := m.styles
	var b strings.Builder
	b.WriteString(st.Section.Render("REVOKE A PASTED TOKEN"))
	b.WriteString(st.Muted.Render("  for tokens that are not stored here"))
	b.WriteString("\n\n")
	b.WriteString(fieldView(st, m.token, m.focus == rawToken, 11, m.width))
	b.WriteByte('\n')
	if in := m.inspected; in.Length > 0 {
		facts := fmt.Sprintf("%s · %d chars · %s", in.Fingerprint, in.Length, in.Format)
		if !in.Expires.IsZero() {
			facts += " · exp " + timefmt.Relative(in.Expires, now)
		}
		b.WriteString(strings.Repeat(" ", 13) + st.Muted.Render(facts) + "\n")
		for _, w := range in.Warnings {
			b.WriteString(strings.Repeat(" ", 13) + st.Warn.Render("! "+w) + "\n")
		}
	}
	// Type choice: a radio pair, with the chosen one marked in words too.
	label, marker := st.Label, "  "
	if m.focus == rawType {
		label, marker = st.LabelFocus, "▸ "
	}
	choice := func(k auth.TokenKind) string {
		if m.kind == k {
			return st.Key.Render("(•) " + string(k))
		}
		return st.Muted.Render("( ) " + string(k))
	}
	b.WriteString(marker + label.Render(fit("Type", 11)) + choice(auth.AccessToken) + "   " + choice(auth.RefreshToken))
	if m.focus == rawType {
		b.WriteString(st.Muted.Render("   ←/→ to choose"))
	}
	b.WriteByte('\n')
	b.WriteString(fieldView(st, m.oauth, m.focus == rawOAuth, 11, m.width))
	b.WriteString("\n\n")
	switch {
	case m.submitting:
		b.WriteString(st.Muted.Render("  revoking…"))
	case m.err != "":
		b.WriteString(messageLines(st.Bad, m.err, 2, m.width))
	default:
		b.WriteString(st.Muted.Render("  ctrl+s asks for confirmation · esc cancels"))
	}
	return b.String()
}
