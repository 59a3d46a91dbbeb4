package ui

import (
	"context"
	"fmt"
	"sort"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/present"
	"github.com/tokentop/tokentop/internal/safetext"
)

// ProxyInfo is one `tokentop proxy` serving a session, in this process or
// another. It holds no secret.
type ProxyInfo struct {
	Listen string // host:port it listens on
	Served uint64 // requests answered so far
	PID    int
	// Ours says this TUI started it: it stops when the TUI quits.
	Ours bool
}

// URL is the proxy's base URL.
func (p ProxyInfo) URL() string { return "http://" + p.Listen }

// Proxies is an optional Config capability: the proxies serving sessions
// (read from their status files, or this process's own) and starting one.
// The UI calls both in commands, never in Update.
type Proxies interface {
	// Running lists the proxies running now by session name.
	Running(ctx context.Context) (map[string][]ProxyInfo, error)
	// Start starts a proxy for the session on a free loopback port and
	// returns once it listens.
	Start(ctx context.Context, name string) (ProxyInfo, error)
}

// proxyStartTimeout bounds starting a proxy (a child process that must
// read its session, maybe refresh it, and publish its address).
const proxyStartTimeout = callTimeout

type proxiesMsg struct {
	all map[string][]ProxyInfo
	err error
}

type proxyStartedMsg struct {
	name string
	info ProxyInfo
	err  error
}

// proxiesCmd reads the running proxies; the tick asks once a second.
func (m *Model) proxiesCmd() tea.Cmd {
	if m.proxies == nil || m.proxyReading {
		return nil
	}
	m.proxyReading = true
	p, ctx := m.proxies, m.ctx
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, storeTimeout)
		defer cancel()
		all, err := p.Running(ctx)
		return proxiesMsg{all: all, err: err}
	}
}

func (m *Model) onProxies(msg proxiesMsg) {
	m.proxyReading = false
	if msg.err != nil {
		// The status files are a courtesy between processes: without them
		// the sessions still work. The last known list stays.
		return
	}
	m.setProxied(msg.all)
}

func (m *Model) setProxied(all map[string][]ProxyInfo) {
	for _, ps := range all {
		sort.Slice(ps, func(i, j int) bool { return ps[i].PID < ps[j].PID })
	}
	m.proxied = all
	m.list.setProxied(all)
	m.detail.proxies = all[m.detail.name]
	m.detail.refreshContent(m.now, m.loc)
}

// startProxy starts a proxy for se, unless one already serves it.
func (m *Model) startProxy(se auth.Session) tea.Cmd {
	if m.proxies == nil {
		m.setStatus("this TUI cannot start proxies: run `tokentop proxy "+se.Name+"` in another terminal", urgencySoon)
		return nil
	}
	if ps := m.proxied[se.Name]; len(ps) > 0 {
		m.setStatus(fmt.Sprintf("%s is already proxied on %s · curl -s %s/auth/profile", se.Name, ps[0].URL(), ps[0].URL()), urgencyMuted)
		return nil
	}
	m.setStatus("starting a proxy for "+se.Name+"…", urgencyMuted)
	p, ctx, name := m.proxies, m.ctx, se.Name
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, proxyStartTimeout)
		defer cancel()
		info, err := p.Start(ctx, name)
		return proxyStartedMsg{name: name, info: info, err: err}
	}
}

func (m *Model) onProxyStarted(msg proxyStartedMsg) tea.Cmd {
	if msg.err != nil {
		m.setStatus("proxy for "+msg.name+" not started: "+safetext.Escape(msg.err.Error()), urgencyNow)
		return nil
	}
	all := make(map[string][]ProxyInfo, len(m.proxied)+1)
	for k, v := range m.proxied {
		all[k] = v
	}
	all[msg.name] = append(append([]ProxyInfo(nil), all[msg.name]...), msg.info)
	m.setProxied(all)
	m.setStatus(fmt.Sprintf("proxy for %s: curl -s %s/auth/profile · stops when you quit", msg.name, msg.info.URL()), urgencyMuted)
	return nil
}

// proxyText is the inspector's line for the proxies serving a session.
func proxyText(ps []ProxyInfo) string {
	parts := make([]string, 0, len(ps))
	for _, p := range ps {
		who := fmt.Sprintf("pid %d", p.PID)
		if p.Ours {
			who = "started here, stops when you quit"
		}
		parts = append(parts, fmt.Sprintf("%s · %d requests served (%s)", p.URL(), p.Served, who))
	}
	return strings.Join(parts, "\n")
}

// proxyMark is the list's sign, after a session's name, that it is
// proxied; it takes proxyMarkWidth cells.
const (
	proxyMark      = " ⇄"
	proxyMarkWidth = 2
)

// nameWidth is the cells a session's name takes in the list, with its
// proxy mark.
func (m *listModel) nameWidth(name string) int {
	if len(m.proxied[name]) > 0 {
		return len(name) + proxyMarkWidth
	}
	return len(name)
}

// setProxied marks the proxied sessions, widening NAME for the mark.
func (m *listModel) setProxied(all map[string][]ProxyInfo) {
	m.proxied = all
	if m.natural == nil {
		return
	}
	w := 4
	for _, se := range m.all {
		w = max(w, m.nameWidth(se.Name))
	}
	m.natural[present.ColName] = w
	m.cols = layoutColumns(m.width, m.natural)
}
