package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokentop/tokentop/auth/emulator"
)

// emuOptions are the flags of `tokentop emulator`.
type emuOptions struct {
	addr        string
	accessTTL   emuDuration
	refreshTTL  emuDuration
	tokenFormat string
	users       []string
	loginRate   int
	failRate    float64
	latency     emuDuration
}

func (a *app) newEmulatorCmd() *cobra.Command {
	o := &emuOptions{
		accessTTL:  emuDuration(emulator.DefaultAccessTTL),
		refreshTTL: emuDuration(emulator.DefaultRefreshTTL),
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
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runEmulator(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:8787", "listen address HOST:PORT (port 0 picks a free one)")
	f.Var(&o.accessTTL, "access-ttl", "access token lifetime, e.g. 90s, 2m, 7d")
	f.Var(&o.refreshTTL, "refresh-ttl", "refresh token lifetime, e.g. 10m, 180d")
	f.StringVar(&o.tokenFormat, "token-format", emulator.FormatOpaque, "token format: opaque or jwt")
	f.StringArrayVar(&o.users, "user", nil,
		"accepted account EMAIL:PASSWORD[:ROLE_ID[:ORG_UNIT_ID]] (repeatable; default "+emulator.DefaultUser().Email+")")
	f.IntVar(&o.loginRate, "login-rate", emulator.DefaultLoginRate, "logins a minute per client IP; negative: unlimited")
	f.Float64Var(&o.failRate, "fail-rate", 0, "fraction of requests answered 500 at random, 0 to 1")
	f.Var(&o.latency, "latency", "delay added to every request, e.g. 200ms")
	return cmd
}

// emuConfig checks the flags and turns them into an emulator configuration.
func (o *emuOptions) emuConfig() (emulator.Config, error) {
	cfg := emulator.Config{
		AccessTTL:   time.Duration(o.accessTTL),
		RefreshTTL:  time.Duration(o.refreshTTL),
		TokenFormat: o.tokenFormat,
		LoginRate:   o.loginRate,
		FailRate:    o.failRate,
		Latency:     time.Duration(o.latency),
	}
	if cfg.AccessTTL <= 0 {
		return cfg, usageErr(fmt.Errorf("--access-ttl %s: the lifetime must be positive, e.g. 90s or 7d", o.accessTTL))
	}
	if cfg.RefreshTTL <= 0 {
		return cfg, usageErr(fmt.Errorf("--refresh-ttl %s: the lifetime must be positive, e.g. 10m or 180d", o.refreshTTL))
	}
	if cfg.TokenFormat != emulator.FormatOpaque && cfg.TokenFormat != emulator.FormatJWT {
		return cfg, usageErr(fmt.Errorf("--token-format %q: choose opaque or jwt", o.tokenFormat))
	}
	if cfg.LoginRate == 0 {
		return cfg, usageErr(errors.New("--login-rate 0 would refuse every login: give a positive number, or a negative one for no limit"))
	}
	if !(cfg.FailRate >= 0 && cfg.FailRate <= 1) { // also catches NaN
		return cfg, usageErr(fmt.Errorf("--fail-rate %v: give a fraction between 0 and 1, e.g. 0.1", o.failRate))
	}
	if cfg.Latency < 0 {
		return cfg, usageErr(fmt.Errorf("--latency %s: the delay cannot be negative", o.latency))
	}
	if _, _, err := net.SplitHostPort(o.addr); err != nil {
		return cfg, usageErr(fmt.Errorf("--addr %q: want HOST:PORT, e.g. 127.0.0.1:8787 (port 0 picks a free one)", o.addr))
	}
	seen := map[string]bool{}
	for _, spec := range o.users {
		u, err := emulator.ParseUser(spec)
		if err != nil {
			return cfg, usageErr(fmt.Errorf("--user: %w", err))
		}
		key := strings.ToLower(u.Email)
		if seen[key] {
			return cfg, usageErr(fmt.Errorf("--user %s given twice: each email once", u.Email))
		}
		seen[key] = true
		cfg.Users = append(cfg.Users, u)
	}
	return cfg, nil
}

// runEmulator serves until ctx is cancelled (SIGINT/SIGTERM), then shuts
// down gracefully.
func (a *app) runEmulator(ctx context.Context, o *emuOptions) error {
	cfg, err := o.emuConfig()
	if err != nil {
		return err
	}
	cfg.Log = a.stderr
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("emulator: listen on %s: %w", o.addr, err)
	}
	em := emulator.New(cfg)
	srv := &http.Server{Handler: em, ReadHeaderTimeout: 10 * time.Second}
	emuBanner(a.stderr, o, ln.Addr(), em.Users(), len(o.users) == 0)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("emulator: serve: %w", err)
	case <-ctx.Done():
	}
	fmt.Fprintln(a.stderr, "emulator: stopping")
	// Requests held by --latency get a few seconds to finish; then they are cut.
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		_ = srv.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("emulator: serve: %w", err)
	}
	fmt.Fprintln(a.stderr, "emulator: stopped")
	return nil
}

