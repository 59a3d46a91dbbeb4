package ui

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/present"
	"github.com/tokentop/tokentop/internal/safetext"
	"github.com/tokentop/tokentop/internal/timefmt"
)

// detailModel is the inspector for one session: who it belongs to, when it
// dies, what its tokens are, what the server says, and what happened to it.
// Its secrets live here only while it is open.
type detailModel struct {
	styles *Styles
	keys   detailKeys

	name     string
	session  auth.Session
	secrets  *auth.Secrets
	secErr   error
	access   auth.Inspection
	refresh  auth.Inspection
	timeline []auth.Event
	tlErr    error
	// proxies are the proxies serving the session, from the root model.
	proxies []ProxyInfo
	probing bool
	probe   *probeMsg
	reveal  bool

	vp            viewport.Model
	width, height int
}

func newDetailModel(st *Styles) detailModel {
	d := detailModel{styles: st, keys: newDetailKeys(), vp: viewport.New(80, 20)}
	d.vp.KeyMap = viewport.KeyMap{
		Up:       d.keys.Up,
		Down:     d.keys.Down,
		PageUp:   d.keys.PageUp,
		PageDown: d.keys.PageDown,
	}
	return d
}

// open resets the inspector for se; data arrives by messages.
func (d detailModel) open(se auth.Session) detailModel {
	n := newDetailModel(d.styles)
	n.name, n.session = se.Name, se
	n.width, n.height = d.width, d.height
	n.vp.Width, n.vp.Height = d.vp.Width, d.vp.Height
	return n
}

// close drops the secrets.
func (d detailModel) close() detailModel {
	n := newDetailModel(d.styles)
	n.width, n.height = d.width, d.height
	return n
}

// setSize reports whether the size changed (the content must be rewrapped).
func (d *detailModel) setSize(w, h int) bool {
	changed := w != d.width || h != d.height
	d.width, d.height = w, h
	d.vp.Width, d.vp.Height = w, max(h-2, 1)
	return changed
}

// onData takes the answers of the inspector's commands (for this session
// only: a late answer for a session since closed is dropped).
func (d detailModel) onData(msg tea.Msg, now time.Time) detailModel {
	switch msg := msg.(type) {
	case secretsMsg:
		if msg.name != d.name {
			return d
		}
		d.secErr = msg.err
		if msg.err == nil {
			sec := msg.secrets
			d.secrets = &sec
			d.access = auth.Inspect(sec.AccessToken, auth.InspectOptions{Now: now, ExpectedExpiry: d.session.AccessExpiry})
			d.refresh = auth.Inspect(sec.RefreshToken, auth.InspectOptions{Now: now, ExpectedExpiry: d.session.RefreshExpiry})
		}
	case timelineMsg:
		if msg.name == d.name {
			d.timeline, d.tlErr = msg.events, msg.err
		}
	case probeMsg:
		if msg.name == d.name {
			p := msg
			d.probe, d.probing = &p, false
		}
	}
	return d
}

func (d detailModel) update(msg tea.Msg) (detailModel, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		switch {
		case keyIs(msg, d.keys.Top):
			d.vp.GotoTop()
			return d, nil
		case keyIs(msg, d.keys.Bottom):
			d.vp.GotoBottom()
			return d, nil
		}
	}
	var cmd tea.Cmd
	d.vp, cmd = d.vp.Update(msg)
	return d, cmd
}

// refreshContent re-renders the text for now (called from Update on every
// tick and on new data; View only shows it).
func (d *detailModel) refreshContent(now time.Time, loc *time.Location) {
	if d.name == "" {
		return
	}
	d.vp.SetContent(d.content(now, loc))
}

func (d detailModel) render() string {
	st := d.styles
	title := st.Title.Render(d.session.Name) + st.Muted.Render("  ·  inspector")
	if d.vp.TotalLineCount() > d.vp.Height {
		title += st.Muted.Render(fmt.Sprintf("  ·  %d%% · ↑/↓ scroll", int(d.vp.ScrollPercent()*100)))
	}
	return ansi.Truncate(title, d.width, "…") + "\n\n" + d.vp.View()
}

