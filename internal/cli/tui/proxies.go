package tui

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/proxy"
	"github.com/tokentop/tokentop/ui"
)

// proxyRunner is what the TUI's P key and its proxy marks work with: the
// proxies serving sessions, starting one, and stopping the ones it started
// when the TUI quits.
type proxyRunner interface {
	ui.Proxies
	// stop stops the proxies this process started, letting their requests
	// in flight finish within wait.
	stop(wait time.Duration)
}

// proxyStopWait is how long the TUI waits for a proxy it started to stop
// before killing it: its drain (10 s), then a refresh it may have started
// late in the drain, which it finishes and saves before exiting (the wait
// for the session lock, the client's call timeout, a retry, and the save's
// retries). Killing it sooner could drop a pair the server has already
// issued; a proxy with nothing in flight exits in milliseconds.
const proxyStopWait = proxy.DrainFor + auth.DefaultLockTimeout + 2*auth.DefaultCallTimeout + auth.DefaultSaveRetryFor

// childProxies runs `tokentop proxy NAME` as child processes, each in its
// own process group, so that the terminal's signals reach the TUI alone
// and quitting can stop them in order (SIGINT, a drain, then SIGKILL).
// Which sessions are proxied, by this TUI or any other process, comes
// from the proxies' status files in the config dir.
type childProxies struct {
	exe       string   // the tokentop binary
	env       []string // the child's environment, store settings included
	configDir string   // "" when sessions live in memory: no child sees them
	now       func() time.Time

	mu       sync.Mutex
	children []*proxyChild
}

type proxyChild struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed once the child has exited
	out  *tailBuffer
}

func newChildProxies(exe string, environ []string, configDir, backend string, etcd []string, now func() time.Time) *childProxies {
	env := make([]string, 0, len(environ)+2+len(etcd))
	for _, kv := range environ {
		switch {
		case strings.HasPrefix(kv, "TOKENTOP_CONFIG_DIR="), strings.HasPrefix(kv, "TOKENTOP_STORAGE="):
		case len(etcd) > 0 && strings.HasPrefix(kv, "TOKENTOP_ETCD_") && !strings.HasPrefix(kv, "TOKENTOP_ETCD_PASSWORD="):
		default:
			env = append(env, kv)
		}
	}
	// The child opens the very store this TUI opened, whatever flags or
	// environment chose it: the config dir, the backend and, for etcd, the
	// --etcd-* flags as their variables (the password is never a flag).
	env = append(env, "TOKENTOP_CONFIG_DIR="+configDir, "TOKENTOP_STORAGE="+backend)
	env = append(env, etcd...)
	return &childProxies{exe: exe, env: env, configDir: configDir, now: now}
}

func (c *childProxies) Running(context.Context) (map[string][]ui.ProxyInfo, error) {
	if c.configDir == "" {
		return nil, nil
	}
	all, err := proxy.ReadStatuses(c.configDir, c.now())
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	ours := map[int]bool{}
	for _, ch := range c.children {
		ours[ch.cmd.Process.Pid] = !ch.exited()
	}
	c.mu.Unlock()
	out := make(map[string][]ui.ProxyInfo, len(all))
	for name, ss := range all {
		for _, s := range ss {
			out[name] = append(out[name], ui.ProxyInfo{Listen: s.Listen, Served: s.Served, PID: s.PID, Ours: ours[s.PID]})
		}
	}
	return out, nil
}

// Start runs `tokentop proxy NAME --listen 127.0.0.1:0 --quiet` and waits
// for its status file, which says the port it took.
func (c *childProxies) Start(ctx context.Context, name string) (ui.ProxyInfo, error) {
	if c.configDir == "" {
		return ui.ProxyInfo{}, errors.New("the sessions are in memory (--storage memory), which another process cannot read; " +
			"use keyring or file storage to proxy from the TUI")
	}
	cmd := exec.Command(c.exe, "proxy", name, "--listen", "127.0.0.1:0", "--quiet")
	cmd.Env = c.env
	out := &tailBuffer{max: 2048}
	cmd.Stdout, cmd.Stderr = out, out // never the TUI's terminal
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return ui.ProxyInfo{}, fmt.Errorf("start tokentop proxy %s: %w", name, err)
	}
	ch := &proxyChild{name: name, cmd: cmd, done: make(chan struct{}), out: out}
	go func() {
		_ = cmd.Wait()
		close(ch.done)
	}()
	c.mu.Lock()
	c.children = append(c.children, ch)
	c.mu.Unlock()

	poll := time.NewTicker(25 * time.Millisecond)
	defer poll.Stop()
	for {
		all, _ := proxy.ReadStatuses(c.configDir, c.now())
		for _, s := range all[name] {
			if s.PID == cmd.Process.Pid {
				return ui.ProxyInfo{Listen: s.Listen, Served: s.Served, PID: s.PID, Ours: true}, nil
			}
		}
		select {
		case <-ch.done:
			return ui.ProxyInfo{}, fmt.Errorf("tokentop proxy %s exited (%s): %s", name, cmd.ProcessState, out.text())
		case <-ctx.Done():
			// Its first token may be a refresh the server has already
			// answered: the same wait as quitting, never a quick kill.
			ch.stop(proxyStopWait)
			return ui.ProxyInfo{}, fmt.Errorf("tokentop proxy %s did not say which port it listens on: %w", name, ctx.Err())
		case <-poll.C:
		}
	}
}

