package auth_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/auth/emulator"
	"github.com/tokentop/tokentop/storage"
)

// holdRefresh makes the server sit on refresh requests: entered receives
// one value per request that reached it, and the request is answered (by
// the emulator, so the pair does rotate) once release is closed.
func (e *env) holdRefresh() (entered <-chan struct{}, release func()) {
	in := make(chan struct{}, 8)
	rel := make(chan struct{})
	e.setIntercept(func(_ http.ResponseWriter, r *http.Request, _ []byte) bool {
		if r.URL.Path == "/oauth/refresh-token" {
			in <- struct{}{}
			<-rel
		}
		return false
	})
	return in, func() { close(rel) }
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(20 * time.Second): // a hang guard, not a timing assertion
		t.Fatalf("timed out waiting for %s", what)
	}
}

// Once the refresh request may have reached the server, cancelling the
// caller's context (Ctrl-C, SIGTERM, a quit key) does not abandon it: the
// answer is awaited and saved, and Exchanging tells a stopping process so.
func TestRefreshFinishesAfterCancel(t *testing.T) {
	for _, call := range []string{"Refresh", "Token"} {
		t.Run(call, func(t *testing.T) {
			e := newEnv(t, envOpt{})
			e.seed("s", 10*time.Minute, time.Hour)
			e.clock.Advance(9 * time.Minute) // inside the refresh window: Token refreshes
			entered, release := e.holdRefresh()
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				var err error
				if call == "Refresh" {
					_, err = e.k.Refresh(ctx, "s")
				} else {
					_, _, err = e.k.Token(ctx, "s", 0)
				}
				done <- err
			}()
			waitFor(t, entered, "the refresh to reach the server")
			if got := e.k.Exchanging(); !slices.Equal(got, []string{"s"}) {
				t.Fatalf("Exchanging = %v, want [s]", got)
			}
			select {
			case <-e.k.Settled():
				t.Fatal("Settled is closed while a refresh is in flight")
			default:
			}
			cancel()
			release()
			if err := <-done; err != nil {
				t.Fatalf("%s cancelled mid-exchange: %v; want the exchange finished and saved", call, err)
			}
			waitFor(t, e.k.Settled(), "Settled")
			if got := e.k.Exchanging(); len(got) != 0 {
				t.Fatalf("Exchanging after the save = %v", got)
			}
			if st := e.emu.Stats(); st.Refreshes != 1 || st.RefreshRejections != 0 {
				t.Fatalf("stats %+v: want exactly the one refresh, no retry", st)
			}
			if !e.emu.Valid(e.secrets("s").RefreshToken, emulator.KindRefresh) {
				t.Fatal("the stored refresh token is not the one the server issued")
			}
			if s := e.get("s"); s.State != auth.StateOK || !s.RefreshingSince.IsZero() {
				t.Fatalf("state %s, marker %v: want ok and no refreshing marker", s.State, s.RefreshingSince)
			}
		})
	}
}

// cancelOnMark cancels the caller's context when the keeper marks the
// refresh in metadata: the stop lands between the lock and the send.
type cancelOnMark struct {
	auth.SessionStore
	cancel context.CancelFunc
}

func (c *cancelOnMark) PutMeta(ctx context.Context, s auth.Session) error {
	err := c.SessionStore.PutMeta(ctx, s)
	if s.State == auth.StateRefreshing {
		c.cancel()
	}
	return err
}

// A stop that comes before the request leaves sends nothing and leaves the
// session as it was (no marker that would later read as a lost rotation).
func TestRefreshStoppedBeforeSendingChangesNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := newEnv(t, envOpt{keeper: func(c *auth.KeeperConfig) {
		c.Store = &cancelOnMark{SessionStore: c.Store, cancel: cancel}
	}})
	before := e.seed("s", 10*time.Minute, time.Hour)
	_, err := e.k.Refresh(ctx, "s")
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "nothing changed") {
		t.Fatalf("Refresh = %v, want a cancel before sending", err)
	}
	if st := e.emu.Stats(); st.Refreshes != 0 {
		t.Fatalf("stats %+v: a request was sent after the stop", st)
	}
	s := e.get("s")
	if s.State != auth.StateOK || !s.RefreshingSince.IsZero() || s.RefreshFP != before.RefreshFP {
		t.Fatalf("after the stop: state %s marker %v refresh %s; want the session as it was", s.State, s.RefreshingSince, s.RefreshFP)
	}
}

