package ui

import (
	"errors"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/safetext"
	"github.com/tokentop/tokentop/storage"
)

// field is one row of a form: a labelled text input with its inline error,
// or, with choices, a radio row chosen with ←/→.
type field struct {
	label string
	input textinput.Model
	err   string
	// choices make the row a radio choice instead of a text input.
	choices []string
	chosen  int
	// enterSubmits: enter on this field sends the form.
	enterSubmits bool
}

func newField(st *Styles, label, placeholder string, limit int) field {
	ti := textinput.New()
	ti.Prompt = ""
	ti.Placeholder = placeholder
	ti.CharLimit = limit
	st.styleTextInput(&ti)
	return field{label: label, input: ti}
}

// hiddenField is a field for a secret: nothing of it is drawn (not even
// its length, which bullets would give away).
func hiddenField(st *Styles, label, placeholder string, limit int) field {
	f := newField(st, label, placeholder, limit)
	f.input.EchoMode = textinput.EchoNone
	return f
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

// formLabelW is the width of a form's labels.
const formLabelW = 11

// formIndent is where a field's value (and what is said about it) starts.
const formIndent = formLabelW + 2

// form is what the login, import and raw-revoke forms share: fields in a
// tab order, the focus, inline errors, the keys, and the footer's states
// (a hint, the form's own error, or work in flight). Each form adds its
// own validation and what it shows under a field.
type form struct {
	styles          *Styles
	keys            formKeys
	title, subtitle string
	fields          []field
	order           []int // tab order: indices into fields
	focus           int   // index into fields
	err             string
	submitting      bool
	busy, hint      string // the footer while submitting, and otherwise
	// fillFirst: enter moves to the next empty field, and sends the form
	// once none is empty.
	fillFirst bool
	width     int
}

// formEvent is what a key did to a form.
type formEvent int

const (
	formNothing formEvent = iota
	formEdited            // a field's value or choice changed
	formCancel
	formSubmit
)

func newForm(st *Styles, title, subtitle, hint, busy string, fields []field, order []int) form {
	if order == nil {
		for i := range fields {
			order = append(order, i)
		}
	}
	return form{styles: st, keys: newFormKeys(), title: title, subtitle: subtitle, hint: hint, busy: busy,
		fields: fields, order: order, focus: order[0]}
}

// focused is the index of the field with the focus.
func (f form) focused() int { return f.focus }

// value is field i's text without surrounding space.
func (f form) value(i int) string { return strings.TrimSpace(f.fields[i].input.Value()) }

// step is the field d steps from the focus in tab order.
func (f form) step(d int) int {
	for j, i := range f.order {
		if i == f.focus {
			return f.order[(j+d+len(f.order))%len(f.order)]
		}
	}
	return f.order[0]
}

// focusOn moves the focus to field i.
func (f *form) focusOn(i int) tea.Cmd {
	f.focus = i
	return f.focusCmd()
}

// focusCmd gives the focused field the cursor and takes it from the rest.
func (f *form) focusCmd() tea.Cmd {
	var cmd tea.Cmd
	for i := range f.fields {
		if i == f.focus && f.fields[i].choices == nil {
			cmd = f.fields[i].input.Focus()
		} else {
			f.fields[i].input.Blur()
		}
	}
	return cmd
}

// firstError focuses the first field (in tab order) with an error and
// reports whether there was one.
func (f *form) firstError() bool {
	for _, i := range f.order {
		if f.fields[i].err != "" {
			f.focusOn(i)
			return true
		}
	}
	return false
}

func (f *form) setWidth(w int) {
	f.width = w
	for i := range f.fields {
		f.fields[i].input.Width = max(w-16, 10)
	}
}

// keyMap shows the choice keys only where they work.
func (f form) keyMap() help.KeyMap {
	k := f.keys
	k.Toggle.SetEnabled(f.fields[f.focus].choices != nil)
	return k
}

// update applies a key to the form and says what it did.
func (f *form) update(msg tea.KeyMsg) (formEvent, tea.Cmd) {
	cur := &f.fields[f.focus]
	switch {
	case key.Matches(msg, f.keys.Cancel):
		return formCancel, nil
	case key.Matches(msg, f.keys.Submit):
		return formSubmit, nil
	case msg.Type == tea.KeyEnter && cur.enterSubmits:
		return formSubmit, nil
	case msg.Type == tea.KeyEnter && f.fillFirst:
		for d := 1; d <= len(f.order); d++ {
			if i := f.step(d); f.fields[i].choices == nil && f.fields[i].input.Value() == "" {
				return formNothing, f.focusOn(i)
			}
		}
		return formSubmit, nil
	case msg.Type == tea.KeyEnter, key.Matches(msg, f.keys.Next):
		return formNothing, f.focusOn(f.step(1))
	case key.Matches(msg, f.keys.Prev):
		return formNothing, f.focusOn(f.step(-1))
	case cur.choices != nil:
		if key.Matches(msg, f.keys.Toggle) {
			d := 1
			if msg.Type == tea.KeyLeft {
				d = len(cur.choices) - 1
			}
			cur.chosen = (cur.chosen + d) % len(cur.choices)
			return formEdited, nil
		}
		return formNothing, nil
	}
	before := cur.input.Value()
	var cmd tea.Cmd
	cur.input, cmd = cur.input.Update(msg)
	if cur.input.Value() == before {
		return formNothing, cmd
	}
	cur.err = ""
	return formEdited, cmd
}

// view draws the title, the fields in tab order (after(i) adds lines
// under field i: a preview of what was pasted) and the footer (footer
// replaces the usual one when not "").
func (f form) view(after func(i int) string, footer string) string {
	st := f.styles
	var b strings.Builder
	b.WriteString(st.Section.Render(f.title))
	b.WriteString(st.Muted.Render("  " + f.subtitle))
	b.WriteString("\n\n")
	for _, i := range f.order {
		b.WriteString(f.fieldView(i))
		b.WriteByte('\n')
		if after != nil {
			if s := after(i); s != "" {
				b.WriteString(s)
				b.WriteByte('\n')
			}
		}
	}
	b.WriteByte('\n')
	switch {
	case f.submitting:
		b.WriteString(st.Muted.Render("  " + f.busy))
	case footer != "":
		b.WriteString(footer)
	case f.err != "":
		b.WriteString(messageLines(st.Bad, f.err, 2, f.width))
	default:
		b.WriteString(messageLines(st.Muted, f.hint, 2, f.width))
	}
	return b.String()
}

// fieldView renders field i: marker, label, input (or choices), and its
// error under it.
func (f form) fieldView(i int) string {
	st := f.styles
	fl := f.fields[i]
	focused := i == f.focus
	label, marker := st.Label, "  "
	if focused {
		label, marker = st.LabelFocus, "▸ "
	}
	s := marker + label.Render(fit(fl.label, formLabelW))
	if fl.choices != nil {
		// A radio row, the chosen one marked in words too.
		for j, c := range fl.choices {
			if j > 0 {
				s += "   "
			}
			if j == fl.chosen {
				s += st.Key.Render("(•) " + c)
			} else {
				s += st.Muted.Render("( ) " + c)
			}
		}
		if focused {
			s += st.Muted.Render("   ←/→ to choose")
		}
	} else {
		s += fl.input.View()
	}
	if fl.err != "" {
		s += "\n" + errorLines(st, fl.err, formIndent, f.width)
	}
	return s
}

// checkName is storage's rule for session names, so the form says what is
// wrong before anything is sent.
func checkName(name string) string {
	switch {
	case name == "":
		return "give the session a name, e.g. acme-prod"
	case storage.ValidateName(name) == nil:
	case name[0] == '.' || name[0] == '-':
		return "start with a letter, a digit or '_'"
	default:
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
		// Wrapping pads lines to the width; a wide terminal need not get
		// a line of spaces out to its edge.
		lines[i] = strings.Repeat(" ", indent) + strings.TrimRight(lines[i], " ")
	}
	return strings.Join(lines, "\n")
}
