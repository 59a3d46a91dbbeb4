package ui

import (
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/lipgloss"
)

// Styles is every style the UI uses, built once from one renderer and passed
// in, so colours follow the terminal the program actually writes to (and
// tests can use an ASCII renderer without touching lipgloss' global state).
type Styles struct {
	r *lipgloss.Renderer

	App        lipgloss.Style
	Title      lipgloss.Style
	HeaderInfo lipgloss.Style
	Warn       lipgloss.Style
	Bad        lipgloss.Style
	Good       lipgloss.Style
	Muted      lipgloss.Style
	Accent     lipgloss.Style

	ColumnHeader lipgloss.Style
	Selected     lipgloss.Style
	BarFull      lipgloss.Style
	BarEmpty     lipgloss.Style

	Banner      lipgloss.Style
	Status      lipgloss.Style
	StatusError lipgloss.Style

	Dialog      lipgloss.Style
	DialogTitle lipgloss.Style
	Button      lipgloss.Style
	ButtonFocus lipgloss.Style

	Label      lipgloss.Style
	LabelFocus lipgloss.Style
	FieldError lipgloss.Style
	Section    lipgloss.Style
	Key        lipgloss.Style

	Help help.Styles

	// Pre-rendered escape sequences of the list's per-cell styles.
	urgencyPaint [urgencyMuted + 1]paint
	barEmpty     paint
	colHeader    paint
	selected     paint
}

// paint is a style reduced to the escape sequences around its text. The
// list paints a few hundred cells a frame; lipgloss' Render (which resolves
// adaptive colours and measures text each time) costs most of a frame, and
// these cells need nothing but colour.
type paint struct{ pre, post string }

func newPaint(st lipgloss.Style) paint {
	const mark = "\uE000" // a private-use rune: never in our own text
	pre, post, ok := strings.Cut(st.Render(mark), mark)
	if !ok {
		return paint{}
	}
	return paint{pre: pre, post: post}
}

func (p paint) render(s string) string {
	if p.pre == "" && p.post == "" {
		return s
	}
	return p.pre + s + p.post
}

// NewStyles builds the styles for renderer r. A renderer whose colour profile
// is ASCII (NO_COLOR, a dumb terminal, or tests) renders plain text; every
// state is then still told apart by words and markers, never colour alone.
func NewStyles(r *lipgloss.Renderer) Styles {
	s := Styles{r: r}
	// Adaptive pairs: (light background, dark background).
	colorFg := lipgloss.AdaptiveColor{Light: "#1F1F1F", Dark: "#E4E4E4"}
	colorMuted := lipgloss.AdaptiveColor{Light: "#7A7A7A", Dark: "#8A8A8A"}
	colorSubtle := lipgloss.AdaptiveColor{Light: "#8F8F8F", Dark: "#6C6C6C"}
	colorFaint := lipgloss.AdaptiveColor{Light: "#C8C8C8", Dark: "#444444"}
	colorAccent := lipgloss.AdaptiveColor{Light: "#5A3FD6", Dark: "#A58BFF"}
	colorGood := lipgloss.AdaptiveColor{Light: "#1A7F37", Dark: "#56D364"}
	colorWarn := lipgloss.AdaptiveColor{Light: "#9A6700", Dark: "#E3B341"}
	colorBad := lipgloss.AdaptiveColor{Light: "#CF222E", Dark: "#FF7B72"}
	colorSelBg := lipgloss.AdaptiveColor{Light: "#E7E1FF", Dark: "#2E2650"}
	colorOnBad := lipgloss.AdaptiveColor{Light: "#FFFFFF", Dark: "#1F1F1F"}
	ns := r.NewStyle
	s.App = ns()
	s.Title = ns().Bold(true).Foreground(colorAccent)
	s.HeaderInfo = ns().Foreground(colorMuted)
	s.Warn = ns().Foreground(colorWarn)
	s.Bad = ns().Foreground(colorBad)
	s.Good = ns().Foreground(colorGood)
	s.Muted = ns().Foreground(colorMuted)
	s.Accent = ns().Foreground(colorAccent)

	s.ColumnHeader = ns().Bold(true).Foreground(colorMuted)
	s.Selected = ns().Background(colorSelBg).Bold(true)
	s.BarFull = ns().Foreground(colorAccent)
	s.BarEmpty = ns().Foreground(colorFaint)

	s.Banner = ns().Bold(true).Foreground(colorOnBad).Background(colorBad).Padding(0, 1)
	s.Status = ns().Foreground(colorFg)
	s.StatusError = ns().Foreground(colorBad)

	s.Dialog = ns().Border(lipgloss.RoundedBorder()).BorderForeground(colorAccent).Padding(1, 2)
	s.DialogTitle = ns().Bold(true)
	s.Button = ns().Foreground(colorMuted).Padding(0, 1)
	s.ButtonFocus = ns().Bold(true).Foreground(colorOnBad).Background(colorAccent).Padding(0, 1)

	s.Label = ns().Foreground(colorMuted)
	s.LabelFocus = ns().Foreground(colorAccent).Bold(true)
	s.FieldError = ns().Foreground(colorBad)
	s.Section = ns().Bold(true).Foreground(colorAccent)
	s.Key = ns().Foreground(colorFg).Bold(true)

	// Help recedes but stays readable: faint (#C8C8C8 on white, #444 on
	// black) is for separators and the bar's empty part, not for words.
	keyStyle := ns().Foreground(colorMuted)
	descStyle := ns().Foreground(colorSubtle)
	sepStyle := ns().Foreground(colorFaint)
	for u := range s.urgencyPaint {
		s.urgencyPaint[u] = newPaint(s.urgent(urgency(u)))
	}
	s.barEmpty = newPaint(s.BarEmpty)
	s.colHeader = newPaint(s.ColumnHeader)
	s.selected = newPaint(s.Selected)

	s.Help = help.Styles{
		Ellipsis:       sepStyle,
		ShortKey:       keyStyle,
		ShortDesc:      descStyle,
		ShortSeparator: sepStyle,
		FullKey:        keyStyle,
		FullDesc:       descStyle,
		FullSeparator:  sepStyle,
	}
	return s
}

// newHelp returns a help model drawn with these styles.
func (s Styles) newHelp() help.Model {
	h := help.New()
	h.Styles = s.Help
	return h
}

// styleTextInput replaces the default (global-renderer) styles of a text
// input with ours, and makes its cursor steady: a blinking cursor would
// redraw the screen twice a second for nothing.
func (s Styles) styleTextInput(ti *textinput.Model) {
	ti.PromptStyle = s.Accent
	ti.TextStyle = s.r.NewStyle()
	ti.PlaceholderStyle = s.Muted
	ti.CompletionStyle = s.Muted
	ti.Cursor.Style = s.r.NewStyle().Reverse(true)
	ti.Cursor.TextStyle = s.r.NewStyle()
	_ = ti.Cursor.SetMode(cursor.CursorStatic) // a static cursor needs no command
}
