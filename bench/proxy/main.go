// Command proxy measures `tokentop proxy` against the emulator, side by side
// with the same requests sent directly, in one run:
//
//   - latency: p50 and p99 of a small authenticated GET, direct and through
//     the proxy, at 1 and 32 concurrent keep-alive connections, and the
//     throughput (requests a second) of each at 32;
//   - soak: 64 clients for -soak (60 s) while the access token lives -ttl
//     (10 s): answers that are not 2xx (and which of them the proxy made),
//     refreshes against the expected count, refresh tokens presented twice
//     (the emulator's reuse counter), and the proxy's RSS at start and end;
//   - transfer: a 200 MB download and a 200 MB upload through the proxy,
//     with the proxy's peak RSS (VmHWM).
//
// Beside the latency it reports CPU time per request: the bench process's
// (client and upstream) for direct requests and for proxied ones, and the
// proxy process's, so that the proxy's own cost shows apart from the
// machine's load. The proxy logs every request (its default) to a file
// unless -quiet.
//
// -proxy-cpu N runs the proxy on CPU N alone (with taskset); start the
// bench itself on the other CPUs (taskset -c 0 bench ... -proxy-cpu 1).
// run.sh reports both placements. On a machine with few cores the split is
// the fair measurement of throughput: shared, the proxied requests cost
// the client and upstream's CPU plus the proxy's on the same cores, so
// with 2 cores the proxied rate is bounded by bench/(bench+proxy) CPU per
// request whatever the proxy does, a bound direct requests do not have;
// split, each side has a core of its own, as a proxy beside its clients on
// a developer's machine has, and the proxy's own cost decides.
//
// The proxy is the real binary (-bin, built by run.sh) over a file store in a
// temporary config dir; the upstream is an in-process server on loopback
// that checks every Bearer token with the emulator and serves small and
// streaming endpoints beside the emulator's own.
//
//	go build -o /tmp/tokentop . && go run ./bench/proxy -bin /tmp/tokentop
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/auth/emulator"
	"github.com/tokentop/tokentop/internal/proxy"
	"github.com/tokentop/tokentop/storage"
)

// Settings from flags, read once at start.
var (
	quiet    bool
	proxyCPU string
)

func main() {
	bin := flag.String("bin", "", "the tokentop binary to run as the proxy (required)")
	n1 := flag.Int("n1", 3000, "requests per latency run at 1 connection")
	n32 := flag.Int("n32", 30000, "requests per latency run at 32 connections")
	soak := flag.Duration("soak", time.Minute, "soak duration (0 skips it)")
	ttl := flag.Duration("ttl", 10*time.Second, "access-token lifetime during the soak")
	size := flag.Int64("size", 200<<20, "bytes for the download and upload (0 skips them)")
	flag.BoolVar(&quiet, "quiet", false, "run the proxy with --quiet (no line per request)")
	flag.StringVar(&proxyCPU, "proxy-cpu", "", "run the proxy pinned to these CPUs (taskset -c LIST)")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "proxy bench: -bin PATH is required (go build -o /tmp/tokentop .)")
		os.Exit(2)
	}
	if err := run(*bin, *n1, *n32, *soak, *ttl, *size); err != nil {
		fmt.Fprintln(os.Stderr, "proxy bench:", err)
		os.Exit(1)
	}
}

// upstream is the emulator plus endpoints for the bench, all checking the
// Bearer token with the emulator as the real API would.
type upstream struct {
	emu *emulator.Server
}

func (u upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/v3/small", "/v3/bytes", "/v3/upload":
	default:
		u.emu.ServeHTTP(w, r)
		return
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !u.emu.Valid(tok, emulator.KindAccess) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"statusCode":401,"message":"Unauthorized"}`)
		return
	}
	switch r.URL.Path {
	case "/v3/small":
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"code":200,"message":"Success","data":{"ok":true}}`)
	case "/v3/bytes":
		n, _ := strconv.ParseInt(r.URL.Query().Get("n"), 10, 64)
		buf := make([]byte, 64<<10)
		for n > 0 {
			k := min(n, int64(len(buf)))
			if _, err := w.Write(buf[:k]); err != nil {
				return
			}
			n -= k
		}
	case "/v3/upload":
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, `{"received":%d}`, n)
	}
}

