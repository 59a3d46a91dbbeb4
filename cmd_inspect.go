package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/safetext"
	"github.com/tokentop/tokentop/internal/timefmt"
)

// inspectOptions are the flags of inspect.
type inspectOptions struct {
	tokenSrc  string
	apiURL    string
	probe     bool
	json      bool
	showToken bool
}

func (a *app) newInspectCmd() *cobra.Command {
	var o inspectOptions
	cmd := &cobra.Command{
		DisableFlagsInUseLine: true,
		Use:                   "inspect NAME | inspect --token - [--probe] [--json]",
		Short:                 "Show what a token is: owner, expiries, fingerprints, JWT claims, warnings",
		Long: `inspect NAME shows a saved session: user, role, org unit, both expiries (relative
and absolute UTC), the fingerprints of the access, refresh and frontend tokens,
state and last error, and what the access token is (JWT header and claims, or
opaque length and alphabet) with warnings. Only the access token inspection reads
secret storage; the rest comes from metadata.

inspect --token - inspects a raw token read from stdin (the first line), e.g. one a
customer pasted; nothing is stored.

--probe asks the server now whether it accepts the access token (GET /auth/profile)
and exits 1 when it is rejected. --json prints one JSON object (schema in the
manual). The token itself is printed only with --show-token.`,
		Example: `  tokentop inspect prod
  tokentop inspect prod --probe --json
  pbpaste | tokentop inspect --token - --probe --api-url https://platform-api.convirza.com/v3`,
		ValidArgsFunction: a.completeSessionNameUnlessToken,
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			if !f.Changed("token") {
				if f.Changed("api-url") {
					return usageErr(errors.New("--api-url goes with --token -; a saved session is probed at its own URL"))
				}
				if err := exactArgs(1, "a session NAME, or --token - with the token on stdin")(cmd, args); err != nil {
					return err
				}
				return a.runInspectSession(cmd, args[0], o)
			}
			if len(args) > 0 {
				return usageErr(fmt.Errorf("give either a session NAME or --token -, not both (got NAME %q)", args[0]))
			}
			if o.tokenSrc != "-" {
				return usageErr(errors.New("--token takes only \"-\" (read the token from stdin): tokens are never accepted as flag values, they would land in shell history and ps"))
			}
			return a.runInspectRaw(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.tokenSrc, "token", "", `inspect a raw token read from stdin: the only value is "-"`)
	f.StringVar(&o.apiURL, "api-url", auth.DefaultAPIURL, "with --token and --probe: Convirza API base URL")
	f.BoolVar(&o.probe, "probe", false, "ask the server now whether it accepts the access token")
	f.BoolVar(&o.json, "json", false, "print one JSON object instead of text")
	f.BoolVar(&o.showToken, "show-token", false, "also print the access token itself (it is a secret)")
	return cmd
}

// inspectReport is inspect's output; its JSON form is the documented
// schema (README.md, "inspect --json"), so fields are only ever added.
type inspectReport struct {
	Source    string          `json:"source"` // "session" or "stdin"
	CheckedAt time.Time       `json:"checked_at"`
	Session   *inspectSession `json:"session,omitempty"`
	// Token is the access token inspection; null when secret storage could
	// not be read (see TokenError).
	Token      *auth.Inspection `json:"token"`
	TokenError string           `json:"token_error,omitempty"`
	tokenErr   error
	Probe      *inspectProbe `json:"probe,omitempty"`
	// Events are the session's newest audit events, oldest first (for
	// inspect NAME; fingerprints only, never tokens).
	Events []auth.Event `json:"events,omitempty"`
	// EventsError says why Events could not be read.
	EventsError string `json:"events_error,omitempty"`
	// AccessToken is the secret itself, only with --show-token.
	AccessToken string `json:"access_token,omitempty"`
}

// inspectEvents is how many of the newest audit events inspect NAME shows.
const inspectEvents = 10

// inspectSession is the metadata part of a saved session.
type inspectSession struct {
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
	Reason                string     `json:"reason,omitempty"`
	LastError             string     `json:"last_error,omitempty"`
	LastRefresh           time.Time  `json:"last_refresh,omitzero"`
	Refreshes             int        `json:"refreshes"`
	Failures              int        `json:"failures"`
	ClockSkewSeconds      float64    `json:"clock_skew_seconds,omitempty"`
	AccessExpiredAlready  bool       `json:"access_expired"`
	RefreshExpiredAlready bool       `json:"refresh_expired"`
}

// inspectProbe is the server's verdict on the access token.
type inspectProbe struct {
	Accepted  bool       `json:"accepted"`
	Status    int        `json:"status"`
	RequestID string     `json:"request_id,omitempty"`
	Message   string     `json:"message,omitempty"`
	User      *auth.User `json:"user,omitempty"`
	Error     string     `json:"error,omitempty"` // no answer at all (network)
}

func newInspectSession(se auth.Session, backend string, now time.Time) *inspectSession {
	secs := func(t time.Time) *int64 {
		if t.IsZero() {
			return nil
		}
		n := int64(t.Sub(now) / time.Second)
		return &n
	}
	return &inspectSession{
		Name:                  se.Name,
		Storage:               backend,
		OAuthURL:              se.Endpoints.OAuthURL,
		APIURL:                se.Endpoints.APIURL,
		Email:                 se.Email,
		User:                  se.User,
		Role:                  auth.RoleName(se.User.RoleID),
		IssuedAt:              se.IssuedAt,
		AccessExpiresAt:       se.AccessExpiry,
		AccessExpiresInSecs:   secs(se.AccessExpiry),
		RefreshExpiresAt:      se.RefreshExpiry,
		RefreshExpiresInSecs:  secs(se.RefreshExpiry),
		AccessFingerprint:     se.AccessFP,
		RefreshFingerprint:    se.RefreshFP,
		FrontendFingerprint:   se.FrontendFP,
		State:                 se.State,
		Reason:                string(se.Reason),
		LastError:             se.LastError,
		LastRefresh:           se.LastRefresh,
		Refreshes:             se.Refreshes,
		Failures:              se.Failures,
		ClockSkewSeconds:      se.ClockSkew.Seconds(),
		AccessExpiredAlready:  expired(se.AccessExpiry, now),
		RefreshExpiredAlready: expired(se.RefreshExpiry, now),
	}
}

func newInspectProbe(p auth.ProbeResult) *inspectProbe {
	ip := &inspectProbe{Accepted: p.Accepted, Status: p.Status, RequestID: p.Meta.RequestID, Message: p.Message}
	if ip.Status == 0 {
		ip.Status = p.Meta.Status
	}
	if p.User != (auth.User{}) {
		u := p.User
		ip.User = &u
	}
	return ip
}

func (a *app) runInspectSession(cmd *cobra.Command, name string, o inspectOptions) error {
	ctx := cmd.Context()
	s, err := a.openStore()
	if err != nil {
		return err
	}
	se, err := s.Get(ctx, name)
	if err != nil {
		return err
	}
	now := time.Now()
	rep := inspectReport{Source: "session", CheckedAt: now.UTC(), Session: newInspectSession(se, se.SecretsBackend, now)}
	// The timeline is what support asks first ("what happened to it?"); it
	// comes from the audit log, which holds no secrets.
	if evs, err := s.Events(name, inspectEvents); err != nil {
		rep.EventsError = err.Error()
	} else {
		rep.Events = evs
	}
	// Metadata is shown even when secret storage is unavailable (it is all
	// most support questions need), but the command then fails with exit 4,
	// so a script never mistakes a partial answer for a full one.
	var failure error
	sec, secErr := s.Secrets(ctx, name)
	if secErr != nil {
		failure = fmt.Errorf("inspect %s: the access token was not inspected: %w", name, secErr)
		rep.TokenError, rep.tokenErr = secErr.Error(), secErr
	} else {
		in := auth.Inspect(sec.AccessToken, auth.InspectOptions{Now: now, ExpectedExpiry: se.AccessExpiry})
		rep.Token = &in
		if o.showToken {
			rep.AccessToken = sec.AccessToken
		}
		if o.probe {
			k, err := a.keeper()
			if err != nil {
				return err
			}
			p, err := k.Probe(ctx, name)
			failure = a.probeOutcome(&rep, p, err)
		}
	}
	if err := a.printInspect(rep, o); err != nil {
		return err
	}
	return failure
}

func (a *app) runInspectRaw(cmd *cobra.Command, o inspectOptions) error {
	ep := auth.Endpoints{OAuthURL: auth.DefaultOAuthURL, APIURL: o.apiURL}
	if o.probe {
		if err := auth.CheckEndpoints(ep); err != nil {
			return usageErr(fmt.Errorf("--api-url: %w", err))
		}
	}
	tok, err := a.readToken()
	if err != nil {
		return err
	}
	now := time.Now()
	in := auth.Inspect(tok, auth.InspectOptions{Now: now})
	rep := inspectReport{Source: "stdin", CheckedAt: now.UTC(), Token: &in}
	if o.showToken {
		rep.AccessToken = tok
	}
	var failure error
	if o.probe {
		p, err := auth.NewClient(nil, nil).Probe(cmd.Context(), ep, tok)
		failure = a.probeOutcome(&rep, p, err)
	}
	if err := a.printInspect(rep, o); err != nil {
		return err
	}
	return failure
}

// readToken reads the token for --token -: from a pipe or file as
// readSecret does, or, when stdin is a terminal, from a prompt that does not
// echo, so a pasted token never lands on the screen or in scrollback.
func (a *app) readToken() (string, error) {
	f, ok := a.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return readSecret(a.stdin, "token")
	}
	fmt.Fprint(a.stderr, "Paste the token (input hidden), then press Enter: ")
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(a.stderr)
	if err != nil {
		return "", fmt.Errorf("read the token from the terminal: %w", err)
	}
	return readSecret(bytes.NewReader(b), "token")
}

