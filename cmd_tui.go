package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/auth/emulator"
	"github.com/tokentop/tokentop/storage"
	"github.com/tokentop/tokentop/ui"
)

// keeperStopTimeout bounds waiting for in-flight refreshes at exit.
const keeperStopTimeout = 15 * time.Second

// exchangeStopTimeout bounds waiting at exit for a refresh whose request
// may have reached the server: the client's call timeout, then the save
// with its retries.
const exchangeStopTimeout = auth.DefaultCallTimeout*2 + auth.DefaultSaveRetryFor

// runTUI opens the TUI over the saved sessions.
func (a *app) runTUI(ctx context.Context) error {
	if _, err := a.terminal(); err != nil {
		return err
	}
	st, err := a.openStore()
	if err != nil {
		return err
	}
	k, err := a.keeper()
	if err != nil {
		return err
	}
	return a.runProgram(ctx, tuiSetup{store: st, keeper: k, revoker: auth.NewClient(nil, nil)})
}

// tuiSetup is what one TUI run works with.
type tuiSetup struct {
	store     *storage.Store
	keeper    *auth.Keeper
	revoker   ui.TokenRevoker
	endpoints auth.Endpoints // form defaults; zero: production
	demoURL   string
	status    string
}

// runProgram runs the keeper in the background and the TUI in the
// foreground, and stops both cleanly: the terminal is restored by Bubble Tea
// before we wait for in-flight refreshes to finish.
func (a *app) runProgram(ctx context.Context, s tuiSetup) error {
	out, err := a.terminal()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The first frame renders from metadata alone: no keyring call here.
	stamp, err := s.store.Stamp(ctx)
	if err != nil {
		return fmt.Errorf("read the session index: %w", err)
	}
	sessions, err := s.store.List(ctx)
	if err != nil {
		return fmt.Errorf("read the session index: %w", err)
	}

	keeperDone := make(chan error, 1)
	go func() { keeperDone <- s.keeper.Run(ctx) }()

	// One writer for frames and OSC 52 clipboard writes, so a copy can never
	// land in the middle of a frame (see ui.SyncWriter).
	w := ui.NewSyncWriter(out)
	r := lipgloss.NewRenderer(out)
	// Bubble Tea's init has already asked the terminal for its background
	// colour (on stdout); reuse that answer instead of a second round trip,
	// which costs up to 5 s on a terminal that never answers.
	r.SetHasDarkBackground(lipgloss.HasDarkBackground())
	styles := ui.NewStyles(r)
	model := ui.New(ui.Config{
		Store:     s.store,
		Keeper:    s.keeper,
		Revoker:   s.revoker,
		Styles:    styles,
		Clipboard: ui.NewClipboard(w),
		Sessions:  sessions,
		Stamp:     stamp,
		Now:       time.Now(),
		Endpoints: s.endpoints,
		DemoURL:   s.demoURL,
		Status:    s.status,
		Context:   ctx,
	})
	// 20 frames a second is plenty for a dashboard that changes once a
	// second and for typing; Bubble Tea's default 60 wakes the renderer
	// three times as often and alone costs most of the idle CPU.
	p := tea.NewProgram(model, tea.WithAltScreen(), tea.WithOutput(w), tea.WithContext(ctx), tea.WithFPS(20))
	a.kp.Store(s.keeper)
	a.showsEvents.Store(true)
	final, runErr := p.Run()
	a.showsEvents.Store(false)
	cancel()
	// A refresh started from the TUI (r) runs outside the keeper's loop:
	// unless the user chose to abandon it (q twice), its answer is saved
	// before the process exits. The client's timeout bounds the wait.
	if fm, ok := final.(ui.Model); !ok || !fm.Abandoned() {
		if names := s.keeper.Exchanging(); len(names) > 0 {
			fmt.Fprintf(a.stderr, "tokentop: %s (press Ctrl-C again to do so)\n", auth.ExchangeWarning(names))
		}
		select {
		case <-s.keeper.Settled():
		case <-time.After(exchangeStopTimeout):
			fmt.Fprintln(a.stderr, "tokentop: gave up waiting for a refresh that never answered; run `tokentop list` to see the sessions' state")
		}
	}
	select {
	case kerr := <-keeperDone:
		if kerr != nil && !errors.Is(kerr, context.Canceled) {
			fmt.Fprintf(a.stderr, "tokentop: keeper: %v\n", kerr)
		}
	case <-time.After(keeperStopTimeout):
		fmt.Fprintln(a.stderr, "tokentop: gave up waiting for in-flight refreshes to finish")
	}
	if runErr != nil && !errors.Is(runErr, tea.ErrProgramKilled) {
		return fmt.Errorf("run the TUI: %w", runErr)
	}
	return nil
}

