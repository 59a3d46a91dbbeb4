package present

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/timefmt"
)

// ListJSON is the top-level object of `list --json`. Its field names are
// a contract documented in the README: add fields, never rename them.
type ListJSON struct {
	Storage   string        `json:"storage"`
	ConfigDir string        `json:"config_dir"`
	Sessions  []SessionJSON `json:"sessions"`
}

// SessionJSON is one session in `list --json`.
type SessionJSON struct {
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
	AutoRefreshAt           *time.Time `json:"auto_refresh_at"`
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

// timePtr gives null for the zero time, so scripts need not know Go's zero.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// NewSessionJSON is s at now in `list --json`.
func NewSessionJSON(s auth.Session, now time.Time) SessionJSON {
	st := Describe(s, now)
	email := s.Email
	if email == "" {
		email = s.User.Email
	}
	return SessionJSON{
		Name:                    s.Name,
		Email:                   email,
		User:                    s.User,
		Role:                    auth.RoleName(s.User.RoleID),
		OrgUnitID:               s.User.OrgUnitID,
		OAuthURL:                s.Endpoints.OAuthURL,
		APIURL:                  s.Endpoints.APIURL,
		AccessExpiresAt:         timePtr(s.AccessExpiry),
		RefreshExpiresAt:        timePtr(s.RefreshExpiry),
		AccessExpiresInSeconds:  st.Access.Seconds(),
		RefreshExpiresInSeconds: st.Refresh.Seconds(),
		IssuedAt:                timePtr(s.IssuedAt),
		State:                   string(st.State),
		StoredState:             string(s.State),
		Reason:                  string(st.Reason),
		LastError:               s.LastError,
		NextAttempt:             timePtr(s.NextAttempt),
		Paused:                  s.Paused,
		RefreshInterrupted:      st.Interrupted,
		AutoRefreshAt:           timePtr(st.AutoRefresh),
		LastRefresh:             timePtr(s.LastRefresh),
		Refreshes:               s.Refreshes,
		Failures:                s.Failures,
		ClockSkewSeconds:        s.ClockSkew.Seconds(),
		AccessFingerprint:       s.AccessFP,
		RefreshFingerprint:      s.RefreshFP,
		TokenFormat:             s.TokenFormat,
		CreatedAt:               timePtr(s.CreatedAt),
		UpdatedAt:               timePtr(s.UpdatedAt),
		SecretsBackend:          s.SecretsBackend,
	}
}

// withBackends fills in where each session's secrets are, for records
// that do not say: the backend the store was opened with (the store does
// this itself; callers passing sessions of their own get the same).
func withBackends(sessions []auth.Session, backend string) []auth.Session {
	out := make([]auth.Session, len(sessions))
	for i, s := range sessions {
		if s.SecretsBackend == "" {
			s.SecretsBackend = backend
		}
		out[i] = s
	}
	return out
}

func WriteListJSON(w io.Writer, backend, configDir string, sessions []auth.Session, now time.Time) error {
	out := ListJSON{Storage: backend, ConfigDir: configDir, Sessions: make([]SessionJSON, 0, len(sessions))}
	for _, s := range withBackends(sessions, backend) {
		out.Sessions = append(out.Sessions, NewSessionJSON(s, now))
	}
	if err := WriteJSON(w, out); err != nil {
		return fmt.Errorf("write the session list: %w", err)
	}
	return nil
}

// column is one table column; drop orders which go first when narrow
// (higher goes first, 0 never).
type column struct {
	title string
	drop  int
	cell  func(s auth.Session, now time.Time) string
	// shrink lets a long column be cut (with "…") rather than dropped.
	shrink bool
}

// shrinkMin is the narrowest a shrinkable column gets.
const shrinkMin = 16

// StateCell is list's STATE column: Status.Cell and the server clock when
// it is off.
func StateCell(s auth.Session, now time.Time) string {
	st := Describe(s, now)
	out := st.Cell()
	if st.SkewShown {
		out += ", server clock " + SkewWords(st.Skew)
	}
	return out
}

// listColumns are the table's columns, in order. withBackend adds
// STORAGE, where each session's secrets are: shown only when some session
// keeps them elsewhere than the header's backend, and dropped late (after
// the columns before STATE) when the terminal is narrow.
func listColumns(withBackend bool) []column {
	cols := []column{
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
		{title: "ACCESS", drop: 1, cell: func(s auth.Session, now time.Time) string { return Describe(s, now).Access.Relative() }},
		{title: "ACCESS EXPIRES", drop: 8, cell: func(s auth.Session, _ time.Time) string { return timefmt.Absolute(s.AccessExpiry) }},
		{title: "REFRESH", drop: 3, cell: func(s auth.Session, now time.Time) string { return Describe(s, now).Refresh.Relative() }},
		{title: "REFRESH EXPIRES", drop: 7, cell: func(s auth.Session, _ time.Time) string { return timefmt.Absolute(s.RefreshExpiry) }},
		{title: "STATE", drop: 2, cell: StateCell, shrink: true},
	}
	if withBackend {
		storage := column{title: "STORAGE", drop: 2, cell: func(s auth.Session, _ time.Time) string { return s.SecretsBackend }}
		cols = append(cols[:1], append([]column{storage}, cols[1:]...)...)
	}
	return cols
}

// WriteListTable writes a table, dropping the least useful columns until
// it fits width (0: no limit) rather than wrapping lines.
func WriteListTable(w io.Writer, backend string, sessions []auth.Session, now time.Time, width int) {
	sessions = withBackends(sessions, backend)
	mixed := false
	for _, s := range sessions {
		mixed = mixed || s.SecretsBackend != backend
	}
	cols := listColumns(mixed)
	cells := make([][]string, len(sessions))
	widths := make([]int, len(cols))
	for i, c := range cols {
		widths[i] = len(c.title)
	}
	for r, s := range sessions {
		cells[r] = make([]string, len(cols))
		for i, c := range cols {
			v := OneLine(c.cell(s, now))
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
					w = min(w, shrinkMin)
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
			widths[i] = max(widths[i]-over, min(widths[i], shrinkMin))
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
