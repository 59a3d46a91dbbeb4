package ui

import "github.com/charmbracelet/bubbles/key"

// listKeys are the session list's bindings.
type listKeys struct {
	Up, Down, PageUp, PageDown, Home, End key.Binding
	Open, Filter, ClearFilter             key.Binding
	Login, Import, Refresh, Pause         key.Binding
	Copy, Revoke, Forget, RevokeRaw       key.Binding
	RevokeReuse, Sort, Proxy              key.Binding
	OpenHAR                               key.Binding
	// Reveal and Probe are the inspector's; the list's help names them
	// so the full help is the whole story in one place.
	Reveal, Probe key.Binding
	Help, Quit    key.Binding
}

func newListKeys() listKeys {
	return listKeys{
		Up:          key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:        key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:      key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup/ctrl+b", "page up")),
		PageDown:    key.NewBinding(key.WithKeys("pgdown", "ctrl+f"), key.WithHelp("pgdn/ctrl+f", "page down")),
		Home:        key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g/home", "first")),
		End:         key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G/end", "last")),
		Open:        key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "inspect")),
		Filter:      key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		ClearFilter: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
		Login:       key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "new login")),
		Import:      key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "import")),
		Refresh:     key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh now")),
		Pause:       key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pause/resume")),
		Copy:        key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "copy…")),
		Revoke:      key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "revoke")),
		Forget:      key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "forget locally")),
		RevokeRaw:   key.NewBinding(key.WithKeys("X"), key.WithHelp("X", "revoke pasted token")),
		RevokeReuse: key.NewBinding(key.WithKeys("R"), key.WithHelp("R", revokeReuseHelp)),
		OpenHAR:     key.NewBinding(key.WithKeys("H"), key.WithHelp("H", "open a HAR file")),
		Sort:        key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "sort: name → expiry → state")),
		Proxy:       key.NewBinding(key.WithKeys("P"), key.WithHelp("P", "proxy on a local port")),
		Reveal:      key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "reveal tokens (in the inspector)")),
		Probe:       key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "ask the server (in the inspector)")),
		Help:        key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:        key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
}

// revokeReuseHelp describes R when no reuse warning shows; with one, the
// help says "revoke suspect session".
const revokeReuseHelp = "revoke the session a reuse warning names"

// ShortHelp implements help.KeyMap.
func (k listKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Open, k.Filter, k.Copy, k.Refresh, k.Revoke, k.Login, k.Help, k.Quit}
}

// FullHelp implements help.KeyMap.
func (k listKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End},
		{k.Open, k.Filter, k.ClearFilter, k.Sort, k.Copy, k.Refresh, k.Pause},
		{k.Login, k.Import, k.Revoke, k.Forget, k.RevokeRaw, k.RevokeReuse, k.Proxy},
		{k.Reveal, k.Probe, k.OpenHAR, k.Help, k.Quit},
	}
}

// filterKeys are active while typing a filter.
type filterKeys struct {
	Apply, Cancel, Quit key.Binding
}

func newFilterKeys() filterKeys {
	return filterKeys{
		Apply:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply filter")),
		Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
		Quit:   key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
	}
}

// ShortHelp implements help.KeyMap.
func (k filterKeys) ShortHelp() []key.Binding { return []key.Binding{k.Apply, k.Cancel, k.Quit} }

// FullHelp implements help.KeyMap.
func (k filterKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// detailKeys are the inspector's bindings.
type detailKeys struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Reveal, Probe, Refresh, Pause, Copy     key.Binding
	Revoke, Forget, Back, Help, Quit        key.Binding
	RevokeReuse                             key.Binding
}

