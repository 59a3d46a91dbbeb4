//go:build etcd

package storage

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/zap"

	"github.com/tokentop/tokentop/auth"
)

// defaultEtcdTimeout bounds each etcd call, so an unreachable cluster
// fails a command instead of hanging it.
const defaultEtcdTimeout = 5 * time.Second

// Keys under the prefix P, one per session as the file layout has a file
// per session (records.go):
//
//	P/sessions/NAME       the record (recordDoc JSON, never a secret)
//	P/secrets/NAME        the pair, age-encrypted to the team's recipients
//	P/locks/NAME/LEASE    the session lock (concurrency.Mutex on a lease)
//	P/audit/NAME/TIME-RND one audit event, with the host and user that did it
//	P/team/store-id       the team store's identity (auth.SecretsOwner)
//	P/team/recipients/ID  an age recipient (public key) secrets are encrypted to
//	P/stamp               rewritten with every record write (Stamp)
type etcdStore struct {
	cli    *clientv3.Client
	opts   EtcdOptions
	prefix string
	locks  *procLocks
	ident  *teamIdentity

	mu   sync.Mutex
	sess *concurrency.Session
	held map[string]*concurrency.Mutex // the session locks this process holds
	// ctx lives as long as the Store: the lease keep-alive runs under it.
	ctx    context.Context
	cancel context.CancelFunc
}

func openEtcd(o EtcdOptions) (*etcdStore, error) {
	if len(o.Endpoints) == 0 {
		return nil, fmt.Errorf("--storage etcd needs --etcd-endpoints (or TOKENTOP_ETCD_ENDPOINTS), e.g. https://10.0.0.1:2379,https://10.0.0.2:2379: %w", auth.ErrStoreUnavailable)
	}
	if o.Prefix == "" {
		o.Prefix = DefaultEtcdPrefix
	}
	if !strings.HasPrefix(o.Prefix, "/") {
		o.Prefix = "/" + o.Prefix
	}
	o.Prefix = strings.TrimRight(o.Prefix, "/")
	if o.LockTTL <= 0 {
		o.LockTTL = DefaultEtcdLockTTL
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultEtcdTimeout
	}
	if o.Host == "" {
		o.Host, _ = os.Hostname()
	}
	if o.OSUser == "" {
		if u, err := user.Current(); err == nil {
			o.OSUser = u.Username
		}
	}
	cfg := clientv3.Config{
		Endpoints:   o.Endpoints,
		DialTimeout: o.Timeout,
		Username:    o.User,
		Password:    o.Password,
		// The client logs reconnects as warnings on stderr, which would
		// mix with our output; failures reach the user as errors instead.
		Logger: zap.NewNop(),
	}
	if o.CACert != "" || o.Cert != "" || o.Key != "" {
		info := transport.TLSInfo{TrustedCAFile: o.CACert, CertFile: o.Cert, KeyFile: o.Key}
		tc, err := info.ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("etcd TLS (--etcd-cacert, --etcd-cert, --etcd-key): %w: %w", err, auth.ErrStoreUnavailable)
		}
		cfg.TLS = tc
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to etcd at %s: %w: %w", strings.Join(o.Endpoints, ","), err, auth.ErrStoreUnavailable)
	}
	e := &etcdStore{cli: cli, opts: o, prefix: o.Prefix, locks: newProcLocks(), held: map[string]*concurrency.Mutex{}}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	e.ident = &teamIdentity{file: o.IdentityFile, storeID: e.teamStoreID}
	return e, nil
}

func (e *etcdStore) close() error {
	e.mu.Lock()
	sess := e.sess
	e.sess = nil
	e.mu.Unlock()
	if sess != nil {
		// Revoking the lease frees every lock still held at once, instead
		// of after its TTL.
		_ = sess.Close()
	}
	e.cancel()
	return e.cli.Close()
}

func (e *etcdStore) key(parts ...string) string { return e.prefix + "/" + strings.Join(parts, "/") }