type bench struct {
	up      *httptest.Server
	emu     *emulator.Server
	dir     string
	bin     string
	cmd     *exec.Cmd
	proxied string // http://addr of the proxy
	token   string // for direct requests
}

func run(bin string, n1, n32 int, soak, ttl time.Duration, size int64) error {
	b := &bench{bin: bin}
	b.emu = emulator.New(emulator.Config{LoginRate: -1})
	b.up = httptest.NewServer(upstream{b.emu})
	defer b.up.Close()
	var err error
	if b.dir, err = os.MkdirTemp("", "tokentop-proxy-bench-"); err != nil {
		return err
	}
	defer os.RemoveAll(b.dir)

	// Latency and transfers: a token that outlives the run.
	if err := b.start("lat", time.Hour); err != nil {
		return err
	}
	logged := "every request logged to a file"
	if quiet {
		logged = "--quiet"
	}
	pinned := ""
	if proxyCPU != "" {
		pinned = ", proxy on CPU " + proxyCPU
	}
	fmt.Printf("proxy bench: upstream %s, proxy %s (%s%s)\n\n", b.up.URL, b.proxied, logged, pinned)
	fmt.Println("latency of GET /v3/small (keep-alive); CPU µs per request: bench = client+upstream, proxy = the proxy process")
	fmt.Printf("  %-6s %-8s %9s %9s %11s %9s %9s\n", "conns", "path", "p50", "p99", "req/s", "cpu:bench", "cpu:proxy")
	for _, c := range []struct{ conns, n int }{{1, n1}, {32, n32}} {
		var direct, proxied result
		// Interleaved halves, so drift on a shared machine hits both alike.
		for range 2 {
			direct.add(measure(-1, func() result { return load(b.up.URL+"/v3/small", b.token, c.conns, c.n/2) }))
			proxied.add(measure(b.cmd.Process.Pid, func() result { return load(b.proxied+"/small", "", c.conns, c.n/2) }))
		}
		direct.print(c.conns, "direct")
		proxied.print(c.conns, "proxied")
		fmt.Printf("  %-6d %-8s %+8.3fms %+8.3fms %10.0f%%\n", c.conns, "added", ms(proxied.p(50)-direct.p(50)), ms(proxied.p(99)-direct.p(99)),
			100*proxied.rate()/direct.rate())
	}
	if size > 0 {
		if err := b.transfers(size); err != nil {
			return err
		}
	}
	b.stop()
	if soak > 0 {
		if err := b.start("soak", ttl); err != nil {
			return err
		}
		defer b.stop()
		return b.soak(soak, ttl)
	}
	return nil
}

// start imports a fresh session name with the given access lifetime into
// the bench's config dir and starts the proxy binary for it.
func (b *bench) start(name string, ttl time.Duration) error {
	st, err := storage.Open(storage.Options{ConfigDir: b.dir, Backend: storage.BackendFile})
	if err != nil {
		return err
	}
	body, err := b.emu.Issue(emulator.DefaultUser().Email, ttl, 24*time.Hour)
	if err != nil {
		return err
	}
	k := auth.NewKeeper(auth.KeeperConfig{Store: st})
	if _, err := k.Import(context.Background(), name, auth.Endpoints{OAuthURL: b.up.URL, APIURL: b.up.URL + "/v3"}, body, auth.ImportOptions{KeepAlive: true}); err != nil {
		return err
	}
	sec, err := st.Secrets(context.Background(), name)
	if err != nil {
		return err
	}
	b.token = sec.AccessToken
	args := []string{b.bin, "proxy", name, "--listen", "127.0.0.1:0"}
	if quiet {
		args = append(args, "--quiet")
	}
	if proxyCPU != "" {
		args = append([]string{"taskset", "-c", proxyCPU}, args...)
	}
	b.cmd = exec.Command(args[0], args[1:]...)
	b.cmd.Env = append(os.Environ(), "TOKENTOP_CONFIG_DIR="+b.dir, "TOKENTOP_STORAGE=file")
	b.cmd.Stderr = os.Stderr
	if !quiet {
		// The log of every request, as a user would keep it; not the
		// terminal, whose speed would be measured instead.
		logf, err := os.Create(filepath.Join(b.dir, name+".log"))
		if err != nil {
			return err
		}
		defer logf.Close() // the child has its own descriptor
		b.cmd.Stderr = logf
	}
	if err := b.cmd.Start(); err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		all, _ := proxy.ReadStatuses(b.dir, time.Now())
		for _, s := range all[name] {
			if s.PID == b.cmd.Process.Pid {
				b.proxied = "http://" + s.Listen
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("the proxy did not publish its address within 10s")
}

func (b *bench) stop() {
	if b.cmd == nil || b.cmd.Process == nil {
		return
	}
	_ = b.cmd.Process.Signal(os.Interrupt)
	_ = b.cmd.Wait()
	b.cmd = nil
}

// rss reads the proxy's resident set (VmRSS) and peak (VmHWM) in KiB.
func (b *bench) rss() (cur, peak int64) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(b.cmd.Process.Pid), "status"))
	if err != nil {
		return -1, -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "VmRSS:":
			cur = v
		case "VmHWM:":
			peak = v
		}
	}
	return cur, peak
}

