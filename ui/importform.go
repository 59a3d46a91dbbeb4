package ui

import (
	"errors"
	"strings"

	"fmt"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/safetext"
	"github.com/tokentop/tokentop/internal/timefmt"
)

// Import form fields; importOrder is the tab order.
const (
	importName = iota
	importOAuth
	importAPI
	importBody // the pasted response (hidden)
	importFields
)

// importStep is the field d steps from focus in tab order: the name, then
// the response (what everyone pastes), then the URLs (which the defaults
// usually get right).
func importStep(focus, d int) int {
	order := [importFields]int{importName, importBody, importOAuth, importAPI}
	for i, f := range order {
		if f == focus {
			return order[(i+d+importFields)%importFields]
		}
	}
	return importName
}

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
	styles     *Styles
	keys       formKeys
	fields     []field // name and URLs
	body       textinput.Model
	bodyErr    string
	preview    *auth.TokenSet // parsed from body as it is pasted
	previewErr string
	focus      int
	err        string
	submitting bool
	cancelled  bool
	width      int
}

func newImportModel(st *Styles, ep auth.Endpoints) importModel {
	m := importModel{styles: st, keys: newFormKeys()}
	return m.reset(ep)
}

func (m importModel) reset(ep auth.Endpoints) importModel {
	st := m.styles
	f := make([]field, importBody)
	f[importName] = newField(st, "Name", "a short name, e.g. customer-1234", 64)
	f[importOAuth], f[importAPI] = urlFields(st, ep)
	body := textinput.New()
	st.styleTextInput(&body)
	body.Prompt = ""
	body.EchoMode = textinput.EchoNone
	body.CharLimit = maxImportBody
	body.Placeholder = `paste {"access_token": …, "refresh_token": …} (stays hidden)`
	n := importModel{styles: st, keys: m.keys, fields: f, body: body, width: m.width}
	n.setWidth(m.width)
	return n
}

func (m *importModel) setWidth(w int) {
	m.width = w
	for i := range m.fields {
		m.fields[i].input.Width = max(w-16, 10)
	}
	m.body.Width = max(w-16, 10)
}

func (m *importModel) focusCmd() tea.Cmd {
	if m.focus == importBody {
		focusFields(m.fields, -1)
		return m.body.Focus()
	}
	m.body.Blur()
	focusFields(m.fields, m.focus)
	return nil
}

// update handles a key; ctrl+s (or enter on the response) imports.
func (m importModel) update(msg tea.KeyMsg, now time.Time) (importModel, *importSubmit, tea.Cmd) {
	switch {
	case key.Matches(msg, m.keys.Cancel):
		m.cancelled = true
		return m, nil, nil
	case key.Matches(msg, m.keys.Submit), msg.Type == tea.KeyEnter && m.focus == importBody:
		return m.submit()
	case msg.Type == tea.KeyEnter, key.Matches(msg, m.keys.Next):
		m.focus = importStep(m.focus, 1)
		return m, nil, m.focusCmd()
	case key.Matches(msg, m.keys.Prev):
		m.focus = importStep(m.focus, -1)
		return m, nil, m.focusCmd()
	}
	var cmd tea.Cmd
	if m.focus != importBody && looksLikeResponse(msg) {
		m.focus = importBody
		cmd = m.focusCmd()
	}
	if m.focus == importBody {
		focus := cmd
		before := m.body.Value()
		m.body, cmd = m.body.Update(msg)
		if v := m.body.Value(); v != before {
			m.bodyErr = ""
			m.preview, m.previewErr = nil, ""
			if body := strings.TrimSpace(v); body != "" {
				// As the keeper's import does: a saved response whose access
				// token has expired is fine while its refresh token lives.
				if ts, err := auth.ParseSavedTokenResponse([]byte(body), now); err != nil {
					m.previewErr = err.Error()
				} else {
					m.preview = &ts
				}
			}
		}
		return m, nil, tea.Batch(focus, cmd)
	}
	f := &m.fields[m.focus]
	f.input, cmd = f.input.Update(msg)
	f.err = ""
	return m, nil, cmd
}

