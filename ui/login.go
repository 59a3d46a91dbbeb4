package ui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/timefmt"
)

// Login form fields, in tab order.
const (
	loginName = iota
	loginEmail
	loginPassword
	loginOAuth
	loginAPI
	loginFields
)

// loginSubmit is a validated login request handed to the root.
type loginSubmit struct {
	name, email, password string
	endpoints             auth.Endpoints
}

// loginModel is the new-login form. The password is masked and dropped as
// soon as it has been sent.
type loginModel struct {
	styles     *Styles
	keys       formKeys
	fields     []field
	focus      int
	err        string
	submitting bool
	retryAt    time.Time // rate limited until then
	cancelled  bool
	width      int
	// again names the session being logged in again, when the form was
	// opened on one that needs a login ("" for a new one).
	again string
}

func newLoginModel(st *Styles, ep auth.Endpoints) loginModel {
	m := loginModel{styles: st, keys: newFormKeys()}
	return m.reset(ep)
}

// reset empties the form, with the URLs prefilled.
func (m loginModel) reset(ep auth.Endpoints) loginModel {
	st := m.styles
	f := make([]field, loginFields)
	f[loginName] = newField(st, "Name", "a short name, e.g. acme-prod", 64)
	f[loginEmail] = newField(st, "Email", "you@example.com", 254)
	f[loginPassword] = newField(st, "Password", "", 1024)
	f[loginPassword].input.EchoMode = textinput.EchoPassword
	f[loginPassword].input.EchoCharacter = '•'
	f[loginOAuth], f[loginAPI] = urlFields(st, ep)
	n := loginModel{styles: st, keys: m.keys, fields: f}
	n.setWidth(m.width)
	return n
}

// relogin is the form for logging se in again: its name, email and URLs
// filled in, the cursor on the password.
func (m loginModel) relogin(se auth.Session) loginModel {
	n := m.reset(se.Endpoints)
	n.fields[loginName].input.SetValue(se.Name)
	if email := userLabel(se); email != "-" && strings.Contains(email, "@") {
		n.fields[loginEmail].input.SetValue(email)
		n.focus = loginPassword
	} else {
		n.focus = loginEmail
	}
	n.again = se.Name
	return n
}

// update handles a key; it returns a submission when the form is valid.
func (m loginModel) update(msg tea.KeyMsg, now time.Time) (loginModel, *loginSubmit, tea.Cmd) {
	switch {
	case key.Matches(msg, m.keys.Cancel):
		m.cancelled = true
		m.fields[loginPassword].input.SetValue("")
		return m, nil, nil
	case key.Matches(msg, m.keys.Next):
		m.focus = (m.focus + 1) % loginFields
		return m, nil, m.focusCmd()
	case key.Matches(msg, m.keys.Prev):
		m.focus = (m.focus + loginFields - 1) % loginFields
		return m, nil, m.focusCmd()
	case key.Matches(msg, m.keys.Submit):
		return m.submit(now)
	case msg.Type == tea.KeyEnter:
		// Enter submits once every field has something in it; until then
		// it moves on to the next empty field.
		for i := 1; i <= loginFields; i++ {
			j := (m.focus + i) % loginFields
			if m.fields[j].input.Value() == "" {
				m.focus = j
				return m, nil, m.focusCmd()
			}
		}
		return m.submit(now)
	}
	var cmd tea.Cmd
	f := &m.fields[m.focus]
	f.input, cmd = f.input.Update(msg)
	f.err = ""
	return m, nil, cmd
}

func (m *loginModel) setWidth(w int) {
	m.width = w
	for i := range m.fields {
		m.fields[i].input.Width = max(w-16, 10)
	}
}

func (m *loginModel) focusCmd() tea.Cmd {
	focusFields(m.fields, m.focus)
	return nil
}

func (m loginModel) submit(now time.Time) (loginModel, *loginSubmit, tea.Cmd) {
	if m.submitting {
		return m, nil, nil
	}
	if now.Before(m.retryAt) {
		m.err = "the server is rate limiting logins; wait " + timefmt.Countdown(m.retryAt.Sub(now))
		return m, nil, nil
	}
	val := func(i int) string { return strings.TrimSpace(m.fields[i].input.Value()) }
	m.fields[loginName].err = checkName(val(loginName))
	if e := val(loginEmail); !strings.Contains(e, "@") {
		m.fields[loginEmail].err = "enter the account's email address"
	}
	if m.fields[loginPassword].input.Value() == "" {
		m.fields[loginPassword].err = "enter the password"
	}
	if val(loginOAuth) == "" {
		m.fields[loginOAuth].err = "enter the OAuth base URL"
	}
	if val(loginAPI) == "" {
		m.fields[loginAPI].err = "enter the API base URL"
	}
	for i, f := range m.fields {
		if f.err != "" {
			m.focus = i
			focusFields(m.fields, i)
			return m, nil, nil
		}
	}
	m.submitting, m.err = true, ""
	sub := &loginSubmit{
		name:      val(loginName),
		email:     val(loginEmail),
		password:  m.fields[loginPassword].input.Value(),
		endpoints: auth.Endpoints{OAuthURL: val(loginOAuth), APIURL: val(loginAPI)},
	}
	return m, sub, nil
}

// done takes the login's outcome: errors go next to the field they are about.
func (m loginModel) done(msg loginDoneMsg) loginModel {
	m.submitting = false
	err := msg.err
	var api *auth.APIError
	switch {
	case err == nil:
		return m
	case errors.Is(err, auth.ErrInvalidName):
		m.fields[loginName].err = err.Error()
		m.focus = loginName
	case errors.Is(err, auth.ErrInvalidCredentials):
		m.fields[loginPassword].err = "wrong email or password"
		m.fields[loginPassword].input.SetValue("")
		m.focus = loginPassword
	case errors.Is(err, auth.ErrRateLimited):
		wait := time.Minute
		if errors.As(err, &api) && api.RetryAfter > 0 {
			wait = api.RetryAfter
		}
		m.retryAt = msg.at.Add(wait)
		m.err = "rate limited by the server (10 logins a minute)"
	case urlError(err) != "":
		m.fields[loginOAuth].err = urlError(err)
		m.focus = loginOAuth
	default:
		m.err = err.Error()
	}
	focusFields(m.fields, m.focus)
	return m
}

func (m loginModel) view(now time.Time) string {
	st := m.styles
	var b strings.Builder
	if m.again != "" {
		b.WriteString(st.Section.Render("LOG IN AGAIN"))
	} else {
		b.WriteString(st.Section.Render("NEW LOGIN"))
	}
	b.WriteString(st.Muted.Render("  the password is sent once and never stored"))
	b.WriteString("\n\n")
	for i, f := range m.fields {
		b.WriteString(fieldView(st, f, i == m.focus, 11, m.width))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	switch {
	case m.submitting:
		b.WriteString(st.Muted.Render("  logging in…"))
	case now.Before(m.retryAt):
		// The countdown first: it is what the person is waiting for.
		b.WriteString(messageLines(st.Bad, fmt.Sprintf("retry in %s: %s", timefmt.Countdown(m.retryAt.Sub(now)), orDash(m.err)), 2, m.width))
	case m.err != "":
		b.WriteString(messageLines(st.Bad, m.err, 2, m.width))
	default:
		b.WriteString(messageLines(st.Muted, "ctrl+s logs in (enter does once all is filled) · esc cancels", 2, m.width))
	}
	return b.String()
}