func client(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}}
}

type result struct {
	lat     []time.Duration
	elapsed time.Duration
	errs    int
	// CPU time spent by the bench process and the proxy process.
	cpuBench, cpuProxy time.Duration
}

func (r *result) add(o result) {
	r.lat = append(r.lat, o.lat...)
	r.elapsed += o.elapsed
	r.errs += o.errs
	r.cpuBench += o.cpuBench
	r.cpuProxy += o.cpuProxy
}

// measure runs f and adds the CPU time the bench process and process pid
// (when not -1) spent meanwhile. The warm-up inside f is counted too; it
// is the same for both paths.
func measure(pid int, f func() result) result {
	b0, p0 := selfCPU(), procCPU(pid)
	r := f()
	r.cpuBench, r.cpuProxy = selfCPU()-b0, procCPU(pid)-p0
	return r
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU is the user and system time of process pid, all threads, from
// /proc/PID/stat (in clock ticks of 10 ms).
func procCPU(pid int) time.Duration {
	if pid < 0 {
		return 0
	}
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces; fields after it are plain.
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

func (r *result) p(q int) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	slices.Sort(r.lat)
	return r.lat[min(len(r.lat)-1, len(r.lat)*q/100)]
}

func (r *result) rate() float64 { return float64(len(r.lat)) / r.elapsed.Seconds() }

func (r *result) print(conns int, what string) {
	n := float64(len(r.lat) + r.errs)
	fmt.Printf("  %-6d %-8s %7.3fms %7.3fms %11.0f %9.1f %9.1f", conns, what, ms(r.p(50)), ms(r.p(99)), r.rate(),
		float64(r.cpuBench.Microseconds())/n, float64(r.cpuProxy.Microseconds())/n)
	if r.errs > 0 {
		fmt.Printf("  (%d errors)", r.errs)
	}
	fmt.Println()
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// load sends n GETs over conns keep-alive connections, after a warm-up.
func load(url, token string, conns, n int) result {
	c := client(conns)
	defer c.CloseIdleConnections()
	one := func() (time.Duration, bool) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		t := time.Now()
		resp, err := c.Do(req)
		if err != nil {
			return 0, false
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return time.Since(t), resp.StatusCode == 200
	}
	for range conns * 20 {
		one()
	}
	var next atomic.Int64
	lat := make([][]time.Duration, conns)
	errs := make([]int, conns)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				d, ok := one()
				if !ok {
					errs[i]++
					continue
				}
				lat[i] = append(lat[i], d)
			}
		}()
	}
	wg.Wait()
	r := result{elapsed: time.Since(start)}
	for i := range conns {
		r.lat = append(r.lat, lat[i]...)
		r.errs += errs[i]
	}
	return r
}

