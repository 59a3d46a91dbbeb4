package inspect

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/present"
	"github.com/tokentop/tokentop/internal/safetext"
	"github.com/tokentop/tokentop/internal/timefmt"
)

// report is inspect's output; its JSON form is the documented
// schema (README.md, "inspect --json"), so fields are only ever added.
type report struct {
	Source    string    `json:"source"` // "session" or "stdin"
	CheckedAt time.Time `json:"checked_at"`
	Session   *session  `json:"session,omitempty"`
	// Token is the access token inspection; null when secret storage could
	// not be read (see TokenError).
	Token      *auth.Inspection `json:"token"`
	TokenError string           `json:"token_error,omitempty"`
	tokenErr   error
	Probe      *probe `json:"probe,omitempty"`
	// Events are the session's newest audit events, oldest first (for
	// inspect NAME; fingerprints only, never tokens).
	Events []auth.Event `json:"events,omitempty"`
	// EventsError says why Events could not be read.
	EventsError string `json:"events_error,omitempty"`
	// AccessToken is the secret itself, only with --show-token.
	AccessToken string `json:"access_token,omitempty"`
}

// maxEvents is how many of the newest audit events inspect NAME shows.
const maxEvents = 10

// session is the metadata part of a saved session.
type session struct {
	Name                  string     `json:"name"`
	Storage               string     `json:"storage"`
	OAuthURL              string     `json:"oauth_url"`
	APIURL                string     `json:"api_url"`
	Email                 string     `json:"email,omitempty"`
	User                  auth.User  `json:"user"`
	Role                  string     `json:"role"`
	IssuedAt              time.Time  `json:"issued_at,omitzero"`
	AccessExpiresAt       time.Time  `json:"access_expires_at,omitzero"`
	AccessExpiresInSecs   *int64     `json:"access_expires_in_seconds,omitempty"`
	RefreshExpiresAt      time.Time  `json:"refresh_expires_at,omitzero"`
	RefreshExpiresInSecs  *int64     `json:"refresh_expires_in_seconds,omitempty"`
	AccessFingerprint     string     `json:"access_fingerprint"`
	RefreshFingerprint    string     `json:"refresh_fingerprint"`
	FrontendFingerprint   string     `json:"frontend_fingerprint,omitempty"`
	State                 auth.State `json:"state"`
	StoredState           auth.State `json:"stored_state"`
	Reason                string     `json:"reason,omitempty"`
	Paused                bool       `json:"paused"`
	RefreshInterrupted    bool       `json:"refresh_interrupted"`
	NextAttempt           time.Time  `json:"next_attempt,omitzero"`
	AutoRefreshAt         time.Time  `json:"auto_refresh_at,omitzero"`
	LastError             string     `json:"last_error,omitempty"`
	LastRefresh           time.Time  `json:"last_refresh,omitzero"`
	Refreshes             int        `json:"refreshes"`
	Failures              int        `json:"failures"`
	ClockSkewSeconds      float64    `json:"clock_skew_seconds,omitempty"`
	AccessExpiredAlready  bool       `json:"access_expired"`
	RefreshExpiredAlready bool       `json:"refresh_expired"`

	// status is what the text form says (the same model as the JSON).
	status present.Status
}

// probe is the server's verdict on the access token.
type probe struct {
	Accepted  bool       `json:"accepted"`
	Status    int        `json:"status"`
	RequestID string     `json:"request_id,omitempty"`
	Message   string     `json:"message,omitempty"`
	User      *auth.User `json:"user,omitempty"`
	Error     string     `json:"error,omitempty"` // no answer at all (network)
}

