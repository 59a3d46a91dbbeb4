// Package ui is tokentop's terminal interface: a Bubble Tea program whose
// root model routes to small screen models (session list, inspector, forms,
// dialogs). All blocking work runs in commands; every view is a pure function
// of the model and the time carried by the last tick.
package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/tokentop/tokentop/auth"
)

// screenID names the screen that has the keyboard.
type screenID int

const (
	screenList screenID = iota
	screenDetail
	screenLogin
	screenImport
	screenRawRevoke
)

// noteFor is how long a row shows news such as "new sha256:…".
const noteFor = 8 * time.Second

// statusLine is the latest thing worth saying.
type statusLine struct {
	text string
	urg  urgency
	at   time.Time
	// until protects the answer to something the user did (a copy, a
	// revoke) from being pushed off by routine keeper news right away.
	until time.Time
}

// statusHold is how long a user action's result stays on the status line
// against routine events.
const statusHold = 6 * time.Second

// banner is the loud warning about a suspected refresh-token reuse.
type banner struct {
	session string
	text    string
}

// Model is the root model: it owns the shared state (sessions, time, live
// news from the keeper) and routes keys to the active screen or dialog.
type Model struct {
	styles    *Styles
	store     Store
	keeper    Keeper
	revoker   TokenRevoker
	clipboard *Clipboard
	ctx       context.Context
	loc       *time.Location
	endpoints auth.Endpoints
	demoURL   string
	noTick    bool

	now           time.Time
	width, height int

	sessions []auth.Session
	stamp    string
	loading  bool
	loadErr  error
	skew     time.Duration
	live     map[string]*liveRow

	screen  screenID
	list    listModel
	detail  detailModel
	login   loginModel
	imp     importModel
	raw     rawRevokeModel
	confirm *confirmModel
	copy    *copyModel
	banner  *banner
	status  statusLine

	// pendingSelect is a session to put the cursor on once it is loaded.
	pendingSelect string

	help     help.Model
	helpKeys key.Binding
	quitKeys key.Binding
	quitting bool
}

// New builds the root model. cfg.Store, cfg.Keeper and cfg.Styles must be set.
func New(cfg Config) Model {
	st := cfg.Styles
	m := Model{
		styles:    &st,
		store:     cfg.Store,
		keeper:    cfg.Keeper,
		revoker:   cfg.Revoker,
		clipboard: cfg.Clipboard,
		ctx:       cfg.Context,
		loc:       cfg.Location,
		endpoints: cfg.Endpoints,
		demoURL:   cfg.DemoURL,
		noTick:    cfg.DisableTick,
		now:       cfg.Now,
		stamp:     cfg.Stamp,
		live:      map[string]*liveRow{},
		help:      st.newHelp(),
		helpKeys:  key.NewBinding(key.WithKeys("?")),
		quitKeys:  key.NewBinding(key.WithKeys("q")),
		width:     80,
		height:    24,
	}
	if m.ctx == nil {
		m.ctx = context.Background()
	}
	if m.loc == nil {
		m.loc = time.Local
	}
	if m.endpoints == (auth.Endpoints{}) {
		m.endpoints = auth.Endpoints{OAuthURL: auth.DefaultOAuthURL, APIURL: auth.DefaultAPIURL}
	}
	if m.now.IsZero() {
		m.now = time.Now()
	}
	m.list = newListModel(m.styles)
	m.detail = newDetailModel(m.styles)
	m.login = newLoginModel(m.styles, m.endpoints)
	m.imp = newImportModel(m.styles, m.endpoints)
	m.raw = newRawRevokeModel(m.styles, m.endpoints)
	m.setSessions(cfg.Sessions)
	if cfg.Status != "" {
		m.status = statusLine{text: cfg.Status, urg: urgencyMuted, at: m.now}
	}
	m.relayout()
	return m
}

