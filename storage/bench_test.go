package storage

import (
	"context"
	"fmt"
	"testing"

	"github.com/tokentop/tokentop/auth"
)

// seedIndex writes n sessions into the file index of s in one save.
func seedIndex(b *testing.B, s *Store, n int) {
	b.Helper()
	err := s.meta.update(context.Background(), func(m map[string]auth.Session) (bool, error) {
		for i := 0; i < n; i++ {
			name := fmt.Sprintf("session-%05d", i)
			m[name] = testSession(name, testSecrets(name, 0), testNow)
		}
		return true, nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkMetaSave10k is one PutMeta (read, modify, atomic write with
// fsync) into an index of 10,000 sessions.
func BenchmarkMetaSave10k(b *testing.B) {
	s := openDir(b, b.TempDir(), BackendMemory)
	seedIndex(b, s, 10000)
	ctx := context.Background()
	se := testSession("session-05000", testSecrets("x", 1), testNow)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		se.Refreshes = i
		if err := s.PutMeta(ctx, se); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMetaLoad10k parses an index of 10,000 sessions from disk (the
// cold path of List, bypassing the stamp cache); no secret is read.
func BenchmarkMetaLoad10k(b *testing.B) {
	s := openDir(b, b.TempDir(), BackendKeyring) // keyring never touched by loading
	seedIndex(b, s, 10000)
	fm := s.meta.(*fileMeta)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fm.mu.Lock()
		fm.index = nil // forget the parse, so read must parse again
		fm.mu.Unlock()
		list, _, err := fm.read()
		if err != nil || len(list) != 10000 {
			b.Fatalf("read: %d sessions, %v", len(list), err)
		}
	}
}

// BenchmarkMetaRereadUnchanged10k is the check every save starts with:
// read the 10,000-session index from disk and find its bytes unchanged
// since the cached parse (no parse).
func BenchmarkMetaRereadUnchanged10k(b *testing.B) {
	s := openDir(b, b.TempDir(), BackendKeyring)
	seedIndex(b, s, 10000)
	fm := s.meta.(*fileMeta)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		list, _, err := fm.read()
		if err != nil || len(list) != 10000 {
			b.Fatalf("read: %d sessions, %v", len(list), err)
		}
	}
}

// BenchmarkMetaListCached10k is List of 10,000 sessions when the file has
// not changed since the last read (a stat and a slice copy).
func BenchmarkMetaListCached10k(b *testing.B) {
	s := openDir(b, b.TempDir(), BackendKeyring)
	seedIndex(b, s, 10000)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if list, err := s.List(ctx); err != nil || len(list) != 10000 {
			b.Fatalf("List: %d, %v", len(list), err)
		}
	}
}

// BenchmarkKeyringSaveLoad is one secrets save and one load through the
// Secret Service (skipped without one; run under .ci/with-keyring).
func BenchmarkKeyringSaveLoad(b *testing.B) {
	requireKeyring(b)
	k := newKeyringSecrets(keyringService, DefaultKeyringTimeout, testStoreID)
	ctx := context.Background()
	name := keyringPrefix() + "bench"
	sec := testSecrets(name, 1)
	b.Cleanup(func() { _ = k.delete(ctx, name) })
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := k.set(ctx, name, sec); err != nil {
			b.Fatal(err)
		}
		got, err := k.get(ctx, name)
		if err != nil || got.Tokens() != sec {
			b.Fatalf("get = %v, %v", got, err)
		}
	}
}
