package ui

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/present"
	"github.com/tokentop/tokentop/internal/timefmt"
)

// tuiColumns are the list's columns, of the session table's: the
// countdowns with a bar of the access token's lifetime, and the last
// refresh (history the inspector also shows, so the first to go).
func tuiColumns() []present.Column {
	return present.PickColumns(present.ColName, present.ColUser, present.ColRole, present.ColOrg, present.ColAccess,
		present.ColBar, present.ColRefresh, present.ColState, present.ColLastRefresh)
}

const (
	// stateRoom is STATE's least natural width: room for the notes the
	// keeper's events put there ("new sha256:1234abcd", "failed: …").
	stateRoom = 24
	markerW   = 2 // "▸ " before the selected row
	minBodyHt = 1
)

// layoutColumns picks the columns that fit in width and their widths,
// with the one layout `tokentop list` uses. natural holds the widest
// content of some columns (from the data, measured once per load), so
// they grow only as far as their content needs; STATE without a natural
// width takes whatever is left.
func layoutColumns(width int, natural map[present.ColumnID]int) []present.Placed {
	cols := tuiColumns()
	nat := make([]int, len(cols))
	for i, c := range cols {
		nat[i] = natural[c.ID]
	}
	// Before the first size the table has no room, not unlimited room.
	return present.Layout(cols, nat, max(width, 1), markerW)
}

// liveRow is what the keeper's events told us about a row since the last
// metadata load: a refresh in flight, or a short-lived note ("refreshed
// sha256:…") that fades at until.
type liveRow struct {
	refreshing bool
	note       string
	noteUrg    urgency
	// noteFP is the access fingerprint a "new …" note is about and oldFP
	// the one it replaced (the metadata may not be reloaded yet); once the
	// stored token is neither, another process rotated again and the note
	// is stale.
	noteFP, oldFP string
	// remoteFP is the access fingerprint another host's change brought,
	// while the note names that host.
	remoteFP string
	until    time.Time
	reuse    bool
}

// listModel is the session list: a windowed table that renders only the
// rows on screen, so ten thousand sessions cost what a screenful does.
type listModel struct {
	styles *Styles
	keys   listKeys
	fkeys  filterKeys

	all    []auth.Session
	rows   []int // indices into all that match the filter
	cursor int   // index into rows
	offset int   // first row on screen
	height int   // rows that fit on screen
	width  int
	cols   []present.Placed
	// proxied names the sessions a proxy serves (marked after the name).
	proxied map[string][]ProxyInfo
	// natural is the widest name, user, role and org among all sessions.
	natural map[present.ColumnID]int

	filter    textinput.Model
	filtering bool // the filter field has the focus
	sortBy    sortKey
	// now is the time the rows were last filtered and sorted by state at:
	// the last load's, or the last tick's for a key that re-sorts.
	now time.Time
	// loading says the first load is in flight: an empty list means
	// "not read yet", not "no sessions".
	loading bool
}

// sortKey is the list's order; o cycles through them.
type sortKey int

const (
	sortName   sortKey = iota
	sortExpiry         // soonest refresh expiry first: what dies first
	sortState          // what needs a person first
	sortKeys
)

// sortCol is the column whose title marks the order.
func (k sortKey) col() present.ColumnID {
	switch k {
	case sortExpiry:
		return present.ColRefresh
	case sortState:
		return present.ColState
	}
	return present.ColName
}

// stateRank orders states by how much they need a person: a dead session
// first, then one nobody is refreshing, then one being retried.
func stateRank(st auth.State) int {
	switch st {
	case auth.StateNeedsLogin:
		return 0
	case auth.StateExpired:
		return 1
	case auth.StatePaused:
		return 2
	case auth.StateRetrying:
		return 3
	case auth.StateRefreshing:
		return 4
	}
	return 5
}

// less orders two sessions by k, then by name so the order is stable;
// sa and sb are their effective states (the ones the list shows).
func (k sortKey) less(a, b auth.Session, sa, sb auth.State) bool {
	switch k {
	case sortExpiry:
		if !a.RefreshExpiry.Equal(b.RefreshExpiry) {
			return expiryBefore(a.RefreshExpiry, b.RefreshExpiry)
		}
	case sortState:
		if ra, rb := stateRank(sa), stateRank(sb); ra != rb {
			return ra < rb
		}
		if !a.RefreshExpiry.Equal(b.RefreshExpiry) {
			return expiryBefore(a.RefreshExpiry, b.RefreshExpiry)
		}
	}
	return a.Name < b.Name
}

