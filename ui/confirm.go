package ui

import (
	"fmt"
	"strings"

	"github.com/tokentop/tokentop/internal/present"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/tokentop/tokentop/auth"
)

// confirmModel asks before something that cannot be undone. "No" has the
// focus at first, so a stray enter never destroys anything.
type confirmModel struct {
	styles   *Styles
	keys     confirmKeys
	title    string
	body     string
	yesLabel string
	yesFocus bool
	onYes    tea.Cmd
}

func newConfirmModel(st *Styles, title, body, yesLabel string, onYes tea.Cmd) confirmModel {
	return confirmModel{styles: st, keys: newConfirmKeys(), title: title, body: body, yesLabel: yesLabel, onYes: onYes}
}

// onKey reports whether the dialog is finished, and the command to run
// (the confirmed action, or nothing).
func (c *confirmModel) onKey(_ *Model, msg tea.KeyMsg) (bool, tea.Cmd) {
	switch {
	case key.Matches(msg, c.keys.Yes):
		return true, c.onYes
	case key.Matches(msg, c.keys.No):
		return true, nil
	case key.Matches(msg, c.keys.Switch):
		c.yesFocus = !c.yesFocus
	case key.Matches(msg, c.keys.Choose):
		if c.yesFocus {
			return true, c.onYes
		}
		return true, nil
	}
	return false, nil
}

func (c *confirmModel) keyMap() help.KeyMap { return c.keys }

func (c *confirmModel) view(width, height int) string {
	st := c.styles
	compact := width < 60 || height < 14
	w := min(max(width-8, 20), 64)
	if compact {
		w = max(width-6, 16)
	}
	no, yes := st.ButtonFocus, st.Button
	noLabel, yesLabel := "[ No ]", "  "+c.yesLabel+"  "
	if c.yesFocus {
		no, yes = st.Button, st.ButtonFocus
		noLabel, yesLabel = "  No  ", "[ "+c.yesLabel+" ]"
	}
	buttons := lipgloss.JoinHorizontal(lipgloss.Top, no.Render(noLabel), "  ", yes.Render(yesLabel))
	if compact {
		// Every line counts: no blank lines, no hint (the help line has it).
		inner := st.DialogTitle.Render(c.title) + "\n" + st.r.NewStyle().Width(w).Render(c.body) + "\n" + buttons
		return st.Dialog.Padding(0, 1).Render(inner)
	}
	inner := st.DialogTitle.Render(c.title) + "\n\n" +
		st.r.NewStyle().Width(w).Render(c.body) + "\n\n" +
		buttons + "   " + st.Muted.Render("y yes · n no")
	return st.Dialog.Render(inner)
}

// copyModel is the small menu that picks which token to copy.
type copyModel struct {
	styles  *Styles
	keys    copyKeys
	name    string
	session auth.Session
}

func newCopyModel(st *Styles, se auth.Session) copyModel {
	return copyModel{styles: st, keys: newCopyKeys(), name: se.Name, session: se}
}

// onKey copies what the key picks (through the root) and reports whether
// the menu is done.
func (c *copyModel) onKey(app *Model, msg tea.KeyMsg) (bool, tea.Cmd) {
	what := ""
	switch {
	case key.Matches(msg, c.keys.Access):
		what = copyAccess
	case key.Matches(msg, c.keys.Refresh):
		what = copyRefresh
	case key.Matches(msg, c.keys.Frontend):
		what = copyFrontend
	case key.Matches(msg, c.keys.Bearer):
		what = copyBearer
	case key.Matches(msg, c.keys.Cancel):
		return true, nil
	default:
		return false, nil
	}
	app.setStatus(fmt.Sprintf("copying %s %s…", c.name, what), urgencyMuted)
	return true, app.copySessionCmd(c.name, what)
}

func (c *copyModel) keyMap() help.KeyMap { return c.keys }

func (c *copyModel) view(width, _ int) string {
	st := c.styles
	se := c.session
	whatW, bearer := 26, "Authorization: Bearer line"
	if width < 70 {
		whatW, bearer = 14, "Bearer line"
	}
	line := func(k key.Binding, what, fp string) string {
		return st.Key.Render(k.Help().Key) + "  " + fit(what, whatW) + "  " + st.Muted.Render(present.OrDash(fp))
	}
	rows := []string{
		st.DialogTitle.Render("Copy from " + c.name),
		"",
		line(c.keys.Access, "access token", se.AccessFP),
		line(c.keys.Refresh, "refresh token", se.RefreshFP),
		line(c.keys.Frontend, "frontend token", se.FrontendFP),
		line(c.keys.Bearer, bearer, se.AccessFP),
		"",
		st.Muted.Width(min(56, max(width-8, 20))).Render("Goes to the terminal clipboard (OSC 52: over SSH too; in tmux only with set-clipboard on) and the system clipboard if there is one; both are cleared after 30 s. esc cancels."),
	}
	d := st.Dialog
	if width < 70 {
		d = d.Padding(0, 1)
	}
	return d.Render(strings.Join(rows, "\n"))
}