func newDetailKeys() detailKeys {
	return detailKeys{
		Up:          key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "scroll up")),
		Down:        key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "scroll down")),
		PageUp:      key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup/ctrl+b", "page up")),
		PageDown:    key.NewBinding(key.WithKeys("pgdown", "ctrl+f", " "), key.WithHelp("pgdn/ctrl+f/space", "page down")),
		Top:         key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g/home", "top")),
		Bottom:      key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G/end", "bottom")),
		Reveal:      key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "reveal/mask tokens")),
		Probe:       key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "ask the server")),
		Refresh:     key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh now")),
		Pause:       key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pause/resume")),
		Copy:        key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "copy…")),
		Revoke:      key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "revoke")),
		Forget:      key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "forget locally")),
		Back:        key.NewBinding(key.WithKeys("esc", "backspace", "left", "h"), key.WithHelp("esc", "back")),
		RevokeReuse: key.NewBinding(key.WithKeys("R"), key.WithHelp("R", revokeReuseHelp)),
		Help:        key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:        key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
}

// ShortHelp implements help.KeyMap.
func (k detailKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Back, k.Reveal, k.Probe, k.Copy, k.Refresh, k.Revoke, k.Help, k.Quit}
}

// FullHelp implements help.KeyMap.
func (k detailKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.Reveal, k.Probe, k.Copy, k.Refresh, k.Pause},
		{k.Revoke, k.Forget, k.RevokeReuse, k.Back, k.Help, k.Quit},
	}
}

// formKeys are the bindings of the login, import and raw-revoke forms.
type formKeys struct {
	Next, Prev, Submit, Toggle, Cancel, Quit key.Binding
}

func newFormKeys() formKeys {
	return formKeys{
		Next:   key.NewBinding(key.WithKeys("tab", "down"), key.WithHelp("tab/↓", "next field")),
		Prev:   key.NewBinding(key.WithKeys("shift+tab", "up"), key.WithHelp("shift+tab/↑", "previous field")),
		Submit: key.NewBinding(key.WithKeys("ctrl+s"), key.WithHelp("ctrl+s", "submit")),
		Toggle: key.NewBinding(key.WithKeys("left", "right", " "), key.WithHelp("←/→", "choose")),
		Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		Quit:   key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
	}
}

// ShortHelp implements help.KeyMap.
func (k formKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Submit, k.Next, k.Prev, k.Cancel, k.Quit}
}

// FullHelp implements help.KeyMap.
func (k formKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Next, k.Prev, k.Toggle}, {k.Submit, k.Cancel, k.Quit}}
}

// confirmKeys are a confirmation dialog's bindings.
type confirmKeys struct {
	Yes, No, Switch, Choose, Quit key.Binding
}

func newConfirmKeys() confirmKeys {
	return confirmKeys{
		Yes:    key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y", "yes")),
		No:     key.NewBinding(key.WithKeys("n", "N", "esc"), key.WithHelp("n/esc", "no")),
		Switch: key.NewBinding(key.WithKeys("left", "right", "tab", "shift+tab", "h", "l"), key.WithHelp("←/→", "switch")),
		Choose: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "choose")),
		Quit:   key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
	}
}

// ShortHelp implements help.KeyMap.
func (k confirmKeys) ShortHelp() []key.Binding { return []key.Binding{k.Yes, k.No, k.Switch, k.Choose} }

// FullHelp implements help.KeyMap.
func (k confirmKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Yes, k.No}, {k.Switch, k.Choose, k.Quit}}
}

// copyKeys are the copy menu's bindings.
type copyKeys struct {
	Access, Refresh, Frontend, Bearer, Cancel, Quit key.Binding
}

func newCopyKeys() copyKeys {
	return copyKeys{
		Access:   key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "access token")),
		Refresh:  key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh token")),
		Frontend: key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "frontend token")),
		Bearer:   key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "Authorization: Bearer line")),
		Cancel:   key.NewBinding(key.WithKeys("esc", "c"), key.WithHelp("esc", "cancel")),
		Quit:     key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
	}
}

// ShortHelp implements help.KeyMap.
func (k copyKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Access, k.Refresh, k.Frontend, k.Bearer, k.Cancel}
}

// FullHelp implements help.KeyMap.
func (k copyKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Access, k.Refresh, k.Frontend, k.Bearer}, {k.Cancel, k.Quit}}
}
