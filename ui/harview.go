package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/tokentop/tokentop/har"
	"github.com/tokentop/tokentop/internal/safetext"
)

// The HAR view shows a har.Report in three panes: the timeline of OAuth
// exchanges, the tokens by fingerprint, and the findings. Every string it
// draws came from a customer's file, so each goes through safetext here,
// even where the analysis escaped it already: the view must stay inert
// whatever report it is handed.

const (
	paneTimeline = iota
	paneTokens
	paneFindings
	paneCount
)

func paneName(i int) string {
	switch i {
	case paneTimeline:
		return "Timeline"
	case paneTokens:
		return "Tokens"
	}
	return "Findings"
}

type harKeys struct {
	Up, Down, PgUp, PgDn, Top, Bottom key.Binding
	Next, Pane                        key.Binding
	Detail, Filter, Back, Help, Quit  key.Binding
}

func newHarKeys() harKeys {
	return harKeys{
		Up:     key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:   key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PgUp:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PgDn:   key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down")),
		Top:    key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g", "first")),
		Bottom: key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G", "last")),
		Next:   key.NewBinding(key.WithKeys("tab", "shift+tab"), key.WithHelp("tab", "next pane")),
		Pane:   key.NewBinding(key.WithKeys("1", "2", "3"), key.WithHelp("1/2/3", "timeline/tokens/findings")),
		Detail: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "details")),
		Filter: key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Back:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Help:   key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:   key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
}

func (k harKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.Next, k.Detail, k.Filter, k.Help, k.Quit}
}

func (k harKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PgUp, k.PgDn, k.Top, k.Bottom},
		{k.Next, k.Pane, k.Detail, k.Back},
		{k.Filter, k.Help, k.Quit},
	}
}

// harRow is one line of a pane and what enter shows for it.
type harRow struct {
	cells  string
	detail []string
}

// HarView is the report of one HAR file as a Bubble Tea model: `tokentop
// har FILE` runs it on its own.
type HarView struct {
	st     Styles
	keys   harKeys
	help   help.Model
	file   string
	rep    *har.Report
	header [paneCount]string
	rows   [paneCount][]harRow

	pane      int
	cursor    [paneCount]int
	offset    [paneCount]int
	filter    textinput.Model
	filtering bool
	applied   string
	detail    bool
	showHelp  bool
	// embedded: drawn inside the main TUI, whose footer shows the keys.
	embedded bool
	width    int
	height   int
}

// NewHarView is the view of rep, the analysis of file.
func NewHarView(st Styles, file string, rep *har.Report) *HarView {
	v := &HarView{st: st, keys: newHarKeys(), help: st.newHelp(), file: safetext.Escape(file), rep: rep, width: 80, height: 24}
	v.filter = textinput.New()
	v.filter.Prompt = "/"
	v.filter.CharLimit = 200
	st.styleTextInput(&v.filter)
	v.build()
	return v
}

func clockOf(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("15:04:05.000")
}

func harDash(s string) string {
	if s == "" {
		return "—"
	}
	return safetext.Escape(s)
}