// Init starts the tick, the keeper event pump, and the first load when
// no sessions were handed in.
func (m Model) Init() tea.Cmd {
	cmds := []tea.Cmd{waitEvent(m.keeper.Events())}
	if !m.noTick {
		cmds = append(cmds, m.tick())
	}
	if m.stamp == "" {
		cmds = append(cmds, m.loadCmd())
	}
	return tea.Batch(cmds...)
}

// Update routes a message: shared state first, then the screen in charge.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case tickMsg:
		cmd = m.onTick(msg)
	case sessionsMsg:
		cmd = m.onSessions(msg)
	case keeperEventMsg:
		cmd = m.onEvent(msg.event)
	case keeperClosedMsg:
		// The keeper stopped (the program is ending); nothing to re-arm.
	case tea.KeyMsg:
		cmd = m.onKey(msg)
	case copiedMsg:
		cmd = m.onCopied(msg)
	case clipboardClearedMsg:
		if msg.cleared {
			m.setStatus(fmt.Sprintf("cleared the system clipboard (%s)", msg.fingerprint), urgencyMuted)
		}
	case actionDoneMsg:
		cmd = m.onActionDone(msg)
	case revokeDoneMsg:
		cmd = m.onRevokeDone(msg)
	case openDetailMsg:
		cmd = m.openDetail(msg.name)
	case secretsMsg, timelineMsg, probeMsg:
		m.detail = m.detail.onData(msg, m.now)
		m.detail.refreshContent(m.now, m.loc)
	case loginDoneMsg:
		cmd = m.onLoginDone(msg)
	case importDoneMsg:
		cmd = m.onImportDone(msg)
	case rawRevokeDoneMsg:
		cmd = m.onRawRevokeDone(msg)
	case rawConfirmedMsg:
		cmd = m.onRawConfirmed(msg)
	default:
		cmd = m.updateActive(msg)
	}
	m.relayout()
	return m, cmd
}

func (m *Model) onTick(msg tickMsg) tea.Cmd {
	m.now = msg.now
	if m.screen == screenDetail {
		m.detail.refreshContent(m.now, m.loc)
	}
	if m.quitting {
		return nil
	}
	var cmds []tea.Cmd
	// Other processes (a script running `tokentop token`) write to the
	// store; the stamp the tick carries says so cheaply.
	if msg.stampErr == nil && msg.stamp != "" && msg.stamp != m.stamp && !m.loading {
		m.loading = true
		cmds = append(cmds, m.loadCmd())
	}
	if !m.noTick {
		cmds = append(cmds, m.tick())
	}
	return tea.Batch(cmds...)
}

func (m *Model) onSessions(msg sessionsMsg) tea.Cmd {
	m.loading = false
	if msg.err != nil {
		m.loadErr = msg.err
		m.setStatus("could not read the sessions: "+msg.err.Error(), urgencyNow)
		return nil
	}
	m.loadErr = nil
	m.stamp = msg.stamp
	m.setSessions(msg.sessions)
	if m.pendingSelect != "" {
		m.list.selectName(m.pendingSelect)
		m.pendingSelect = ""
	}
	if m.screen != screenDetail {
		return nil
	}
	se, ok := m.session(m.detail.name)
	if !ok {
		m.screen = screenList
		return nil
	}
	changed := se.AccessFP != m.detail.session.AccessFP || se.RefreshFP != m.detail.session.RefreshFP
	m.detail.session = se
	m.detail.refreshContent(m.now, m.loc)
	if changed {
		return tea.Batch(m.secretsCmd(se.Name), m.timelineCmd(se.Name))
	}
	return m.timelineCmd(se.Name)
}