// expiryBefore orders instants with an unknown (zero) one last.
func expiryBefore(a, b time.Time) bool {
	if a.IsZero() || b.IsZero() {
		return b.IsZero() && !a.IsZero()
	}
	return a.Before(b)
}

func newListModel(st *Styles) listModel {
	fi := textinput.New()
	fi.Prompt = "/"
	fi.Placeholder = "name, user, role, org or state"
	fi.CharLimit = 64
	st.styleTextInput(&fi)
	return listModel{styles: st, keys: newListKeys(), fkeys: newFilterKeys(), filter: fi, height: minBodyHt}
}

// typing reports whether keys go to the filter field.
func (m listModel) typing() bool { return m.filtering }

// modeKeys is the help for the list's current mode.
func (m listModel) modeKeys() help.KeyMap {
	if m.filtering {
		return m.fkeys
	}
	return m.keys
}

// selected returns the session under the cursor.
func (m listModel) selected() (auth.Session, bool) {
	if m.cursor < 0 || m.cursor >= len(m.rows) {
		return auth.Session{}, false
	}
	return m.all[m.rows[m.cursor]], true
}

// setSessions replaces the data, keeping the cursor on the same session;
// now measures the state texts and decides the states filtered and sorted
// by.
func (m *listModel) setSessions(ss []auth.Session, now time.Time) {
	prev, hadPrev := m.selected()
	m.all = ss
	m.now = now
	nat := map[present.ColumnID]int{present.ColName: 4, present.ColUser: 4, present.ColRole: 4, present.ColOrg: 3, present.ColState: stateRoom}
	for _, se := range ss {
		text, _ := stateText(se, now, nil)
		nat[present.ColState] = max(nat[present.ColState], ansi.StringWidth(text))
		nat[present.ColName] = max(nat[present.ColName], m.nameWidth(se.Name))
		nat[present.ColUser] = max(nat[present.ColUser], len(userLabel(se)))
		nat[present.ColRole] = max(nat[present.ColRole], len(roleLabel(se)))
		nat[present.ColOrg] = max(nat[present.ColOrg], len(orgLabel(se)))
	}
	m.natural = nat
	m.cols = layoutColumns(m.width, nat)
	m.applyFilter()
	if hadPrev {
		m.selectName(prev.Name)
	}
	m.clamp()
}

// selectName moves the cursor to the named session if it is shown.
func (m *listModel) selectName(name string) {
	for i, idx := range m.rows {
		if m.all[idx].Name == name {
			m.cursor = i
			m.clamp()
			return
		}
	}
}

// setSize sets the table's size: width in cells, height in lines
// including the column header (and the filter line when shown).
func (m *listModel) setSize(width, height int) {
	if width != m.width || m.cols == nil {
		m.cols = layoutColumns(width, m.natural)
	}
	m.width = width
	m.height = max(height-m.chromeLines(), minBodyHt)
	m.filter.Width = max(width-20, 10)
	m.clamp()
}

// chromeLines is the number of lines above the rows.
func (m listModel) chromeLines() int {
	if m.filtering || m.filter.Value() != "" {
		return 2 // filter line + column header
	}
	return 1
}

// applyFilter chooses and orders the rows by the state each session is
// in at m.now (present.Describe), not the stored one: metadata is written
// only when something happens, so a stored "ok" outlives its tokens.
func (m *listModel) applyFilter() {
	q := strings.ToLower(strings.TrimSpace(m.filter.Value()))
	m.rows = m.rows[:0]
	var state []auth.State // by index into all, when needed
	if q != "" || m.sortBy == sortState {
		state = make([]auth.State, len(m.all))
	}
	for i, se := range m.all {
		if state == nil {
			m.rows = append(m.rows, i)
			continue
		}
		st := present.Describe(se, m.now)
		state[i] = st.State
		if q == "" || matches(se, st, q) {
			m.rows = append(m.rows, i)
		}
	}
	sort.SliceStable(m.rows, func(a, b int) bool {
		ia, ib := m.rows[a], m.rows[b]
		var sa, sb auth.State
		if state != nil {
			sa, sb = state[ia], state[ib]
		}
		return m.sortBy.less(m.all[ia], m.all[ib], sa, sb)
	})
}

// cycleSort moves to the next order, keeping the cursor on its session.
func (m *listModel) cycleSort() {
	se, ok := m.selected()
	m.sortBy = (m.sortBy + 1) % sortKeys
	m.applyFilter()
	if ok {
		m.selectName(se.Name)
	}
	m.clamp()
}

