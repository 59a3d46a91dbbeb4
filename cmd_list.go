package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/safetext"
	"github.com/tokentop/tokentop/internal/timefmt"
)

func (a *app) newListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		DisableFlagsInUseLine: true,
		Use:                   "list [--json]",
		Short:                 "List the saved sessions with their user, expiries and state",
		Long: `List the saved sessions: name, user, role, org, when the access and refresh
tokens expire (relative and absolute, UTC), and the state (ok, refreshing,
retrying, needs_login with the reason, paused, expired). It reads metadata only
and never touches secret storage, so it works while the keyring is locked.

The state is what the last refresh left, corrected by the clock: a session
whose access token has passed its expiry shows "expired" (the next
` + "`tokentop token`" + ` refreshes it), and one whose refresh token has passed its expiry
shows "needs_login (refresh_expired)".

--json prints one object, stable for scripts:
  {"storage": "keyring", "config_dir": "...", "sessions": [{"name", "email", "user": {...},
   "role", "org_unit_id", "oauth_url", "api_url", "access_expires_at", "refresh_expires_at",
   "access_expires_in_seconds", "refresh_expires_in_seconds", "state", "reason",
   "last_error", "next_attempt", "refresh_interrupted", "last_refresh", "refreshes", "failures",
   "clock_skew_seconds", "access_fingerprint", "refresh_fingerprint", "secrets_backend", ...}]}
Instants are RFC 3339 UTC strings or null; no token values are ever included.

"storage" is where new sessions go (--storage); a session's tokens stay in the
backend it was saved in ("secrets_backend"), whatever --storage says. The table
has a STORAGE column when some session's backend differs from --storage.`,
		Example: `  tokentop list
  tokentop list --json | jq -r '.sessions[] | select(.state != "ok") | .name'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := a.openStore()
			if err != nil {
				return err
			}
			sessions, err := s.List(cmd.Context())
			if err != nil {
				return fmt.Errorf("list sessions: %w", err)
			}
			now := time.Now()
			if asJSON {
				return sessWriteListJSON(a.stdout, s.Backend(), s.ConfigDir(), sessions, now)
			}
			if len(sessions) == 0 {
				fmt.Fprintf(a.stderr, "No saved sessions (storage: %s). Add one with `tokentop login NAME --email EMAIL` or `tokentop import NAME < response.json`.\n", s.Backend())
				return nil
			}
			sessWriteListTable(a.stdout, s.Backend(), sessions, now, sessTermWidth(a.stdout))
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (schema in --help) instead of a table")
	return cmd
}

// sessListJSON is the top-level object of `list --json`. Its field names are
// a contract documented in the README: add fields, never rename them.
type sessListJSON struct {
	Storage   string            `json:"storage"`
	ConfigDir string            `json:"config_dir"`
	Sessions  []sessSessionJSON `json:"sessions"`
}

// sessSessionJSON is one session in `list --json`.
type sessSessionJSON struct {
	Name                    string     `json:"name"`
	Email                   string     `json:"email"`
	User                    auth.User  `json:"user"`
	Role                    string     `json:"role"`
	OrgUnitID               int64      `json:"org_unit_id"`
	OAuthURL                string     `json:"oauth_url"`
	APIURL                  string     `json:"api_url"`
	AccessExpiresAt         *time.Time `json:"access_expires_at"`
	RefreshExpiresAt        *time.Time `json:"refresh_expires_at"`
	AccessExpiresInSeconds  int64      `json:"access_expires_in_seconds"`
	RefreshExpiresInSeconds int64      `json:"refresh_expires_in_seconds"`
	IssuedAt                *time.Time `json:"issued_at"`
	State                   string     `json:"state"`
	StoredState             string     `json:"stored_state"`
	Reason                  string     `json:"reason"`
	LastError               string     `json:"last_error"`
	NextAttempt             *time.Time `json:"next_attempt"`
	Paused                  bool       `json:"paused"`
	RefreshInterrupted      bool       `json:"refresh_interrupted"`
	LastRefresh             *time.Time `json:"last_refresh"`
	Refreshes               int        `json:"refreshes"`
	Failures                int        `json:"failures"`
	ClockSkewSeconds        float64    `json:"clock_skew_seconds"`
	AccessFingerprint       string     `json:"access_fingerprint"`
	RefreshFingerprint      string     `json:"refresh_fingerprint"`
	TokenFormat             string     `json:"token_format"`
	CreatedAt               *time.Time `json:"created_at"`
	UpdatedAt               *time.Time `json:"updated_at"`
	SecretsBackend          string     `json:"secrets_backend"`
}

// sessTimePtr gives null for the zero time, so scripts need not know Go's zero.
func sessTimePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// sessSecondsLeft is whole seconds until t, negative once passed, 0 when unknown.
func sessSecondsLeft(t, now time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return int64(t.Sub(now).Truncate(time.Second) / time.Second)
}

// sessEffectiveState corrects the stored state by the clock: metadata is
// only written when something happens, so an idle session can say "ok" long
// after its tokens died.
func sessEffectiveState(s auth.Session, now time.Time) (auth.State, auth.Reason) {
	state, reason := s.State, s.Reason
	if state == "" {
		state = auth.StateOK
	}
	if state == auth.StateNeedsLogin {
		return state, reason
	}
	// Expiry instants are the server's: compare them with its clock.
	snow := s.ServerNow(now)
	if !s.RefreshExpiry.IsZero() && !s.RefreshExpiry.After(snow) {
		return auth.StateNeedsLogin, auth.ReasonRefreshExpired
	}
	if (state == auth.StateOK || state == auth.StatePaused) && !s.AccessExpiry.IsZero() && !s.AccessExpiry.After(snow) {
		return auth.StateExpired, reason
	}
	return state, reason
}

func sessToJSON(s auth.Session, now time.Time) sessSessionJSON {
	state, reason := sessEffectiveState(s, now)
	email := s.Email
	if email == "" {
		email = s.User.Email
	}
	return sessSessionJSON{
		Name:                    s.Name,
		Email:                   email,
		User:                    s.User,
		Role:                    auth.RoleName(s.User.RoleID),
		OrgUnitID:               s.User.OrgUnitID,
		OAuthURL:                s.Endpoints.OAuthURL,
		APIURL:                  s.Endpoints.APIURL,
		AccessExpiresAt:         sessTimePtr(s.AccessExpiry),
		RefreshExpiresAt:        sessTimePtr(s.RefreshExpiry),
		AccessExpiresInSeconds:  sessSecondsLeft(s.AccessExpiry, s.ServerNow(now)),
		RefreshExpiresInSeconds: sessSecondsLeft(s.RefreshExpiry, s.ServerNow(now)),
		IssuedAt:                sessTimePtr(s.IssuedAt),
		State:                   string(state),
		StoredState:             string(s.State),
		Reason:                  string(reason),
		LastError:               s.LastError,
		NextAttempt:             sessTimePtr(s.NextAttempt),
		Paused:                  s.Paused,
		RefreshInterrupted:      s.RefreshInterrupted(now),
		LastRefresh:             sessTimePtr(s.LastRefresh),
		Refreshes:               s.Refreshes,
		Failures:                s.Failures,
		ClockSkewSeconds:        s.ClockSkew.Seconds(),
		AccessFingerprint:       s.AccessFP,
		RefreshFingerprint:      s.RefreshFP,
		TokenFormat:             s.TokenFormat,
		CreatedAt:               sessTimePtr(s.CreatedAt),
		UpdatedAt:               sessTimePtr(s.UpdatedAt),
		SecretsBackend:          s.SecretsBackend,
	}
}

// sessWithBackends fills in where each session's secrets are, for records
// that do not say: the backend the store was opened with (the store does
// this itself; callers passing sessions of their own get the same).
func sessWithBackends(sessions []auth.Session, backend string) []auth.Session {
	out := make([]auth.Session, len(sessions))
	for i, s := range sessions {
		if s.SecretsBackend == "" {
			s.SecretsBackend = backend
		}
		out[i] = s
	}
	return out
}

func sessWriteListJSON(w io.Writer, backend, configDir string, sessions []auth.Session, now time.Time) error {
	out := sessListJSON{Storage: backend, ConfigDir: configDir, Sessions: make([]sessSessionJSON, 0, len(sessions))}
	for _, s := range sessWithBackends(sessions, backend) {
		out.Sessions = append(out.Sessions, sessToJSON(s, now))
	}
	if err := writeSafeJSON(w, out); err != nil {
		return fmt.Errorf("write the session list: %w", err)
	}
	return nil
}

// sessTermWidth is stdout's width when it is a terminal, else 0 (no limit:
// pipes get every column).
func sessTermWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return width
}

// sessColumn is one table column; drop orders which go first when narrow
// (higher goes first, 0 never).
type sessColumn struct {
	title string
	drop  int
	cell  func(s auth.Session, now time.Time) string
	// shrink lets a long column be cut (with "…") rather than dropped.
	shrink bool
}

// sessShrinkMin is the narrowest a shrinkable column gets.
const sessShrinkMin = 16

// sessStateCell is the state with its reason and, when relevant, what comes next.
func sessStateCell(s auth.Session, now time.Time) string {
	state, reason := sessEffectiveState(s, now)
	out := string(state)
	if reason != "" {
		out += " (" + string(reason) + ")"
	}
	if s.RefreshInterrupted(now) {
		out += fmt.Sprintf(", a refresh by pid %d was interrupted %s; the next refresh settles it",
			s.RefreshingPID, timefmt.Relative(s.RefreshingSince, now))
	}
	if state == auth.StateRetrying && !s.NextAttempt.IsZero() {
		out += ", next " + timefmt.Relative(s.NextAttempt, now)
	}
	if skew := s.ClockSkew; skew >= sessSkewThreshold || skew <= -sessSkewThreshold {
		out += ", server clock " + sessSkewWords(skew)
	}
	return out
}

// sessSkewWords says "2m 00s ahead" or "5s behind".
func sessSkewWords(skew time.Duration) string {
	// The Date header has whole seconds: more precision would be noise.
	skew = skew.Round(time.Second)
	if skew < 0 {
		return timefmt.Countdown(-skew) + " behind"
	}
	return timefmt.Countdown(skew) + " ahead"
}

// sessListColumns are the table's columns, in order. withBackend adds
// STORAGE, where each session's secrets are: shown only when some session
// keeps them elsewhere than the header's backend, and dropped late (after
// the columns before STATE) when the terminal is narrow.
func sessListColumns(withBackend bool) []sessColumn {
	cols := []sessColumn{
		{title: "NAME", drop: 0, cell: func(s auth.Session, _ time.Time) string { return s.Name }},
		{title: "USER", drop: 4, cell: func(s auth.Session, _ time.Time) string {
			if s.User.Email != "" {
				return s.User.Email
			}
			return s.Email
		}},
		{title: "ROLE", drop: 6, cell: func(s auth.Session, _ time.Time) string { return auth.RoleName(s.User.RoleID) }},
		{title: "ORG", drop: 5, cell: func(s auth.Session, _ time.Time) string {
			if s.User.OrgUnitID == 0 {
				return ""
			}
			return strconv.FormatInt(s.User.OrgUnitID, 10)
		}},
		{title: "ACCESS", drop: 1, cell: func(s auth.Session, now time.Time) string { return timefmt.Relative(s.AccessExpiry, s.ServerNow(now)) }},
		{title: "ACCESS EXPIRES", drop: 8, cell: func(s auth.Session, _ time.Time) string { return timefmt.Absolute(s.AccessExpiry) }},
		{title: "REFRESH", drop: 3, cell: func(s auth.Session, now time.Time) string { return timefmt.Relative(s.RefreshExpiry, s.ServerNow(now)) }},
		{title: "REFRESH EXPIRES", drop: 7, cell: func(s auth.Session, _ time.Time) string { return timefmt.Absolute(s.RefreshExpiry) }},
		{title: "STATE", drop: 2, cell: sessStateCell, shrink: true},
	}
	if withBackend {
		storage := sessColumn{title: "STORAGE", drop: 2, cell: func(s auth.Session, _ time.Time) string { return s.SecretsBackend }}
		cols = append(cols[:1], append([]sessColumn{storage}, cols[1:]...)...)
	}
	return cols
}

// sessWriteListTable writes a table, dropping the least useful columns until
// it fits width (0: no limit) rather than wrapping lines.
func sessWriteListTable(w io.Writer, backend string, sessions []auth.Session, now time.Time, width int) {
	sessions = sessWithBackends(sessions, backend)
	mixed := false
	for _, s := range sessions {
		mixed = mixed || s.SecretsBackend != backend
	}
	cols := sessListColumns(mixed)
	cells := make([][]string, len(sessions))
	widths := make([]int, len(cols))
	for i, c := range cols {
		widths[i] = len(c.title)
	}
	for r, s := range sessions {
		cells[r] = make([]string, len(cols))
		for i, c := range cols {
			v := sessOneLine(c.cell(s, now))
			cells[r][i] = v
			widths[i] = max(widths[i], len([]rune(v)))
		}
	}
	keep := make([]bool, len(cols))
	for i := range keep {
		keep[i] = true
	}
	// total is the line length; with squeezed, shrinkable columns count
	// at their narrowest.
	total := func(squeezed bool) int {
		n := 0
		for i, k := range keep {
			if k {
				w := widths[i]
				if squeezed && cols[i].shrink {
					w = min(w, sessShrinkMin)
				}
				n += w + 2
			}
		}
		return n - 2
	}
	for width > 0 && total(true) > width {
		worst := -1
		for i, c := range cols {
			if keep[i] && c.drop > 0 && (worst < 0 || c.drop > cols[worst].drop) {
				worst = i
			}
		}
		if worst < 0 {
			break
		}
		keep[worst] = false
	}
	for i := range cols {
		if over := total(false) - width; width > 0 && over > 0 && keep[i] && cols[i].shrink {
			widths[i] = max(widths[i]-over, min(widths[i], sessShrinkMin))
		}
	}
	if mixed {
		fmt.Fprintf(w, "Storage: %s for new sessions; each session's tokens stay where they were saved (STORAGE)\n", backend)
	} else {
		fmt.Fprintf(w, "Storage: %s\n", backend)
	}
	row := func(vals []string) {
		var b strings.Builder
		last := -1
		for i := range vals {
			if keep[i] {
				last = i
			}
		}
		for i, v := range vals {
			if !keep[i] {
				continue
			}
			if r := []rune(v); len(r) > widths[i] {
				v = string(r[:widths[i]-1]) + "…"
			}
			b.WriteString(v)
			if i != last {
				b.WriteString(strings.Repeat(" ", widths[i]-len([]rune(v))+2))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	titles := make([]string, len(cols))
	for i, c := range cols {
		titles[i] = c.title
	}
	row(titles)
	for _, r := range cells {
		row(r)
	}
}

// sessOneLine keeps a cell on one line whatever the server (or a damaged
// sessions.json) put in it: whitespace collapsed, every other control, C1
// or bidi character shown escaped.
func sessOneLine(s string) string {
	return safetext.Escape(strings.Join(strings.Fields(s), " "))
}
