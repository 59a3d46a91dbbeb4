package present

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

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
	return sessionJSON(s, now, timePtr)
}

// sessionJSON is NewSessionJSON with the instants' pointers from timePtr
// (list --json's workers keep them in an array of their own rather than
// allocate nine per session).
func sessionJSON(s auth.Session, now time.Time, timePtr func(time.Time) *time.Time) SessionJSON {
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
	missing := false
	for i := range sessions {
		missing = missing || sessions[i].SecretsBackend == ""
	}
	if !missing {
		return sessions // as the store hands them over: no copy
	}
	out := make([]auth.Session, len(sessions))
	for i, s := range sessions {
		if s.SecretsBackend == "" {
			s.SecretsBackend = backend
		}
		out[i] = s
	}
	return out
}

// listCell is the text of a session's cell in a `list` column, given the
// session and its Status (Describe is computed once per row, not per cell).
type listCell func(s *auth.Session, st *Status) string

// StateCell is list's STATE column: Status.Cell and the server clock when
// it is off.
func StateCell(s auth.Session, now time.Time) string {
	st := Describe(s, now)
	return stateCell(&s, &st)
}

func stateCell(_ *auth.Session, st *Status) string {
	out := st.Cell()
	if st.SkewShown {
		out += ", server clock " + SkewWords(st.Skew)
	}
	return out
}

// listCells are list's columns (of SessionColumns) and their cells.
// withBackend adds STORAGE, where each session's secrets are: shown only
// when some session keeps them elsewhere than the header's backend.
func listCells(withBackend bool) map[ColumnID]listCell {
	cells := map[ColumnID]listCell{
		ColName: func(s *auth.Session, _ *Status) string { return s.Name },
		ColUser: func(s *auth.Session, _ *Status) string {
			if s.User.Email != "" {
				return s.User.Email
			}
			return s.Email
		},
		ColRole: func(s *auth.Session, _ *Status) string { return auth.RoleName(s.User.RoleID) },
		ColOrg: func(s *auth.Session, _ *Status) string {
			if s.User.OrgUnitID == 0 {
				return ""
			}
			return strconv.FormatInt(s.User.OrgUnitID, 10)
		},
		ColAccess:         func(_ *auth.Session, st *Status) string { return st.Access.Relative() },
		ColAccessExpires:  func(s *auth.Session, _ *Status) string { return timefmt.Absolute(s.AccessExpiry) },
		ColRefresh:        func(_ *auth.Session, st *Status) string { return st.Refresh.Relative() },
		ColRefreshExpires: func(s *auth.Session, _ *Status) string { return timefmt.Absolute(s.RefreshExpiry) },
		ColState:          stateCell,
	}
	if withBackend {
		cells[ColStorage] = func(s *auth.Session, _ *Status) string { return s.SecretsBackend }
	}
	return cells
}

// listColumn is c sized for list's cells, which hold exactly their text:
// nothing is reserved for text that may come later (the TUI's notes), so
// no column is wider than its content, and none grows past it. A number or
// a time cut short says nothing, so those are whole or dropped; the rest
// keep their Keep (else their Min) before lower priorities go. Every
// column is left-aligned, as scripts have always parsed them.
func listColumn(c Column) Column {
	keep := c.Keep
	if keep == 0 {
		keep = c.Min
	}
	switch c.ID {
	case ColOrg, ColAccess, ColAccessExpires, ColRefresh, ColRefreshExpires:
		keep = KeepAll
	}
	c.Min, c.Max, c.Keep, c.Right = 0, 0, keep, false
	return c
}

// WriteListTable writes a table, dropping the least useful columns (and
// cutting the state, then names and users, with "…") until it fits width
// rather than wrapping lines; width 0 is no limit: every column, whole.
// It writes through a buffer: a line per write made 10,000 system calls.
func WriteListTable(w io.Writer, backend string, sessions []auth.Session, now time.Time, width int) {
	sessions = withBackends(sessions, backend)
	mixed := false
	for _, s := range sessions {
		mixed = mixed || s.SecretsBackend != backend
	}
	cellOf := listCells(mixed)
	var cols []Column
	var fns []listCell
	for _, c := range SessionColumns() {
		if fn := cellOf[c.ID]; fn != nil {
			cols = append(cols, listColumn(c))
			fns = append(fns, fn)
		}
	}
	// One backing array for every cell: 10,000 rows are 100,000 cells,
	// filled by one worker per CPU (each keeps its own widths).
	all := make([]string, len(sessions)*len(cols))
	natural := make([]int, len(cols))
	for i, c := range cols {
		natural[i] = utf8.RuneCountInString(c.Title)
	}
	workers := min(runtime.GOMAXPROCS(0), max(1, len(sessions)/256))
	widths := make([][]int, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wide := make([]int, len(cols))
			for r := w; r < len(sessions); r += workers {
				s := &sessions[r]
				st := Describe(*s, now)
				row := all[r*len(cols) : (r+1)*len(cols)]
				for i, fn := range fns {
					v := OneLine(fn(s, &st))
					row[i] = v
					wide[i] = max(wide[i], utf8.RuneCountInString(v))
				}
			}
			widths[w] = wide
		}()
	}
	wg.Wait()
	for _, wide := range widths {
		for i, n := range wide {
			natural[i] = max(natural[i], n)
		}
	}
	placed := Layout(cols, natural, width, 0)
	bw := bufio.NewWriterSize(w, 64<<10)
	defer bw.Flush()
	if mixed {
		fmt.Fprintf(bw, "Storage: %s for new sessions; each session's tokens stay where they were saved (STORAGE)\n", backend)
	} else {
		fmt.Fprintf(bw, "Storage: %s\n", backend)
	}
	// at maps the placed columns back to the cells.
	at := make([]int, len(placed))
	for p, pc := range placed {
		for i, c := range cols {
			if c.ID == pc.ID {
				at[p] = i
			}
		}
	}
	titles := make([]string, len(cols))
	for i, c := range cols {
		titles[i] = c.Title
	}
	_, _ = bw.Write(appendRow(nil, titles, placed, at))
	// The lines too are made on every CPU, each worker a contiguous run
	// of rows, and written in order.
	parts := make([][]byte, workers)
	per := (len(sessions) + workers - 1) / workers
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var b []byte
			for r := w * per; r < min((w+1)*per, len(sessions)); r++ {
				b = appendRow(b, all[r*len(cols):(r+1)*len(cols)], placed, at)
			}
			parts[w] = b
		}()
	}
	wg.Wait()
	for _, b := range parts {
		_, _ = bw.Write(b)
	}
}

// appendRow appends one line of the table: vals (by cell) in the placed
// columns, cut with "…" to their widths, without trailing spaces.
func appendRow(b []byte, vals []string, placed []Placed, at []int) []byte {
	start := len(b)
	for p, pc := range placed {
		v := vals[at[p]]
		n := utf8.RuneCountInString(v)
		if n > pc.Width {
			v = string([]rune(v)[:max(pc.Width-1, 0)]) + "…"
			n = pc.Width
		}
		b = append(b, v...)
		if p != len(placed)-1 {
			for range max(pc.Width-n, 0) + ColumnGap {
				b = append(b, ' ')
			}
		}
	}
	b = b[:start+len(bytes.TrimRight(b[start:], " "))]
	return append(b, '\n')
}
