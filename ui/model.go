// Package ui is tokentop's terminal interface: a Bubble Tea program whose
// root model routes to small screen models (session list, inspector, forms,
// dialogs). All blocking work runs in commands; every view is a pure function
// of the model and the time carried by the last tick.
package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tokentop/tokentop/internal/present"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/safetext"
)

// screenID names the screen that has the keyboard.
type screenID int

const (
	screenList screenID = iota
	screenDetail
	screenLogin
	screenImport
	screenRawRevoke
	screenHar
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
	clipboard *Clipboard
	ctx       context.Context
	loc       *time.Location
	endpoints auth.Endpoints
	demoURL   string
	noTick    bool
	proxies   Proxies

	// proxied is the proxies serving sessions, by name, as last read;
	// proxyReading says a read is in flight.
	proxied      map[string][]ProxyInfo
	proxyReading bool

	now           time.Time
	width, height int

	sessions []auth.Session
	stamp    string
	loading  bool
	// loadBuf holds the batches of a load in flight (see onBatch).
	loadBuf []auth.Session
	// watching says the store reports changed sessions by name, so ticks
	// compare stamps only as a safety net (see fullLoadEvery).
	watching     bool
	lastFullLoad time.Time
	loadErr      error
	// secretsErr is why the store's secret backend (the keyring) cannot
	// be used, as it answered at start.
	secretsErr error
	// disconnected is when the store went out of reach (zero: in reach, or
	// a store that cannot be); the header says so until it returns.
	disconnected time.Time
	skew         time.Duration
	live         map[string]*liveRow

	screen screenID
	list   listModel
	detail detailModel
	login  loginModel
	imp    importModel
	raw    rawRevokeModel
	har    harScreen
	dialog dialog // over the screen, when one is open
	banner *banner
	status statusLine

	// pendingSelect is a session to put the cursor on once it is loaded.
	pendingSelect string

	help     help.Model
	helpKeys key.Binding
	quitKeys key.Binding
	quitting bool
	// finishing names the sessions whose in-flight refresh a quit waits
	// for; abandoned says the user quit again without waiting.
	finishing []string
	abandoned bool

	// clipClear is the clean-up owed for the newest copy; a newer copy
	// replaces it, so an older copy's time never clears a newer one.
	clipClear pendingClear
}

// Abandoned reports whether the user quit while a refresh was in flight,
// choosing not to wait for its answer to be saved.
func (m Model) Abandoned() bool { return m.abandoned }

// PendingClipboardClear is the clean-up still owed for the newest copy
// when the program ended (nil: none). The clear normally waits for the
// tick 30 s after the copy, and no tick comes once the program quits: the
// caller runs this after the program, so a token copied just before q does
// not stay on the clipboard.
func (m Model) PendingClipboardClear() tea.Cmd {
	if m.clipClear.due.IsZero() {
		return nil
	}
	return m.clipboard.clearCmd(m.clipClear)
}