// setSessions installs a metadata snapshot.
func (m *Model) setSessions(ss []auth.Session) {
	m.sessions = ss
	m.list.setSessions(ss)
	var skew time.Duration
	for _, se := range ss {
		if abs(se.ClockSkew) > abs(skew) {
			skew = se.ClockSkew
		}
	}
	m.skew = skew
	for name, lr := range m.live {
		if _, ok := m.session(name); !ok {
			delete(m.live, name)
		} else if !lr.refreshing && !lr.reuse && !m.now.Before(lr.until) {
			delete(m.live, name)
		}
	}
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func (m Model) session(name string) (auth.Session, bool) {
	for _, se := range m.sessions {
		if se.Name == name {
			return se, true
		}
	}
	return auth.Session{}, false
}

func (m *Model) liveRow(name string) *liveRow {
	lr := m.live[name]
	if lr == nil {
		lr = &liveRow{}
		m.live[name] = lr
	}
	return lr
}

// onEvent applies one keeper event and re-arms the event pump.
func (m *Model) onEvent(e auth.Event) tea.Cmd {
	cmds := []tea.Cmd{waitEvent(m.keeper.Events())}
	at := e.Time
	if at.IsZero() {
		at = m.now
	}
	lr := m.liveRow(e.Session)
	reload := true
	switch e.Kind {
	case auth.EventScheduled:
		return cmds[0] // routine; not worth the status line
	case auth.EventRefreshing:
		lr.refreshing = true
		reload = false
	case auth.EventRefreshed, auth.EventAdopted:
		lr.refreshing = false
		lr.note, lr.noteUrg, lr.until = "new "+orDash(e.NewFP), urgencyOK, m.now.Add(noteFor)
	case auth.EventRetrying, auth.EventFailed, auth.EventNeedsLogin:
		lr.refreshing = false
		why := e.Message
		if why == "" {
			why = reasonText(e.Reason)
		}
		if why == "" {
			why = strings.ReplaceAll(string(e.Kind), "_", " ")
		}
		lr.note, lr.noteUrg, lr.until = "failed: "+why, urgencyNow, m.now.Add(noteFor)
	case auth.EventReuseSuspected:
		lr.refreshing = false
		lr.reuse = true
		m.banner = &banner{session: e.Session, text: fmt.Sprintf(
			"%s: the refresh token was rejected while it should be valid; someone else may hold it. Press R to revoke now, esc to dismiss.",
			e.Session)}
	case auth.EventSkew:
		m.skew = e.Skew
		reload = false
	case auth.EventRevoked, auth.EventForgotten:
		delete(m.live, e.Session)
		if m.banner != nil && m.banner.session == e.Session {
			m.banner = nil
		}
	}
	if u := eventUrgency(e.Kind); u == urgencyNow || u == urgencySoon || !m.now.Before(m.status.until) {
		m.status = statusLine{text: clock(at, m.loc) + " " + eventText(e), urg: u, at: at}
	}
	if reload && !m.loading {
		m.loading = true
		cmds = append(cmds, m.loadCmd())
	}
	return tea.Batch(cmds...)
}

func (m *Model) setStatus(text string, u urgency) {
	m.status = statusLine{text: clock(m.now, m.loc) + " " + text, urg: u, at: m.now, until: m.now.Add(statusHold)}
}

// onKey routes a key: quitting first, then an open dialog, then global
// keys (unless a field is being typed in), then the active screen.
func (m *Model) onKey(msg tea.KeyMsg) tea.Cmd {
	if msg.Type == tea.KeyCtrlC {
		m.quitting = true
		return tea.Quit
	}
	if m.confirm != nil {
		c, done, cmd := m.confirm.update(msg)
		m.confirm = &c
		if done {
			m.confirm = nil
		}
		return cmd
	}
	if m.copy != nil {
		done, what := m.copy.update(msg)
		name := m.copy.name
		if done {
			m.copy = nil
		}
		if what != "" {
			m.setStatus(fmt.Sprintf("copying %s %s…", name, what), urgencyMuted)
			return m.copySessionCmd(name, what)
		}
		return nil
	}
	if !m.typing() {
		switch {
		case key.Matches(msg, m.quitKeys):
			m.quitting = true
			return tea.Quit
		case key.Matches(msg, m.helpKeys):
			m.help.ShowAll = !m.help.ShowAll
			return nil
		}
	}
	switch m.screen {
	case screenList:
		return m.onListKey(msg)
	case screenDetail:
		return m.onDetailKey(msg)
	case screenLogin:
		var cmd tea.Cmd
		var sub *loginSubmit
		m.login, sub, cmd = m.login.update(msg, m.now)
		if m.login.cancelled {
			m.login.cancelled = false
			m.screen = screenList
		}
		if sub != nil {
			return tea.Batch(cmd, m.loginCmd(sub.name, sub.endpoints, sub.email, sub.password))
		}
		return cmd
	case screenImport:
		var cmd tea.Cmd
		var sub *importSubmit
		m.imp, sub, cmd = m.imp.update(msg, m.now)
		if m.imp.cancelled {
			m.imp.cancelled = false
			m.screen = screenList
		}
		if sub != nil {
			return tea.Batch(cmd, m.importCmd(sub.name, sub.endpoints, sub.body))
		}
		return cmd
	case screenRawRevoke:
		return m.onRawRevokeKey(msg)
	}
	return nil
}

// typing reports whether a text field has the keyboard (then q is a letter).
func (m Model) typing() bool {
	switch m.screen {
	case screenList:
		return m.list.typing()
	case screenLogin, screenImport, screenRawRevoke:
		return true
	}
	return false
}

// onListKey handles session actions on the list; movement and the filter
// belong to the list model.
func (m *Model) onListKey(msg tea.KeyMsg) tea.Cmd {
	if m.list.typing() {
		var cmd tea.Cmd
		m.list, cmd = m.list.update(msg)
		return cmd
	}
	k := m.list.keys
	if m.banner != nil {
		switch {
		case key.Matches(msg, k.RevokeReuse):
			name := m.banner.session
			cmd := m.askRevoke(name)
			if m.confirm != nil {
				// Be honest about what this can and cannot do.
				m.confirm.body += " A pair the other party got by rotating our refresh token is not known here: " +
					"have an admin revoke it at the server, then log in again."
			}
			return cmd
		case msg.Type == tea.KeyEsc:
			m.banner = nil
			return nil
		}
	}
	switch {
	case key.Matches(msg, k.Login):
		m.login = m.login.reset(m.endpoints)
		m.screen = screenLogin
		return m.login.focusCmd()
	case key.Matches(msg, k.Import):
		m.imp = m.imp.reset(m.endpoints)
		m.screen = screenImport
		return m.imp.focusCmd()
	case key.Matches(msg, k.RevokeRaw):
		m.raw = m.raw.reset(m.endpoints)
		m.screen = screenRawRevoke
		return m.raw.focusCmd()
	}
	se, ok := m.list.selected()
	if ok {
		if cmd, handled := m.sessionAction(msg, se, k.Refresh, k.Pause, k.Copy, k.Revoke, k.Forget); handled {
			return cmd
		}
	}
	var cmd tea.Cmd
	m.list, cmd = m.list.update(msg)
	return cmd
}

// sessionAction runs the actions shared by the list and the inspector.
func (m *Model) sessionAction(msg tea.KeyMsg, se auth.Session, refresh, pause, copyKey, revoke, forget key.Binding) (tea.Cmd, bool) {
	switch {
	case key.Matches(msg, refresh):
		m.liveRow(se.Name).refreshing = true
		m.setStatus("refreshing "+se.Name+"…", urgencyMuted)
		return m.refreshCmd(se.Name), true
	case key.Matches(msg, pause):
		return m.pauseCmd(se.Name, !se.Paused && se.State != auth.StatePaused), true
	case key.Matches(msg, copyKey):
		c := newCopyModel(m.styles, se)
		m.copy = &c
		return nil, true
	case key.Matches(msg, revoke):
		return m.askRevoke(se.Name), true
	case key.Matches(msg, forget):
		c := newConfirmModel(m.styles, "Forget "+se.Name+" locally?",
			"This removes the local copy only. Nothing is revoked: both tokens stay valid at the server until they expire ("+
				countdown(se.RefreshExpiry, m.now)+" for the refresh token).",
			"Forget", m.forgetCmd(se.Name))
		m.confirm = &c
		return nil, true
	}
	return nil, false
}

func (m *Model) askRevoke(name string) tea.Cmd {
	se, ok := m.session(name)
	if !ok {
		m.setStatus(name+" is no longer stored", urgencySoon)
		return nil
	}
	c := newConfirmModel(m.styles, "Revoke "+name+"?",
		"Both tokens ("+orDash(se.RefreshFP)+" refresh, "+orDash(se.AccessFP)+" access) will be revoked at "+
			se.Endpoints.OAuthURL+", then the session is forgotten locally. Anyone holding them loses access.",
		"Revoke", m.revokeCmd(name))
	m.confirm = &c
	return nil
}

func (m *Model) openDetail(name string) tea.Cmd {
	se, ok := m.session(name)
	if !ok {
		return nil
	}
	m.detail = m.detail.open(se)
	m.detail.setSize(m.width, m.bodyHeight())
	m.detail.refreshContent(m.now, m.loc)
	m.screen = screenDetail
	return tea.Batch(m.secretsCmd(name), m.timelineCmd(name))
}

func (m *Model) onDetailKey(msg tea.KeyMsg) tea.Cmd {
	k := m.detail.keys
	se := m.detail.session
	switch {
	case key.Matches(msg, k.Back):
		m.detail = m.detail.close()
		m.screen = screenList
		return nil
	case key.Matches(msg, k.Probe):
		m.detail.probing = true
		m.detail.refreshContent(m.now, m.loc)
		return m.probeCmd(se.Name)
	case key.Matches(msg, k.Reveal):
		m.detail.reveal = !m.detail.reveal
		m.detail.refreshContent(m.now, m.loc)
		return nil
	}
	if cmd, handled := m.sessionAction(msg, se, k.Refresh, k.Pause, k.Copy, k.Revoke, k.Forget); handled {
		return cmd
	}
	var cmd tea.Cmd
	m.detail, cmd = m.detail.update(msg)
	return cmd
}

func (m *Model) onCopied(msg copiedMsg) tea.Cmd {
	if msg.err != nil {
		m.setStatus("copy "+msg.what+" failed: "+msg.err.Error(), urgencyNow)
		return nil
	}
	where := "terminal clipboard (OSC 52)"
	if msg.native {
		where = "terminal and system clipboards; the system one is cleared in 30s"
	}
	m.setStatus(fmt.Sprintf("copied %s %s to the %s", msg.what, msg.fingerprint, where), urgencyOK)
	if msg.native {
		return m.clipboard.clearCmd(msg.fingerprint)
	}
	return nil
}

func (m *Model) onActionDone(msg actionDoneMsg) tea.Cmd {
	if msg.err != nil {
		if msg.action == "refresh" {
			lr := m.liveRow(msg.name)
			lr.refreshing = false
			lr.note, lr.noteUrg, lr.until = "failed: "+errText(msg.err), urgencyNow, m.now.Add(noteFor)
		}
		m.setStatus(fmt.Sprintf("%s %s failed: %s", msg.action, msg.name, errText(msg.err)), urgencyNow)
	} else {
		if msg.action == "refresh" {
			m.liveRow(msg.name).refreshing = false
		}
		m.setStatus(msg.text, urgencyOK)
		if msg.action == "forget" {
			delete(m.live, msg.name)
			m.leaveDetailOf(msg.name)
		}
	}
	return m.reload()
}

func (m *Model) onRevokeDone(msg revokeDoneMsg) tea.Cmd {
	rep := msg.report
	switch {
	case msg.err == nil && rep.Forgotten:
		m.setStatus(fmt.Sprintf("%s revoked at the server (refresh %s%s, access %s%s) and forgotten locally",
			msg.name, orDash(rep.Refresh.Fingerprint), reqID(rep.Refresh.Meta), orDash(rep.Access.Fingerprint), reqID(rep.Access.Meta)), urgencyOK)
		delete(m.live, msg.name)
		if m.banner != nil && m.banner.session == msg.name {
			m.banner = nil
		}
		m.leaveDetailOf(msg.name)
	default:
		var parts []string
		if rep.Refresh.Err != nil {
			parts = append(parts, "refresh token: "+errText(rep.Refresh.Err))
		}
		if rep.Access.Err != nil {
			parts = append(parts, "access token: "+errText(rep.Access.Err))
		}
		if msg.err != nil && len(parts) == 0 {
			parts = append(parts, errText(msg.err))
		}
		m.setStatus(fmt.Sprintf("revoke %s failed (%s); the session is kept so you can retry with x",
			msg.name, strings.Join(parts, "; ")), urgencyNow)
	}
	return m.reload()
}

func reqID(meta auth.Meta) string {
	if meta.RequestID == "" {
		return ""
	}
	return " req " + meta.RequestID
}

// errText is an error for the status line: the API error's own words.
func errText(err error) string {
	var nl *auth.NeedsLoginError
	if errors.As(err, &nl) {
		return "needs a new login: " + reasonText(nl.Reason)
	}
	return err.Error()
}

func (m *Model) leaveDetailOf(name string) {
	if m.screen == screenDetail && m.detail.name == name {
		m.detail = m.detail.close()
		m.screen = screenList
	}
}

func (m *Model) reload() tea.Cmd {
	if m.loading {
		return nil
	}
	m.loading = true
	return m.loadCmd()
}

// updateActive passes other messages (cursor blinks and the like) on.
func (m *Model) updateActive(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	switch m.screen {
	case screenDetail:
		m.detail, cmd = m.detail.update(msg)
	}
	return cmd
}

// keyMap is the help for whatever has the keyboard.
func (m Model) keyMap() help.KeyMap {
	switch {
	case m.confirm != nil:
		return m.confirm.keys
	case m.copy != nil:
		return m.copy.keys
	}
	switch m.screen {
	case screenDetail:
		return m.detail.keys
	case screenLogin:
		return m.login.keys
	case screenImport:
		return m.imp.keys
	case screenRawRevoke:
		return m.raw.keyMap()
	}
	k := m.list.keyMap()
	if lk, ok := k.(listKeys); ok {
		lk.RevokeReuse.SetEnabled(m.banner != nil)
		return lk
	}
	return k
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
	}
	return max(h, 1)
}