func (v *HarView) build() {
	rep := v.rep
	v.header[paneTimeline] = fmt.Sprintf("%-4s %-12s %-7s %-6s %-3s %-17s %-17s %s", "#", "TIME", "KIND", "STATUS", "FAM", "SENT", "RECEIVED", "REQUEST ID")
	for _, x := range rep.Exchanges {
		sent := x.Sent
		if x.Kind == har.ExLogin {
			sent = x.Email
		}
		cells := fmt.Sprintf("%-4d %-12s %-7s %-6d %-3d %-17s %-17s %s", x.Index, clockOf(x.Time), harCell(safetext.Escape(x.Kind), 7), x.Status, x.Family,
			harCell(harDash(sent), 17), harCell(harDash(x.Refresh), 17), harDash(x.RequestID))
		d := []string{
			fmt.Sprintf("%s, entry %d at %s", safetext.Escape(x.Kind), x.Index, harDash(x.Time.UTC().Format(time.RFC3339Nano))),
			fmt.Sprintf("status %d in %s, family %d", x.Status, x.Duration.Round(time.Millisecond), x.Family),
			"request id: " + harDash(x.RequestID),
		}
		if x.Email != "" {
			d = append(d, "user: "+safetext.Escape(x.Email))
		}
		if x.Sent != "" {
			d = append(d, "sent: "+safetext.Escape(x.Sent))
		}
		if x.Access != "" || x.Refresh != "" {
			d = append(d, "received: access "+harDash(x.Access)+", refresh "+harDash(x.Refresh)+", frontend "+harDash(x.Frontend))
		}
		if x.RetryAfter != "" {
			d = append(d, "Retry-After: "+safetext.Escape(x.RetryAfter))
		}
		if x.Message != "" {
			d = append(d, "server said: "+safetext.Escape(x.Message))
		}
		v.rows[paneTimeline] = append(v.rows[paneTimeline], harRow{cells, d})
	}

	v.header[paneTokens] = fmt.Sprintf("%-16s %-8s %-12s %-12s %-7s %-12s %s", "FINGERPRINT", "KIND", "FIRST", "LAST", "ENTRIES", "EXPIRES", "STATE")
	for _, t := range rep.Tokens {
		exp := "—"
		if !t.Expiry.IsZero() {
			exp = t.Expiry.UTC().Format("01-02 15:04")
		}
		state := "in the file"
		if t.Sanitised {
			state = "placeholder"
		}
		if t.Probe != "" {
			state = safetext.Escape(t.Probe)
		}
		cells := fmt.Sprintf("%-16s %-8s %-12s %-12s %-7d %-12s %s", safetext.Escape(t.Fingerprint), safetext.Escape(string(t.Kind)),
			clockOf(t.First.Time), clockOf(t.Last.Time), t.Entries, exp, state)
		d := []string{
			fmt.Sprintf("%s token %s", safetext.Escape(string(t.Kind)), safetext.Escape(t.Fingerprint)),
			fmt.Sprintf("first seen: entry %d at %s, %s", t.First.Index, clockOf(t.First.Time), safetext.Escape(t.First.Where)),
			fmt.Sprintf("last seen: entry %d at %s, %s", t.Last.Index, clockOf(t.Last.Time), safetext.Escape(t.Last.Where)),
			fmt.Sprintf("in %d entries, family %d", t.Entries, t.Family),
		}
		if !t.Expiry.IsZero() {
			d = append(d, fmt.Sprintf("expires %s (from the %s)", t.Expiry.UTC().Format(time.RFC3339), safetext.Escape(t.ExpirySource)))
		}
		if t.IssuedBy != nil {
			d = append(d, fmt.Sprintf("issued by entry %d at %s", t.IssuedBy.Index, clockOf(t.IssuedBy.Time)))
		}
		d = append(d, "state: "+state)
		v.rows[paneTokens] = append(v.rows[paneTokens], harRow{cells, d})
	}

	v.header[paneFindings] = fmt.Sprintf("%-24s %s", "KIND", "SUMMARY")
	for _, f := range rep.Findings {
		cells := fmt.Sprintf("%-24s %s", safetext.Escape(f.Kind), safetext.Escape(f.Summary))
		d := []string{safetext.Escape(f.Kind), safetext.Escape(f.Summary), "proved by:"}
		for _, r := range f.Entries {
			d = append(d, fmt.Sprintf("  entry %d at %s", r.Index, clockOf(r.Time)))
		}
		if f.More > 0 {
			d = append(d, fmt.Sprintf("  and %d more", f.More))
		}
		v.rows[paneFindings] = append(v.rows[paneFindings], harRow{cells, d})
	}
}

// visible is the current pane's rows that match the filter.
func (v *HarView) visible() []harRow {
	q := v.applied
	if v.filtering {
		q = v.filter.Value()
	}
	rows := v.rows[v.pane]
	if q == "" {
		return rows
	}
	q = strings.ToLower(q)
	var out []harRow
	for _, r := range rows {
		if strings.Contains(strings.ToLower(r.cells), q) || strings.Contains(strings.ToLower(strings.Join(r.detail, "\n")), q) {
			out = append(out, r)
		}
	}
	return out
}

