package ui

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/tokentop/tokentop/auth"
)

// fixedNow is the clock of every golden test.
var fixedNow = time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)

// asciiStyles are the styles of a colourless terminal, built on a private
// renderer so no global lipgloss state is touched.
func asciiStyles() Styles {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	r.SetHasDarkBackground(true)
	return NewStyles(r)
}

// fakeStore is an in-memory Store.
type fakeStore struct {
	mu       sync.Mutex
	sessions map[string]auth.Session
	secrets  map[string]auth.Secrets
	events   map[string][]auth.Event
	stamp    int
	backend  string
	listErr  error
	lists    int // List calls
	// secretsErr is what SecretsAvailable answers; secretsChecks counts it.
	secretsErr    error
	secretsChecks int
}

func (f *fakeStore) SecretsAvailable(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.secretsChecks++
	return f.secretsErr
}

func newFakeStore(ss ...auth.Session) *fakeStore {
	f := &fakeStore{sessions: map[string]auth.Session{}, secrets: map[string]auth.Secrets{}, events: map[string][]auth.Event{}, backend: "memory", stamp: 1}
	for _, se := range ss {
		f.sessions[se.Name] = se
	}
	return f
}

func (f *fakeStore) List(context.Context) ([]auth.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	if f.listErr != nil {
		return nil, f.listErr
	}
	out := make([]auth.Session, 0, len(f.sessions))
	for _, se := range f.sessions {
		out = append(out, se)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (f *fakeStore) Secrets(_ context.Context, name string) (auth.Secrets, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sec, ok := f.secrets[name]
	if !ok {
		return auth.Secrets{}, fmt.Errorf("secrets of %s: %w", name, auth.ErrSecretNotFound)
	}
	return sec, nil
}

func (f *fakeStore) Stamp(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fmt.Sprint(f.stamp), nil
}

func (f *fakeStore) Backend() string { return f.backend }

func (f *fakeStore) Events(name string, limit int) ([]auth.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ev := f.events[name]
	if len(ev) > limit {
		ev = ev[len(ev)-limit:]
	}
	return ev, nil
}

// put adds or replaces a session as another process would.
func (f *fakeStore) put(se auth.Session, sec auth.Secrets) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sessions[se.Name] = se
	f.secrets[se.Name] = sec
	f.stamp++
}

func (f *fakeStore) remove(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.sessions, name)
	delete(f.secrets, name)
	f.stamp++
}

// fakeKeeper records what the UI asked and answers from its fields.
type fakeKeeper struct {
	mu      sync.Mutex
	store   *fakeStore
	calls   []string
	events  chan auth.Event
	err     error // returned by every call when set
	login   func(name, email, password string) (auth.Session, error)
	probe   auth.ProbeResult
	refresh auth.RefreshResult
	// exchanging and settled stand for a refresh in flight at the server.
	exchanging []string
	settled    chan struct{}
}

func newFakeKeeper(st *fakeStore) *fakeKeeper { return &fakeKeeper{store: st} }

func (k *fakeKeeper) record(call string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls = append(k.calls, call)
	return k.err
}

func (k *fakeKeeper) called() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.calls...)
}

func (k *fakeKeeper) Events() <-chan auth.Event { return k.events }

func (k *fakeKeeper) Refresh(_ context.Context, name string) (auth.RefreshResult, error) {
	return k.refresh, k.record("refresh " + name)
}

func (k *fakeKeeper) Login(_ context.Context, name string, ep auth.Endpoints, email, password string) (auth.Session, error) {
	if err := k.record("login " + name + " " + email); err != nil {
		return auth.Session{}, err
	}
	if k.login != nil {
		return k.login(name, email, password)
	}
	se := auth.Session{Name: name, Endpoints: ep, Email: email, User: auth.User{Email: email}, AccessFP: "sha256:11111111"}
	k.store.put(se, auth.Secrets{AccessToken: "a", RefreshToken: "r"})
	return se, nil
}

func (k *fakeKeeper) Import(_ context.Context, name string, ep auth.Endpoints, response []byte, opts auth.ImportOptions) (auth.Session, error) {
	call := "import " + name + " " + string(response)
	if opts.KeepAlive {
		call = "import --keep-alive " + name + " " + string(response)
	}
	if err := k.record(call); err != nil {
		return auth.Session{}, err
	}
	se := auth.Session{Name: name, Endpoints: ep, AccessFP: "sha256:22222222", Paused: !opts.KeepAlive}
	if se.Paused {
		se.State = auth.StatePaused
	}
	k.store.put(se, auth.Secrets{AccessToken: "a", RefreshToken: "r"})
	return se, nil
}

func (k *fakeKeeper) Revoke(_ context.Context, name string) (auth.RevokeReport, error) {
	if err := k.record("revoke " + name); err != nil {
		return auth.RevokeReport{Refresh: auth.RevokeOutcome{Err: err}}, err
	}
	k.store.remove(name)
	return auth.RevokeReport{
		Refresh:   auth.RevokeOutcome{Fingerprint: "sha256:rrrrrrrr", Meta: auth.Meta{Status: 200, RequestID: "req-r"}},
		Access:    auth.RevokeOutcome{Fingerprint: "sha256:aaaaaaaa", Meta: auth.Meta{Status: 200, RequestID: "req-a"}},
		Forgotten: true,
	}, nil
}