func newSession(se auth.Session, backend string, now time.Time) *session {
	st := present.Describe(se, now)
	secs := func(e present.Expiry) *int64 {
		if !e.Known() {
			return nil
		}
		n := e.Seconds()
		return &n
	}
	return &session{
		Name:                  se.Name,
		Storage:               backend,
		OAuthURL:              se.Endpoints.OAuthURL,
		APIURL:                se.Endpoints.APIURL,
		Email:                 se.Email,
		User:                  se.User,
		Role:                  auth.RoleName(se.User.RoleID),
		IssuedAt:              se.IssuedAt,
		AccessExpiresAt:       se.AccessExpiry,
		AccessExpiresInSecs:   secs(st.Access),
		RefreshExpiresAt:      se.RefreshExpiry,
		RefreshExpiresInSecs:  secs(st.Refresh),
		AccessFingerprint:     se.AccessFP,
		RefreshFingerprint:    se.RefreshFP,
		FrontendFingerprint:   se.FrontendFP,
		State:                 st.State,
		StoredState:           se.State,
		Reason:                string(st.Reason),
		Paused:                st.Paused,
		RefreshInterrupted:    st.Interrupted,
		NextAttempt:           st.NextAttempt,
		AutoRefreshAt:         st.AutoRefresh,
		LastError:             se.LastError,
		LastRefresh:           se.LastRefresh,
		Refreshes:             se.Refreshes,
		Failures:              se.Failures,
		ClockSkewSeconds:      se.ClockSkew.Seconds(),
		AccessExpiredAlready:  st.Access.Expired(),
		RefreshExpiredAlready: st.Refresh.Expired(),
		status:                st,
	}
}

func newProbe(p auth.ProbeResult) *probe {
	ip := &probe{Accepted: p.Accepted, Status: p.Status, RequestID: p.Meta.RequestID, Message: p.Message}
	if ip.Status == 0 {
		ip.Status = p.Meta.Status
	}
	if p.User != (auth.User{}) {
		u := p.User
		ip.User = &u
	}
	return ip
}

// kv writes aligned "label  value" lines. A value is one line: whatever
// control characters or line breaks its parts brought in are shown escaped.
type kv struct{ w io.Writer }

func (k kv) line(label, format string, args ...any) {
	fmt.Fprintf(k.w, "%-15s %s\n", label, safetext.Escape(fmt.Sprintf(format, args...)))
}

func writeText(w io.Writer, rep report) {
	now := rep.CheckedAt
	k := kv{w}
	if se := rep.Session; se != nil {
		k.line("session", "%s (storage: %s)", se.Name, se.Storage)
		user := present.OrDash(se.User.Email)
		if se.User.UserID != 0 {
			user += fmt.Sprintf(" (user id %d)", se.User.UserID)
		}
		k.line("user", "%s", user)
		k.line("role", "%s", present.OrDash(roleText(se.User.RoleID)))
		k.line("org unit", "%s", present.OrDash(nonZero(se.User.OrgUnitID)))
		k.line("oauth url", "%s", se.OAuthURL)
		k.line("api url", "%s", se.APIURL)
		st := se.status
		k.line("state", "%s", st.Cell())
		k.line("", "%s", st.Words())
		if se.LastError != "" {
			k.line("last error", "%s", se.LastError)
		}
		k.line("access", "%s  %s", present.OrDash(se.AccessFingerprint), expiryText(st.Access))
		k.line("refresh", "%s  %s", present.OrDash(se.RefreshFingerprint), expiryText(st.Refresh))
		k.line("auto-refresh", "%s", st.AutoRefreshText())
		k.line("frontend", "%s", present.OrDash(se.FrontendFingerprint))
		if !se.LastRefresh.IsZero() || se.Refreshes > 0 {
			k.line("refreshed", "%d times, last %s", se.Refreshes, timefmt.Relative(se.LastRefresh, now))
		}
		if st.SkewShown {
			k.line("clock skew", "server clock %s; expiries are counted by its clock", present.SkewWords(st.Skew))
		}
		fmt.Fprintln(w)
	}
	if rep.Token == nil {
		// The full error follows on stderr.
		why := "could not read secret storage"
		switch {
		case errors.Is(rep.tokenErr, auth.ErrStoreUnavailable):
			why = "secret storage unavailable"
		case errors.Is(rep.tokenErr, auth.ErrSecretNotFound):
			why = "its secret is missing from storage"
		}
		k.line("access token", "not inspected: %s", why)
	} else {
		writeInspection(k, *rep.Token, now)
	}
	if p := rep.Probe; p != nil {
		k.line("probe", "%s", probeText(*p))
	}
	if rep.Session != nil {
		writeEvents(w, rep)
	}
	if rep.AccessToken != "" {
		k.line("token", "%s", rep.AccessToken)
	}
}