// New builds the root model. cfg.Store, cfg.Keeper and cfg.Styles must be set.
func New(cfg Config) Model {
	st := cfg.Styles
	m := Model{
		styles:    &st,
		store:     cfg.Store,
		keeper:    cfg.Keeper,
		clipboard: cfg.Clipboard,
		ctx:       cfg.Context,
		loc:       cfg.Location,
		endpoints: cfg.Endpoints,
		demoURL:   cfg.DemoURL,
		noTick:    cfg.DisableTick,
		proxies:   cfg.Proxies,
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
	m.har = newHarScreen(m.styles)
	m.setSessions(cfg.Sessions)
	m.list.loading = cfg.Stamp == "" // Init reads them
	if cfg.Status != "" {
		m.status = statusLine{text: cfg.Status, urg: urgencyMuted, at: m.now}
	}
	m.relayout()
	return m
}

// Init starts the tick, the keeper event pump, and the first load when
// no sessions were handed in.
func (m Model) Init() tea.Cmd {
	cmds := []tea.Cmd{waitEvent(m.keeper.Events()), m.secretsCheckCmd()}
	if !m.noTick {
		cmds = append(cmds, m.tick())
	}
	if m.stamp == "" {
		cmds = append(cmds, m.firstLoadCmd())
	}
	cmds = append(cmds, m.watchCmd(), m.healthCmd())
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
	case batchMsg:
		cmd = m.onBatch(msg)
	case watchMsg:
		cmd = m.onWatch(msg)
	case changeMsg:
		cmd = m.onChange(msg)
	case changedMsg:
		cmd = m.onChanged(msg)
	case healthMsg:
		cmd = m.onHealth(msg)
	case keeperEventMsg:
		cmd = m.onEvent(msg.event)
	case settledMsg:
		if m.finishing != nil {
			m.quitting = true
			cmd = tea.Quit
		}
	case secretsAvailMsg:
		m.secretsErr = msg.err
		if msg.err != nil && m.status.text == "" {
			m.status = statusLine{text: "keyring unavailable: " + msg.err.Error(), urg: urgencySoon, at: m.now}
		}
	case proxiesMsg:
		m.onProxies(msg)
	case proxyStartedMsg:
		cmd = m.onProxyStarted(msg)
	case keeperClosedMsg:
		// The keeper stopped (the program is ending); nothing to re-arm.
	case tea.KeyMsg:
		cmd = m.onKeys(msg)
	case copiedMsg:
		cmd = m.onCopied(msg)
	case clipboardClearedMsg:
		m.onClipboardCleared(msg)
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
	// Not re-sorted every second (rows would move under the cursor): the
	// next load or key that filters or sorts uses it.
	m.list.now = msg.now
	m.detail.refreshContent(m.now, m.loc) // nothing when closed
	if m.quitting {
		return nil
	}
	var cmds []tea.Cmd
	if due := m.clipClear.due; !due.IsZero() && !m.now.Before(due) {
		cmds = append(cmds, m.clipboard.clearCmd(m.clipClear))
		m.clipClear = pendingClear{}
	}
	// Other processes (a script running `tokentop token`) write to the
	// store; the stamp the tick carries says so cheaply.
	safetyNet := !m.watching || m.now.Sub(m.lastFullLoad) >= fullLoadEvery
	if msg.stampErr == nil && msg.stamp != "" && msg.stamp != m.stamp && !m.loading && safetyNet {
		m.lastFullLoad = m.now
		m.loading = true
		cmds = append(cmds, m.loadCmd())
	}
	cmds = append(cmds, m.proxiesCmd())
	if !m.noTick {
		cmds = append(cmds, m.tick())
	}
	return tea.Batch(cmds...)
}

func (m *Model) onSessions(msg sessionsMsg) tea.Cmd {
	m.loading = false
	m.list.loading = false
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
	if m.detail.name == "" { // the inspector is closed
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

// setSessions installs a metadata snapshot. A token that changed without
// an event from our keeper (a script ran `tokentop token` or `refresh`)
// gets the same "new …" note as our own refreshes.
func (m *Model) setSessions(ss []auth.Session) {
	if m.sessions != nil {
		prev := make(map[string]string, len(m.sessions))
		for _, se := range m.sessions {
			prev[se.Name] = se.AccessFP
		}
		for _, se := range ss {
			old, ok := prev[se.Name]
			if !ok || old == se.AccessFP || se.AccessFP == "" {
				continue
			}
			if lr := m.live[se.Name]; lr != nil && (lr.refreshing || lr.noteFP == se.AccessFP) {
				continue // our own refresh: its event says it
			}
			lr := m.liveRow(se.Name)
			lr.note, lr.noteUrg, lr.noteFP, lr.oldFP, lr.until = "new "+se.AccessFP, urgencyOK, se.AccessFP, old, m.now.Add(noteFor)
			if !m.now.Before(m.status.until) {
				m.status = statusLine{text: clock(m.now, m.loc) + " " + se.Name + " has a new access token " + se.AccessFP,
					urg: urgencyOK, at: m.now}
			}
		}
	}
	m.sessions = ss
	m.list.setSessions(ss, m.now)
	var skew time.Duration
	for _, se := range ss {
		if se.ClockSkew.Abs() > skew.Abs() {
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
	case auth.EventAdopted:
		lr.refreshing = false
		if lr.remoteFP != "" && lr.remoteFP == e.NewFP && m.now.Before(lr.until) {
			// Our keeper took up the pair another host rotated: the row
			// and the status line already say which host, which says more.
			return tea.Batch(cmds...)
		}
		lr.note, lr.noteUrg, lr.until = "new "+present.OrDash(e.NewFP), urgencyOK, m.now.Add(noteFor)
		lr.noteFP, lr.oldFP = e.NewFP, e.OldFP
	case auth.EventRefreshed:
		lr.refreshing = false
		lr.note, lr.noteUrg, lr.until = "new "+present.OrDash(e.NewFP), urgencyOK, m.now.Add(noteFor)
		lr.noteFP, lr.oldFP = e.NewFP, e.OldFP
	case auth.EventPaused, auth.EventResumed:
		// The row must say "paused" (or the state) now, not old news.
		lr.note = ""
	case auth.EventSaveRetrying, auth.EventRescued:
		// The refresh is over at the server; the row says where its pair is.
		lr.refreshing = false
		lr.note, lr.noteUrg, lr.noteFP, lr.oldFP, lr.until = strings.ReplaceAll(string(e.Kind), "_", " "), urgencyNow, "", "", m.now.Add(noteFor)
	case auth.EventRetrying, auth.EventNeedsLogin:
		// The state they leave is in the metadata this event reloads: the
		// row says it in the words `tokentop list` uses, not the event's.
		lr.refreshing = false
		lr.note = ""
	case auth.EventFailed:
		lr.refreshing = false
		why := e.Message
		if why == "" {
			why = reasonText(e.Reason)
		}
		if why == "" {
			why = strings.ReplaceAll(string(e.Kind), "_", " ")
		}
		lr.note, lr.noteUrg, lr.noteFP, lr.oldFP, lr.until = "failed: "+safetext.Escape(why), urgencyNow, "", "", m.now.Add(noteFor)
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
	m.statusEvent(e, at)
	// A watched store reports the record the event changed by itself.
	if reload && !m.loading && !m.watching {
		m.loading = true
		cmds = append(cmds, m.loadCmd())
	}
	return tea.Batch(cmds...)
}

// statusEvent puts an event on the status line unless the answer to
// something the user just did is being held there: then only urgent news
// replaces it, and keeps the hold, so the next routine refresh cannot push
// it off at once; the keeper's echo of the user's own action (revoked,
// forgotten, paused…) never replaces the answer, which says more.
func (m *Model) statusEvent(e auth.Event, at time.Time) {
	u := eventUrgency(e.Kind)
	held := m.now.Before(m.status.until)
	if held {
		switch e.Kind {
		case auth.EventRevoked, auth.EventForgotten, auth.EventPaused, auth.EventResumed, auth.EventLogin, auth.EventImported:
			return
		}
		if u != urgencyNow && u != urgencySoon {
			return
		}
	}
	until := time.Time{}
	if held {
		until = m.status.until
	}
	m.status = statusLine{text: clock(at, m.loc) + " " + eventText(e, m.loc), urg: u, at: at, until: until}
}

// setStatus puts the answer to something the user did on the status line.
func (m *Model) setStatus(text string, u urgency) {
	m.status = statusLine{text: clock(m.now, m.loc) + " " + text, urg: u, at: m.now, until: m.now.Add(statusHold)}
}

// reload re-reads the metadata unless a read is already in flight.
func (m *Model) reload() tea.Cmd {
	if m.loading {
		return nil
	}
	m.loading = true
	return m.loadCmd()
}

// updateActive passes other messages (the viewport's and the like) on.
func (m *Model) updateActive(msg tea.Msg) tea.Cmd { return m.active().onMsg(m, msg) }
