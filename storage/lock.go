package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/gofrs/flock"
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

// lockFile takes the in-process lock for path and then an exclusive flock on
// path (created 0600), waiting until ctx is done. flock excludes other
// processes (and other open file descriptions); the kernel releases it when
// the process dies, so a crashed holder never wedges the session.
func lockFile(ctx context.Context, p *procLocks, path string) (func(), error) {
	release, err := p.acquire(ctx, path)
	if err != nil {
		return nil, err
	}
	fl := flock.New(path, flock.SetPermissions(0o600))
	ok, err := fl.TryLockContext(ctx, lockRetry)
	if err == nil && !ok {
		err = errors.New("lock not taken")
	}
	if err != nil {
		release()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			_ = fl.Unlock() // also closes the descriptor
			release()
		})
	}, nil
}

// ensureDir creates dir (and parents) with mode 0700.
func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create directory %s: %w", dir, err)
	}
	return nil
}