func (k *fakeKeeper) Forget(_ context.Context, name string) error {
	if err := k.record("forget " + name); err != nil {
		return err
	}
	k.store.remove(name)
	return nil
}

func (k *fakeKeeper) SetPaused(_ context.Context, name string, paused bool) error {
	return k.record(fmt.Sprintf("pause %s %v", name, paused))
}

func (k *fakeKeeper) Probe(_ context.Context, name string) (auth.ProbeResult, error) {
	return k.probe, k.record("probe " + name)
}

func (k *fakeKeeper) Exchanging() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.exchanging...)
}

func (k *fakeKeeper) Settled() <-chan struct{} {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.settled == nil {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	return k.settled
}

// inFlight makes the fake report a refresh of name in flight until the
// returned function is called.
func (k *fakeKeeper) inFlight(name string) (settle func()) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.exchanging = []string{name}
	k.settled = make(chan struct{})
	ch := k.settled
	return func() {
		k.mu.Lock()
		defer k.mu.Unlock()
		k.exchanging = nil
		close(ch)
	}
}

// RevokeToken records a raw revoke and, like the keeper, marks a stored
// session holding the refresh token as revoked.
func (k *fakeKeeper) RevokeToken(_ context.Context, ep auth.Endpoints, token string, kind auth.TokenKind) (auth.TokenRevocation, error) {
	fp := auth.Fingerprint(token)
	if err := k.record(fmt.Sprintf("revoke-token %s %s %s", ep.OAuthURL, kind, fp)); err != nil {
		return auth.TokenRevocation{}, err
	}
	rev := auth.TokenRevocation{Endpoints: ep, Meta: auth.Meta{Status: 200, RequestID: "req-raw"}}
	k.store.mu.Lock()
	defer k.store.mu.Unlock()
	for name, se := range k.store.sessions {
		if se.RefreshFP == fp || se.AccessFP == fp {
			rev.Session = name
		}
		if se.RefreshFP == fp && kind == auth.RefreshToken {
			se.State, se.Reason, se.RevokedRefreshFP = auth.StateNeedsLogin, auth.ReasonRevoked, fp
			k.store.sessions[name] = se
			k.store.stamp++
		}
	}
	return rev, nil
}

// fakeNative is a system clipboard in memory.
type fakeNative struct {
	mu   sync.Mutex
	text string
}

func (n *fakeNative) ReadAll() (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.text, nil
}

func (n *fakeNative) WriteAll(s string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.text = s
	return nil
}

// syncBuffer is a goroutine-safe terminal stand-in.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testJWT builds an unsigned-looking HS256 JWT with fixed claims.
func testJWT(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc([]byte(claims)) + "." + enc([]byte("signature-bytes-0123456789"))
}

// tuiSessions is a list covering every state the list can show.
func tuiSessions() ([]auth.Session, map[string]auth.Secrets) {
	t0 := fixedNow
	ep := auth.Endpoints{OAuthURL: "http://127.0.0.1:8787", APIURL: "http://127.0.0.1:8787/v3"}
	mk := func(name, email string, role int, org int64, accessLeft, life, refreshLeft time.Duration, st auth.State) auth.Session {
		return auth.Session{
			Name: name, Endpoints: ep, Email: email,
			User:          auth.User{UserID: 4000 + org, Email: email, RoleID: role, OrgUnitID: org},
			IssuedAt:      t0.Add(accessLeft - life),
			AccessExpiry:  t0.Add(accessLeft),
			RefreshExpiry: t0.Add(refreshLeft),
			AccessFP:      "sha256:a1" + fmt.Sprintf("%06x", org), RefreshFP: "sha256:r1" + fmt.Sprintf("%06x", org),
			FrontendFP: "sha256:f1" + fmt.Sprintf("%06x", org),
			State:      st, CreatedAt: t0.Add(-2 * time.Hour), LastRefresh: t0.Add(-life + accessLeft),
			Refreshes: 3, TokenFormat: "opaque",
		}
	}
	ss := []auth.Session{
		mk("acme-admin", "admin@acme.example", 1, 1001, 62*time.Second, 90*time.Second, 14*time.Minute, auth.StateOK),
		mk("billing-retry", "billing@acme.example", 2, 2002, 20*time.Second, 90*time.Second, 10*time.Minute, auth.StateRetrying),
		mk("legacy-paused", "legacy@acme.example", 2, 2002, -30*time.Second, 90*time.Second, 5*time.Minute, auth.StatePaused),
		mk("support-desk", "support@acme.example", 2, 2002, 6*24*time.Hour, 7*24*time.Hour, 170*24*time.Hour, auth.StateOK),
		mk("viewer-dead", "viewer@acme.example", 3, 3003, -10*time.Minute, 90*time.Second, -time.Minute, auth.StateNeedsLogin),
	}
	ss[0].TokenFormat = "jwt"
	ss[1].LastError = "server error (HTTP 503)"
	ss[1].NextAttempt = t0.Add(7 * time.Second)
	ss[2].Paused = true
	ss[4].Reason = auth.ReasonRefreshExpired
	ss[4].LastRefresh = time.Time{}
	sec := map[string]auth.Secrets{}
	for _, se := range ss {
		sec[se.Name] = auth.Secrets{AccessToken: "opaque-access-" + se.Name, RefreshToken: "opaque-refresh-" + se.Name, FrontendToken: "f0123456789abcdefghijklmnopqrstu"}
	}
	exp := ss[0].AccessExpiry.Unix()
	sec["acme-admin"] = auth.Secrets{
		AccessToken:   testJWT(fmt.Sprintf(`{"exp":%d,"iat":%d,"tokenId":"11111111-2222-3333-4444-555555555555"}`, exp, exp-90)),
		RefreshToken:  "opaque-refresh-acme-admin",
		FrontendToken: "f0123456789abcdefghijklmnopqrstu",
	}
	return ss, sec
}