// call bounds one etcd call by the configured timeout.
func (e *etcdStore) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, e.opts.Timeout)
}

// retry runs one etcd call, again after a failure until 2x the timeout
// has passed: when a member dies, calls time out or fail with "no leader"
// for the second or two the election takes, and a command should ride
// that out rather than fail. Each attempt gets at most 2 s, since a call
// sent to a member that lost its leader waits longer than that. Every call
// retried is idempotent, or (a lease grant) harmless twice: an unused
// lease expires. The caller's own cancellation ends it at once.
func (e *etcdStore) retry(ctx context.Context, fn func(context.Context) error) error {
	end := time.Now().Add(2 * e.opts.Timeout)
	for {
		actx, cancel := context.WithTimeout(ctx, min(e.opts.Timeout, 2*time.Second))
		err := fn(actx)
		cancel()
		if err == nil || ctx.Err() != nil || errors.Is(err, errLockLost) || time.Now().After(end) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// unavailable words an etcd failure: which cluster, and what to do.
func (e *etcdStore) unavailable(what string, err error) error {
	if errors.Is(err, auth.ErrStoreUnavailable) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s: etcd at %s did not answer (%v): check that the cluster is up and reachable, and --etcd-endpoints (TOKENTOP_ETCD_ENDPOINTS): %w",
		what, strings.Join(e.opts.Endpoints, ","), err, auth.ErrStoreUnavailable)
}

// teamStoreID is the team store's identity, created by `tokentop team init`.
func (e *etcdStore) teamStoreID() (string, error) {
	var r *clientv3.GetResponse
	err := e.retry(context.Background(), func(ctx context.Context) (err error) {
		r, err = e.cli.Get(ctx, e.key("team", "store-id"))
		return err
	})
	if err != nil {
		return "", e.unavailable("read the team's store id", err)
	}
	if len(r.Kvs) == 0 {
		return "", fmt.Errorf("no tokentop team under %s at %s: run `tokentop team init` once for the team: %w",
			e.prefix, strings.Join(e.opts.Endpoints, ","), auth.ErrStoreUnavailable)
	}
	id := string(r.Kvs[0].Value)
	if !validStoreID(id) {
		return "", fmt.Errorf("the team's store id at %s is damaged; restore it from an etcd snapshot: %w", e.key("team", "store-id"), auth.ErrStoreUnavailable)
	}
	return id, nil
}

// fence is the condition every write for name carries while this process
// holds name's session lock: that it still holds it. A holder whose lease
// expired mid-refresh (etcd unreachable for longer than the TTL, or the
// process paused) may have been succeeded by another machine, which may
// have rotated the pair already; its write must not replace the newer one.
func (e *etcdStore) fence(name string) []clientv3.Cmp {
	e.mu.Lock()
	defer e.mu.Unlock()
	if m, ok := e.held[name]; ok {
		return []clientv3.Cmp{m.IsOwner()}
	}
	return nil
}

// errLockLost is a write refused because the session lock was lost.
var errLockLost = errors.New("the session's etcd lock was lost before the write (its lease expired: etcd was unreachable or this process stalled for longer than the lock's TTL), so another machine may have saved a newer pair; nothing was overwritten")

func (e *etcdStore) lockLost(name string) error {
	return fmt.Errorf("session %q: %w: %w", name, errLockLost, auth.ErrStoreUnavailable)
}

// txn runs ops for name if the session lock (when held) is still ours and
// cmps hold. lost: the lock was not ours any more; ok: cmps held.
func (e *etcdStore) txn(ctx context.Context, name string, cmps []clientv3.Cmp, ops ...clientv3.Op) (ok bool, err error) {
	fence := e.fence(name)
	inner := clientv3.OpTxn(cmps, ops, nil)
	var r *clientv3.TxnResponse
	err = e.retry(ctx, func(ctx context.Context) (err error) {
		r, err = e.cli.Txn(ctx).If(fence...).Then(inner).Commit()
		return err
	})
	if err != nil {
		return false, err
	}
	if !r.Succeeded {
		return false, e.lockLost(name)
	}
	return r.Responses[0].GetResponseTxn().Succeeded, nil
}

// --- metadata ---

// etcdRecords is the metadata on etcd: one key per session.
type etcdRecords struct{ e *etcdStore }

func (r etcdRecords) parse(key string, name string, data []byte) (auth.Session, error) {
	var doc recordDoc
	if err := json.Unmarshal(data, &doc); err != nil || doc.Version < 1 || doc.Session == nil || doc.Session.Name != name {
		return auth.Session{}, fmt.Errorf("%w: the etcd key %s cannot be read as a session record; tokentop will not change it: fix or delete it with etcdctl (its secrets stay at %s)",
			ErrMetadataDamaged, key, r.e.key("secrets", name))
	}
	if doc.Version > recordVersion {
		return auth.Session{}, fmt.Errorf("%w (record schema version %d; this tokentop reads version %d): %s is left untouched; upgrade tokentop",
			ErrMetadataTooNew, doc.Version, recordVersion, key)
	}
	return *doc.Session, nil
}

func (r etcdRecords) load(ctx context.Context) ([]auth.Session, error) {
	pfx := r.e.key("sessions") + "/"
	var res *clientv3.GetResponse
	err := r.e.retry(ctx, func(ctx context.Context) (err error) {
		res, err = r.e.cli.Get(ctx, pfx, clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
		return err
	})
	if err != nil {
		return nil, r.e.unavailable("read the session records", err)
	}
	out := make([]auth.Session, 0, len(res.Kvs))
	var errs []error
	for _, kv := range res.Kvs {
		name := strings.TrimPrefix(string(kv.Key), pfx)
		if ValidateName(name) != nil {
			continue
		}
		se, err := r.parse(string(kv.Key), name, kv.Value)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, se)
	}
	return out, errors.Join(errs...)
}

func (r etcdRecords) get(ctx context.Context, name string) (auth.Session, bool, error) {
	se, found, _, err := r.read(ctx, name)
	return se, found, err
}

func (r etcdRecords) read(ctx context.Context, name string) (auth.Session, bool, int64, error) {
	key := r.e.key("sessions", name)
	var res *clientv3.GetResponse
	err := r.e.retry(ctx, func(ctx context.Context) (err error) {
		res, err = r.e.cli.Get(ctx, key)
		return err
	})
	if err != nil {
		return auth.Session{}, false, 0, r.e.unavailable(fmt.Sprintf("read session %q", name), err)
	}
	if len(res.Kvs) == 0 {
		return auth.Session{}, false, 0, nil
	}
	se, err := r.parse(key, name, res.Kvs[0].Value)
	return se, err == nil, res.Kvs[0].ModRevision, err
}

// update is a compare-and-swap on the record's revision, retried when
// another writer got there first; under the session lock it is fenced too.
func (r etcdRecords) update(ctx context.Context, name string, fn func(auth.Session, bool) (auth.Session, recordOp, error)) error {
	key := r.e.key("sessions", name)
	for attempt := 0; ; attempt++ {
		cur, found, rev, err := r.read(ctx, name)
		if err != nil {
			return err
		}
		next, op, err := fn(cur, found)
		if err != nil {
			return err
		}
		var w clientv3.Op
		switch op {
		case recordKeep:
			return nil
		case recordPut:
			next.Name = name
			body, err := json.Marshal(recordDoc{Version: recordVersion, Session: &next})
			if err != nil {
				return fmt.Errorf("encode session %q: %w", name, err)
			}
			w = clientv3.OpPut(key, string(body))
		case recordDelete:
			if !found {
				return nil
			}
			w = clientv3.OpDelete(key)
		}
		ok, err := r.e.txn(ctx, name, []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(key), "=", rev)},
			w, clientv3.OpPut(r.e.key("stamp"), ""))
		if err != nil {
			if errors.Is(err, errLockLost) {
				return err
			}
			return r.e.unavailable(fmt.Sprintf("save session %q", name), err)
		}
		if ok {
			return nil
		}
		if attempt >= 50 || ctx.Err() != nil {
			return fmt.Errorf("save session %q: other writers kept changing it; try again: %w", name, auth.ErrLockTimeout)
		}
	}
}