// probeOutcome records a probe in the report and returns the command's
// failure: the probe's own error (exit 5 for network), or exit 1 when the
// server rejected the token, so `inspect --probe` works as a check in scripts.
func (a *app) probeOutcome(rep *inspectReport, p auth.ProbeResult, err error) error {
	fp := ""
	if rep.Token != nil {
		fp = rep.Token.Fingerprint
	}
	if err != nil {
		rep.Probe = &inspectProbe{Error: err.Error()}
		var ae *auth.APIError
		if errors.As(err, &ae) {
			rep.Probe.Status, rep.Probe.RequestID, rep.Probe.Message = ae.Status, ae.RequestID, ae.Message
		}
		// err already says "probe" (and the session's name, if any).
		return fmt.Errorf("access token %s: %w", fp, err)
	}
	rep.Probe = newInspectProbe(p)
	if !p.Accepted {
		return &exitCodeError{code: exitError, err: fmt.Errorf("the server rejected access token %s (HTTP %d)", fp, rep.Probe.Status)}
	}
	return nil
}

func (a *app) printInspect(rep inspectReport, o inspectOptions) error {
	if o.json {
		if err := writeSafeJSON(a.stdout, rep); err != nil {
			return fmt.Errorf("write the inspection: %w", err)
		}
		return nil
	}
	// Each value is escaped as it is written (kv.line); the whole text is
	// escaped once more, so a line added without care still cannot carry a
	// control sequence to the terminal.
	var b bytes.Buffer
	writeInspectText(&b, rep)
	_, err := io.WriteString(a.stdout, safetext.Lines(b.String()))
	return err
}

