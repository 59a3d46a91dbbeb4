package tui

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/auth/emulator"
)

// Demo defaults: short enough to watch a refresh happen.
const (
	demoAccessTTL  = 90 * time.Second
	demoRefreshTTL = 15 * time.Minute
)

// demoUsers are the emulator's accounts in demo mode; the first is the
// one suggested for the login form.
func demoUsers() []emulator.User {
	return []emulator.User{
		emulator.DefaultUser(),
		{Email: "admin@acme.example", Password: "acme-admin", UserID: 2001, RoleID: 1, OrgUnitID: 1001, TokenFormat: emulator.FormatJWT},
		{Email: "support@acme.example", Password: "acme-support", UserID: 2002, RoleID: 2, OrgUnitID: 2002},
		{Email: "viewer@acme.example", Password: "acme-viewer", UserID: 2003, RoleID: 3, OrgUnitID: 3003},
		{Email: "legacy@acme.example", Password: "acme-legacy", UserID: 2004, RoleID: 2, OrgUnitID: 2002},
	}
}

// demoServer serves an emulator on 127.0.0.1 with a free port.
type demoServer struct {
	em  *emulator.Server
	srv *http.Server
	url string
}

func startDemoServer(cfg emulator.Config) (*demoServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start the demo emulator: %w", err)
	}
	em := emulator.New(cfg)
	srv := &http.Server{Handler: em, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &demoServer{em: em, srv: srv, url: "http://" + ln.Addr().String()}, nil
}

func (d *demoServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = d.srv.Shutdown(ctx)
}

func (d *demoServer) endpoints() auth.Endpoints {
	return auth.Endpoints{OAuthURL: d.url, APIURL: d.url + "/v3"}
}

// demoSeed is one seeded session.
type demoSeed struct {
	name, email           string
	accessTTL, refreshTTL time.Duration
	paused                bool
}

// seedDemo imports the demo's sessions: one with JWT tokens (its user's
// token format is "jwt"), opaque ones, one whose refresh token is always
// close to expiry, and one paused; all on the one emulator.
func seedDemo(ctx context.Context, k *auth.Keeper, srv *demoServer, accessTTL, refreshTTL time.Duration) ([]demoSeed, error) {
	// The expiring session's refresh token lives only a little longer than
	// its access token, so its refresh countdown is always in the red: the
	// keeper must rotate it in time, every time.
	expiring := accessTTL + accessTTL/2
	seeds := []demoSeed{
		{name: "acme-admin", email: "admin@acme.example", accessTTL: accessTTL, refreshTTL: refreshTTL},
		{name: "support-desk", email: "support@acme.example", accessTTL: accessTTL, refreshTTL: refreshTTL},
		{name: "viewer-expiring", email: "viewer@acme.example", accessTTL: accessTTL, refreshTTL: min(expiring, refreshTTL)},
		{name: "legacy-paused", email: "legacy@acme.example", accessTTL: accessTTL, refreshTTL: refreshTTL, paused: true},
	}
	for _, sd := range seeds {
		body, err := srv.em.Issue(sd.email, sd.accessTTL, sd.refreshTTL)
		if err != nil {
			return nil, fmt.Errorf("seed demo session %s: %w", sd.name, err)
		}
		// The demo's sessions are its own, not someone else's: kept alive,
		// so the demo shows refreshes (all but the paused one).
		if _, err := k.Import(ctx, sd.name, srv.endpoints(), body, auth.ImportOptions{KeepAlive: true}); err != nil {
			return nil, fmt.Errorf("seed demo session %s: %w", sd.name, err)
		}
		if sd.paused {
			if err := k.SetPaused(ctx, sd.name, true); err != nil {
				return nil, fmt.Errorf("pause demo session %s: %w", sd.name, err)
			}
		}
	}
	// Seeding's own events (imported, paused) are old news by the first
	// frame; drop them so the status line opens with the demo's hints.
	for drained := false; !drained; {
		select {
		case <-k.Events():
		default:
			drained = true
		}
	}
	return seeds, nil
}