func (r etcdRecords) stamp(ctx context.Context) (string, error) {
	var res *clientv3.GetResponse
	err := r.e.retry(ctx, func(ctx context.Context) (err error) {
		res, err = r.e.cli.Get(ctx, r.e.key("stamp"))
		return err
	})
	if err != nil {
		return "", r.e.unavailable("check for changes", err)
	}
	if len(res.Kvs) == 0 {
		return "none", nil
	}
	return strconv.FormatInt(res.Kvs[0].ModRevision, 10), nil
}

// watch reports the sessions whose record changed, from etcd's watch on
// the records' prefix. The client re-establishes the watch after an
// outage and resumes from the last revision it saw; if that revision was
// compacted meanwhile it says so, and "" (list again) is sent.
func (r etcdRecords) watch(ctx context.Context) (<-chan string, error) {
	pfx := r.e.key("sessions") + "/"
	wch := r.e.cli.Watch(clientv3.WithRequireLeader(ctx), pfx, clientv3.WithPrefix())
	out := make(chan string, 64)
	go func() {
		defer close(out)
		send := func(s string) bool {
			select {
			case out <- s:
				return true
			case <-ctx.Done():
				return false
			}
		}
		for {
			select {
			case <-ctx.Done():
				return
			case wr, ok := <-wch:
				if !ok || wr.Err() != nil {
					// A leader loss or compaction ends the watch: start over
					// from now, after a pause (during an election the new
					// watch would end at once too); the "" makes the reader
					// list, so nothing changed meanwhile is missed.
					if !send("") {
						return
					}
					select {
					case <-ctx.Done():
						return
					case <-time.After(250 * time.Millisecond):
					}
					wch = r.e.cli.Watch(clientv3.WithRequireLeader(ctx), pfx, clientv3.WithPrefix())
					continue
				}
				for _, ev := range wr.Events {
					name := strings.TrimPrefix(string(ev.Kv.Key), pfx)
					if ValidateName(name) == nil && !send(name) {
						return
					}
				}
			}
		}
	}()
	return out, nil
}