// Init starts nothing: the report is complete before the view opens.
func (v *HarView) Init() tea.Cmd { return nil }

// Update handles keys and resizes; nothing here blocks.
func (v *HarView) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		v.width, v.height = msg.Width, msg.Height
		v.help.Width = msg.Width
	case tea.KeyMsg:
		if v.onKey(msg) {
			return v, tea.Quit
		}
	}
	return v, nil
}

// onKey handles a key; true asks to leave the view.
func (v *HarView) onKey(msg tea.KeyMsg) bool {
	if msg.String() == "ctrl+c" {
		return true
	}
	if v.filtering {
		switch msg.String() {
		case "enter":
			v.filtering, v.applied = false, v.filter.Value()
			v.filter.Blur()
		case "esc":
			v.filtering, v.applied = false, ""
			v.filter.SetValue("")
			v.filter.Blur()
		default:
			v.filter, _ = v.filter.Update(msg)
		}
		v.cursor[v.pane], v.offset[v.pane] = 0, 0
		return false
	}
	if v.detail || v.showHelp {
		switch {
		case key.Matches(msg, v.keys.Quit):
			return true
		case key.Matches(msg, v.keys.Back), key.Matches(msg, v.keys.Detail), key.Matches(msg, v.keys.Help):
			v.detail, v.showHelp = false, false
		}
		return false
	}
	n := len(v.visible())
	page := max(1, v.listHeight()-1)
	c := &v.cursor[v.pane]
	switch {
	case key.Matches(msg, v.keys.Quit):
		return true
	case key.Matches(msg, v.keys.Up):
		*c--
	case key.Matches(msg, v.keys.Down):
		*c++
	case key.Matches(msg, v.keys.PgUp):
		*c -= page
	case key.Matches(msg, v.keys.PgDn):
		*c += page
	case key.Matches(msg, v.keys.Top):
		*c = 0
	case key.Matches(msg, v.keys.Bottom):
		*c = n - 1
	case key.Matches(msg, v.keys.Next):
		d := 1
		if msg.String() == "shift+tab" {
			d = paneCount - 1
		}
		v.pane = (v.pane + d) % paneCount
	case key.Matches(msg, v.keys.Pane):
		v.pane = int(msg.String()[0] - '1')
	case key.Matches(msg, v.keys.Detail):
		v.detail = n > 0
	case key.Matches(msg, v.keys.Filter):
		v.filtering = true
		v.filter.SetValue(v.applied)
		v.filter.Focus()
	case key.Matches(msg, v.keys.Back):
		v.applied = ""
		v.filter.SetValue("")
	case key.Matches(msg, v.keys.Help):
		v.showHelp = true
	}
	v.clamp()
	return false
}

func (v *HarView) clamp() {
	n := len(v.visible())
	c, o := &v.cursor[v.pane], &v.offset[v.pane]
	*c = max(0, min(*c, n-1))
	h := max(1, v.listHeight())
	if *c < *o {
		*o = *c
	}
	if *c >= *o+h {
		*o = *c - h + 1
	}
	*o = max(0, min(*o, max(0, n-h)))
}

// listHeight is the rows left for a pane's lines: title, tabs, column
// header, the filter or summary line and the help line take five.
func (v *HarView) listHeight() int {
	if v.embedded {
		return v.height - 4
	}
	return v.height - 5
}

func harFit(s string, w int) string {
	if ansi.StringWidth(s) > w {
		return ansi.Truncate(s, w, "…")
	}
	return s
}