// On short terminals the blank line under the header, then the help line,
// give their room to the sessions.
func (m Model) gapShown() bool  { return m.height >= 12 }
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
}

// View draws header, banner, the active screen (or a dialog over it),
// status line and help. It reads the time only from the model.
func (m Model) View() string {
	if m.quitting {
		return ""
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
	}
	bh := m.bodyHeight()
	var body string
	switch {
	case m.confirm != nil:
		body = lipgloss.Place(m.width, bh, lipgloss.Center, lipgloss.Center, m.confirm.view(m.width, bh))
	case m.copy != nil:
		body = lipgloss.Place(m.width, bh, lipgloss.Center, lipgloss.Center, m.copy.view(m.width))
	default:
		body = m.screenView()
	}
	b.WriteString(padLines(body, m.width, bh))
	b.WriteByte('\n')
	b.WriteString(m.statusView())
	if m.helpShown() {
		b.WriteByte('\n')
		b.WriteString(m.helpView())
	}
	return b.String()
}

func (m Model) screenView() string {
	switch m.screen {
	case screenDetail:
		return m.detail.view()
	case screenLogin:
		return m.login.view(m.now)
	case screenImport:
		return m.imp.view()
	case screenRawRevoke:
		return m.raw.view(m.now)
	}
	return m.list.view(m.now, m.loc, m.live)
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
		if abs(m.skew) > 2*time.Second {
			parts = append(parts, st.Warn.Render("clock skew "+signedDuration(m.skew)))
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
	return ansi.Truncate(style.Render(m.status.text), m.width, "…")
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
	// bubbles' short help overruns its Width when even the "…" would not
	// fit after an item, so cut the lines ourselves.
	lines := strings.Split(m.help.View(km), "\n")
	for i, l := range lines {
		if ansi.StringWidth(l) > m.width {
			lines[i] = ansi.Truncate(l, m.width, "…")
		}
	}
	return strings.Join(lines, "\n")
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