// --- locks ---

type etcdLocker struct{ e *etcdStore }

// session is the Store's lease, created on first need and again after it
// expired. One lease serves every lock of the process.
func (e *etcdStore) session(ctx context.Context) (*concurrency.Session, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.sess != nil {
		select {
		case <-e.sess.Done():
			e.sess = nil
		default:
			return e.sess, nil
		}
	}
	var lease *clientv3.LeaseGrantResponse
	err := e.retry(ctx, func(ctx context.Context) (err error) {
		lease, err = e.cli.Grant(ctx, int64(e.opts.LockTTL))
		return err
	})
	if err != nil {
		return nil, e.unavailable("take a lease for the session lock", err)
	}
	s, err := concurrency.NewSession(e.cli, concurrency.WithLease(lease.ID), concurrency.WithContext(e.ctx))
	if err != nil {
		return nil, e.unavailable("take a lease for the session lock", err)
	}
	e.sess = s
	return s, nil
}

func (l etcdLocker) lock(ctx context.Context, name string) (func(), error) {
	e := l.e
	// Goroutines of one process share a lease, hence a lock key: the etcd
	// mutex would let a second goroutine in as the owner, so they queue
	// here first.
	release, err := e.locks.acquire(ctx, name)
	if err != nil {
		return nil, err
	}
	var m *concurrency.Mutex
	var failing time.Time // since when taking the lock fails
	for {
		s, err := e.session(ctx)
		if err != nil {
			release()
			return nil, err
		}
		m = concurrency.NewMutex(s, e.key("locks", name))
		err = m.Lock(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			release()
			return nil, ctx.Err()
		}
		// A leader election fails the wait; ride it out as retry does.
		if failing.IsZero() {
			failing = time.Now()
		}
		if time.Since(failing) > 2*e.opts.Timeout {
			release()
			return nil, e.unavailable("take the session lock", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.mu.Lock()
	e.held[name] = m
	e.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			e.mu.Lock()
			delete(e.held, name)
			e.mu.Unlock()
			uctx, cancel := e.call(context.Background())
			// A failed unlock leaves the key to its lease, which frees it
			// within the TTL.
			_ = m.Unlock(uctx)
			cancel()
			release()
		})
	}, nil
}

