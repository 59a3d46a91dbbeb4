package emulatorcmd

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/tokentop/tokentop/auth"

	"github.com/tokentop/tokentop/auth/emulator"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
	"github.com/tokentop/tokentop/internal/cli/iostreams"
)

// Options are the flags of `tokentop emulator`.
type Options struct {
	IO *iostreams.IOStreams

	addr        string
	accessTTL   dayDuration
	refreshTTL  dayDuration
	tokenFormat string
	users       []string
	loginRate   int
	failRate    float64
	latency     dayDuration
}

// config checks the flags and turns them into an emulator configuration.
func (o *Options) config() (emulator.Config, error) {
	cfg := emulator.Config{
		AccessTTL:   time.Duration(o.accessTTL),
		RefreshTTL:  time.Duration(o.refreshTTL),
		TokenFormat: o.tokenFormat,
		LoginRate:   o.loginRate,
		FailRate:    o.failRate,
		Latency:     time.Duration(o.latency),
	}
	if cfg.AccessTTL <= 0 {
		return cfg, cmdutil.NewUsageError(fmt.Errorf("--access-ttl %s: the lifetime must be positive, e.g. 90s or 7d", o.accessTTL))
	}
	if cfg.RefreshTTL <= 0 {
		return cfg, cmdutil.NewUsageError(fmt.Errorf("--refresh-ttl %s: the lifetime must be positive, e.g. 10m or 180d", o.refreshTTL))
	}
	if cfg.TokenFormat != emulator.FormatOpaque && cfg.TokenFormat != emulator.FormatJWT {
		return cfg, cmdutil.NewUsageError(fmt.Errorf("--token-format %q: choose opaque or jwt", o.tokenFormat))
	}
	if cfg.LoginRate == 0 {
		return cfg, cmdutil.NewUsageError(errors.New("--login-rate 0 would refuse every login: give a positive number, or a negative one for no limit"))
	}
	if !(cfg.FailRate >= 0 && cfg.FailRate <= 1) { // also catches NaN
		return cfg, cmdutil.NewUsageError(fmt.Errorf("--fail-rate %v: give a fraction between 0 and 1, e.g. 0.1", o.failRate))
	}
	if cfg.Latency < 0 {
		return cfg, cmdutil.NewUsageError(fmt.Errorf("--latency %s: the delay cannot be negative", o.latency))
	}
	if _, _, err := net.SplitHostPort(o.addr); err != nil {
		return cfg, cmdutil.NewUsageError(fmt.Errorf("--addr %q: want HOST:PORT, e.g. 127.0.0.1:8787 (port 0 picks a free one)", o.addr))
	}
	seen := map[string]bool{}
	for _, spec := range o.users {
		u, err := emulator.ParseUser(spec)
		if err != nil {
			return cfg, cmdutil.NewUsageError(fmt.Errorf("--user: %w", err))
		}
		key := strings.ToLower(u.Email)
		if seen[key] {
			return cfg, cmdutil.NewUsageError(fmt.Errorf("--user %s given twice: each email once", u.Email))
		}
		seen[key] = true
		cfg.Users = append(cfg.Users, u)
	}
	return cfg, nil
}

// banner tells the operator where the emulator is and how to use it.
// Passwords are shown only for the built-in demo account; accounts given
// with --user were typed by the operator, who knows them.
func banner(w io.Writer, o *Options, addr net.Addr, users []emulator.User, builtin bool) {
	host, port, _ := net.SplitHostPort(addr.String())
	ip := net.ParseIP(host)
	if !auth.IsLoopback(host) {
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

// dayDuration is a duration flag that also takes whole days ("7d"), since
// token lifetimes are stated in days.
type dayDuration time.Duration

func (d dayDuration) String() string {
	if v := time.Duration(d); v > 0 && v%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(v/(24*time.Hour)), 10) + "d"
	}
	return time.Duration(d).String()
}

func (d dayDuration) Type() string { return "duration" }

func (d *dayDuration) Set(s string) error {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 || days > 100*365 {
			return fmt.Errorf("%q: want a whole number of days like 7d, or a duration like 90s, 2m, 12h", s)
		}
		*d = dayDuration(time.Duration(days) * 24 * time.Hour)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q: want a duration like 90s, 2m, 12h or 7d", s)
	}
	*d = dayDuration(v)
	return nil
}
