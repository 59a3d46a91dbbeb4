package present

import (
	"strconv"
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
	return sessionJSON(&s, now, timePtr)
}

// sessionJSON is NewSessionJSON with the instants' pointers from timePtr
// (list --json's workers keep them in an array of their own rather than
// allocate nine per session).
func sessionJSON(s *auth.Session, now time.Time, timePtr func(time.Time) *time.Time) SessionJSON {
	st := describe(s, now)
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

// secretsBackend is where s keeps its secrets: the backend it records,
// or, for a record that does not say, backend, the one the store was
// opened with (the store fills this in itself; callers passing sessions of
// their own get the same).
func secretsBackend(s *auth.Session, backend string) string {
	if s.SecretsBackend != "" {
		return s.SecretsBackend
	}
	return backend
}

// StateCell is list's STATE column: Status.Cell and the server clock when
// it is off.
func StateCell(s auth.Session, now time.Time) string {
	st := Describe(s, now)
	return stateCell(&st)
}

func stateCell(st *Status) string {
	out := st.Cell()
	if st.SkewShown {
		out += ", server clock " + SkewWords(st.Skew)
	}
	return out
}

// appendListCell appends the text of a session's cell in list's column
// id, on one line, given the session and its Status (Describe is computed
// once per row, not per cell); STORAGE, where the session's secrets are,
// is backend. Times and numbers are appended as they are formatted, with
// no string in between: `list` makes 100,000 cells at 10,000 sessions. A
// switch, not a table of funcs: a Status passed to a func value escaped to
// the heap, once per row.
func appendListCell(b []byte, id ColumnID, s *auth.Session, st *Status, backend string) []byte {
	var v string
	switch id {
	case ColName:
		v = s.Name
	case ColStorage:
		v = backend
	case ColUser:
		v = s.User.Email
		if v == "" {
			v = s.Email
		}
	case ColRole:
		v = auth.RoleName(s.User.RoleID)
	case ColOrg:
		if s.User.OrgUnitID == 0 {
			return b
		}
		return strconv.AppendInt(b, s.User.OrgUnitID, 10)
	case ColAccess:
		return st.Access.appendRelative(b)
	case ColAccessExpires:
		return timefmt.AppendAbsolute(b, s.AccessExpiry)
	case ColRefresh:
		return st.Refresh.appendRelative(b)
	case ColRefreshExpires:
		return timefmt.AppendAbsolute(b, s.RefreshExpiry)
	case ColState:
		v = stateCell(st)
	}
	return append(b, OneLine(v)...)
}

// isListColumn says whether list has the column id (of SessionColumns).
func isListColumn(id ColumnID) bool {
	switch id {
	case ColName, ColStorage, ColUser, ColRole, ColOrg, ColAccess, ColAccessExpires, ColRefresh, ColRefreshExpires, ColState:
		return true
	}
	return false
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
