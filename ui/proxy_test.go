package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/charmbracelet/x/exp/golden"
)

// fakeProxies answers Running with what it was given and records Start.
type fakeProxies struct {
	mu       sync.Mutex
	running  map[string][]ProxyInfo
	reads    int
	started  []string
	startErr error
}

func (f *fakeProxies) Running(context.Context) (map[string][]ProxyInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	out := map[string][]ProxyInfo{}
	for k, v := range f.running {
		out[k] = append([]ProxyInfo(nil), v...)
	}
	return out, nil
}

func (f *fakeProxies) Start(_ context.Context, name string) (ProxyInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = append(f.started, name)
	if f.startErr != nil {
		return ProxyInfo{}, f.startErr
	}
	p := ProxyInfo{Listen: "127.0.0.1:41234", PID: 777, Ours: true}
	if f.running == nil {
		f.running = map[string][]ProxyInfo{}
	}
	f.running[name] = append(f.running[name], p)
	return p, nil
}

func (f *fakeProxies) counts() (reads, starts int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads, len(f.started)
}

// withProxies gives the harness proxies: acme-admin served by another
// process.
func withProxies(fp *fakeProxies) harnessOpt {
	return func(c *Config) {
		if fp.running == nil {
			fp.running = map[string][]ProxyInfo{"acme-admin": {{Listen: "127.0.0.1:8788", Served: 1234, PID: 4242}}}
		}
		c.Proxies = fp
	}
}

// TestProxiesAreReadOnTheTickInACommand: the status files are read by a
// command the tick returns, never inside Update, and one read at a time.
func TestProxiesAreReadOnTheTickInACommand(t *testing.T) {
	fp := &fakeProxies{}
	h := newHarness(t, 120, 30, withProxies(fp))
	next, cmd := h.m.Update(tickMsg{now: fixedNow})
	h.m = next.(Model)
	if reads, _ := fp.counts(); reads != 0 {
		t.Fatalf("Update read the proxies itself (%d reads)", reads)
	}
	next, cmd2 := h.m.Update(tickMsg{now: fixedNow})
	h.m = next.(Model)
	msgs := append(h.run(cmd), h.run(cmd2)...)
	if reads, _ := fp.counts(); reads != 1 {
		t.Fatalf("%d reads for two ticks while the first was in flight, want 1", reads)
	}
	h.send(msgs...)
	if !markedProxied(h.view(), "acme-admin") || markedProxied(h.view(), "billing-retry") {
		t.Fatalf("want acme-admin alone marked ⇄:\n%s", h.view())
	}
}

// markedProxied says whether name's row in the list has the proxy mark.
func markedProxied(v, name string) bool {
	for _, l := range strings.Split(v, "\n") {
		if f := strings.Fields(strings.TrimLeft(l, "▸ ")); len(f) > 1 && f[0] == name {
			return f[1] == "⇄"
		}
	}
	return false
}

func TestPStartsAProxyForTheSelectedSession(t *testing.T) {
	fp := &fakeProxies{running: map[string][]ProxyInfo{}}
	h := newHarness(t, 120, 30, withProxies(fp))
	h.keys("j") // billing-retry
	h.keys("P")
	if _, starts := fp.counts(); starts != 1 || fp.started[0] != "billing-retry" {
		t.Fatalf("started %v, want [billing-retry]", fp.started)
	}
	h.requireContains("proxy for billing-retry: curl -s http://127.0.0.1:41234/auth/profile")
	if !markedProxied(h.view(), "billing-retry") {
		t.Fatalf("billing-retry not marked ⇄:\n%s", h.view())
	}
	// Again: it says where the one running is instead of a second one.
	h.keys("P")
	if _, starts := fp.counts(); starts != 1 {
		t.Fatalf("a second proxy was started for the same session")
	}
	h.requireContains("billing-retry is already proxied on http://127.0.0.1:41234")
	h.keys("enter")
	h.requireContains("Proxy", "http://127.0.0.1:41234 · 0 requests served (started here, stops when you quit)")
}

func TestProxyStartFailureIsShown(t *testing.T) {
	fp := &fakeProxies{running: map[string][]ProxyInfo{}, startErr: errors.New("session needs a new login: tokentop login billing-retry")}
	h := newHarness(t, 120, 30, withProxies(fp))
	h.keys("j", "P")
	h.requireContains("proxy for billing-retry not started: session needs a new login")
	if markedProxied(h.view(), "billing-retry") {
		t.Fatalf("marked ⇄ though its proxy did not start:\n%s", h.view())
	}
}

func TestPWithoutProxiesSaysHow(t *testing.T) {
	h := newHarness(t, 120, 30)
	h.keys("P")
	h.requireContains("run `tokentop proxy acme-admin` in another terminal")
}

// TestGoldenProxied pins the list and the inspector with a session served
// by a proxy in another process. Regenerate with -update, as TestGolden.
func TestGoldenProxied(t *testing.T) {
	for _, sc := range []struct {
		name string
		keys []string
	}{{"list", nil}, {"detail", []string{"enter"}}} {
		for _, sz := range goldenSizes {
			t.Run(fmt.Sprintf("%s/%dx%d", sc.name, sz.w, sz.h), func(t *testing.T) {
				fp := &fakeProxies{}
				h := newHarness(t, sz.w, sz.h, skewed, withProxies(fp))
				next, cmd := h.m.Update(tickMsg{now: fixedNow})
				h.m = next.(Model)
				h.send(h.run(cmd)...)
				h.keys(sc.keys...)
				v := h.view()
				requireFits(t, v, sz.w, sz.h)
				requireInertView(t, v)
				if !strings.Contains(v, "⇄") && sc.name == "list" {
					t.Errorf("no proxy mark:\n%s", v)
				}
				golden.RequireEqual(t, []byte(v))
			})
		}
	}
}