// tryLock is only asked for by the keyring's legacy adoption, which never
// concerns etcd: not now.
func (l etcdLocker) tryLock(string) (func(), bool) { return nil, false }

// --- audit ---

// etcdEvent is an audit event in the shared timeline: who did it, where.
type etcdEvent struct {
	auth.Event
	Host   string `json:"host,omitempty"`
	OSUser string `json:"os_user,omitempty"`
}

type etcdAudit struct{ e *etcdStore }

func (a etcdAudit) record(ev auth.Event) error {
	if len(ev.Message) > auditMaxMessage {
		ev.Message = ev.Message[:auditMaxMessage] + "..."
	}
	body, err := json.Marshal(etcdEvent{Event: ev, Host: a.e.opts.Host, OSUser: a.e.opts.OSUser})
	if err != nil {
		return fmt.Errorf("record event: %w", err)
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	name := ev.Session
	if name == "" {
		name = auditGlobal
	}
	k := a.e.key("audit", name, fmt.Sprintf("%019d-%s", ev.Time.UnixNano(), hex.EncodeToString(rnd[:])))
	if err := a.e.retry(context.Background(), func(ctx context.Context) error {
		_, err := a.e.cli.Put(ctx, k, string(body))
		return err
	}); err != nil {
		return a.e.unavailable("record event", err)
	}
	return nil
}

func (a etcdAudit) events(name string, limit int) ([]auth.Event, error) {
	evs, err := a.timeline(name, limit)
	out := make([]auth.Event, len(evs))
	for i, ev := range evs {
		out[i] = ev.Event
	}
	return out, err
}

// timeline is the newest events of one session (all when name is ""),
// oldest first, with the host and user behind each.
func (a etcdAudit) timeline(name string, limit int) ([]etcdEvent, error) {
	return a.timelineCtx(context.Background(), name, limit)
}

func (a etcdAudit) timelineCtx(ctx context.Context, name string, limit int) ([]etcdEvent, error) {
	pfx := a.e.key("audit") + "/"
	if name != "" {
		pfx = a.e.key("audit", name) + "/"
	}
	opts := []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend)}
	if limit > 0 && name != "" {
		opts = append(opts, clientv3.WithLimit(int64(limit)))
	}
	var res *clientv3.GetResponse
	err := a.e.retry(ctx, func(ctx context.Context) (err error) {
		res, err = a.e.cli.Get(ctx, pfx, opts...)
		return err
	})
	if err != nil {
		return nil, a.e.unavailable("read the audit timeline", err)
	}
	out := make([]etcdEvent, 0, len(res.Kvs))
	for _, kv := range res.Kvs {
		var ev etcdEvent
		if json.Unmarshal(kv.Value, &ev) == nil {
			out = append(out, ev)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out, nil
}

// --- secrets ---

// etcdSecrets keeps each pair age-encrypted to every recipient registered
// under P/team/recipients, so etcd, its snapshots and its operators hold
// ciphertext only; members decrypt with the team identity.
type etcdSecrets struct{ e *etcdStore }

func (b etcdSecrets) get(ctx context.Context, name string) (auth.Secrets, error) {
	e := b.e
	var res *clientv3.GetResponse
	err := e.retry(ctx, func(ctx context.Context) (err error) {
		res, err = e.cli.Get(ctx, e.key("secrets", name))
		return err
	})
	if err != nil {
		return auth.Secrets{}, e.unavailable(fmt.Sprintf("read the secrets of session %q", name), err)
	}
	if len(res.Kvs) == 0 {
		return auth.Secrets{}, fmt.Errorf("session %q: %w (no key %s): log in again or import", name, auth.ErrSecretNotFound, e.key("secrets", name))
	}
	id, err := e.ident.load()
	if err != nil {
		return auth.Secrets{}, err
	}
	plain, err := decryptSecrets(id, res.Kvs[0].Value)
	if err != nil {
		return auth.Secrets{}, fmt.Errorf("session %q: the secrets at %s cannot be decrypted with this member's team identity (%v): "+
			"if the team key was rotated, run `tokentop team join` with the new one: %w", name, e.key("secrets", name), err, auth.ErrStoreUnavailable)
	}
	return decodeSecrets(name, plain)
}

func (b etcdSecrets) set(ctx context.Context, name string, sec auth.Secrets) error {
	e := b.e
	data, err := encodeSecrets(name, sec)
	if err != nil {
		return err
	}
	rcpts, err := e.recipients(ctx)
	if err != nil {
		return err
	}
	ct, err := encryptSecrets(rcpts, data)
	if err != nil {
		return fmt.Errorf("encrypt the secrets of session %q: %w", name, err)
	}
	if _, err := e.txn(ctx, name, nil, clientv3.OpPut(e.key("secrets", name), string(ct))); err != nil {
		if errors.Is(err, errLockLost) {
			return err
		}
		return e.unavailable(fmt.Sprintf("save the secrets of session %q", name), err)
	}
	return nil
}

func (b etcdSecrets) delete(ctx context.Context, name string) error {
	e := b.e
	k := e.key("secrets", name)
	ok, err := e.txn(ctx, name, []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(k), ">", 0)}, clientv3.OpDelete(k))
	if err != nil {
		if errors.Is(err, errLockLost) {
			return err
		}
		return e.unavailable(fmt.Sprintf("delete the secrets of session %q", name), err)
	}
	if !ok {
		return fmt.Errorf("session %q: %w", name, auth.ErrSecretNotFound)
	}
	return nil
}

