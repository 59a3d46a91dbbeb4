package ui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tokentop/tokentop/internal/present"

	"github.com/charmbracelet/bubbles/help"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/safetext"
	"github.com/tokentop/tokentop/internal/timefmt"
)

// Import form fields.
const (
	importName = iota
	importOAuth
	importAPI
	importBody // the pasted response (hidden)
	importFields
)

// importOrder is the tab order: the name, then the response (what everyone
// pastes), then the URLs (which the defaults usually get right).
var importOrder = []int{importName, importBody, importOAuth, importAPI}

// looksLikeResponse reports whether a paste is a token response rather
// than a name or URL, so it lands in the response whichever field has the
// focus (the response stays hidden there; elsewhere it would be echoed).
func looksLikeResponse(msg tea.KeyMsg) bool {
	return msg.Paste && strings.HasPrefix(strings.TrimSpace(string(msg.Runes)), "{")
}

// importSubmit is a validated import handed to the root.
type importSubmit struct {
	name      string
	endpoints auth.Endpoints
	body      []byte
}

// maxImportBody bounds a pasted token response.
const maxImportBody = 256 << 10

// importModel is the form that stores a pasted token response. The
// response holds live tokens, so it is never echoed: the form shows what it
// parsed instead (fingerprints, user, expiries), which is what the person
// needs to check anyway.
type importModel struct {
	form
	preview    *auth.TokenSet // parsed from the response as it is pasted
	previewErr string
}

func newImportModel(st *Styles, ep auth.Endpoints) importModel {
	return importModel{form: form{styles: st}}.reset(ep)
}

func (m importModel) reset(ep auth.Endpoints) importModel {
	st := m.styles
	f := make([]field, importFields)
	f[importName] = newField(st, "Name", "a short name, e.g. customer-1234", 64)
	f[importOAuth], f[importAPI] = urlFields(st, ep)
	f[importBody] = hiddenField(st, "Response", `paste {"access_token": …, "refresh_token": …} (stays hidden)`, maxImportBody)
	f[importBody].enterSubmits = true
	n := importModel{form: newForm(st, "IMPORT A TOKEN RESPONSE", "what login/refresh returned",
		"ctrl+s imports · tab moves · esc cancels", "importing…", f, importOrder)}
	n.setWidth(m.width)
	return n
}

// onKey drives the form; a valid one imports.
func (m *importModel) onKey(app *Model, msg tea.KeyMsg) tea.Cmd {
	var focus tea.Cmd
	if m.focus != importBody && looksLikeResponse(msg) {
		focus = m.focusOn(importBody)
	}
	ev, cmd := m.update(msg)
	switch ev {
	case formCancel:
		app.screen = screenList
		return nil
	case formSubmit:
		if sub := m.submit(); sub != nil {
			return tea.Batch(focus, cmd, app.importCmd(sub.name, sub.endpoints, sub.body))
		}
		return tea.Batch(focus, cmd, m.focusCmd())
	case formEdited:
		if m.focus == importBody {
			m.parse(app.now)
		}
	}
	return tea.Batch(focus, cmd)
}

// parse previews the pasted response. A saved response whose access token
// has expired is accepted while its refresh token lives, as the keeper's
// import (and `tokentop import`) accepts it.
func (m *importModel) parse(now time.Time) {
	m.preview, m.previewErr = nil, ""
	body := strings.TrimSpace(m.fields[importBody].input.Value())
	if body == "" {
		return
	}
	if ts, err := auth.ParseSavedTokenResponse([]byte(body), now); err != nil {
		m.previewErr = err.Error()
	} else {
		m.preview = &ts
	}
}

func (m *importModel) onMsg(*Model, tea.Msg) tea.Cmd { return nil }
func (m *importModel) keyMap(*Model) help.KeyMap     { return m.form.keyMap() }
func (m *importModel) typing() bool                  { return true }
func (m *importModel) view(app *Model, _, _ int) string {
	return m.form.view(func(i int) string { return m.below(i, app.now) }, "")
}

// below is what the form shows under the response: what it parsed.
func (m importModel) below(i int, now time.Time) string {
	if i != importBody {
		return ""
	}
	st := m.styles
	pad := strings.Repeat(" ", formIndent)
	switch {
	case m.preview != nil:
		ts := m.preview
		var b strings.Builder
		b.WriteString(pad + st.Good.Render(fmt.Sprintf("%d chars · %s · %s · org %d", len(m.fields[importBody].input.Value()),
			present.OrDash(safetext.Escape(ts.User.Email)), present.OrDash(auth.RoleName(ts.User.RoleID)), ts.User.OrgUnitID)) + "\n")
		// As `tokentop import` prints them: relative first, then the instant.
		expires := func(t time.Time) string {
			if !t.After(now) {
				return "expired " + timefmt.Relative(t, now) + " (" + timefmt.Absolute(t) + ")"
			}
			return "expires " + timefmt.Relative(t, now) + " (" + timefmt.Absolute(t) + ")"
		}
		b.WriteString(pad + st.Muted.Render(fmt.Sprintf("access %s · %s", auth.Fingerprint(ts.AccessToken), expires(ts.AccessExpiry))) + "\n")
		b.WriteString(pad + st.Muted.Render(fmt.Sprintf("refresh %s · %s", auth.Fingerprint(ts.RefreshToken), expires(ts.RefreshExpiry))))
		if !ts.AccessExpiry.IsZero() && !ts.AccessExpiry.After(now) {
			// `tokentop import`'s words; the keeper refreshes such a pair
			// as soon as it is saved.
			b.WriteString("\n" + messageLines(st.Warn, "The access token has already expired; tokentop refreshes it once imported.", formIndent, m.width))
		}
		return b.String()
	case m.previewErr != "":
		return errorLines(st, m.previewErr, formIndent, m.width)
	}
	return ""
}

// submit checks the form and returns the import to send, or nil with the
// errors shown.
func (m *importModel) submit() *importSubmit {
	if m.submitting {
		return nil
	}
	m.fields[importName].err = checkName(m.value(importName))
	body := m.value(importBody)
	if body == "" {
		m.fields[importBody].err = "paste the JSON the server returned from login or refresh"
	}
	if m.firstError() {
		return nil
	}
	if m.previewErr != "" {
		// The parse error is already shown under the response.
		m.focusOn(importBody)
		return nil
	}
	m.submitting, m.err = true, ""
	return &importSubmit{
		name:      m.value(importName),
		endpoints: auth.Endpoints{OAuthURL: m.value(importOAuth), APIURL: m.value(importAPI)},
		body:      []byte(body),
	}
}

// done takes the import's outcome.
func (m importModel) done(msg importDoneMsg) (importModel, tea.Cmd) {
	m.submitting = false
	err := msg.err
	switch {
	case err == nil:
		return m, nil
	case errors.Is(err, auth.ErrInvalidName):
		m.fields[importName].err = err.Error()
		m.focus = importName
	case urlError(err) != "":
		m.fields[importOAuth].err = urlError(err)
		m.focus = importOAuth
	case errors.Is(err, auth.ErrBadResponse):
		m.fields[importBody].err = err.Error()
		m.focus = importBody
	default:
		m.err = err.Error()
	}
	return m, m.focusCmd()
}