func (m importModel) submit() (importModel, *importSubmit, tea.Cmd) {
	if m.submitting {
		return m, nil, nil
	}
	val := func(i int) string { return strings.TrimSpace(m.fields[i].input.Value()) }
	m.fields[importName].err = checkName(val(importName))
	body := strings.TrimSpace(m.body.Value())
	if body == "" {
		m.bodyErr = "paste the JSON the server returned from login or refresh"
	}
	if m.fields[importName].err != "" {
		m.focus = importName
		return m, nil, m.focusCmd()
	}
	if m.bodyErr != "" || m.previewErr != "" {
		// The parse error is already shown under the response.
		m.focus = importBody
		return m, nil, m.focusCmd()
	}
	m.submitting, m.err = true, ""
	return m, &importSubmit{
		name:      val(importName),
		endpoints: auth.Endpoints{OAuthURL: val(importOAuth), APIURL: val(importAPI)},
		body:      []byte(body),
	}, nil
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
		m.bodyErr = err.Error()
		m.focus = importBody
	default:
		m.err = err.Error()
	}
	return m, m.focusCmd()
}

func (m importModel) view(now time.Time) string {
	st := m.styles
	var b strings.Builder
	b.WriteString(st.Section.Render("IMPORT A TOKEN RESPONSE"))
	b.WriteString(st.Muted.Render("  what login/refresh returned"))
	b.WriteString("\n\n")
	b.WriteString(fieldView(st, m.fields[importName], m.focus == importName, 11, m.width))
	b.WriteByte('\n')
	label := st.Label
	marker := "  "
	if m.focus == importBody {
		label, marker = st.LabelFocus, "▸ "
	}
	b.WriteString(marker + label.Render(fit("Response", 11)) + m.body.View() + "\n")
	const indent = 13
	pad := strings.Repeat(" ", indent)
	switch {
	case m.preview != nil:
		ts := m.preview
		b.WriteString(pad + st.Good.Render(fmt.Sprintf("%d chars · %s · %s · org %d", len(m.body.Value()),
			orDash(safetext.Escape(ts.User.Email)), orDash(auth.RoleName(ts.User.RoleID)), ts.User.OrgUnitID)) + "\n")
		// As `tokentop import` prints them: relative first, then the instant.
		expires := func(t time.Time) string {
			if !t.After(now) {
				return "expired " + timefmt.Relative(t, now) + " (" + timefmt.Absolute(t) + ")"
			}
			return "expires " + timefmt.Relative(t, now) + " (" + timefmt.Absolute(t) + ")"
		}
		b.WriteString(pad + st.Muted.Render(fmt.Sprintf("access %s · %s", auth.Fingerprint(ts.AccessToken), expires(ts.AccessExpiry))) + "\n")
		b.WriteString(pad + st.Muted.Render(fmt.Sprintf("refresh %s · %s", auth.Fingerprint(ts.RefreshToken), expires(ts.RefreshExpiry))) + "\n")
		if !ts.AccessExpiry.IsZero() && !ts.AccessExpiry.After(now) {
			// `tokentop import`'s words; the keeper refreshes such a pair
			// as soon as it is saved.
			b.WriteString(messageLines(st.Warn, "The access token has already expired; tokentop refreshes it once imported.", indent, m.width) + "\n")
		}
	case m.previewErr != "":
		b.WriteString(errorLines(st, m.previewErr, indent, m.width) + "\n")
	}
	if m.bodyErr != "" {
		b.WriteString(errorLines(st, m.bodyErr, 13, m.width) + "\n")
	}
	for _, i := range []int{importOAuth, importAPI} {
		b.WriteString(fieldView(st, m.fields[i], m.focus == i, 11, m.width))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	switch {
	case m.submitting:
		b.WriteString(st.Muted.Render("  importing…"))
	case m.err != "":
		b.WriteString(messageLines(st.Bad, m.err, 2, m.width))
	default:
		b.WriteString(st.Muted.Render("  ctrl+s imports · tab moves · esc cancels"))
	}
	return b.String()
}
