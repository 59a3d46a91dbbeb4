package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/present"
	"github.com/tokentop/tokentop/internal/safetext"
)

// keyMap is the help for whatever has the keyboard.
func (m Model) keyMap() help.KeyMap {
	if m.dialog != nil {
		return m.dialog.keyMap()
	}
	return m.active().keyMap(&m)
}

// bodyHeight is what is left for the screen between header and footer.
func (m Model) bodyHeight() int {
	h := m.height - 2 // header, status
	if m.gapShown() {
		h--
	}
	if m.helpShown() {
		h -= lipgloss.Height(m.helpView())
	}
	if m.banner != nil {
		h -= lipgloss.Height(m.bannerView())
		if m.gapShown() {
			h--
		}
	}
	return max(h, 1)
}

// On short terminals the blank line under the header, then the help line,
// give their room to the sessions.
func (m Model) gapShown() bool { return m.height >= 12 }

func (m Model) helpShown() bool { return m.height >= 7 || m.help.ShowAll }

// relayout gives every screen its size after anything that changes it.
func (m *Model) relayout() {
	m.help.Width = m.width
	h := m.bodyHeight()
	m.list.setSize(m.width, h)
	if m.screen == screenDetail {
		if m.detail.setSize(m.width, h) {
			m.detail.refreshContent(m.now, m.loc)
		}
	}
	m.login.setWidth(m.width)
	m.imp.setWidth(m.width)
	m.raw.setWidth(m.width)
	m.har.setWidth(m.width)
}

// View draws header, banner, the active screen (or a dialog over it),
// status line and help. It reads the time only from the model.
func (m Model) View() string {
	if m.quitting {
		return ""
	}
	if m.height <= 2 {
		// No room for a screen: say where we are and the latest news.
		v := m.headerView()
		if m.height == 2 {
			v += "\n" + m.statusView()
		}
		return v
	}
	var b strings.Builder
	b.WriteString(m.headerView())
	b.WriteByte('\n')
	if m.gapShown() {
		b.WriteByte('\n')
	}
	if m.banner != nil {
		b.WriteString(m.bannerView())
		b.WriteByte('\n')
		if m.gapShown() {
			b.WriteByte('\n') // the banner is not the table's first row
		}
	}
	bh := m.bodyHeight()
	body := padLines(m.screenView(), m.width, bh)
	// A dialog goes over the screen it is about: the row being revoked
	// or the form being sent stays in sight around it.
	if m.dialog != nil {
		body = overlay(body, m.dialog.view(m.width, bh), m.width, bh)
	}
	b.WriteString(body)
	b.WriteByte('\n')
	b.WriteString(m.statusView())
	if m.helpShown() {
		b.WriteByte('\n')
		b.WriteString(m.helpView())
	}
	return fitHeight(b.String(), m.height)
}

// fitHeight keeps the first line (the header) and the last n-1 lines of a
// frame taller than the terminal (the full help on a short one): a frame
// taller than the screen would scroll it.
func fitHeight(v string, n int) string {
	lines := strings.Split(v, "\n")
	if len(lines) <= n {
		return v
	}
	return strings.Join(append(lines[:1:1], lines[len(lines)-(n-1):]...), "\n")
}

func (m Model) screenView() string {
	return m.active().view(&m, m.width, m.bodyHeight())
}