// transfers moves size bytes down and up through the proxy and reports
// the proxy's peak RSS.
func (b *bench) transfers(size int64) error {
	fmt.Printf("\ntransfers through the proxy (%d MB)\n", size>>20)
	c := client(1)
	_, peak0 := b.rss()
	t := time.Now()
	resp, err := c.Get(fmt.Sprintf("%s/bytes?n=%d", b.proxied, size))
	if err != nil {
		return err
	}
	got, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || got != size {
		return fmt.Errorf("download: %d of %d bytes: %v", got, size, err)
	}
	_, peak1 := b.rss()
	fmt.Printf("  download  %6.0f MB/s   proxy peak RSS %5.1f MiB (before %5.1f MiB)\n", float64(size>>20)/time.Since(t).Seconds(), float64(peak1)/1024, float64(peak0)/1024)
	t = time.Now()
	pr, pw := io.Pipe()
	go func() {
		buf := make([]byte, 64<<10)
		left := size
		for left > 0 {
			k := min(left, int64(len(buf)))
			if _, err := pw.Write(buf[:k]); err != nil {
				return
			}
			left -= k
		}
		pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPost, b.proxied+"/upload", pr)
	req.ContentLength = size // a known length over 1 MiB: streamed, not kept for a replay
	resp, err = c.Do(req)
	if err != nil {
		return err
	}
	ans, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := fmt.Sprintf(`{"received":%d}`, size); string(ans) != want {
		return fmt.Errorf("upload: answer %q, want %q", ans, want)
	}
	_, peak2 := b.rss()
	fmt.Printf("  upload    %6.0f MB/s   proxy peak RSS %5.1f MiB\n", float64(size>>20)/time.Since(t).Seconds(), float64(peak2)/1024)
	return nil
}

// soak runs 64 clients for d while the token lives ttl.
func (b *bench) soak(d, ttl time.Duration) error {
	fmt.Printf("\nsoak: 64 clients for %s, access token lifetime %s\n", d, ttl)
	before := b.emu.Stats()
	rss0, _ := b.rss()
	c := client(64)
	var ok, bad, byProxy atomic.Int64
	var mu sync.Mutex
	statuses := map[int]int{}
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				resp, err := c.Get(b.proxied + "/small")
				if err != nil {
					bad.Add(1)
					byProxy.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 == 2 {
					ok.Add(1)
					continue
				}
				bad.Add(1)
				if resp.Header.Get(proxy.ErrorHeader) != "" || resp.Header.Get(proxy.NoteHeader) != "" {
					byProxy.Add(1)
				}
				mu.Lock()
				statuses[resp.StatusCode]++
				mu.Unlock()
			}
		}()
	}
	var samples []string
	tick := time.NewTicker(10 * time.Second)
	for time.Now().Before(stop) {
		select {
		case <-tick.C:
			r, _ := b.rss()
			samples = append(samples, fmt.Sprintf("%.1f", float64(r)/1024))
		case <-time.After(time.Until(stop)):
		}
	}
	tick.Stop()
	wg.Wait()
	rss1, _ := b.rss()
	after := b.emu.Stats()
	refreshes := after.Refreshes - before.Refreshes
	// The window of a token living ttl is half of it when ttl < 60 s
	// (auth.RefreshWindow), so a refresh comes every ttl/2.
	win := auth.RefreshWindow(ttl)
	expected := int(d / (ttl - win))
	fmt.Printf("  requests %d ok, %d not 2xx (%d of them from the proxy) %v\n", ok.Load(), bad.Load(), byProxy.Load(), statuses)
	fmt.Printf("  refreshes %d (expected %d, give or take one: one every %s), refresh tokens presented twice %d, refresh rejections %d\n",
		refreshes, expected, ttl-win, after.ReuseDetected-before.ReuseDetected, after.RefreshRejections-before.RefreshRejections)
	fmt.Printf("  proxy RSS start %.1f MiB (idle), every 10 s under load %s MiB, end %.1f MiB\n",
		float64(rss0)/1024, strings.Join(samples, " "), float64(rss1)/1024)
	js, _ := json.Marshal(after)
	fmt.Printf("  emulator stats %s\n", js)
	return nil
}