// View draws the panes, or the details or help over them.
func (v *HarView) View() string {
	w, h := max(1, v.width), max(1, v.height)
	var lines []string
	rep := v.rep
	lines = append(lines, v.st.Title.Render(harFit("tokentop har  "+v.file, w)))
	var tabs []string
	for i := range paneCount {
		label := fmt.Sprintf("%d %s (%d)", i+1, paneName(i), len(v.rows[i]))
		if i == v.pane {
			tabs = append(tabs, v.st.Selected.Render("["+label+"]"))
		} else {
			tabs = append(tabs, v.st.Muted.Render(" "+label+" "))
		}
	}
	lines = append(lines, harFit(strings.Join(tabs, " ")+v.st.Muted.Render(fmt.Sprintf("  %d entries", rep.Entries)), w))
	lines = append(lines, v.st.ColumnHeader.Render(harFit(v.header[v.pane], w)))
	rows := v.visible()
	v.clamp()
	lh := max(0, v.listHeight())
	for i := v.offset[v.pane]; i < len(rows) && i < v.offset[v.pane]+lh; i++ {
		line := harFit(rows[i].cells, w)
		if i == v.cursor[v.pane] {
			line = v.st.Selected.Render(line + strings.Repeat(" ", max(0, w-ansi.StringWidth(line))))
		} else if v.pane == paneFindings {
			line = v.st.Warn.Render(line)
		}
		lines = append(lines, line)
	}
	if len(rows) == 0 {
		empty := "nothing here"
		if v.applied != "" || v.filtering {
			empty = "nothing matches the filter"
		} else if v.pane == paneFindings {
			empty = "no findings: nothing in this file went wrong"
		}
		lines = append(lines, v.st.Muted.Render(harFit(empty, w)))
	}
	foot := 2
	if v.embedded {
		foot = 1
	}
	for len(lines) < h-foot {
		lines = append(lines, "")
	}
	lines = lines[:max(0, h-foot)]
	switch {
	case v.filtering:
		lines = append(lines, harFit(v.filter.View(), w))
	case v.applied != "":
		lines = append(lines, v.st.Muted.Render(harFit(fmt.Sprintf("filter: %s (%d of %d; esc clears)", safetext.Escape(v.applied), len(rows), len(v.rows[v.pane])), w)))
	default:
		lines = append(lines, v.st.Muted.Render(harFit(v.summary(), w)))
	}
	if !v.embedded {
		lines = append(lines, harFit(v.help.ShortHelpView(v.keys.ShortHelp()), w))
	}
	body := strings.Join(lines[:min(len(lines), h)], "\n")

	switch {
	case v.showHelp:
		return overlay(body, v.st.Dialog.Render(v.helpText()), w, h)
	case v.detail && len(rows) > 0:
		// Wrapped to the frame, and cut to its height with a count of
		// what was left out: a finding may list twenty entries.
		var box []string
		for _, l := range rows[v.cursor[v.pane]].detail {
			box = append(box, strings.Split(ansi.Wrap(l, max(10, w-6), " "), "\n")...)
		}
		if room := max(1, h-7); len(box) > room {
			left := len(box) - room + 1
			box = append(box[:room-1], fmt.Sprintf("… %d more lines", left))
		}
		box = append(box, "", v.st.Muted.Render("esc or enter closes"))
		return overlay(body, v.st.Dialog.Render(strings.Join(box, "\n")), w, h)
	}
	return body
}

// harCell cuts s to a column of w cells, so one long value cannot push the
// columns after it out of line.
func harCell(s string, w int) string { return harFit(s, w) }

// helpText lists every key in one column: it fits the narrowest
// terminal, where the help bubble's columns would be cut.
func (v *HarView) helpText() string {
	var b strings.Builder
	b.WriteString(v.st.DialogTitle.Render("Keys"))
	for _, col := range v.keys.FullHelp() {
		for _, k := range col {
			hl := k.Help()
			fmt.Fprintf(&b, "\n%s %s", v.st.Key.Render(fmt.Sprintf("%-6s", hl.Key)), hl.Desc)
		}
	}
	return b.String()
}

func (v *HarView) summary() string {
	rep := v.rep
	raw := 0
	for _, n := range rep.Secrets {
		raw += n
	}
	s := fmt.Sprintf("%d tokens, %d exchanges in %d families, %d findings", len(rep.Tokens), len(rep.Exchanges), len(rep.Families), len(rep.Findings))
	if raw > 0 {
		s += fmt.Sprintf("; %d live-looking secrets in the file: share only a sanitised copy", raw)
	}
	return s
}