// writeSafeJSON writes v as indented JSON in which no string, key or value,
// holds a control, C1 or bidi character (see safetext.JSON): reports carry
// claims, server messages, emails and file contents, all from outside.
func writeSafeJSON(w io.Writer, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	doc, err := safetext.JSON(raw, "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(doc, '\n'))
	return err
}

// kv writes aligned "label  value" lines. A value is one line: whatever
// control characters or line breaks its parts brought in are shown escaped.
type kv struct{ w io.Writer }

func (k kv) line(label, format string, args ...any) {
	fmt.Fprintf(k.w, "%-15s %s\n", label, safetext.Escape(fmt.Sprintf(format, args...)))
}

func writeInspectText(w io.Writer, rep inspectReport) {
	now := rep.CheckedAt
	k := kv{w}
	if se := rep.Session; se != nil {
		k.line("session", "%s (storage: %s)", se.Name, se.Storage)
		user := orDash(se.User.Email)
		if se.User.UserID != 0 {
			user += fmt.Sprintf(" (user id %d)", se.User.UserID)
		}
		k.line("user", "%s", user)
		k.line("role", "%s", orDash(roleText(se.User.RoleID)))
		k.line("org unit", "%s", orDash(nonZero(se.User.OrgUnitID)))
		k.line("oauth url", "%s", se.OAuthURL)
		k.line("api url", "%s", se.APIURL)
		state := string(se.State)
		if se.Reason != "" {
			state += " (" + se.Reason + ")"
		}
		k.line("state", "%s", orDash(state))
		if se.LastError != "" {
			k.line("last error", "%s", se.LastError)
		}
		k.line("access", "%s  %s", orDash(se.AccessFingerprint), expiryText(se.AccessExpiresAt, now))
		k.line("refresh", "%s  %s", orDash(se.RefreshFingerprint), expiryText(se.RefreshExpiresAt, now))
		k.line("frontend", "%s", orDash(se.FrontendFingerprint))
		if !se.LastRefresh.IsZero() || se.Refreshes > 0 {
			k.line("refreshed", "%d times, last %s", se.Refreshes, timefmt.Relative(se.LastRefresh, now))
		}
		if se.ClockSkewSeconds >= 3 || se.ClockSkewSeconds <= -3 {
			k.line("clock skew", "server is %+.0fs from this machine", se.ClockSkewSeconds)
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
	k.line("access token", "%s", orDash(in.Fingerprint))
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
		k.line("format", "%s, %d characters, %s (nothing to decode)", orDash(in.Format), in.Length, alphabet)
	}
	for _, warn := range in.Warnings {
		k.line("warning", "%s", warn)
	}
}

// writeEvents prints the session's timeline, newest last.
func writeEvents(w io.Writer, rep inspectReport) {
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

func probeText(p inspectProbe) string {
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
func expiryText(t, now time.Time) string {
	if t.IsZero() {
		return "expiry unknown"
	}
	verb := "expires"
	if expired(t, now) {
		verb = "EXPIRED"
	}
	return fmt.Sprintf("%s %s (%s)", verb, timefmt.Relative(t, now), timefmt.Absolute(t))
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
