package ui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tokentop/tokentop/internal/present"

	"github.com/charmbracelet/bubbles/help"
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

// loginModel is the new-login form. The password is masked and dropped as
// soon as it has been sent.
type loginModel struct {
	form
	retryAt time.Time // rate limited until then
	// again names the session being logged in again, when the form was
	// opened on one that needs a login ("" for a new one).
	again string
}

func newLoginModel(st *Styles, ep auth.Endpoints) loginModel {
	return loginModel{form: form{styles: st}}.reset(ep)
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
	n := loginModel{form: newForm(st, "NEW LOGIN", "the password is sent once and never stored",
		"ctrl+s logs in (enter does once all is filled) · esc cancels", "logging in…", f, nil)}
	n.fillFirst = true
	n.setWidth(m.width)
	return n
}

// relogin is the form for logging se in again: its name, email and URLs
// filled in, the cursor on the password.
func (m loginModel) relogin(se auth.Session) loginModel {
	n := m.reset(se.Endpoints)
	n.title = "LOG IN AGAIN"
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

// onKey drives the form; a valid one logs in.
func (m *loginModel) onKey(app *Model, msg tea.KeyMsg) tea.Cmd {
	ev, cmd := m.update(msg)
	switch ev {
	case formCancel:
		m.fields[loginPassword].input.SetValue("")
		app.screen = screenList
		return nil
	case formSubmit:
		if sub := m.submit(app.now); sub != nil {
			return tea.Batch(cmd, app.loginCmd(sub.name, sub.endpoints, sub.email, sub.password))
		}
	}
	return cmd
}

func (m *loginModel) onMsg(*Model, tea.Msg) tea.Cmd    { return nil }
func (m *loginModel) keyMap(*Model) help.KeyMap        { return m.form.keyMap() }
func (m *loginModel) typing() bool                     { return true }
func (m *loginModel) view(app *Model, _, _ int) string { return m.render(app.now) }
func (m loginModel) render(now time.Time) string       { return m.form.view(nil, m.footer(now)) }
func (m loginModel) footer(now time.Time) string {
	if m.submitting || !now.Before(m.retryAt) {
		return ""
	}
	// The countdown first: it is what the person is waiting for.
	return messageLines(m.styles.Bad, fmt.Sprintf("retry in %s: %s", timefmt.Countdown(m.retryAt.Sub(now)), present.OrDash(m.err)), 2, m.width)
}

// loginSubmit is a validated login request handed to the root.
type loginSubmit struct {
	name, email, password string
	endpoints             auth.Endpoints
}

// submit checks the fields and returns the login to send, or nil with
// the errors shown next to their fields.
func (m *loginModel) submit(now time.Time) *loginSubmit {
	if m.submitting {
		return nil
	}
	if now.Before(m.retryAt) {
		m.err = "the server is rate limiting logins; wait " + timefmt.Countdown(m.retryAt.Sub(now))
		return nil
	}
	m.fields[loginName].err = checkName(m.value(loginName))
	if !strings.Contains(m.value(loginEmail), "@") {
		m.fields[loginEmail].err = "enter the account's email address"
	}
	if m.fields[loginPassword].input.Value() == "" {
		m.fields[loginPassword].err = "enter the password"
	}
	if m.value(loginOAuth) == "" {
		m.fields[loginOAuth].err = "enter the OAuth base URL"
	}
	if m.value(loginAPI) == "" {
		m.fields[loginAPI].err = "enter the API base URL"
	}
	if m.firstError() {
		return nil
	}
	m.submitting, m.err = true, ""
	return &loginSubmit{
		name:      m.value(loginName),
		email:     m.value(loginEmail),
		password:  m.fields[loginPassword].input.Value(),
		endpoints: auth.Endpoints{OAuthURL: m.value(loginOAuth), APIURL: m.value(loginAPI)},
	}
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
	m.focusCmd()
	return m
}
