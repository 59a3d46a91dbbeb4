//go:build !etcd

package storage

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/tokentop/tokentop/auth"
)

// etcdStore: the etcd backend is not in this build.
type etcdStore struct{}

func (*etcdStore) close() error { return nil }

// watchEtcd: no Store of this build is on etcd.
func (s *Store) watchEtcd(context.Context) (<-chan string, bool, error) { return nil, false, nil }

func (s *Store) openEtcd() (*Store, error) {
	return nil, fmt.Errorf("open storage: %w: %w", errNoEtcd, auth.ErrStoreUnavailable)
}

// TeamInit needs the etcd backend, which this build lacks.
func (s *Store) TeamInit(context.Context) (TeamInfo, error) {
	return TeamInfo{}, fmt.Errorf("%w: %w", errNoEtcd, auth.ErrStoreUnavailable)
}

// TeamJoin needs the etcd backend, which this build lacks.
func (s *Store) TeamJoin(context.Context, io.Reader) (TeamInfo, error) {
	return TeamInfo{}, fmt.Errorf("%w: %w", errNoEtcd, auth.ErrStoreUnavailable)
}

// Timeline needs the etcd backend, which this build lacks.
func (s *Store) Timeline(string, int) ([]TimelineEvent, error) {
	return nil, fmt.Errorf("audit timeline: %w", errors.ErrUnsupported)
}

// errNoEtcd is what a build without the etcd tag answers.
var errNoEtcd = errors.New("this tokentop was built without etcd support (--storage etcd, team): install a build made with `go build -tags etcd`")

// RecentEvents needs the etcd backend's shared timeline, which this build
// lacks.
func (s *Store) RecentEvents(_ context.Context, name string, _ int) ([]auth.Event, error) {
	return nil, fmt.Errorf("recent events of %s: %w", name, errors.ErrUnsupported)
}

// LocalHost: no Store of this build keeps a shared timeline.
func (s *Store) LocalHost() string { return "" }

// Health: no Store of this build is on a cluster that can be out of reach.
func (s *Store) Health(context.Context) (<-chan error, error) {
	return nil, fmt.Errorf("storage health: %w", errors.ErrUnsupported)
}
