package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/auth/emulator"
	"github.com/tokentop/tokentop/storage"
)

// TestTUINeedsATerminal: run from a script, the TUI refuses with a usage
// error instead of drawing into a pipe; demo refuses before starting
// anything.
func TestTUINeedsATerminal(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"tui", nil},
		{"demo", []string{"demo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t, "file")
			r := c.run("", tt.args...)
			if r.code != exitUsage || !strings.Contains(r.stderr, "needs a terminal") {
				t.Fatalf("exit %d, stderr %q; want exit %d saying it needs a terminal", r.code, r.stderr, exitUsage)
			}
			if r.stdout != "" {
				t.Fatalf("wrote to stdout: %q", r.stdout)
			}
		})
	}
}

func TestTUIDemoUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"demo", "--access-ttl", "1s"}, "at least 2s"},
		{[]string{"demo", "--refresh-ttl", "0s"}, "at least 2s"},
		{[]string{"demo", "--access-ttl", "soon"}, "invalid argument"},
		{[]string{"demo", "extra"}, "takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := newCLI(t, "file").run("", tt.args...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d mentioning %q", r.code, r.stderr, exitUsage, tt.want)
			}
		})
	}
}

// TestTUIDemoSeeds checks what the demo starts with: a JWT session, opaque
// ones, one whose refresh token is close to expiry, one paused; all in
// memory and all accepted by their emulator.
func TestTUIDemoSeeds(t *testing.T) {
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