func (c *childProxies) stop(wait time.Duration) {
	c.mu.Lock()
	children := c.children
	c.children = nil
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, ch := range children {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch.stop(wait)
		}()
	}
	wg.Wait()
}

func (ch *proxyChild) exited() bool {
	select {
	case <-ch.done:
		return true
	default:
		return false
	}
}

// stop asks the child's process group to stop as Ctrl-C would (the proxy
// drains its requests and saves a refresh in flight), and kills it if it
// has not exited within wait.
func (ch *proxyChild) stop(wait time.Duration) {
	if ch.exited() {
		return
	}
	pgid := ch.cmd.Process.Pid // Setpgid: the child leads its group
	_ = syscall.Kill(-pgid, syscall.SIGINT)
	select {
	case <-ch.done:
	case <-time.After(wait):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-ch.done
	}
}

// tailBuffer keeps the last max bytes written: a child's last words, for
// an error message, without growing.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) text() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.TrimSpace(string(t.b))
	if s == "" {
		return "no output"
	}
	return strings.Join(strings.Fields(s), " ")
}

// inProcessProxies serves proxies from this process over its own keeper:
// the demo's sessions live in memory, where no child process could read
// them.
type inProcessProxies struct {
	k   *auth.Keeper
	now func() time.Time

	mu      sync.Mutex
	running map[string]*inProcessProxy
}

type inProcessProxy struct {
	h    *proxy.Handler
	srv  *http.Server
	addr string
}

func newInProcessProxies(k *auth.Keeper, now func() time.Time) *inProcessProxies {
	return &inProcessProxies{k: k, now: now, running: map[string]*inProcessProxy{}}
}

func (p *inProcessProxies) Running(context.Context) (map[string][]ui.ProxyInfo, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string][]ui.ProxyInfo, len(p.running))
	for name, r := range p.running {
		out[name] = []ui.ProxyInfo{{Listen: r.addr, Served: r.h.Served(), PID: os.Getpid(), Ours: true}}
	}
	return out, nil
}

func (p *inProcessProxies) Start(ctx context.Context, name string) (ui.ProxyInfo, error) {
	p.mu.Lock()
	r, ok := p.running[name]
	p.mu.Unlock()
	if ok {
		return ui.ProxyInfo{Listen: r.addr, Served: r.h.Served(), PID: os.Getpid(), Ours: true}, nil
	}
	_, meta, err := p.k.Token(ctx, name, 0)
	if err != nil {
		return ui.ProxyInfo{}, err
	}
	target, err := proxy.CheckTarget(meta.Endpoints.APIURL)
	if err != nil {
		return ui.ProxyInfo{}, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return ui.ProxyInfo{}, fmt.Errorf("proxy %s: %w", name, err)
	}
	h := proxy.New(proxy.Config{Session: name, Target: target, Tokens: p.k, Now: p.now})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	r = &inProcessProxy{h: h, srv: srv, addr: ln.Addr().String()}
	p.mu.Lock()
	p.running[name] = r
	p.mu.Unlock()
	return ui.ProxyInfo{Listen: r.addr, PID: os.Getpid(), Ours: true}, nil
}

func (p *inProcessProxies) stop(wait time.Duration) {
	p.mu.Lock()
	running := p.running
	p.running = map[string]*inProcessProxy{}
	p.mu.Unlock()
	for _, r := range running {
		// The drain only: a refresh in flight is this process's keeper's,
		// which the TUI waits for on its way out (wait is a child's bound).
		ctx, cancel := context.WithTimeout(context.Background(), min(wait, proxy.DrainFor))
		if r.srv.Shutdown(ctx) != nil {
			_ = r.srv.Close()
		}
		cancel()
		r.h.Close() // a refresh a request began is saved
	}
}
