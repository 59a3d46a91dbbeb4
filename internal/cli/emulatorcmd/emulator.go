// Package emulatorcmd is `tokentop emulator`: the Convirza OAuth and profile
// emulator in the foreground.
package emulatorcmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokentop/tokentop/auth/emulator"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
)

// NewCmdEmulator builds the command; runF, when not nil, runs instead of
// serving.
func NewCmdEmulator(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	o := &Options{
		IO:         f.IOStreams,
		accessTTL:  dayDuration(emulator.DefaultAccessTTL),
		refreshTTL: dayDuration(emulator.DefaultRefreshTTL),
	}
	cmd := &cobra.Command{
		Use:   "emulator",
		Short: "Run a local Convirza OAuth + profile emulator in the foreground",
		Long: `Runs a faithful Convirza V3 OAuth and profile server on loopback, for trying tokentop,
scripts and tests without touching production. It implements login (/oauth/token),
refresh with single-use rotation (/oauth/refresh-token), revoke (/oauth/revoke-token),
the profile probe (/v3/auth/profile) and counters (/_emulator/stats), and logs one line
per request to stderr with tokens shown only as fingerprints.

Point tokentop at it with --oauth-url URL --api-url URL/v3. Stop it with Ctrl-C.`,
		Example: `  tokentop emulator --access-ttl 2m --refresh-ttl 10m
  tokentop emulator --addr 127.0.0.1:0 --user ann@example.com:pw:2:77 --token-format jwt`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(o)
			}
			return emulatorRun(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.addr, "addr", "127.0.0.1:8787", "listen address HOST:PORT (port 0 picks a free one)")
	fl.Var(&o.accessTTL, "access-ttl", "access token lifetime, e.g. 90s, 2m, 7d")
	fl.Var(&o.refreshTTL, "refresh-ttl", "refresh token lifetime, e.g. 10m, 180d")
	fl.StringVar(&o.tokenFormat, "token-format", emulator.FormatOpaque, "token format: opaque or jwt")
	fl.StringArrayVar(&o.users, "user", nil,
		"accepted account EMAIL:PASSWORD[:ROLE_ID[:ORG_UNIT_ID]] (repeatable; default "+emulator.DefaultUser().Email+")")
	fl.IntVar(&o.loginRate, "login-rate", emulator.DefaultLoginRate, "logins a minute per client IP; negative: unlimited")
	fl.Float64Var(&o.failRate, "fail-rate", 0, "fraction of requests answered 500 at random, 0 to 1")
	fl.Var(&o.latency, "latency", "delay added to every request, e.g. 200ms")
	return cmd
}

// emulatorRun serves until ctx is cancelled (SIGINT/SIGTERM), then shuts
// down gracefully.
func emulatorRun(ctx context.Context, o *Options) error {
	cfg, err := o.config()
	if err != nil {
		return err
	}
	cfg.Log = o.IO.ErrOut
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("emulator: listen on %s: %w", o.addr, err)
	}
	em := emulator.New(cfg)
	srv := &http.Server{Handler: em, ReadHeaderTimeout: 10 * time.Second}
	banner(o.IO.ErrOut, o, ln.Addr(), em.Users(), len(o.users) == 0)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("emulator: serve: %w", err)
	case <-ctx.Done():
	}
	fmt.Fprintln(o.IO.ErrOut, "emulator: stopping")
	// Requests held by --latency get a few seconds to finish; then they are cut.
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		_ = srv.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("emulator: serve: %w", err)
	}
	fmt.Fprintln(o.IO.ErrOut, "emulator: stopped")
	return nil
}