// emuBanner tells the operator where the emulator is and how to use it.
// Passwords are shown only for the built-in demo account; accounts given
// with --user were typed by the operator, who knows them.
func emuBanner(w io.Writer, o *emuOptions, addr net.Addr, users []emulator.User, builtin bool) {
	host, port, _ := net.SplitHostPort(addr.String())
	ip := net.ParseIP(host)
	if !emuIsLoopback(host) {
		fmt.Fprintf(w, "warning: listening on %s, which is not loopback: anyone who can reach this address can log in with the test accounts\n", addr)
	}
	if ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	base := "http://" + net.JoinHostPort(host, port)
	fmt.Fprintf(w, "tokentop emulator listening on %s\n", base)
	fmt.Fprintf(w, "  OAuth base URL: %s\n", base)
	fmt.Fprintf(w, "  API base URL:   %s/v3\n", base)
	fmt.Fprintln(w, "  users:")
	for _, u := range users {
		pw := "(password as given with --user)"
		if builtin {
			pw = "password " + u.Password + " (built-in test account)"
		}
		fmt.Fprintf(w, "    %s  %s  user_id %d, role_id %d, org_unit_id %d\n", u.Email, pw, u.UserID, u.RoleID, u.OrgUnitID)
	}
	rate := "unlimited"
	if o.loginRate > 0 {
		rate = strconv.Itoa(o.loginRate) + " a minute per client IP"
	}
	fmt.Fprintf(w, "  lifetimes: access %s, refresh %s; tokens %s; logins %s\n",
		o.accessTTL, o.refreshTTL, o.tokenFormat, rate)
	if o.failRate > 0 || o.latency > 0 {
		fmt.Fprintf(w, "  faults: %.0f%% of requests fail with 500, %s added latency\n", o.failRate*100, o.latency)
	}
	pw := "PASSWORD"
	if builtin {
		pw = users[0].Password
	}
	fmt.Fprintf(w, "  try:   curl -s -X POST %s/oauth/token -H 'Content-Type: application/json' -d '{\"email\":\"%s\",\"password\":\"%s\"}'\n",
		base, users[0].Email, pw)
	fmt.Fprintf(w, "  stats: curl -s %s/_emulator/stats\n", base)
	fmt.Fprintf(w, "  use:   tokentop login NAME --email %s --oauth-url %s --api-url %s/v3\n", users[0].Email, base, base)
	fmt.Fprintln(w, "Ctrl-C stops it.")
}

// emuIsLoopback reports whether host names only this machine.
func emuIsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// emuDuration is a duration flag that also takes whole days ("7d"), since
// token lifetimes are stated in days.
type emuDuration time.Duration

func (d emuDuration) String() string {
	if v := time.Duration(d); v > 0 && v%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(v/(24*time.Hour)), 10) + "d"
	}
	return time.Duration(d).String()
}

func (d emuDuration) Type() string { return "duration" }

func (d *emuDuration) Set(s string) error {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 || days > 100*365 {
			return fmt.Errorf("%q: want a whole number of days like 7d, or a duration like 90s, 2m, 12h", s)
		}
		*d = emuDuration(time.Duration(days) * 24 * time.Hour)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q: want a duration like 90s, 2m, 12h or 7d", s)
	}
	*d = emuDuration(v)
	return nil
}
