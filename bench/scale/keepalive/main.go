// Command keepalive measures how many refreshes a second the keeper sustains
// over N sessions in one config dir, against an in-process emulator on
// loopback, for bench/scale/run.sh.
//
// Two runs:
//
//   - hold: N sessions whose access tokens live -ttl (20 s) are kept alive
//     for -for (60 s); it reports the refreshes per second, how many sessions
//     were ever seen with a dead access token (must be 0), and the bytes the
//     process wrote per refresh (/proc/self/io).
//
//   - ceiling: N sessions all due at once; it reports how fast the keeper
//     works through them (refreshes per second).
//
//     keepalive -n 1000 -storage file [-ttl 20s] [-for 60s] [-inflight 0]
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/auth/emulator"
	"github.com/tokentop/tokentop/storage"
)

func main() {
	n := flag.Int("n", 1000, "sessions")
	backend := flag.String("storage", storage.BackendFile, "secrets backend (file or keyring)")
	ttl := flag.Duration("ttl", 20*time.Second, "access-token lifetime")
	hold := flag.Duration("for", time.Minute, "how long the hold run lasts")
	inflight := flag.Int("inflight", 0, "MaxInFlight (0: the keeper's default)")
	mode := flag.String("mode", "both", "hold, ceiling or both")
	ceilingFor := flag.Duration("ceiling-for", 10*time.Minute, "the ceiling run stops after this long (the rate is over what it did); for slow backends at 10,000 sessions")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the runs to this file")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "keepalive:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if *mode == "hold" || *mode == "both" {
		if err := holdRun(*n, *backend, *ttl, *hold, *inflight); err != nil {
			fmt.Fprintln(os.Stderr, "keepalive hold:", err)
			os.Exit(1)
		}
	}
	if *mode == "ceiling" || *mode == "both" {
		if err := ceilingRun(*n, *backend, *inflight, *ceilingFor); err != nil {
			fmt.Fprintln(os.Stderr, "keepalive ceiling:", err)
			os.Exit(1)
		}
	}
}

type setup struct {
	em    *emulator.Server
	srv   *httptest.Server
	st    *storage.Store
	dir   string
	ep    auth.Endpoints
	names []string
}

// seed imports n sessions; due, when set, rewrites each response's access
// expiry to that instant (the server keeps the real one).
func seed(n int, backend string, ttl time.Duration, due time.Time) (*setup, error) {
	dir, err := os.MkdirTemp("", "tokentop-keepalive-bench")
	if err != nil {
		return nil, err
	}
	em := emulator.New(emulator.Config{AccessTTL: ttl, RefreshTTL: time.Hour, LoginRate: -1})
	srv := httptest.NewServer(em)
	st, err := storage.Open(storage.Options{ConfigDir: dir, Backend: backend})
	if err != nil {
		return nil, err
	}
	s := &setup{em: em, srv: srv, st: st, dir: dir, ep: auth.Endpoints{OAuthURL: srv.URL, APIURL: srv.URL + "/v3"}}
	k := auth.NewKeeper(auth.KeeperConfig{Store: st, Audit: st, EventBuffer: 1})
	for i := range n {
		body, err := em.Issue(emulator.DefaultUser().Email, ttl, time.Hour)
		if err != nil {
			return nil, err
		}
		if !due.IsZero() {
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				return nil, err
			}
			m["expires_in"] = due.UTC().Format("2006-01-02T15:04:05.000Z")
			body, _ = json.Marshal(m)
		}
		name := fmt.Sprintf("k%05d", i)
		if _, err := k.Import(context.Background(), name, s.ep, body, auth.ImportOptions{KeepAlive: true}); err != nil {
			return nil, err
		}
		s.names = append(s.names, name)
	}
	return s, nil
}

func (s *setup) close() {
	s.srv.Close()
	_ = os.RemoveAll(s.dir)
}

// writeBytes is what this process has written to storage so far.
func writeBytes() int64 {
	f, err := os.Open("/proc/self/io")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "write_bytes: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

func keeper(s *setup, inflight int) *auth.Keeper {
	return auth.NewKeeper(auth.KeeperConfig{Store: s.st, Audit: s.st, Rescue: s.st, MaxInFlight: inflight, EventBuffer: 1})
}

func holdRun(n int, backend string, ttl, hold time.Duration, inflight int) error {
	fmt.Printf("hold: seeding %d sessions (%s storage, access tokens live %s)...\n", n, backend, ttl)
	s, err := seed(n, backend, ttl, time.Time{})
	if err != nil {
		return err
	}
	defer s.close()
	ctx, cancel := context.WithCancel(context.Background())
	k := keeper(s, inflight)
	done := make(chan error, 1)
	start, before, w0 := time.Now(), s.em.Stats().Refreshes, writeBytes()
	go func() { done <- k.Run(ctx) }()
	dead := map[string]bool{}
	tick := time.NewTicker(time.Second)
	for time.Since(start) < hold {
		<-tick.C
		list, err := s.st.List(context.Background())
		if err != nil {
			cancel()
			return err
		}
		now := time.Now()
		for _, se := range list {
			if se.AccessLeft(now) <= 0 {
				dead[se.Name] = true
			}
		}
	}
	tick.Stop()
	cancel()
	if err := <-done; err != nil {
		return err
	}
	elapsed := time.Since(start)
	st := s.em.Stats()
	refreshes := st.Refreshes - before
	written := writeBytes() - w0
	fmt.Printf("hold: %d sessions, %s: %d refreshes in %s = %.1f refreshes/s; sessions ever seen expired: %d; rejections %d, reuse %d; %.0f bytes written per refresh\n",
		n, backend, refreshes, elapsed.Round(time.Millisecond), float64(refreshes)/elapsed.Seconds(), len(dead),
		st.RefreshRejections, st.ReuseDetected, float64(written)/float64(max(refreshes, 1)))
	return nil
}

func ceilingRun(n int, backend string, inflight int, limit time.Duration) error {
	fmt.Printf("ceiling: seeding %d sessions all due at once (%s storage)...\n", n, backend)
	// Due at once: their expiry (as the responses say) is 5 s from now, well
	// inside the refresh window; the server keeps them valid for an hour.
	s, err := seed(n, backend, time.Hour, time.Now().Add(5*time.Second))
	if err != nil {
		return err
	}
	defer s.close()
	ctx, cancel := context.WithCancel(context.Background())
	k := keeper(s, inflight)
	done := make(chan error, 1)
	start, before := time.Now(), s.em.Stats().Refreshes
	go func() { done <- k.Run(ctx) }()
	for s.em.Stats().Refreshes-before < n && time.Since(start) < limit {
		time.Sleep(20 * time.Millisecond)
	}
	elapsed := time.Since(start)
	cancel()
	if err := <-done; err != nil {
		return err
	}
	got := s.em.Stats().Refreshes - before
	fmt.Printf("ceiling: %d sessions, %s: %d refreshes in %s = %.1f refreshes/s\n",
		n, backend, got, elapsed.Round(time.Millisecond), float64(got)/elapsed.Seconds())
	return nil
}
