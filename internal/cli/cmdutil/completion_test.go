package cmdutil

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/cli/iostreams"
	"github.com/tokentop/tokentop/storage"
)

// BenchmarkCompleteSessionNames measures what one Tab costs inside the
// process with 1000 saved sessions: open the store, list, filter.
func BenchmarkCompleteSessionNames(b *testing.B) {
	dir := manySessions(b, 1000)
	cmd := &cobra.Command{}
	cmd.SetContext(context.Background())
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		ios, _, _, _ := iostreams.Test()
		f := New(ios, func(string) string { return "" }, nil)
		f.ConfigDir, f.StorageName = dir, storage.BackendFile
		names, _ := CompleteSessionName(f)(cmd, nil, "session-09")
		if len(names) != 100 {
			b.Fatalf("%d names", len(names))
		}
		f.CloseStore()
	}
}

// manySessions writes n sessions' metadata (no secrets: completion never
// reads them) into a fresh config dir with the file backend.
func manySessions(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	s, err := storage.Open(storage.Options{ConfigDir: dir, Backend: storage.BackendFile})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	for i := range n {
		se := auth.Session{
			Name: fmt.Sprintf("session-%04d", i), Endpoints: auth.Endpoints{OAuthURL: auth.DefaultOAuthURL, APIURL: auth.DefaultAPIURL},
			Email: "demo@example.com", User: auth.User{UserID: int64(i), Email: "demo@example.com", RoleID: 2, OrgUnitID: 1001},
			AccessExpiry: now.Add(7 * 24 * time.Hour), RefreshExpiry: now.Add(180 * 24 * time.Hour), IssuedAt: now,
			AccessFP: "sha256:00000000", RefreshFP: "sha256:11111111", State: auth.StateOK, CreatedAt: now, UpdatedAt: now,
		}
		if err := s.PutMeta(context.Background(), se); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}
