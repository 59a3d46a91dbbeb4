package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
)

// seedIndex writes n session records (session-00000, ...) into s. It
// writes the files directly, without the fsyncs of a real save, so tests
// and benchmarks can hold 10,000 sessions without waiting minutes.
func seedIndex(b testing.TB, s *Store, n int) {
	b.Helper()
	fr, ok := s.meta.(*fileRecords)
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("session-%05d", i)
		se := testSession(name, testSecrets(name, 0), testNow)
		if !ok {
			if err := s.PutMeta(context.Background(), se); err != nil {
				b.Fatal(err)
			}
			continue
		}
		data, err := json.Marshal(recordDoc{Version: recordVersion, Session: &se})
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(fr.path(name), data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMetaSave is one PutMeta (lock, read, atomic write with fsync)
// of one session, beside n others: the cost must not grow with n.
func BenchmarkMetaSave(b *testing.B) {
	for _, n := range []int{1, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s := openDir(b, b.TempDir(), BackendMemory)
			seedIndex(b, s, n)
			ctx := context.Background()
			se := testSession("session-00000", testSecrets("x", 1), testNow)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				se.Refreshes = i
				if err := s.PutMeta(ctx, se); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMetaGet is Get of one session beside n others (what `token`
// reads): one record, whatever n.
func BenchmarkMetaGet(b *testing.B) {
	for _, n := range []int{1, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s := openDir(b, b.TempDir(), BackendKeyring) // keyring never touched
			seedIndex(b, s, n)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.Get(ctx, "session-00000"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMetaList is List of n sessions: every record read once.
func BenchmarkMetaList(b *testing.B) {
	for _, n := range []int{1, 1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s := openDir(b, b.TempDir(), BackendKeyring)
			seedIndex(b, s, n)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if list, err := s.List(ctx); err != nil || len(list) != n {
					b.Fatalf("List: %d, %v", len(list), err)
				}
			}
		})
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