// harness drives a Model synchronously: each message's commands are run
// and their messages fed back, as the Bubble Tea runtime would.
type harness struct {
	t      testing.TB
	m      Model
	store  *fakeStore
	keeper *fakeKeeper
	term   *syncBuffer
	native *fakeNative
	quit   bool
}

type harnessOpt func(*Config)

func newHarness(t testing.TB, w, h int, opts ...harnessOpt) *harness {
	t.Helper()
	ss, sec := tuiSessions()
	st := newFakeStore(ss...)
	st.secrets = sec
	k := newFakeKeeper(st)
	hs := &harness{t: t, store: st, keeper: k, term: &syncBuffer{}, native: nil}
	list, _ := st.List(context.Background())
	cfg := Config{
		Store: st, Keeper: k, Styles: asciiStyles(),
		Clipboard: &Clipboard{Terminal: hs.term},
		Sessions:  list, Stamp: "1", Now: fixedNow, Location: time.UTC, DisableTick: true,
		Endpoints: auth.Endpoints{OAuthURL: "http://127.0.0.1:8787", APIURL: "http://127.0.0.1:8787/v3"},
	}
	for _, o := range opts {
		o(&cfg)
	}
	hs.m = New(cfg)
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	return hs
}

// send delivers msg and everything its commands produce.
func (h *harness) send(msgs ...tea.Msg) {
	h.t.Helper()
	queue := append([]tea.Msg(nil), msgs...)
	for steps := 0; len(queue) > 0; steps++ {
		if steps > 200 {
			h.t.Fatal("message loop did not settle")
		}
		msg := queue[0]
		queue = queue[1:]
		next, cmd := h.m.Update(msg)
		h.m = next.(Model)
		queue = append(queue, h.run(cmd)...)
	}
}

func (h *harness) run(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	switch msg := cmd().(type) {
	case nil:
		return nil
	case tea.QuitMsg:
		h.quit = true
		return nil
	case tea.BatchMsg:
		var out []tea.Msg
		for _, c := range msg {
			out = append(out, h.run(c)...)
		}
		return out
	default:
		return []tea.Msg{msg}
	}
}

// keys sends each argument as one key press (named keys or runes).
func (h *harness) keys(keys ...string) {
	h.t.Helper()
	for _, k := range keys {
		h.send(keyMsg(k))
	}
}

// typeText sends text as typed runes, one key at a time.
func (h *harness) typeText(s string) {
	h.t.Helper()
	for _, r := range s {
		h.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

func keyMsg(k string) tea.KeyMsg {
	named := map[string]tea.KeyType{
		"enter": tea.KeyEnter, "esc": tea.KeyEsc, "tab": tea.KeyTab, "shift+tab": tea.KeyShiftTab,
		"up": tea.KeyUp, "down": tea.KeyDown, "left": tea.KeyLeft, "right": tea.KeyRight,
		"pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown, "home": tea.KeyHome, "end": tea.KeyEnd,
		"ctrl+c": tea.KeyCtrlC, "ctrl+s": tea.KeyCtrlS, "backspace": tea.KeyBackspace, "space": tea.KeySpace,
	}
	if t, ok := named[k]; ok {
		return tea.KeyMsg{Type: t}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

func (h *harness) view() string { return h.m.View() }

// requireContains fails unless the view contains every want.
func (h *harness) requireContains(want ...string) {
	h.t.Helper()
	v := h.view()
	for _, w := range want {
		if !strings.Contains(v, w) {
			h.t.Fatalf("view lacks %q:\n%s", w, v)
		}
	}
}

func (h *harness) requireNotContains(unwanted ...string) {
	h.t.Helper()
	v := h.view()
	for _, w := range unwanted {
		if strings.Contains(v, w) {
			h.t.Fatalf("view shows %q:\n%s", w, v)
		}
	}
}