// content is the inspector's full text, wrapped to the width.
func (d detailModel) content(now time.Time, loc *time.Location) string {
	st := d.styles
	se := d.session
	const lw = 12
	var b strings.Builder
	// rowIn writes a label and its value, the value wrapped with a hanging
	// indent so long URLs, errors and revealed tokens stay in their column.
	rowIn := func(lw int, label, value string) {
		b.WriteString(st.Label.Render(fit(label, lw)))
		if d.width > lw+10 {
			value = strings.ReplaceAll(ansi.Wrap(value, d.width-lw, " "), "\n", "\n"+strings.Repeat(" ", lw))
		}
		b.WriteString(value)
		b.WriteByte('\n')
	}
	row := func(label, value string) { rowIn(lw, label, value) }
	cont := func(value string) { row("", value) }
	// tokenRow breaks a revealed token at exact widths: a word wrap would
	// break after '-' and make a token look shorter than it is.
	tokenRow := func(label, tok string) {
		b.WriteString(st.Label.Render(fit(label, lw)))
		if d.width > lw+10 {
			tok = strings.ReplaceAll(ansi.Hardwrap(tok, d.width-lw, false), "\n", "\n"+strings.Repeat(" ", lw))
		}
		b.WriteString(tok)
		b.WriteByte('\n')
	}
	section := func(title string) {
		b.WriteByte('\n')
		b.WriteString(st.Section.Render(title))
		b.WriteByte('\n')
	}

	status := present.Describe(se, now)
	state, u := stateText(se, now, nil)
	row("State", st.urgent(u).Render(state))
	cont(status.Words())
	row("User", fmt.Sprintf("%s · id %d", userLabel(se), se.User.UserID))
	row("Role", roleLabel(se))
	row("Org unit", orgLabel(se))
	// From here on every value that came from a server or a file (URLs,
	// errors, messages, request ids, emails, tokens) is escaped as it is
	// put in a row: rows also hold this view's own styling, which must stay.
	esc := safetext.Escape
	row("OAuth URL", esc(se.Endpoints.OAuthURL))
	row("API URL", esc(se.Endpoints.APIURL))
	if len(d.proxies) > 0 {
		row("Proxy", proxyText(d.proxies))
	}

	expiry := func(label string, e present.Expiry, urg urgency) {
		if !e.Known() {
			row(label, "unknown")
			return
		}
		rel := "expires " + e.Relative()
		if e.Expired() {
			rel = "expired " + e.Relative()
		}
		row(label, st.urgent(urg).Render(rel))
		cont(st.Muted.Render("local ") + e.At.In(loc).Format("2006-01-02 15:04:05 MST"))
		cont(st.Muted.Render("UTC   ") + timefmt.Absolute(e.At))
	}
	section("EXPIRY")
	expiry("Access", status.Access, accessUrgency(se, now))
	if life := accessLifetime(se); life > 0 {
		cont("lifetime " + timefmt.Countdown(life))
	}
	cont("auto-refresh " + status.AutoRefreshText())
	expiry("Refresh", status.Refresh, refreshUrgency(se, now))

	section("FINGERPRINTS")
	row("Access", present.OrDash(se.AccessFP))
	row("Refresh", present.OrDash(se.RefreshFP))
	row("Frontend", present.OrDash(se.FrontendFP))

	section("ACTIVITY")
	last := "never"
	if !se.LastRefresh.IsZero() {
		last = timefmt.Relative(se.LastRefresh, now)
	}
	row("Refreshes", fmt.Sprintf("%d · last %s · %d failures", se.Refreshes, last, se.Failures))
	if !se.CreatedAt.IsZero() {
		row("Created", timefmt.Relative(se.CreatedAt, now)+" · "+timefmt.Absolute(se.CreatedAt))
	}
	if se.LastError != "" {
		row("Last error", st.Bad.Render(esc(se.LastError)))
	}
	if status.SkewShown {
		row("Clock skew", "server clock "+present.SkewWords(se.ClockSkew)+"; expiries are counted by its clock")
	}

	hint := "masked · press v to reveal"
	if d.reveal {
		hint = "REVEALED · press v to mask"
	}
	section("TOKENS (" + hint + ")")
	switch {
	case d.secErr != nil:
		row("Error", st.Bad.Render(safetext.Lines("cannot load the tokens: "+d.secErr.Error())))
	case d.secrets == nil:
		row("", st.Muted.Render("loading…"))
	default:
		show := func(label, tok string) {
			if d.reveal && tok != "" {
				tokenRow(label, esc(tok))
			} else {
				row(label, mask(tok))
			}
		}
		show("Access", d.secrets.AccessToken)
		show("Refresh", d.secrets.RefreshToken)
		show("Frontend", d.secrets.FrontendToken)
		d.inspection(&b, row, "ACCESS TOKEN", d.access)
		d.inspection(&b, row, "REFRESH TOKEN", d.refresh)
	}

	section("SERVER PROBE (s)")
	switch {
	case d.probing:
		row("", st.Muted.Render("asking "+esc(se.Endpoints.APIURL)+"/auth/profile…"))
	case d.probe == nil:
		row("", st.Muted.Render("press s to ask GET "+esc(se.Endpoints.APIURL)+"/auth/profile whether the access token is accepted"))
	case d.probe.err != nil:
		row("Error", st.Bad.Render(safetext.Lines(d.probe.err.Error())))
		cont(st.Muted.Render("asked at " + clock(d.probe.at, loc)))
	default:
		p := d.probe.result
		verdict := st.Bad.Render("REJECTED")
		if p.Accepted {
			verdict = st.Good.Render("ACCEPTED")
		}
		line := fmt.Sprintf("%s · HTTP %d", verdict, p.Status)
		if p.Meta.RequestID != "" {
			line += " · request id " + esc(p.Meta.RequestID)
		}
		row("Verdict", line)
		if p.Message != "" {
			cont(esc(p.Message))
		}
		if p.User.Email != "" {
			cont(fmt.Sprintf("profile: %s · id %d · %s · org %d", esc(p.User.Email), p.User.UserID, auth.RoleName(p.User.RoleID), p.User.OrgUnitID))
		}
		cont(st.Muted.Render("asked at " + clock(d.probe.at, loc) + " (" + timefmt.Relative(d.probe.at, now) + ")"))
	}

	section("TIMELINE (newest last)")
	switch {
	case d.tlErr != nil:
		row("Error", st.Bad.Render(safetext.Lines(d.tlErr.Error())))
	case len(d.timeline) == 0:
		row("", st.Muted.Render("no events recorded"))
	default:
		for _, e := range d.timeline {
			text := strings.TrimPrefix(eventText(e, loc), e.Session+" ")
			// Wider labels: a stamp from another day is 12 cells.
			rowIn(lw+2, eventStamp(e.Time, now, loc), st.urgent(eventUrgency(e.Kind)).Render(text))
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// inspection writes what a token is: JWT header and claims, or opaque facts.
func (d detailModel) inspection(b *strings.Builder, row func(string, string), title string, in auth.Inspection) {
	st := d.styles
	b.WriteByte('\n')
	b.WriteString(st.Section.Render(title))
	b.WriteByte('\n')
	if in.Length == 0 {
		row("", st.Muted.Render("none"))
		return
	}
	// Inspect has escaped the header and claims; the JSON of each is
	// escaped again all the same, as cheap insurance for this view.
	row("Format", fmt.Sprintf("%s · %d chars · %s", in.Format, in.Length, in.Alphabet))
	if in.Format == "jwt" {
		row("Header", safetext.Escape(compactJSON(in.Header)))
		for i, k := range in.ClaimNames() {
			label := ""
			if i == 0 {
				label = "Claims"
			}
			v := safetext.Escape(compactJSON(in.Claims[k]))
			switch k {
			case "exp":
				v += "  (" + timefmt.Absolute(in.Expires) + ")"
			case "iat":
				v += "  (" + timefmt.Absolute(in.IssuedAt) + ")"
			case "nbf":
				v += "  (" + timefmt.Absolute(in.NotBefore) + ")"
			}
			row(label, safetext.Escape(k)+" = "+v)
		}
		row("Signature", "not verified (tokentop holds no keys)")
	}
	for i, w := range in.Warnings {
		label := ""
		if i == 0 {
			label = "Warnings"
		}
		row(label, st.Warn.Render(safetext.Escape(w)))
	}
}

func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
