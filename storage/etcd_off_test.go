//go:build !etcd

package storage

import (
	"errors"
	"strings"
	"testing"

	"github.com/tokentop/tokentop/auth"
)

// A build without the etcd tag refuses --storage etcd with the storage
// error (exit 4) and says how to get a build that has it.
func TestEtcdNotBuiltIn(t *testing.T) {
	_, err := Open(Options{ConfigDir: t.TempDir(), Backend: BackendEtcd, Etcd: EtcdOptions{Endpoints: []string{"http://127.0.0.1:2379"}}})
	if !errors.Is(err, auth.ErrStoreUnavailable) || !strings.Contains(err.Error(), "-tags etcd") {
		t.Fatalf("--storage etcd without the etcd build tag: %v", err)
	}
}

// The etcd backend's own tests are compiled only into a build with the tag;
// say so where they would have run.
func TestEtcdBackendTests(t *testing.T) {
	t.Skip("the etcd backend is tested with the etcd build tag against a cluster: .ci/with-etcd go test -tags etcd ./storage/ .")
}
