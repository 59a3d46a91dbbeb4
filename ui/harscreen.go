package ui

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/charmbracelet/bubbles/help"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/tokentop/tokentop/har"
	"github.com/tokentop/tokentop/internal/safetext"
)

// harScreen is the main TUI's way into the HAR view (H): a one-field form
// for the file's path, then the view of its report. The file is read by a
// command, off the Update loop; esc goes back.
type harScreen struct {
	form
	shown *HarView
	path  string // the file being read or shown
}

// harLoadedMsg is the analysis of the file at path, or why there is none.
type harLoadedMsg struct {
	path string
	rep  *har.Report
	err  error
}

func newHarScreen(st *Styles) harScreen {
	f := []field{newField(st, "HAR file", "path to the customer's .har", 4096)}
	f[0].enterSubmits = true
	return harScreen{form: newForm(st, "OPEN A HAR FILE", "analysed here; nothing is sent anywhere",
		"enter opens · esc cancels", "reading the file…", f, nil)}
}

func (s harScreen) reset() harScreen {
	n := newHarScreen(s.styles)
	n.setWidth(s.width)
	return n
}

// loadHAR reads and analyses the file; it runs as a command, so a large
// file never stalls the screen.
func loadHAR(path string) tea.Cmd {
	return func() tea.Msg {
		f, err := os.Open(path)
		if err != nil {
			return harLoadedMsg{path: path, err: err}
		}
		defer f.Close()
		rep, err := har.Analyze(f)
		return harLoadedMsg{path: path, rep: rep, err: err}
	}
}

func (s *harScreen) onKey(app *Model, msg tea.KeyMsg) tea.Cmd {
	if v := s.shown; v != nil {
		if msg.Type == tea.KeyEsc && !v.filtering && !v.detail && !v.showHelp && v.applied == "" {
			s.shown = nil
			app.screen = screenList
			return nil
		}
		if v.onKey(msg) {
			s.shown = nil
			app.screen = screenList
		}
		return nil
	}
	ev, cmd := s.update(msg)
	switch ev {
	case formCancel:
		app.screen = screenList
		return nil
	case formSubmit:
		if s.submitting {
			return nil
		}
		p := s.value(0)
		if p == "" {
			s.fields[0].err = "type the path of the HAR file"
			return cmd
		}
		s.submitting, s.path = true, p
		return loadHAR(p)
	}
	return cmd
}

func (s *harScreen) onMsg(app *Model, msg tea.Msg) tea.Cmd {
	m, ok := msg.(harLoadedMsg)
	if !ok || m.path != s.path || !s.submitting {
		return nil
	}
	s.submitting = false
	if m.err != nil {
		s.fields[0].err = safetext.Escape(fmt.Sprintf("%v", m.err))
		return s.focusCmd()
	}
	s.shown = NewHarView(*s.styles, filepath.Base(m.path), m.rep)
	s.shown.embedded = true
	return nil
}

func (s *harScreen) view(app *Model, width, height int) string {
	if v := s.shown; v != nil {
		v.width, v.height = width, height
		v.help.Width = width
		return v.View()
	}
	return s.form.view(func(int) string { return "" }, "")
}

func (s *harScreen) keyMap(*Model) help.KeyMap {
	if s.shown != nil {
		return s.shown.keys
	}
	return s.form.keyMap()
}

func (s *harScreen) typing() bool {
	if s.shown != nil {
		return s.shown.filtering
	}
	return true
}
