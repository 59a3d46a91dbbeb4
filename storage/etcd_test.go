//go:build etcd

package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/tokentop/tokentop/auth"
)

// etcdEndpoints are the test cluster's endpoints; without one the test is
// skipped (CI runs these inside .ci/with-etcd).
func etcdEndpoints(t testing.TB) []string {
	t.Helper()
	eps := os.Getenv("TOKENTOP_TEST_ETCD_ENDPOINTS")
	if eps == "" {
		t.Skip("no etcd cluster: run inside .ci/with-etcd (it sets TOKENTOP_TEST_ETCD_ENDPOINTS)")
	}
	return strings.Split(eps, ",")
}

// etcdTeam is a team under a prefix of its own on the test cluster.
type etcdTeam struct {
	t        *testing.T
	eps      []string
	prefix   string
	identity string // the identity file members use
}

func newEtcdTeam(t *testing.T) *etcdTeam {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	tm := &etcdTeam{t: t, eps: etcdEndpoints(t), prefix: "/tokentop-test-" + hex.EncodeToString(b[:]),
		identity: filepath.Join(t.TempDir(), "team.key")}
	s := tm.member(0)
	if _, err := s.TeamInit(context.Background()); err != nil {
		t.Fatalf("team init: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = s.etcdStore.cli.Delete(ctx, tm.prefix+"/", clientv3.WithPrefix())
	})
	return tm
}

// member opens a Store on the team as another machine would (its own
// config dir), with a lock TTL of ttl seconds (0: the default).
func (tm *etcdTeam) member(ttl int) *Store {
	tm.t.Helper()
	s, err := Open(Options{ConfigDir: privateTestDir(tm.t), Backend: BackendEtcd, Etcd: EtcdOptions{
		Endpoints: tm.eps, Prefix: tm.prefix, IdentityFile: tm.identity, LockTTL: ttl, Host: "test-host", OSUser: "tester"}})
	if err != nil {
		tm.t.Fatal(err)
	}
	tm.t.Cleanup(func() { s.Close() })
	return s
}

func privateTestDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	if err := os.Chmod(d, 0o700); err != nil {
		t.Fatal(err)
	}
	return d
}

func testPair(tag string) (auth.Session, auth.Secrets) {
	// Token-like, as the server's are (long opaque runs).
	sec := auth.Secrets{AccessToken: "s3_AccessTokenValueForTheEtcdTests0x" + tag, RefreshToken: "s3_RefreshTokenValueForTheEtcdTests0x" + tag}
	now := time.Now().UTC().Truncate(time.Second)
	return auth.Session{Name: "shared", State: auth.StateOK, AccessFP: auth.Fingerprint(sec.AccessToken),
		RefreshFP: auth.Fingerprint(sec.RefreshToken), AccessExpiry: now.Add(time.Hour), RefreshExpiry: now.Add(24 * time.Hour),
		IssuedAt: now, CreatedAt: now, UpdatedAt: now}, sec
}