// advanceWhileBlocked moves the fake clock each time the keeper waits on a
// timer, until done is closed: it stands in for the seconds a save retry
// waits.
func (e *env) advanceWhileBlocked(step time.Duration, done <-chan struct{}) {
	go func() {
		for {
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				select {
				case <-done:
				case <-ctx.Done():
				}
				cancel()
			}()
			err := e.clock.BlockUntilContext(ctx, 1)
			cancel()
			if err != nil {
				return
			}
			e.clock.Advance(step)
		}
	}()
}

// A store that refuses the new pair for a while (a keyring stalled for
// 20 s) gets it in the end: the refresh retries the save, says so at once
// through OnEvent, and succeeds.
func TestSaveRetriedUntilTheStoreRecovers(t *testing.T) {
	var fs *flakyStore
	var seen []auth.Event
	e := newEnv(t, envOpt{keeper: func(c *auth.KeeperConfig) {
		fs = &flakyStore{SessionStore: c.Store}
		c.Store = fs
		c.OnEvent = func(ev auth.Event) { seen = append(seen, ev) }
	}})
	e.seed("s", 10*time.Minute, time.Hour)
	fs.mu.Lock()
	fs.failPuts = 5
	fs.mu.Unlock()
	done := make(chan struct{})
	defer close(done)
	e.advanceWhileBlocked(time.Second, done)
	res, err := e.k.Refresh(context.Background(), "s")
	if err != nil {
		t.Fatalf("Refresh while the store refuses 5 saves: %v", err)
	}
	if !e.emu.Valid(e.secrets("s").RefreshToken, emulator.KindRefresh) || e.get("s").AccessFP != res.New.AccessFP {
		t.Fatal("the stored pair is not the one the server issued")
	}
	if !slices.ContainsFunc(seen, func(ev auth.Event) bool { return ev.Kind == auth.EventSaveRetrying }) {
		t.Fatalf("no save_retrying event was shown: %v", e.audit.Kinds("s"))
	}
}

// fileEnv is an env whose keeper stores through a config dir (so pairs can
// be kept aside) behind a flakyStore.
func fileEnv(t *testing.T, runtimeDir string) (*env, *flakyStore, *storage.Store) {
	t.Helper()
	dir := t.TempDir()
	st, err := storage.Open(storage.Options{ConfigDir: dir, Backend: storage.BackendMemory, RuntimeDir: runtimeDir})
	if err != nil {
		t.Fatal(err)
	}
	var fs *flakyStore
	e := newEnv(t, envOpt{keeper: func(c *auth.KeeperConfig) {
		fs = &flakyStore{SessionStore: st}
		c.Store = fs
		c.Rescue = st
		c.SaveRetryFor = 3 * time.Second
	}})
	e.store = st
	return e, fs, st
}

// refreshWithStoreDown refreshes name while the store refuses every save,
// the fake clock running through the save retries: the pair ends up kept
// aside (the error says where).
func refreshWithStoreDown(e *env, fs *flakyStore, name string) error {
	fs.mu.Lock()
	fs.failPuts = 1000
	fs.mu.Unlock()
	done := make(chan struct{})
	e.advanceWhileBlocked(time.Second, done)
	_, err := e.k.Refresh(context.Background(), name)
	close(done)
	return err
}