// matches says whether q is in a session's name, user, role, org or the
// words its STATE cell says (st.Cell: "needs_login (refresh_expired)",
// "expired, paused").
func matches(se auth.Session, st present.Status, q string) bool {
	for _, f := range []string{se.Name, userLabel(se), roleLabel(se), orgLabel(se), st.Cell()} {
		if strings.Contains(strings.ToLower(f), q) {
			return true
		}
	}
	return false
}

// clamp keeps cursor and offset inside the rows and the cursor on screen.
func (m *listModel) clamp() {
	m.cursor = min(max(m.cursor, 0), max(len(m.rows)-1, 0))
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+m.height {
		m.offset = m.cursor - m.height + 1
	}
	m.offset = min(max(m.offset, 0), max(len(m.rows)-m.height, 0))
}

// update handles a key on the list. Session actions are returned to the
// root as messages, so the list itself knows nothing about the keeper.
func (m listModel) update(msg tea.KeyMsg) (listModel, tea.Cmd) {
	if m.filtering {
		switch {
		case key.Matches(msg, m.fkeys.Apply):
			m.filtering = false
			m.filter.Blur()
			m.setSize(m.width, m.height+m.chromeLines())
			return m, nil
		case key.Matches(msg, m.fkeys.Cancel):
			return m.clearFilter(), nil
		}
		var cmd tea.Cmd
		before := m.filter.Value()
		m.filter, cmd = m.filter.Update(msg)
		if m.filter.Value() != before {
			m.applyFilter()
			m.cursor = 0
			m.clamp()
		}
		return m, cmd
	}
	switch {
	case key.Matches(msg, m.keys.Up):
		m.cursor--
	case key.Matches(msg, m.keys.Down):
		m.cursor++
	case key.Matches(msg, m.keys.PageUp):
		m.cursor -= m.height
	case key.Matches(msg, m.keys.PageDown):
		m.cursor += m.height
	case key.Matches(msg, m.keys.Home):
		m.cursor = 0
	case key.Matches(msg, m.keys.End):
		m.cursor = len(m.rows) - 1
	case key.Matches(msg, m.keys.Sort):
		m.cycleSort()
		return m, nil
	case key.Matches(msg, m.keys.Filter):
		h := m.height + m.chromeLines()
		m.filtering = true
		m.setSize(m.width, h)
		return m, m.filter.Focus()
	case key.Matches(msg, m.keys.ClearFilter):
		if m.filter.Value() != "" {
			return m.clearFilter(), nil
		}
	case key.Matches(msg, m.keys.Open):
		if se, ok := m.selected(); ok {
			return m, func() tea.Msg { return openDetailMsg{name: se.Name} }
		}
	}
	m.clamp()
	return m, nil
}

func (m listModel) clearFilter() listModel {
	h := m.height + m.chromeLines()
	m.filtering = false
	m.filter.Blur()
	m.filter.SetValue("")
	m.applyFilter()
	m.setSize(m.width, h)
	return m
}

// render draws the table for now; live holds the keeper's recent news.
func (m listModel) render(now time.Time, loc *time.Location, live map[string]*liveRow) string {
	st := m.styles
	var b strings.Builder
	if m.filtering || m.filter.Value() != "" {
		b.WriteString(m.filter.View())
		b.WriteString(st.Muted.Render(fmt.Sprintf("  %d of %d", len(m.rows), len(m.all))))
		b.WriteByte('\n')
	}
	b.WriteString(m.headerRow())
	if len(m.rows) == 0 {
		b.WriteString("\n\n")
		switch {
		case len(m.all) == 0 && m.loading:
			b.WriteString(messageLines(st.Muted, "Reading the sessions…", 2, m.width))
		case len(m.all) == 0:
			b.WriteString(messageLines(st.Muted, "No sessions yet. Press n to log in, or i to import a token response.", 2, m.width))
		default:
			b.WriteString(messageLines(st.Muted, fmt.Sprintf("No session matches %q. Press esc to clear the filter.", m.filter.Value()), 2, m.width))
		}
		return b.String()
	}
	end := min(m.offset+m.height, len(m.rows))
	for i := m.offset; i < end; i++ {
		se := m.all[m.rows[i]]
		b.WriteByte('\n')
		b.WriteString(m.row(se, i == m.cursor, now, loc, live[se.Name]))
	}
	return b.String()
}

