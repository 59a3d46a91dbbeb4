package storage

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"
)

// lockRetry is how often a waiting Lock polls a file lock held by another
// process (flock has no wake-up across processes).
const lockRetry = 25 * time.Millisecond

// procLocks are exclusive locks between the goroutines of one process, keyed
// by name. A channel of capacity one is a mutex that can wait on a context.
type procLocks struct {
	mu sync.Mutex
	m  map[string]chan struct{}
}

func newProcLocks() *procLocks { return &procLocks{m: map[string]chan struct{}{}} }

// acquire waits for key until ctx is done; the returned release is idempotent.
func (p *procLocks) acquire(ctx context.Context, key string) (func(), error) {
	p.mu.Lock()
	ch, ok := p.m[key]
	if !ok {
		ch = make(chan struct{}, 1)
		p.m[key] = ch
	}
	p.mu.Unlock()
	select {
	case ch <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var once sync.Once
	return func() { once.Do(func() { <-ch }) }, nil
}

// ensureDir creates dir (and parents) with mode 0700.
func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create directory %s: %w", dir, err)
	}
	return nil
}
