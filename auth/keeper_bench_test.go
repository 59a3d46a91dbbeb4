package auth_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/auth/authtest"
	"github.com/tokentop/tokentop/storage"
)

// benchStore is a memory store holding n healthy sessions whose tokens live
// 50 years, so that none falls due however long the benchmark's fake clock
// runs (one op is a fake minute; b.N reaches the millions).
func benchStore(b *testing.B, n int) *storage.Store {
	b.Helper()
	st, err := storage.Open(storage.Options{Backend: storage.BackendMemory, Now: func() time.Time { return t0 }})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	ep := auth.Endpoints{OAuthURL: "http://127.0.0.1:1", APIURL: "http://127.0.0.1:1/v3"}
	for i := range n {
		sec := auth.Secrets{
			AccessToken:  fmt.Sprintf("access-%08d-xxxxxxxxxxxxxxxxxxxxxxxxxxxx", i),
			RefreshToken: fmt.Sprintf("refresh-%08d-xxxxxxxxxxxxxxxxxxxxxxxxxxx", i),
		}
		s := auth.Session{
			Name: fmt.Sprintf("session-%05d", i), Endpoints: ep, Email: "demo@example.com",
			IssuedAt: t0, AccessExpiry: t0.AddDate(50, 0, 0), RefreshExpiry: t0.AddDate(50, 0, 0),
			AccessFP: auth.Fingerprint(sec.AccessToken), RefreshFP: auth.Fingerprint(sec.RefreshToken),
			State: auth.StateOK, CreatedAt: t0, UpdatedAt: t0,
		}
		if err := st.Put(ctx, s, sec); err != nil {
			b.Fatal(err)
		}
	}
	return st
}

func heapInuse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// BenchmarkKeeperIdle10k measures a keeper holding 10,000 sessions with
// nothing due: one op is one simulated idle minute (60 stamp polls at
// PollInterval 1 s on the fake clock). It also reports the heap the loaded
// keeper holds (keeper-heap-B) beyond the store itself.
func BenchmarkKeeperIdle10k(b *testing.B) {
	const n = 10_000
	st := benchStore(b, n)
	clock := authtest.NewFakeClock(t0)
	k := auth.NewKeeper(auth.KeeperConfig{
		Store: st, Client: auth.NewClient(nil, clock), Clock: clock, PollInterval: time.Second,
	})
	base := heapInuse()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- k.Run(ctx) }()
	// Wait for the initial load: the loop arms its timer after it.
	if err := clock.WaitResets(ctx, 1); err != nil {
		b.Fatal(err)
	}
	loaded := heapInuse()
	if d, ok := clock.NextDeadline(); !ok || d != t0.Add(time.Second) {
		b.Fatalf("next wake-up %s, want the first poll", d)
	}

	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for range 60 {
			r := clock.Resets()
			clock.Advance(time.Second)
			if err := clock.WaitResets(ctx, r+1); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(loaded-min(base, loaded)), "keeper-heap-B")
	b.ReportMetric(float64(loaded), "heap-inuse-B")
}

// BenchmarkTokenFastPath is `tokentop token` on a healthy session, without
// process start-up or the keyring: metadata, secrets, no lock, no network.
func BenchmarkTokenFastPath(b *testing.B) {
	st := benchStore(b, 100)
	clock := authtest.NewFakeClock(t0)
	k := auth.NewKeeper(auth.KeeperConfig{Store: st, Client: auth.NewClient(nil, clock), Clock: clock})
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, _, err := k.Token(ctx, "session-00042", time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKeeperReload10k is the cost of one stamp poll that finds a change
// (another process wrote one session): the loop re-reads and re-checks all
// 10,000 sessions. One op is one such poll.
func BenchmarkKeeperReload10k(b *testing.B) {
	const n = 10_000
	st := benchStore(b, n)
	clock := authtest.NewFakeClock(t0)
	k := auth.NewKeeper(auth.KeeperConfig{
		Store: st, Client: auth.NewClient(nil, clock), Clock: clock, PollInterval: time.Second,
	})
	waits := make(chan time.Time, 1)
	auth.SetIdleHook(k, func(now time.Time, _ int) {
		select {
		case <-waits:
		default:
		}
		waits <- now
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- k.Run(ctx) }()
	<-waits
	s, err := st.Get(ctx, "session-00042")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		s.UpdatedAt = s.UpdatedAt.Add(time.Second)
		if err := st.PutMeta(ctx, s); err != nil {
			b.Fatal(err)
		}
		clock.Advance(time.Second)
		target := clock.Now()
		for now := <-waits; now.Before(target); now = <-waits {
		}
	}
	b.StopTimer()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}