func writeInspection(k kv, in auth.Inspection, now time.Time) {
	k.line("access token", "%s", present.OrDash(in.Fingerprint))
	switch in.Format {
	case "jwt":
		k.line("format", "JWT, %d characters, signature not verified", in.Length)
		k.line("header", "%s", compactJSON(in.Header))
		for i, c := range in.ClaimNames() {
			label := ""
			if i == 0 {
				label = "claims"
			}
			k.line(label, "%s: %s", c, compactJSON(in.Claims[c]))
		}
		for _, t := range []struct {
			label string
			at    time.Time
		}{{"issued at", in.IssuedAt}, {"not before", in.NotBefore}, {"expires", in.Expires}} {
			if !t.at.IsZero() {
				k.line(t.label, "%s (%s)", timefmt.Absolute(t.at), timefmt.Relative(t.at, now))
			}
		}
	default:
		alphabet := in.Alphabet
		if alphabet == "" {
			alphabet = "unknown alphabet"
		}
		k.line("format", "%s, %d characters, %s (nothing to decode)", present.OrDash(in.Format), in.Length, alphabet)
	}
	for _, warn := range in.Warnings {
		k.line("warning", "%s", warn)
	}
}

// writeEvents prints the session's timeline, newest last.
func writeEvents(w io.Writer, rep report) {
	fmt.Fprintln(w)
	switch {
	case rep.EventsError != "":
		fmt.Fprintf(w, "%-15s unavailable: %s\n", "events", safetext.Escape(rep.EventsError))
		return
	case len(rep.Events) == 0:
		fmt.Fprintf(w, "%-15s none recorded\n", "events")
		return
	}
	fmt.Fprintf(w, "last %d events (audit log)\n", len(rep.Events))
	for _, e := range rep.Events {
		var d []string
		switch {
		case e.OldFP != "" && e.NewFP != "":
			d = append(d, e.OldFP+" -> "+e.NewFP)
		case e.OldFP != "":
			d = append(d, e.OldFP)
		case e.NewFP != "":
			d = append(d, e.NewFP)
		}
		if e.Status != 0 {
			d = append(d, fmt.Sprintf("HTTP %d", e.Status))
		}
		if e.Reason != "" {
			d = append(d, string(e.Reason))
		}
		if !e.At.IsZero() {
			d = append(d, "at "+timefmt.Absolute(e.At))
		}
		if e.Message != "" {
			d = append(d, e.Message)
		}
		if e.RequestID != "" {
			d = append(d, "request id "+e.RequestID)
		}
		fmt.Fprintf(w, "  %s  %-15s %s\n", timefmt.Absolute(e.Time), safetext.Escape(string(e.Kind)), safetext.Escape(strings.Join(d, "; ")))
	}
}

func probeText(p probe) string {
	if p.Error != "" {
		return "no answer: " + p.Error
	}
	var b strings.Builder
	if p.Accepted {
		b.WriteString("ACCEPTED by the server now")
	} else {
		b.WriteString("REJECTED by the server")
	}
	fmt.Fprintf(&b, " (HTTP %d", p.Status)
	if p.Message != "" {
		fmt.Fprintf(&b, ": %s", p.Message)
	}
	if p.RequestID != "" {
		fmt.Fprintf(&b, ", request id %s", p.RequestID)
	}
	b.WriteString(")")
	if p.User != nil && p.User.Email != "" {
		fmt.Fprintf(&b, " as %s", p.User.Email)
	}
	return b.String()
}

// expiryText renders "expires in 6d 23h (2026-04-10 12:00:00Z)".
func expiryText(e present.Expiry) string {
	if !e.Known() {
		return "expiry unknown"
	}
	verb := "expires"
	if e.Expired() {
		verb = "EXPIRED"
	}
	return fmt.Sprintf("%s %s (%s)", verb, e.Relative(), timefmt.Absolute(e.At))
}

func roleText(id int) string {
	if id == 0 {
		return ""
	}
	name := auth.RoleName(id)
	if strings.HasPrefix(name, "role ") {
		return name // an id tokentop has no name for
	}
	return fmt.Sprintf("%s (%d)", name, id)
}

func nonZero(n int64) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprint(n)
}

func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