// A one-shot command whose store refuses the new pair for longer than the
// retry keeps it aside (0600, in the config dir), says where, and the next
// process adopts it without sending anything: nothing is lost when the
// first process exits, and nothing blames a rotation lost in transit.
func TestUnsavablePairIsKeptAsideAndAdoptedByTheNextProcess(t *testing.T) {
	e, fs, st := fileEnv(t, "")
	e.seed("s", 10*time.Minute, time.Hour)
	err := refreshWithStoreDown(e, fs, "s")
	var re *auth.RescuedError
	if !errors.As(err, &re) || !errors.Is(err, auth.ErrStoreUnavailable) {
		t.Fatalf("Refresh with a store that never recovers: %v, want a RescuedError", err)
	}
	want := filepath.Join(st.ConfigDir(), "rescue", "s.json")
	if re.Where != want || !strings.Contains(err.Error(), want) {
		t.Fatalf("kept in %q (%v), want %q", re.Where, err, want)
	}
	if fi, err := os.Stat(want); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("rescue file: %v %v, want mode 0600", fi, err)
	}
	if e.audit.Count("s", auth.EventRescued) != 1 {
		t.Fatalf("audit %v: want one rescued event", e.audit.Kinds("s"))
	}
	if s := e.get("s"); !s.RefreshingSince.IsZero() {
		t.Fatal("the refreshing marker was left: the next run would blame a lost rotation")
	}

	// The process exits; the next one (another keeper, the store working)
	// saves the kept pair under the lock instead of sending the dead token.
	fs.mu.Lock()
	fs.failPuts = 0
	fs.mu.Unlock()
	next := auth.NewKeeper(auth.KeeperConfig{Store: st, Client: auth.NewClient(&http.Client{Transport: e.tap}, e.clock),
		Clock: e.clock, Audit: e.audit, Rescue: st, PID: 777})
	sec, s, err := next.Token(context.Background(), "s", 5*time.Minute)
	if err != nil {
		t.Fatalf("Token in the next process: %v", err)
	}
	if !e.emu.Valid(sec.RefreshToken, emulator.KindRefresh) || s.State != auth.StateOK {
		t.Fatalf("adopted pair not live (state %s)", s.State)
	}
	if st := e.emu.Stats(); st.Refreshes != 1 || st.RefreshRejections != 0 {
		t.Fatalf("stats %+v: the dead refresh token was sent", st)
	}
	if _, err := os.Stat(want); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the rescue file is still there after adoption: %v", err)
	}
}

// When the config dir's disk is what fails, the pair goes to the runtime
// dir instead.
func TestRescueFallsBackToTheRuntimeDir(t *testing.T) {
	rt := t.TempDir()
	e, fs, st := fileEnv(t, rt)
	e.seed("s", 10*time.Minute, time.Hour)
	// The config dir refuses new files, as a full disk would.
	if err := os.Chmod(st.ConfigDir(), 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(st.ConfigDir(), 0o700) })
	if f, err := os.CreateTemp(st.ConfigDir(), "probe"); err == nil {
		f.Close()
		t.Skip("running as a user whom directory permissions do not stop (root)")
	}
	fs.mu.Lock()
	fs.failPuts = 1000
	fs.mu.Unlock()
	done := make(chan struct{})
	e.advanceWhileBlocked(time.Second, done)
	_, err := e.k.Refresh(context.Background(), "s")
	close(done)
	var re *auth.RescuedError
	if !errors.As(err, &re) || !strings.HasPrefix(re.Where, filepath.Join(rt, "tokentop")) {
		t.Fatalf("Refresh = %v, want the pair kept under %s", err, rt)
	}
	p, where, ok, err := st.Rescued(context.Background(), "s")
	if err != nil || !ok || where != re.Where || p.Secrets.RefreshToken == "" {
		t.Fatalf("Rescued = %v %q %v", ok, where, err)
	}
}

// unusableSecrets answers Secrets as storage does for an item holding {}
// or garbage.
type unusableSecrets struct{ auth.SessionStore }

func (unusableSecrets) Secrets(_ context.Context, name string) (auth.Secrets, error) {
	return auth.Secrets{}, errors.Join(errors.New("stored secrets for session "+name+" lack the access or refresh token"), auth.ErrSecretUnusable)
}

