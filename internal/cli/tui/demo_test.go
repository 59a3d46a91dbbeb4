package tui

import (
	"context"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/auth/emulator"
	"github.com/tokentop/tokentop/storage"
)

// TestDemoSeeds checks what the demo starts with: a JWT session, opaque
// ones, one whose refresh token is close to expiry, one paused; all in
// memory and all accepted by their emulator.
func TestDemoSeeds(t *testing.T) {
	ctx := context.Background()
	const access, refresh = 90 * time.Second, 15 * time.Minute
	primary, err := startDemoServer(emulator.Config{AccessTTL: access, RefreshTTL: refresh, Users: demoUsers()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(primary.close)
	st, err := storage.Open(storage.Options{Backend: storage.BackendMemory})
	if err != nil {
		t.Fatal(err)
	}
	k := auth.NewKeeper(auth.KeeperConfig{Store: st, Client: auth.NewClient(nil, nil), Audit: st})
	seeds, err := seedDemo(ctx, k, primary, access, refresh)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := st.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != len(seeds) || len(ss) < 3 {
		t.Fatalf("%d sessions stored, want the %d seeds (at least 3)", len(ss), len(seeds))
	}
	var jwt, opaque, paused, expiring int
	for _, se := range ss {
		sec, err := st.Secrets(ctx, se.Name)
		if err != nil {
			t.Fatal(err)
		}
		switch auth.Inspect(sec.AccessToken, auth.InspectOptions{}).Format {
		case "jwt":
			jwt++
		default:
			opaque++
		}
		if se.Paused || se.State == auth.StatePaused {
			paused++
		}
		if se.RefreshExpiry.Sub(se.AccessExpiry) < access {
			expiring++
		}
		res, err := k.Probe(ctx, se.Name)
		if err != nil || !res.Accepted {
			t.Errorf("%s: the emulator does not accept its access token: %+v %v", se.Name, res, err)
		}
	}
	if jwt < 1 || opaque < 1 || paused < 1 || expiring < 1 {
		t.Fatalf("seeds: %d jwt, %d opaque, %d paused, %d with the refresh token close to expiry; want each at least 1", jwt, opaque, paused, expiring)
	}
	if st.ConfigDir() != "" || st.Backend() != storage.BackendMemory {
		t.Fatal("demo storage must be memory only")
	}
}
