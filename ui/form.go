package ui

import (
	"errors"
	"regexp"
	"strings"

	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/lipgloss"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/safetext"
)

// field is one labelled text input with its inline error.
type field struct {
	label string
	input textinput.Model
	err   string
}

func newField(st *Styles, label, placeholder string, limit int) field {
	ti := textinput.New()
	ti.Prompt = ""
	ti.Placeholder = placeholder
	ti.CharLimit = limit
	st.styleTextInput(&ti)
	return field{label: label, input: ti}
}

// urlFields are the OAuth and API base URL fields of a form, prefilled
// with ep (in demo, the emulator's URLs).
func urlFields(st *Styles, ep auth.Endpoints) (oauth, api field) {
	oauth = newField(st, "OAuth URL", auth.DefaultOAuthURL, 2048)
	oauth.input.SetValue(ep.OAuthURL)
	api = newField(st, "API URL", auth.DefaultAPIURL, 2048)
	api.input.SetValue(ep.APIURL)
	return oauth, api
}

// fieldView renders a field: label, input, and its error under it.
func fieldView(st *Styles, f field, focused bool, labelW, width int) string {
	label := st.Label
	marker := "  "
	if focused {
		label = st.LabelFocus
		marker = "▸ "
	}
	s := marker + label.Render(fit(f.label, labelW)) + f.input.View()
	if f.err != "" {
		s += "\n" + errorLines(st, f.err, labelW+2, width)
	}
	return s
}

// namePattern mirrors storage's rule for session names, so the form can
// say what is wrong before anything is sent.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func checkName(name string) string {
	switch {
	case name == "":
		return "give the session a name, e.g. acme-prod"
	case !namePattern.MatchString(name):
		return "use 1-64 letters, digits, '.', '_' or '-'"
	}
	return ""
}

// urlError says which URL an endpoint error is about (for its inline
// error), or "" when err is not about URLs.
func urlError(err error) string {
	if errors.Is(err, auth.ErrInsecureURL) || errors.Is(err, auth.ErrInvalidURL) {
		return err.Error()
	}
	return ""
}

// focusField focuses fields[i] and blurs the rest.
func focusFields(fields []field, i int) {
	for j := range fields {
		if j == i {
			fields[j].input.Focus()
		} else {
			fields[j].input.Blur()
		}
	}
}

// errorLines renders an inline error under a field, indented and wrapped
// to the width (an error cut off mid-sentence would not say what to do).
func errorLines(st *Styles, msg string, indent, width int) string {
	return messageLines(st.FieldError, "✗ "+msg, indent, width)
}

// messageLines renders msg in style, indented and wrapped to the width.
// Messages quote errors, which quote servers and files: escaped here, once
// for every form, keeping the line breaks of joined errors.
func messageLines(style lipgloss.Style, msg string, indent, width int) string {
	w := max(width-indent, 20)
	lines := strings.Split(style.Width(w).Render(safetext.Lines(msg)), "\n")
	for i := range lines {
		lines[i] = strings.Repeat(" ", indent) + lines[i]
	}
	return strings.Join(lines, "\n")
}