// headerRow is the column titles, the sorted one marked ▾, and once the
// list scrolls the cursor's position (12/40) at the end, over the last
// titles if the table fills the width.
func (m listModel) headerRow() string {
	st := m.styles
	var b strings.Builder
	b.WriteString(strings.Repeat(" ", markerW))
	for i, c := range m.cols {
		if i > 0 {
			b.WriteString(strings.Repeat(" ", present.ColumnGap))
		}
		title := c.Title
		if c.ID == m.sortBy.col() {
			title += "▾"
		}
		if c.Right {
			b.WriteString(st.colHeader.render(fitRight(title, c.Width)))
		} else {
			b.WriteString(st.colHeader.render(fit(title, c.Width)))
		}
	}
	h := b.String()
	if len(m.rows) <= m.height {
		return h
	}
	pos := fmt.Sprintf("%d/%d", m.cursor+1, len(m.rows))
	room := m.width - len(pos) - present.ColumnGap
	if ansi.StringWidth(h) > room {
		h = ansi.Truncate(h, max(room, 0), "")
	}
	// Right-aligned to the table's edge, not the terminal's.
	edge := min(max(present.TableWidth(m.cols, markerW), ansi.StringWidth(h)+present.ColumnGap+len(pos)), m.width)
	return h + strings.Repeat(" ", max(edge-ansi.StringWidth(h)-len(pos), 0)) + st.Muted.Render(pos)
}

// row renders one session. The selected row keeps its urgency colours on
// the selection background: each coloured cell ends with a reset, so the
// selection's own sequence is written again after it. It is also marked
// with ▸, so it stands out without colour.
func (m listModel) row(se auth.Session, selected bool, now time.Time, loc *time.Location, lr *liveRow) string {
	st := m.styles
	var resume string // re-applies the selection after a cell's reset
	if selected {
		resume = st.selected.pre
	}
	paint := func(u urgency, s string) string {
		if p := st.urgencyPaint[u]; p.pre != "" || p.post != "" {
			return p.render(s) + resume
		}
		return s
	}
	var b strings.Builder
	if selected {
		b.WriteString(st.selected.pre)
		b.WriteString("▸ ")
	} else {
		b.WriteString("  ")
	}
	desc := present.Describe(se, now) // once per row: three cells use it
	for i, c := range m.cols {
		if i > 0 {
			b.WriteString("  ")
		}
		w := c.Width
		switch c.ID {
		case present.ColName:
			if len(m.proxied[se.Name]) > 0 && w > proxyMarkWidth {
				b.WriteString(fit(se.Name, w-proxyMarkWidth) + proxyMark)
				break
			}
			b.WriteString(fit(se.Name, w))
		case present.ColUser:
			b.WriteString(fit(userLabel(se), w))
		case present.ColRole:
			b.WriteString(fit(roleLabel(se), w))
		case present.ColOrg:
			b.WriteString(fit(orgLabel(se), w))
		case present.ColAccess:
			b.WriteString(paint(accessUrgency(se, now), fitRight(desc.Access.Countdown(), w)))
		case present.ColBar:
			b.WriteString(st.lifetimeBar(se, now, w, resume))
		case present.ColRefresh:
			b.WriteString(paint(refreshUrgency(se, now), fitRight(desc.Refresh.Countdown(), w)))
		case present.ColState:
			text, u := statusText(se, desc, now, lr)
			b.WriteString(paint(u, fit(text, w)))
		case present.ColLastRefresh:
			last := "never"
			if !se.LastRefresh.IsZero() {
				last = timefmt.Relative(se.LastRefresh, now)
			}
			b.WriteString(paint(urgencyMuted, fitRight(last, w)))
		}
	}
	if selected {
		b.WriteString(st.selected.post)
	}
	return b.String()
}

// stateText says where a session stands and how urgent that is: the
// keeper's news about it first (a refresh in flight, its new token, a
// suspected reuse), else the one presentation model's STATE cell, the same
// as `tokentop list`'s.
func stateText(se auth.Session, now time.Time, lr *liveRow) (string, urgency) {
	return statusText(se, present.Describe(se, now), now, lr)
}

// statusText is stateText with the session's Status already made.
func statusText(se auth.Session, st present.Status, now time.Time, lr *liveRow) (string, urgency) {
	if lr != nil {
		if lr.reuse {
			return "REUSE SUSPECTED", urgencyNow
		}
		if lr.refreshing {
			return "refreshing…", urgencyMuted
		}
		if lr.note != "" && now.Before(lr.until) && (lr.noteFP == "" || se.AccessFP == lr.noteFP || se.AccessFP == lr.oldFP) {
			return lr.note, lr.noteUrg
		}
	}
	return st.Cell(), attentionUrgency(st.Attention())
}

// attentionUrgency is the colour of the model's attention level.
func attentionUrgency(a present.Attention) urgency {
	switch a {
	case present.AttentionNow:
		return urgencyNow
	case present.AttentionSoon:
		return urgencySoon
	case present.AttentionQuiet:
		return urgencyMuted
	}
	return urgencyOK
}