// terminal returns stdout when it is a terminal: the TUI draws nowhere else.
func (a *app) terminal() (*os.File, error) {
	out, ok := a.stdout.(*os.File)
	if !ok || !term.IsTerminal(int(out.Fd())) {
		return nil, usageErr(errors.New("the TUI needs a terminal; in scripts use `tokentop list`, `tokentop token NAME` and friends"))
	}
	return out, nil
}

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

func (a *app) newDemoCmd() *cobra.Command {
	accessTTL, refreshTTL := demoAccessTTL, demoRefreshTTL
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "TUI against an embedded emulator with short lifetimes and seeded sessions",
		Long: `demo starts an emulated Convirza OAuth server on a loopback port (its URL is shown
in the header, so you can curl it), seeds a few sessions, and opens the TUI on them.
Secrets live in memory only: your keyring and config directory are never touched.
Log in to the emulator with n as demo@example.com / demo-password.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if accessTTL < 2*time.Second || refreshTTL < 2*time.Second {
				return usageErr(fmt.Errorf("--access-ttl and --refresh-ttl must be at least 2s (got %s and %s)", accessTTL, refreshTTL))
			}
			return a.runDemo(cmd.Context(), accessTTL, refreshTTL)
		},
	}
	cmd.Flags().DurationVar(&accessTTL, "access-ttl", accessTTL, "access token lifetime")
	cmd.Flags().DurationVar(&refreshTTL, "refresh-ttl", refreshTTL, "refresh token lifetime")
	return cmd
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

func (a *app) runDemo(ctx context.Context, accessTTL, refreshTTL time.Duration) error {
	if _, err := a.terminal(); err != nil {
		return err
	}
	users := demoUsers()
	primary, err := startDemoServer(emulator.Config{AccessTTL: accessTTL, RefreshTTL: refreshTTL, Users: users})
	if err != nil {
		return err
	}
	defer primary.close()

	// Memory only, no config dir: the demo never touches the user's keyring
	// or files, whatever --storage and --config-dir say.
	st, err := storage.Open(storage.Options{Backend: storage.BackendMemory, ConfigDir: ""})
	if err != nil {
		return fmt.Errorf("open demo storage: %w", err)
	}
	defer st.Close()
	client := auth.NewClient(nil, nil)
	k := auth.NewKeeper(auth.KeeperConfig{Store: st, Client: client, Audit: st})
	a.kp.Store(k)
	if _, err := seedDemo(ctx, k, primary, accessTTL, refreshTTL); err != nil {
		return err
	}
	return a.runProgram(ctx, tuiSetup{
		store:     st,
		keeper:    k,
		revoker:   client,
		endpoints: primary.endpoints(),
		demoURL:   primary.url,
		// The header already counts the sessions; this line must fit 100
		// columns with the URL whole, so people can copy it.
		status: fmt.Sprintf("demo: n logs in as %s / %s · curl %s/_emulator/stats",
			emulator.DefaultUser().Email, emulator.DefaultUser().Password, primary.url),
	})
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
		if _, err := k.Import(ctx, sd.name, srv.endpoints(), body); err != nil {
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