func TestEtcdRoundTripAcrossMembers(t *testing.T) {
	tm := newEtcdTeam(t)
	a, b := tm.member(0), tm.member(0)
	ctx := context.Background()
	se, sec := testPair("1")
	if err := a.Put(ctx, se, sec); err != nil {
		t.Fatal(err)
	}
	list, err := b.List(ctx)
	if err != nil || len(list) != 1 || list[0].Name != "shared" || list[0].SecretsBackend != BackendEtcd {
		t.Fatalf("the other member lists %+v, %v", list, err)
	}
	got, err := b.Secrets(ctx, "shared")
	if err != nil || got.AccessToken != sec.AccessToken || got.RefreshToken != sec.RefreshToken {
		t.Fatalf("the other member reads %v, %v", got.AccessToken, err)
	}
	if err := a.Record(auth.Event{Session: "shared", Kind: auth.EventRefreshed, NewFP: se.AccessFP}); err != nil {
		t.Fatal(err)
	}
	evs, err := b.Timeline("shared", 10)
	if err != nil || len(evs) != 1 || evs[0].Host != "test-host" || evs[0].User != "tester" {
		t.Fatalf("timeline %+v, %v: want the refresh with its host and user", evs, err)
	}
	if err := b.Delete(ctx, "shared"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Get(ctx, "shared"); !errors.Is(err, auth.ErrSessionNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if _, err := a.Secrets(ctx, "shared"); !errors.Is(err, auth.ErrSecretNotFound) {
		t.Fatalf("secrets after delete: %v", err)
	}
}

// A holder whose lease expired (here: revoked) while it held the lock must
// not overwrite the pair the next holder saved.
func TestEtcdFencedWriteAfterLostLease(t *testing.T) {
	tm := newEtcdTeam(t)
	a, b := tm.member(0), tm.member(0)
	ctx := context.Background()
	se, sec := testPair("old")
	if err := a.Put(ctx, se, sec); err != nil {
		t.Fatal(err)
	}
	unlockA, err := a.Lock(ctx, "shared")
	if err != nil {
		t.Fatal(err)
	}
	defer unlockA()
	if _, err := a.etcdStore.cli.Revoke(ctx, a.etcdStore.sess.Lease()); err != nil {
		t.Fatal(err)
	}
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	unlockB, err := b.Lock(lctx, "shared")
	if err != nil {
		t.Fatalf("the lock did not pass to b after a's lease ended: %v", err)
	}
	newer, newerSec := testPair("newer")
	if err := b.Put(ctx, newer, newerSec); err != nil {
		t.Fatal(err)
	}
	unlockB()

	stale, staleSec := testPair("stale")
	err = a.Put(ctx, stale, staleSec)
	if !errors.Is(err, errLockLost) || !errors.Is(err, auth.ErrStoreUnavailable) {
		t.Fatalf("a's write after losing its lease: %v; want it refused as lock lost", err)
	}
	if err := a.PutMeta(ctx, stale); !errors.Is(err, errLockLost) {
		t.Fatalf("a's metadata write after losing its lease: %v; want it refused", err)
	}
	got, err := b.Secrets(ctx, "shared")
	if err != nil || got.RefreshToken != newerSec.RefreshToken {
		t.Fatalf("stored pair is %q (%v); want b's newer pair", got.RefreshToken, err)
	}
	meta, err := b.Get(ctx, "shared")
	if err != nil || meta.RefreshFP != newer.RefreshFP {
		t.Fatalf("stored metadata %s (%v); want b's", meta.RefreshFP, err)
	}
}

// A holder that stops renewing its lease (crashed) frees the lock within
// the TTL.
func TestEtcdLockFreesWithinTTL(t *testing.T) {
	tm := newEtcdTeam(t)
	a, b := tm.member(2), tm.member(2)
	ctx := context.Background()
	if _, err := a.Lock(ctx, "shared"); err != nil {
		t.Fatal(err)
	}
	a.etcdStore.sess.Orphan() // no more keep-alives, as if the process died
	start := time.Now()
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	unlock, err := b.Lock(lctx, "shared")
	if err != nil {
		t.Fatalf("the lock was not freed: %v", err)
	}
	unlock()
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("the lock freed after %s; want within its 2s TTL (plus a second)", d)
	}
	// A waiter gives up when its context does, with ErrLockTimeout.
	if _, err := a.Lock(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	sctx, scancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer scancel()
	if _, err := b.Lock(sctx, "other"); !errors.Is(err, auth.ErrLockTimeout) {
		t.Fatalf("waiting for a held lock: %v; want ErrLockTimeout", err)
	}
}

// Nothing etcd holds is a usable secret: no token, no identity.
func TestEtcdHoldsNoSecret(t *testing.T) {
	tm := newEtcdTeam(t)
	a := tm.member(0)
	ctx := context.Background()
	se, sec := testPair("x")
	if err := a.Put(ctx, se, sec); err != nil {
		t.Fatal(err)
	}
	if err := a.Record(auth.Event{Session: "shared", Kind: auth.EventRefreshed, Message: "new " + sec.AccessToken}); err != nil {
		t.Fatal(err)
	}
	ident, err := os.ReadFile(tm.identity)
	if err != nil {
		t.Fatal(err)
	}
	id, err := parseTeamIdentity(string(ident))
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.etcdStore.cli.Get(ctx, tm.prefix+"/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Kvs) < 4 {
		t.Fatalf("only %d keys under the prefix", len(res.Kvs))
	}
	for _, kv := range res.Kvs {
		for _, secret := range []string{sec.AccessToken, sec.RefreshToken, id.String(), "AGE-SECRET-KEY"} {
			if strings.Contains(string(kv.Value), secret) || strings.Contains(string(kv.Key), secret) {
				t.Errorf("etcd key %s holds a secret", kv.Key)
			}
		}
	}
}

func TestEtcdWatchSeesOtherMember(t *testing.T) {
	tm := newEtcdTeam(t)
	a, b := tm.member(0), tm.member(0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := a.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	se, sec := testPair("w")
	if err := b.Put(ctx, se, sec); err != nil {
		t.Fatal(err)
	}
	select {
	case name := <-ch:
		if name != "shared" {
			t.Fatalf("watch reported %q", name)
		}
	case <-time.After(time.Second):
		t.Fatal("the other member's save was not seen within a second")
	}
	before, _ := a.Stamp(ctx)
	if err := b.PutMeta(ctx, se); err != nil {
		t.Fatal(err)
	}
	if after, _ := a.Stamp(ctx); after == before {
		t.Error("Stamp did not change after another member's write")
	}
}

func TestEtcdTeamInitJoin(t *testing.T) {
	tm := newEtcdTeam(t)
	ctx := context.Background()
	if _, err := tm.member(0).TeamInit(ctx); !errors.Is(err, ErrTeamExists) {
		t.Fatalf("second team init: %v; want ErrTeamExists", err)
	}
	// A member without the identity cannot read, and is told to join.
	a := tm.member(0)
	se, sec := testPair("j")
	if err := a.Put(ctx, se, sec); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "member.key")
	s, err := Open(Options{ConfigDir: privateTestDir(t), Backend: BackendEtcd, Etcd: EtcdOptions{
		Endpoints: tm.eps, Prefix: tm.prefix, IdentityFile: other}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Secrets(ctx, "shared"); !errors.Is(err, ErrNoTeamIdentity) || !strings.Contains(err.Error(), "team join") {
		t.Fatalf("without the identity: %v", err)
	}
	foreign, _ := age.GenerateX25519Identity()
	if _, err := s.TeamJoin(ctx, strings.NewReader(foreign.String())); err == nil || strings.Contains(err.Error(), foreign.String()) {
		t.Fatalf("joining with a foreign identity: %v; want a refusal that does not quote it", err)
	}
	ident, _ := os.ReadFile(tm.identity)
	if _, err := s.TeamJoin(ctx, strings.NewReader(string(ident))); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(other); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("joined identity file: %v %v; want mode 0600", fi, err)
	}
	if got, err := s.Secrets(ctx, "shared"); err != nil || got.AccessToken != sec.AccessToken {
		t.Fatalf("after join: %v", err)
	}
}

func TestTeamIdentityFileMustBePrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "team.key")
	id, _ := age.GenerateX25519Identity()
	if err := os.WriteFile(path, []byte(id.String()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ti := &teamIdentity{file: path}
	_, err := ti.load()
	if !errors.Is(err, auth.ErrStoreUnavailable) || !strings.Contains(err.Error(), "chmod 600") || strings.Contains(err.Error(), id.String()) {
		t.Fatalf("a 0644 identity file: %v; want a refusal naming chmod 600", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ti.load()
	if err != nil || got.String() != id.String() {
		t.Fatalf("a 0600 identity file: %v", err)
	}
}

// An unreachable cluster fails with the storage error (exit 4) and names
// the endpoints.
func TestEtcdUnreachable(t *testing.T) {
	s, err := Open(Options{ConfigDir: privateTestDir(t), Backend: BackendEtcd, Etcd: EtcdOptions{
		Endpoints: []string{"http://127.0.0.1:1"}, Timeout: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.List(context.Background())
	if !errors.Is(err, auth.ErrStoreUnavailable) || !strings.Contains(err.Error(), "http://127.0.0.1:1") {
		t.Fatalf("list with etcd down: %v", err)
	}
	if _, err := Open(Options{ConfigDir: privateTestDir(t), Backend: BackendEtcd}); !errors.Is(err, auth.ErrStoreUnavailable) ||
		!strings.Contains(err.Error(), "--etcd-endpoints") {
		t.Fatalf("no endpoints: %v", err)
	}
}

// Another member's event reads back with the host and user that recorded
// it, newest first.
func TestEtcdRecentEventsNameHost(t *testing.T) {
	tm := newEtcdTeam(t)
	a, b := tm.member(0), tm.member(0)
	now := time.Now()
	for i, kind := range []auth.EventKind{auth.EventLogin, auth.EventRefreshed} {
		if err := a.audit.record(auth.Event{Time: now.Add(time.Duration(i) * time.Millisecond), Session: "shared", Kind: kind, NewFP: "sha256:0000000" + fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := b.RecentEvents(context.Background(), "shared", 1)
	if err != nil || len(evs) != 1 || evs[0].Kind != auth.EventRefreshed || evs[0].Host != "test-host" || evs[0].User != "tester" {
		t.Fatalf("RecentEvents = %+v, %v; want the refresh by tester on test-host", evs, err)
	}
	if b.LocalHost() != "test-host" {
		t.Fatalf("LocalHost = %q", b.LocalHost())
	}
}

// Health says when the store stops answering and when it answers again:
// the only endpoint is a proxy to one member, closed and then reopened.
func TestEtcdHealthReportsLossAndReturn(t *testing.T) {
	tm := newEtcdTeam(t)
	target := strings.TrimPrefix(tm.eps[0], "http://")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	var mu sync.Mutex
	var conns []net.Conn
	serve := func(ln net.Listener) {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, u)
			mu.Unlock()
			go func() { _, _ = io.Copy(u, c); u.Close() }()
			go func() { _, _ = io.Copy(c, u); c.Close() }()
		}
	}
	go serve(ln)
	s, err := Open(Options{ConfigDir: privateTestDir(t), Backend: BackendEtcd, Etcd: EtcdOptions{
		Endpoints: []string{"http://" + addr}, Prefix: tm.prefix, IdentityFile: tm.identity, Timeout: 500 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := s.etcdStore.health(ctx, 100*time.Millisecond)
	next := func() error {
		t.Helper()
		select {
		case err := <-ch:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("no health change within 10 s")
			return nil
		}
	}
	ln.Close()
	mu.Lock()
	for _, c := range conns {
		c.Close()
	}
	mu.Unlock()
	if err := next(); err == nil || !errors.Is(err, auth.ErrStoreUnavailable) || !strings.Contains(err.Error(), addr) {
		t.Fatalf("after the loss: %v, want unavailable naming %s", err, addr)
	}
	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("could not listen on %s again: %v", addr, err)
	}
	defer ln2.Close()
	go serve(ln2)
	if err := next(); err != nil {
		t.Fatalf("after the return: %v, want nil", err)
	}
}
