// Package tui is the TUI commands: `tokentop` with no command, over the
// saved sessions, and `tokentop demo`, over an embedded emulator.
package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/spf13/cobra"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/auth/emulator"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
	"github.com/tokentop/tokentop/internal/cli/iostreams"
	"github.com/tokentop/tokentop/storage"
	"github.com/tokentop/tokentop/ui"
)

// keeperStopTimeout bounds waiting for in-flight refreshes at exit.
const keeperStopTimeout = 15 * time.Second

// exchangeStopTimeout bounds waiting at exit for a refresh whose request
// may have reached the server: the client's call timeout, then the save
// with its retries.
const exchangeStopTimeout = auth.DefaultCallTimeout*2 + auth.DefaultSaveRetryFor

// Options are the TUI's inputs (it has none but the global flags).
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory
}

// RunTUI runs the TUI over the saved sessions: the root command's action.
func RunTUI(cmd *cobra.Command, f *cmdutil.Factory, runF func(*Options) error) error {
	opts := &Options{IO: f.IOStreams, Factory: f}
	if runF != nil {
		return runF(opts)
	}
	return tuiRun(cmd.Context(), opts)
}

func tuiRun(ctx context.Context, opts *Options) error {
	if _, err := terminal(opts.IO); err != nil {
		return err
	}
	f := opts.Factory
	st, err := f.Store()
	if err != nil {
		return err
	}
	k, err := f.Keeper()
	if err != nil {
		return err
	}
	s := setup{store: st, keeper: k}
	// P in the TUI runs this same binary as `tokentop proxy NAME`.
	if exe, err := os.Executable(); err == nil {
		var etcd []string
		if st.Backend() == storage.BackendEtcd {
			etcd = f.Etcd.Env()
		}
		s.proxies = newChildProxies(exe, f.Environ(), st.ConfigDir(), st.Backend(), etcd, f.Now)
	}
	return runProgram(ctx, f, s)
}

// setup is what one TUI run works with.
type setup struct {
	store     *storage.Store
	keeper    *auth.Keeper
	endpoints auth.Endpoints // form defaults; zero: production
	demoURL   string
	status    string
	// proxies serve sessions on local ports (P); nil: none. The ones
	// started here stop when the TUI quits.
	proxies proxyRunner
}

// runProgram runs the keeper in the background and the TUI in the
// foreground, and stops both cleanly: the terminal is restored by Bubble Tea
// before we wait for in-flight refreshes to finish.
func runProgram(ctx context.Context, f *cmdutil.Factory, s setup) error {
	out, err := terminal(f.IOStreams)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The sessions are read by the program itself, in batches, so the first
	// frame comes at once and the first rows as soon as they are read, even
	// with ten thousand sessions (and never a keyring call).
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
	var proxies ui.Proxies
	if s.proxies != nil {
		proxies = s.proxies
	}
	model := ui.New(ui.Config{
		Store:     s.store,
		Keeper:    s.keeper,
		Styles:    styles,
		Clipboard: ui.NewClipboard(w, f.Getenv),
		Now:       f.Now(),
		Endpoints: s.endpoints,
		DemoURL:   s.demoURL,
		Status:    s.status,
		Context:   ctx,
		Proxies:   proxies,
	})
	// Bubble Tea's renderer draws on its own ticker, so the first frame
	// waits up to one frame interval: at 20 frames a second that was 50 ms
	// of a 60 ms start, at 120 it is 8 ms. The price, measured over 20 idle
	// seconds at 120x40: 1.35% of a core at 120 fps, 0.9% at 60, 0.35% at 20
	// (a tick only compares the view; frames are written when it changed).
	p := tea.NewProgram(model, tea.WithAltScreen(), tea.WithOutput(w), tea.WithContext(ctx), tea.WithFPS(120))
	f.UseKeeper(s.keeper)
	f.ShowEvents(true)
	final, runErr := p.Run()
	f.ShowEvents(false)
	if fm, ok := final.(ui.Model); ok {
		if clear := fm.PendingClipboardClear(); clear != nil {
			clear() // the program is gone: nothing reads its message
		}
	}
	if s.proxies != nil {
		// Before the keeper stops: a proxy in this process gets its tokens
		// from it, and one in a child saves its own refresh.
		s.proxies.stop(proxyStopWait)
	}
	cancel()
	// A refresh started from the TUI (r) runs outside the keeper's loop:
	// unless the user chose to abandon it (q twice), its answer is saved
	// before the process exits. The client's timeout bounds the wait.
	if fm, ok := final.(ui.Model); !ok || !fm.Abandoned() {
		// A signal already had OnSignals say this; after q, nothing has.
		if names := s.keeper.Exchanging(); len(names) > 0 && f.SignalsSeen() == 0 {
			fmt.Fprintf(f.IOStreams.ErrOut, "tokentop: %s (press Ctrl-C twice to do so)\n", auth.ExchangeWarning(names))
		}
		select {
		case <-s.keeper.Settled():
		case <-time.After(exchangeStopTimeout):
			fmt.Fprintln(f.IOStreams.ErrOut, "tokentop: gave up waiting for a refresh that never answered; run `tokentop list` to see the sessions' state")
		}
	}
	select {
	case kerr := <-keeperDone:
		if kerr != nil && !errors.Is(kerr, context.Canceled) {
			fmt.Fprintf(f.IOStreams.ErrOut, "tokentop: keeper: %v\n", kerr)
		}
	case <-time.After(keeperStopTimeout):
		fmt.Fprintln(f.IOStreams.ErrOut, "tokentop: gave up waiting for in-flight refreshes to finish")
	}
	// Killed: our context ended it (a signal, via OnSignals). Interrupted:
	// Bubble Tea saw a SIGINT itself. Either way the refresh rule above ran.
	if runErr != nil && !errors.Is(runErr, tea.ErrProgramKilled) && !errors.Is(runErr, tea.ErrInterrupted) {
		return fmt.Errorf("run the TUI: %w", runErr)
	}
	return nil
}