// A secret storage item that holds no usable pair ({} or garbage) is a
// session that needs a new login, said once, not a refresh retried forever.
func TestUnusableSecretNeedsLogin(t *testing.T) {
	e := newEnv(t, envOpt{keeper: func(c *auth.KeeperConfig) { c.Store = unusableSecrets{c.Store} }})
	e.seed("s", 10*time.Minute, time.Hour)
	e.seed("due", 20*time.Second, time.Hour)
	for _, name := range []string{"s", "due"} {
		_, _, err := e.k.Token(context.Background(), name, 0)
		nl := e.needsLogin(err, name, auth.ReasonSecretUnusable)
		if !strings.Contains(nl.Message, "no usable token pair") {
			t.Fatalf("%s: message %q", name, nl.Message)
		}
		if st := e.emu.Stats(); st.Refreshes != 0 {
			t.Fatalf("%s: stats %+v: an empty token was sent", name, st)
		}
		// Said once: the next call reads needs_login from metadata.
		if _, _, err := e.k.Token(context.Background(), name, 0); !errors.Is(err, auth.ErrNeedsLogin) {
			t.Fatalf("%s: second Token = %v", name, err)
		}
	}
}

// The keeper's own loop stops the same way: a stop between the lock and the
// send sends nothing (it used to go on and send, detached from the stop).
func TestRunStoppedBeforeSendingSendsNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := newEnv(t, envOpt{keeper: func(c *auth.KeeperConfig) {
		c.Store = &cancelOnMark{SessionStore: c.Store, cancel: cancel}
	}})
	before := e.seed("s", 100*time.Second, time.Hour) // window 30 s
	e.loop = &loopState{}
	e.loop.changed = sync.NewCond(&e.loop.mu)
	auth.SetIdleHook(e.k, e.loop.idle)
	done := make(chan error, 1)
	go func() { done <- e.k.Run(ctx) }()
	e.loop.waitFor(t, "its first wait", func(time.Time, int) bool { return true })
	e.clock.Advance(70 * time.Second) // into the window: the refresh starts
	select {
	case <-done:
	case <-time.After(20 * time.Second): // a hang guard, not a timing assertion
		t.Fatal("Run did not stop")
	}
	if st := e.emu.Stats(); st.Refreshes != 0 {
		t.Fatalf("stats %+v: a refresh was sent after the stop", st)
	}
	s := e.get("s")
	if !s.RefreshingSince.IsZero() || s.RefreshFP != before.RefreshFP {
		t.Fatalf("after the stop: marker %v refresh %s; want the session as it was", s.RefreshingSince, s.RefreshFP)
	}
}

// revoke and forget in the next process act on a pair kept aside, not on
// the stale stored one: revoke revokes the live pair at the server, forget
// drops the file holding it.
func TestRevokeAndForgetSettleTheKeptAsidePair(t *testing.T) {
	for _, op := range []string{"revoke", "forget"} {
		t.Run(op, func(t *testing.T) {
			e, fs, st := fileEnv(t, "")
			e.seed("s", 10*time.Minute, time.Hour)
			err := refreshWithStoreDown(e, fs, "s")
			var re *auth.RescuedError
			if !errors.As(err, &re) {
				t.Fatalf("Refresh: %v, want the pair kept aside", err)
			}
			kept := e.secrets("s") // the store still holds the old pair...
			fs.mu.Lock()
			fs.failPuts = 0
			fs.mu.Unlock()
			next := auth.NewKeeper(auth.KeeperConfig{Store: st, Client: auth.NewClient(&http.Client{Transport: e.tap}, e.clock),
				Clock: e.clock, Audit: e.audit, Rescue: st, PID: 777})
			switch op {
			case "revoke":
				rep, err := next.Revoke(context.Background(), "s")
				if err != nil || !rep.Forgotten {
					t.Fatalf("Revoke: %+v, %v", rep, err)
				}
				if rep.Refresh.Fingerprint == auth.Fingerprint(kept.RefreshToken) {
					t.Fatal("revoked the stale stored refresh token, not the kept-aside live one")
				}
				if st := e.emu.Stats(); st.Revocations != 2 {
					t.Fatalf("stats %+v", st)
				}
			case "forget":
				if err := next.Forget(context.Background(), "s"); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := os.Stat(re.Where); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("%s left the rescue file with live tokens: %v", op, err)
			}
		})
	}
}