// probe checks what a save needs: the cluster answers, the team exists
// and has recipients, and this member holds the team identity.
func (b etcdSecrets) probe(ctx context.Context, name string) error {
	if _, err := b.e.recipients(ctx); err != nil {
		return err
	}
	if _, err := b.e.ident.load(); err != nil {
		return fmt.Errorf("session %q: %w", name, err)
	}
	return nil
}

// recipients are the team's age recipients (public keys).
func (e *etcdStore) recipients(ctx context.Context) ([]string, error) {
	var res *clientv3.GetResponse
	err := e.retry(ctx, func(ctx context.Context) (err error) {
		res, err = e.cli.Get(ctx, e.key("team", "recipients")+"/", clientv3.WithPrefix())
		return err
	})
	if err != nil {
		return nil, e.unavailable("read the team's recipients", err)
	}
	if len(res.Kvs) == 0 {
		return nil, fmt.Errorf("no tokentop team under %s at %s (no recipients): run `tokentop team init` once for the team: %w",
			e.prefix, strings.Join(e.opts.Endpoints, ","), auth.ErrStoreUnavailable)
	}
	out := make([]string, 0, len(res.Kvs))
	for _, kv := range res.Kvs {
		out = append(out, string(bytes.TrimSpace(kv.Value)))
	}
	return out, nil
}

