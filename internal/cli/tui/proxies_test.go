package tui

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tokentop/tokentop/internal/cli/cmdutil"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/auth/emulator"
	"github.com/tokentop/tokentop/internal/proxy"
	"github.com/tokentop/tokentop/storage"
)

// TestMain lets the test binary stand in for `tokentop proxy` (a child
// started by childProxies): with TOKENTOP_TEST_FAKE_PROXY set it publishes
// a status file as the real proxy does, and on SIGINT writes "drained"
// to the file that variable names, removes its status and exits 0.
func TestMain(m *testing.M) {
	if marker := os.Getenv("TOKENTOP_TEST_FAKE_PROXY"); marker != "" {
		fakeProxyMain(marker)
		return
	}
	os.Exit(m.Run())
}

func fakeProxyMain(marker string) {
	dir := os.Getenv("TOKENTOP_CONFIG_DIR")
	name := os.Args[len(os.Args)-4] // proxy NAME --listen ADDR --quiet
	if os.Getenv("TOKENTOP_STORAGE") != "file" || os.Args[len(os.Args)-5] != "proxy" {
		os.Stderr.WriteString("fake proxy: wrong store or arguments: " + strings.Join(os.Args, " ") + "\n")
		os.Exit(2)
	}
	if name == "broken" {
		os.Stderr.WriteString("tokentop: session broken needs a new login\n")
		os.Exit(3)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	s := proxy.Status{PID: os.Getpid(), Session: name, Listen: "127.0.0.1:45678", Served: 7, Started: time.Now(), Updated: time.Now()}
	if err := proxy.WriteStatus(dir, s); err != nil {
		os.Exit(1)
	}
	<-sig
	_ = os.WriteFile(marker, []byte("drained"), 0o600)
	_ = proxy.RemoveStatus(dir, s.PID)
	os.Exit(0)
}

func TestChildProxyStartsShowsAndStopsGracefully(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	marker := filepath.Join(t.TempDir(), "drained")
	env := append(os.Environ(), "TOKENTOP_TEST_FAKE_PROXY="+marker, "TOKENTOP_STORAGE=keyring")
	c := newChildProxies(exe, env, dir, "file", nil, time.Now)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := c.Start(ctx, "work")
	if err != nil {
		t.Fatal(err)
	}
	if info.Listen != "127.0.0.1:45678" || !info.Ours || info.PID <= 0 {
		t.Fatalf("started %+v", info)
	}
	all, err := c.Running(ctx)
	if err != nil || len(all["work"]) != 1 || !all["work"][0].Ours || all["work"][0].Served != 7 {
		t.Fatalf("running %+v, %v", all, err)
	}
	// Its own process group: the terminal's Ctrl-C goes to the TUI alone.
	if pgid, err := syscall.Getpgid(info.PID); err != nil || pgid != info.PID {
		t.Errorf("child pgid %d (%v), want its own group %d", pgid, err, info.PID)
	}
	c.stop(5 * time.Second)
	if b, _ := os.ReadFile(marker); string(b) != "drained" {
		t.Error("the child was not stopped with SIGINT (it did not drain)")
	}
	if all, _ := c.Running(ctx); len(all) != 0 {
		t.Errorf("still running after stop: %+v", all)
	}
}

func TestChildProxyThatFailsSaysWhy(t *testing.T) {
	exe, _ := os.Executable()
	env := append(os.Environ(), "TOKENTOP_TEST_FAKE_PROXY="+filepath.Join(t.TempDir(), "m"))
	c := newChildProxies(exe, env, t.TempDir(), "file", nil, time.Now)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.Start(ctx, "broken")
	if err == nil || !strings.Contains(err.Error(), "needs a new login") || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("err %v: want the child's exit and last words", err)
	}
	if _, err := newChildProxies(exe, env, "", "memory", nil, time.Now).Start(ctx, "x"); err == nil || !strings.Contains(err.Error(), "memory") {
		t.Fatalf("memory storage: %v", err)
	}
}

// TestDemoProxyServesTheFirstSession: the demo's in-process proxy answers
// a request with no token of its own, and stops when asked.
func TestDemoProxyServesTheFirstSession(t *testing.T) {
	ctx := context.Background()
	primary, err := startDemoServer(emulator.Config{AccessTTL: time.Minute, RefreshTTL: time.Hour, Users: demoUsers()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(primary.close)
	st, err := storage.Open(storage.Options{Backend: storage.BackendMemory})
	if err != nil {
		t.Fatal(err)
	}
	k := auth.NewKeeper(auth.KeeperConfig{Store: st, Client: auth.NewClient(nil, nil), Audit: st})
	seeds, err := seedDemo(ctx, k, primary, time.Minute, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p := newInProcessProxies(k, time.Now)
	info, err := p.Start(ctx, seeds[0].name)
	if err != nil {
		t.Fatal(err)
	}
	line := demoStatus(info.URL())
	if len(line) > 100 || !strings.Contains(line, "curl -s http://127.0.0.1:") {
		t.Errorf("status line %q: want a curl line within 100 columns", line)
	}
	resp, err := http.Get(info.URL() + "/auth/profile")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "admin@acme.example") {
		t.Fatalf("through the demo proxy: %d %s", resp.StatusCode, body)
	}
	all, _ := p.Running(ctx)
	if got := all[seeds[0].name]; len(got) != 1 || got[0].Served != 1 {
		t.Errorf("running %+v, want one proxy that served 1 request", all)
	}
	p.stop(time.Second)
	if _, err := http.Get(info.URL() + "/auth/profile"); err == nil {
		t.Error("the proxy still answers after stop")
	}
}

// A proxy started from a TUI on etcd opens the same cluster and prefix,
// whether flags or the environment chose them; the password comes through
// the environment as it was.
func TestChildProxyGetsTheEtcdStore(t *testing.T) {
	environ := []string{"HOME=/h", "TOKENTOP_ETCD_PREFIX=/env-prefix/", "TOKENTOP_ETCD_PASSWORD=pw", "TOKENTOP_STORAGE=file"}
	flags := cmdutil.EtcdFlags{Endpoints: "https://e1:2379,https://e2:2379", Prefix: "/flag-prefix/", User: "ci"}
	c := newChildProxies("/bin/tokentop", environ, "/cfg", "etcd", flags.Env(), time.Now)
	want := []string{"HOME=/h", "TOKENTOP_ETCD_PASSWORD=pw", "TOKENTOP_CONFIG_DIR=/cfg", "TOKENTOP_STORAGE=etcd",
		"TOKENTOP_ETCD_ENDPOINTS=https://e1:2379,https://e2:2379", "TOKENTOP_ETCD_PREFIX=/flag-prefix/", "TOKENTOP_ETCD_USER=ci"}
	if !slices.Equal(c.env, want) {
		t.Fatalf("child env %q, want %q", c.env, want)
	}
}
