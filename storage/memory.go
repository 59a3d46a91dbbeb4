package storage

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync"

	"github.com/tokentop/tokentop/auth"
)

// memSecrets keeps secrets in process memory only (demo and tests). Values
// are stored in their encoded form so the size rule matches other backends.
type memSecrets struct {
	mu sync.Mutex
	m  map[string][]byte
}

func newMemSecrets() *memSecrets { return &memSecrets{m: map[string][]byte{}} }

func (b *memSecrets) get(_ context.Context, name string) (auth.Secrets, error) {
	b.mu.Lock()
	data, ok := b.m[name]
	b.mu.Unlock()
	if !ok {
		return auth.Secrets{}, fmt.Errorf("session %q: %w in memory: log in again or import", name, auth.ErrSecretNotFound)
	}
	return decodeSecrets(name, data)
}

func (b *memSecrets) set(_ context.Context, name string, sec auth.Secrets) error {
	data, err := encodeSecrets(name, sec)
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.m[name] = data
	b.mu.Unlock()
	return nil
}

func (b *memSecrets) delete(_ context.Context, name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.m[name]; !ok {
		return fmt.Errorf("session %q: %w in memory", name, auth.ErrSecretNotFound)
	}
	delete(b.m, name)
	return nil
}

// memMeta is the metadata index in memory, for ConfigDir "".
type memMeta struct {
	mu      sync.Mutex
	m       map[string]auth.Session
	changes uint64
}

func newMemMeta() *memMeta { return &memMeta{m: map[string]auth.Session{}} }

func (b *memMeta) load(context.Context) ([]auth.Session, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]auth.Session, 0, len(b.m))
	for _, s := range b.m {
		out = append(out, s)
	}
	sortSessions(out)
	return out, nil
}

func (b *memMeta) get(_ context.Context, name string) (auth.Session, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.m[name]
	return s, ok, nil
}

func (b *memMeta) update(_ context.Context, name string, fn func(auth.Session, bool) (auth.Session, recordOp, error)) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	cur, found := b.m[name]
	next, op, err := fn(cur, found)
	if err != nil {
		return err
	}
	switch op {
	case recordPut:
		next.Name = name
		b.m[name] = next
	case recordDelete:
		if !found {
			return nil
		}
		delete(b.m, name)
	default:
		return nil
	}
	b.changes++
	return nil
}

func (b *memMeta) stamp(context.Context) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return "mem-" + strconv.FormatUint(b.changes, 10), nil
}

func sortSessions(ss []auth.Session) {
	sort.Slice(ss, func(i, j int) bool { return ss[i].Name < ss[j].Name })
}

// memAudit is a bounded ring of events in memory, for ConfigDir "".
type memAudit struct {
	mu   sync.Mutex
	ring []auth.Event
	next int // index of the oldest event once the ring is full
}

// memAuditSize bounds the in-memory audit log.
const memAuditSize = 4096

func newMemAudit(size int) *memAudit { return &memAudit{ring: make([]auth.Event, 0, size)} }

func (a *memAudit) record(e auth.Event) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.ring) < cap(a.ring) {
		a.ring = append(a.ring, e)
		return nil
	}
	a.ring[a.next] = e
	a.next = (a.next + 1) % len(a.ring)
	return nil
}

func (a *memAudit) events(name string, limit int) ([]auth.Event, error) {
	a.mu.Lock()
	all := make([]auth.Event, 0, len(a.ring))
	all = append(all, a.ring[a.next:]...)
	all = append(all, a.ring[:a.next]...)
	a.mu.Unlock()
	return filterEvents(all, name, limit), nil
}

// filterEvents keeps the newest limit events of one session (all sessions
// for name ""), oldest first; limit <= 0 keeps all.
func filterEvents(all []auth.Event, name string, limit int) []auth.Event {
	out := all[:0:0]
	for _, e := range all {
		if name == "" || e.Session == name {
			out = append(out, e)
		}
	}
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out
}