// terminal returns stdout when it is a terminal: the TUI draws nowhere else.
func terminal(ios *iostreams.IOStreams) (*os.File, error) {
	out, ok := ios.TerminalOut()
	if !ok {
		return nil, cmdutil.NewUsageError(errors.New("the TUI needs a terminal; in scripts use `tokentop list`, `tokentop token NAME` and friends"))
	}
	return out, nil
}

// DemoOptions are demo's inputs.
type DemoOptions struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory

	AccessTTL, RefreshTTL time.Duration
}

// NewCmdDemo builds `demo`; runF, when not nil, runs instead of the demo.
func NewCmdDemo(f *cmdutil.Factory, runF func(*DemoOptions) error) *cobra.Command {
	opts := &DemoOptions{IO: f.IOStreams, Factory: f, AccessTTL: demoAccessTTL, RefreshTTL: demoRefreshTTL}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "TUI against an embedded emulator with short lifetimes and seeded sessions",
		Long: `demo starts an emulated Convirza OAuth server on a loopback port (its URL is shown
in the header, so you can curl it), seeds a few sessions, and opens the TUI on them.
Secrets live in memory only: your keyring and config directory are never touched.
Log in to the emulator with n as demo@example.com / demo-password.`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.AccessTTL < 2*time.Second || opts.RefreshTTL < 2*time.Second {
				return cmdutil.UsageErrorf("--access-ttl and --refresh-ttl must be at least 2s (got %s and %s)", opts.AccessTTL, opts.RefreshTTL)
			}
			if runF != nil {
				return runF(opts)
			}
			return demoRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().DurationVar(&opts.AccessTTL, "access-ttl", opts.AccessTTL, "access token lifetime")
	cmd.Flags().DurationVar(&opts.RefreshTTL, "refresh-ttl", opts.RefreshTTL, "refresh token lifetime")
	return cmd
}

func demoRun(ctx context.Context, opts *DemoOptions) error {
	f, accessTTL, refreshTTL := opts.Factory, opts.AccessTTL, opts.RefreshTTL
	if _, err := terminal(opts.IO); err != nil {
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
	client := f.Client()
	k := auth.NewKeeper(auth.KeeperConfig{Store: st, Client: client, Audit: st})
	f.UseKeeper(k)
	seeds, err := seedDemo(ctx, k, primary, accessTTL, refreshTTL)
	if err != nil {
		return err
	}
	// A proxy for the first session, in this process (the demo's sessions
	// are in memory), so the status line can offer a curl with no token.
	proxies := newInProcessProxies(k, f.Now)
	px, err := proxies.Start(ctx, seeds[0].name)
	if err != nil {
		return fmt.Errorf("start the demo's proxy: %w", err)
	}
	return runProgram(ctx, f, setup{
		store:     st,
		keeper:    k,
		endpoints: primary.endpoints(),
		demoURL:   primary.url,
		proxies:   proxies,
		// The header already counts the sessions and shows the emulator's
		// URL; this line must fit 100 columns with the URL whole, so
		// people can copy it.
		status: demoStatus(px.URL()),
	})
}

// demoStatus is the demo's first status line: the login to type, and a
// request through the proxy for the first seeded session.
func demoStatus(proxyURL string) string {
	return fmt.Sprintf("demo: n logs in as %s / %s · curl -s %s/auth/profile",
		emulator.DefaultUser().Email, emulator.DefaultUser().Password, proxyURL)
}