// Timeline returns the shared audit timeline of one session (all when
// name is ""), oldest first, with the host and user behind each event.
// Only an etcd Store has one (errors.ErrUnsupported otherwise).
func (s *Store) Timeline(name string, limit int) ([]TimelineEvent, error) {
	a, ok := s.audit.(etcdAudit)
	if !ok {
		return nil, fmt.Errorf("audit timeline: %w", errors.ErrUnsupported)
	}
	evs, err := a.timeline(name, limit)
	out := make([]TimelineEvent, len(evs))
	for i, ev := range evs {
		out[i] = TimelineEvent{Event: ev.Event, Host: ev.Host, User: ev.OSUser}
	}
	return out, err
}

// openEtcd puts metadata, secrets, locks and the audit log of s on etcd;
// the config dir (already prepared) keeps only rescue files.
func (s *Store) openEtcd() (*Store, error) {
	e, err := openEtcd(s.opts.Etcd)
	if err != nil {
		return nil, fmt.Errorf("open storage: %w", err)
	}
	s.etcdStore = e
	// Stored pairs carry the team store's id, shared by every member, not
	// this config dir's.
	s.ident = &storeIdentity{fetch: e.teamStoreID}
	e.ident.storeID = s.identity
	s.meta = etcdRecords{e}
	s.locks = etcdLocker{e}
	s.audit = etcdAudit{e}
	s.secrets = etcdSecrets{e}
	s.backends = map[string]secretBackend{BackendEtcd: s.secrets}
	return s, nil
}

// watchEtcd is Watch for a Store on etcd (ok false for any other).
func (s *Store) watchEtcd(ctx context.Context) (<-chan string, bool, error) {
	er, ok := s.meta.(etcdRecords)
	if !ok {
		return nil, false, nil
	}
	ch, err := er.watch(ctx)
	return ch, true, err
}

// RecentEvents is the newest limit events of one session in the shared
// timeline, oldest first, each with the Host and User that recorded it, so
// a TUI can say where a change it was told about came from.
func (s *Store) RecentEvents(ctx context.Context, name string, limit int) ([]auth.Event, error) {
	a, ok := s.audit.(etcdAudit)
	if !ok {
		return nil, fmt.Errorf("recent events of %s: %w", name, errors.ErrUnsupported)
	}
	evs, err := a.timelineCtx(ctx, name, limit)
	out := make([]auth.Event, len(evs))
	for i, ev := range evs {
		out[i] = ev.Event
		out[i].Host, out[i].User = ev.Host, ev.OSUser
	}
	return out, err
}

// LocalHost is the host this Store records its own events under ("" when
// it keeps no shared timeline).
func (s *Store) LocalHost() string {
	if s.etcdStore == nil {
		return ""
	}
	return s.etcdStore.opts.Host
}

// healthEvery is how often Health asks etcd whether it answers.
const healthEvery = 2 * time.Second

// Health reports each change between reaching etcd (nil) and not (why
// not), starting from reachable, until ctx is done. The watch cannot tell:
// with every member down it waits silently for one to return, while a TUI
// or keepalive should say that it is serving the tokens it holds and
// retrying. Only an etcd Store has one (errors.ErrUnsupported otherwise).
func (s *Store) Health(ctx context.Context) (<-chan error, error) {
	e := s.etcdStore
	if e == nil {
		return nil, fmt.Errorf("storage health: %w", errors.ErrUnsupported)
	}
	return e.health(ctx, healthEvery), nil
}

func (e *etcdStore) health(ctx context.Context, every time.Duration) <-chan error {
	out := make(chan error, 1)
	go func() {
		defer close(out)
		t := time.NewTicker(every)
		defer t.Stop()
		down := false
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			// A member cut off from the others answers nothing useful:
			// without a leader the read counts as a failure.
			actx, cancel := context.WithTimeout(clientv3.WithRequireLeader(ctx), min(e.opts.Timeout, 2*time.Second))
			_, err := e.cli.Get(actx, e.key("stamp"))
			cancel()
			if ctx.Err() != nil {
				return
			}
			if (err != nil) == down {
				continue
			}
			down = err != nil
			if err != nil {
				err = e.unavailable("reach the store", err)
			}
			select {
			case out <- err:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}
