//go:build etcd

package storage

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// BenchmarkEtcdRefreshes is the storage side of refreshes across 3
// machines holding 1,000 shared sessions: each refresh takes the session's
// leased lock, reads and decrypts the pair, encrypts and saves a new one
// (fenced), writes the metadata, and unlocks; 3 Stores (one connection
// each, as 3 machines) with 4 workers each pick sessions at random. The
// exchange with the server is left out: it is the server's time, not ours.
//
//	.ci/with-etcd go test -tags etcd -run '^$' -bench EtcdRefreshes ./storage/
func BenchmarkEtcdRefreshes(b *testing.B) {
	tm := newEtcdBenchTeam(b)
	machines := []*Store{tm.member(b), tm.member(b), tm.member(b)}
	ctx := context.Background()
	const sessions = 1000
	for i := range sessions {
		se, sec := testPair(fmt.Sprint(i))
		se.Name = fmt.Sprintf("s%04d", i)
		if err := machines[i%3].Put(ctx, se, sec); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for m := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := machines[m%3]
			for next.Add(1) <= int64(b.N) {
				name := fmt.Sprintf("s%04d", rand.IntN(sessions))
				unlock, err := s.Lock(ctx, name)
				if err != nil {
					b.Error(err)
					return
				}
				se, err := s.Get(ctx, name)
				if err == nil {
					_, err = s.Secrets(ctx, name)
				}
				if err == nil {
					ns, sec := testPair(fmt.Sprint(rand.Int64()))
					ns.Name = name
					ns.Refreshes = se.Refreshes + 1
					err = s.Put(ctx, ns, sec)
				}
				unlock()
				if err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "refreshes/s")
}

// newEtcdBenchTeam is newEtcdTeam for a benchmark.
func newEtcdBenchTeam(b *testing.B) *etcdBenchTeam {
	b.Helper()
	eps := etcdEndpoints(b)
	tm := &etcdBenchTeam{eps: eps, prefix: fmt.Sprintf("/tokentop-bench-%d", time.Now().UnixNano()), identity: b.TempDir() + "/team.key"}
	s := tm.member(b)
	if _, err := s.TeamInit(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _, _ = s.etcdStore.cli.Delete(context.Background(), tm.prefix+"/", clientv3.WithPrefix()) })
	return tm
}

type etcdBenchTeam struct {
	eps              []string
	prefix, identity string
}

func (tm *etcdBenchTeam) member(b *testing.B) *Store {
	s, err := Open(Options{ConfigDir: b.TempDir(), Backend: BackendEtcd, Etcd: EtcdOptions{
		Endpoints: tm.eps, Prefix: tm.prefix, IdentityFile: tm.identity}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}