// padLines cuts or pads s to exactly n lines of at most w cells, so the
// footer stays put and no line wraps (a wrapped line scrolls the screen).
func padLines(s string, w, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	for i, l := range lines {
		if ansi.StringWidth(l) > w {
			lines[i] = ansi.Truncate(l, w, "…")
		}
	}
	for len(lines) < n {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

func (m Model) headerView() string {
	st := m.styles
	sep := st.Muted.Render(" · ")
	n := len(m.sessions)
	count := fmt.Sprintf("%d sessions", n)
	if n == 1 {
		count = "1 session"
	}
	// Two wordings: the full one, and a compact one for narrow terminals
	// that still names the storage backend, the skew and the demo URL.
	for _, compact := range []bool{false, true} {
		parts := []string{st.Title.Render("tokentop")}
		if m.demoURL != "" {
			label := "demo emulator "
			if compact {
				label = "demo "
			}
			parts = append(parts, st.Accent.Render(label+m.demoURL))
		}
		switch backend := m.store.Backend(); {
		case backend == "file" && compact:
			parts = append(parts, st.Warn.Render("FILE storage"))
		case backend == "file":
			parts = append(parts, st.Warn.Render("storage: FILE (secrets in a plain 0600 file)"))
		case compact:
			parts = append(parts, st.HeaderInfo.Render(backend))
		default:
			parts = append(parts, st.HeaderInfo.Render("storage: "+backend))
		}
		if !m.disconnected.IsZero() {
			label := m.store.Backend() + " disconnected"
			if !compact {
				label += " (since " + clock(m.disconnected, m.loc) + "), retrying"
			}
			parts = append(parts, st.Warn.Render(label))
		}
		if m.secretsErr != nil {
			if compact {
				parts = append(parts, st.Warn.Render("keyring unavailable"))
			} else {
				parts = append(parts, st.Warn.Render("keyring unavailable: "+safetext.Escape(m.secretsErr.Error())))
			}
		}
		if auth.SkewNotable(m.skew) {
			parts = append(parts, st.Warn.Render("server clock "+present.SkewWords(m.skew)))
		}
		full := strings.Join(append(parts, st.HeaderInfo.Render(count)), sep)
		if ansi.StringWidth(full) <= m.width {
			return full
		}
		if short := strings.Join(parts, sep); compact && ansi.StringWidth(short) <= m.width {
			return short
		}
		if compact {
			return ansi.Truncate(strings.Join(parts, sep), m.width, "…")
		}
	}
	return ""
}

func (m Model) bannerView() string {
	if m.banner == nil {
		return ""
	}
	return m.styles.Banner.Width(m.width).Render("⚠ REUSE SUSPECTED  " + m.banner.text)
}

func (m Model) statusView() string {
	st := m.styles
	if m.status.text == "" {
		return ansi.Truncate(st.Muted.Render("Ready. Press ? for all keys."), m.width, "…")
	}
	style := st.Status
	switch m.status.urg {
	case urgencyNow:
		style = st.StatusError
	case urgencySoon:
		style = st.Warn
	case urgencyMuted:
		style = st.Muted
	}
	// The status line quotes events and errors: escaped as it is drawn.
	return ansi.Truncate(style.Render(safetext.Escape(m.status.text)), m.width, "…")
}

func (m Model) helpView() string {
	km := m.keyMap()
	if m.help.ShowAll {
		// The full view drops whole columns that do not fit; on a narrow
		// terminal flow every binding into lines instead, so none is lost.
		wide := m.help
		wide.Width = 0
		if lipgloss.Width(wide.View(km)) > m.width {
			return m.flowHelp(km)
		}
	}
	if !m.help.ShowAll {
		return m.shortHelp(km)
	}
	// bubbles' help overruns its Width when even the "…" would not fit
	// after an item, so cut the lines ourselves.
	lines := strings.Split(m.help.View(km), "\n")
	for i, l := range lines {
		if ansi.StringWidth(l) > m.width {
			lines[i] = ansi.Truncate(l, m.width, "…")
		}
	}
	return strings.Join(lines, "\n")
}

// shortHelp is the footer: the screen's short bindings, dropping from the
// middle when they do not fit. The last two (help and quit, or cancel and
// quit in a form) always stay: cutting from the end hid the way to the
// rest of the keys and the way out on narrow terminals.
func (m Model) shortHelp(km help.KeyMap) string {
	st := m.help.Styles
	var items []string
	for _, b := range km.ShortHelp() {
		if b.Enabled() {
			items = append(items, st.ShortKey.Render(b.Help().Key)+" "+st.ShortDesc.Render(b.Help().Desc))
		}
	}
	sep := st.ShortSeparator.Render(" • ")
	pinned := min(2, len(items))
	for {
		line := strings.Join(items, sep)
		if ansi.StringWidth(line) <= m.width || len(items) <= pinned {
			return ansi.Truncate(line, m.width, "…")
		}
		cut := len(items) - pinned - 1 // the last unpinned item
		items = append(items[:cut], items[cut+1:]...)
	}
}

// flowHelp lays out every enabled binding as "key desc" items, as many to
// a line as fit.
func (m Model) flowHelp(km help.KeyMap) string {
	st := m.help.Styles
	sep := st.ShortSeparator.Render(" • ")
	var lines []string
	line, lw := "", 0
	for _, group := range km.FullHelp() {
		for _, b := range group {
			if !b.Enabled() {
				continue
			}
			item := st.ShortKey.Render(b.Help().Key) + " " + st.ShortDesc.Render(b.Help().Desc)
			iw := lipgloss.Width(item)
			switch {
			case lw == 0:
				line, lw = item, iw
			case lw+3+iw <= m.width:
				line, lw = line+sep+item, lw+3+iw
			default:
				lines = append(lines, line)
				line, lw = item, iw
			}
		}
	}
	if lw > 0 {
		lines = append(lines, line)
	}
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, m.width, "…")
	}
	return strings.Join(lines, "\n")
}
