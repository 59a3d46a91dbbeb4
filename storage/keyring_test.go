package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dbus "github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"

	"github.com/tokentop/tokentop/auth"
)

// requireKeyring skips (or, with TOKENTOP_TEST_KEYRING=1, fails) when no
// Secret Service answers. Run under .ci/with-keyring for a private one.
func requireKeyring(t testing.TB) {
	t.Helper()
	k := newKeyringSecrets(keyringService, 3*time.Second, testStoreID)
	_, err := k.get(context.Background(), "tokentop-test-probe-absent")
	if err == nil || errors.Is(err, auth.ErrSecretNotFound) {
		return
	}
	if os.Getenv("TOKENTOP_TEST_KEYRING") == "1" {
		t.Fatalf("TOKENTOP_TEST_KEYRING=1 but no usable Secret Service: %v", err)
	}
	t.Skipf("no usable Secret Service (%v); run under .ci/with-keyring, and set TOKENTOP_TEST_KEYRING=1 to make this a failure", err)
}

// Without any session bus the backend says so instead of letting godbus
// autolaunch a stray dbus-daemon. Runs in a child with no bus address.
func TestKeyringUnavailableNoBusAddress(t *testing.T) {
	if _, err := os.Stat(fmt.Sprintf("/run/user/%d/bus", os.Getuid())); err == nil {
		t.Skip("this machine has a /run/user/UID/bus socket, which godbus finds without an address")
	}
	r := runKeyringChild(t, t.TempDir(), "")
	if !r.Unavailable || !strings.Contains(r.Err, "DBUS_SESSION_BUS_ADDRESS is not set") {
		t.Fatalf("keyring call without a bus address = %+v, want ErrKeyringUnavailable explaining why", r)
	}
}

// testStoreID is the store identity of keyring backends built by hand.
func testStoreID() (string, error) { return "0123456789abcdef0123456789abcdef", nil }

// keyringPrefix keeps test items apart from real sessions and other runs.
func keyringPrefix() string { return fmt.Sprintf("tt-test-%d-", os.Getpid()) }

func openKeyring(t testing.TB) (*Store, string) {
	t.Helper()
	requireKeyring(t)
	dir := t.TempDir()
	s, err := Open(Options{ConfigDir: dir, Backend: BackendKeyring})
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

func TestKeyringBehaviours(t *testing.T) {
	s, _ := openKeyring(t)
	storeBehaviours(t, s, keyringPrefix())
}

// The item as another Secret Service client sees it: service "tokentop",
// username = the store's identity, "/" and the session name, secret = the
// JSON of the pair (and its owner, which auth.Secrets does not decode).
func TestKeyringItemSeenBySecretTool(t *testing.T) {
	s, _ := openKeyring(t)
	tool, err := exec.LookPath("secret-tool")
	if err != nil {
		if os.Getenv("TOKENTOP_TEST_KEYRING") == "1" {
			t.Fatalf("secret-tool not found (install libsecret-tools): %v", err)
		}
		t.Skip("secret-tool not found (install libsecret-tools)")
	}
	ctx := context.Background()
	name := keyringPrefix() + "seen"
	sec := testSecrets(name, 1)
	if err := s.Put(ctx, testSession(name, sec, testNow), sec); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Delete(ctx, name) })
	id, err := s.identity()
	if err != nil {
		t.Fatal(err)
	}
	account := id + "/" + name
	out, err := exec.Command(tool, "lookup", "service", "tokentop", "username", account).Output()
	if err != nil {
		t.Fatalf("secret-tool lookup: %v", err)
	}
	var got auth.Secrets
	if err := json.Unmarshal(out, &got); err != nil || got != sec {
		t.Fatalf("secret-tool sees %d bytes that decode to %v (%v), want %v", len(out), got, err, sec)
	}
	if err := s.Delete(ctx, name); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(tool, "lookup", "service", "tokentop", "username", account).Output(); err == nil && len(out) > 0 {
		t.Fatalf("secret-tool still finds the item after Delete (%d bytes)", len(out))
	}
}

// With the keyring backend no token value lands in any file of the config dir.
func TestKeyringNoTokenInConfigDir(t *testing.T) {
	s, dir := openKeyring(t)
	testNoTokenInDir(t, s, dir, keyringPrefix())
}

// No D-Bus session bus at the address: a typed "unavailable" error (which
// the command line maps to exit 4) with what to do, well before a hang.
// Runs in a child process because godbus keeps one session bus per process.
func TestKeyringUnavailableNoDBus(t *testing.T) {
	dir := t.TempDir()
	r := runKeyringChild(t, dir, "unix:path="+filepath.Join(dir, "no-such-bus"))
	if !r.Unavailable || !r.StoreUnavail || r.Timeout {
		t.Fatalf("keyring call without a bus = %+v, want ErrKeyringUnavailable matching auth.ErrStoreUnavailable", r)
	}
	if !strings.Contains(r.Err, "start a Secret Service") || !strings.Contains(r.Err, "--storage file") {
		t.Fatalf("error does not say what to do: %s", r.Err)
	}
}

// A bus that accepts the connection and never answers (a wedged D-Bus or a
// keyring waiting on a prompt): the call gives up at the timeout with a
// typed error instead of hanging.
func TestKeyringTimeoutWhenDBusHangs(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "bus")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	r := runKeyringChild(t, dir, "unix:path="+sock)
	if !r.Timeout || !r.StoreUnavail {
		t.Fatalf("keyring call to a silent bus = %+v, want ErrKeyringTimeout matching auth.ErrStoreUnavailable", r)
	}
	if !strings.Contains(r.Err, "unlock your keyring") {
		t.Fatalf("error does not say what to do: %s", r.Err)
	}
}

// runKeyringChild runs one keyring Get in a child process on the given bus
// address. The child's call has a 700 ms timeout; the parent allows far
// more, so only a hang past the timeout fails here.
func runKeyringChild(t *testing.T, dir, busAddr string) childKeyringResult {
	t.Helper()
	c := startChild(t, "keyring-get", dir, "probe",
		"DBUS_SESSION_BUS_ADDRESS="+busAddr, "XDG_RUNTIME_DIR="+dir, "DISPLAY=")
	line := make(chan string, 1)
	go func() {
		if c.out.Scan() {
			line <- c.out.Text()
		}
		close(line)
	}()
	var l string
	select {
	case l = <-line:
	case <-time.After(60 * time.Second):
		t.Fatalf("keyring call hung (stderr %s)", c.stderr)
	}
	var r childKeyringResult
	if err := json.Unmarshal([]byte(l), &r); err != nil {
		t.Fatalf("child said %q (stderr %s)", l, c.stderr)
	}
	t.Logf("child: %+v", r)
	return r
}

// fakeKeyring fails or blocks as told, to test the mapping without D-Bus.
type fakeKeyring struct {
	err   error
	block chan struct{}
}

func (f fakeKeyring) wait() error {
	if f.block != nil {
		<-f.block
	}
	return f.err
}
func (f fakeKeyring) Get(string, string) (string, error) { return "", f.wait() }
func (f fakeKeyring) Set(string, string, string) error   { return f.wait() }
func (f fakeKeyring) Delete(string, string) error        { return f.wait() }

func TestKeyringErrorKinds(t *testing.T) {
	for _, c := range []struct {
		desc     string
		err      error
		kind     error
		unavail  bool
		hintPart string
	}{
		{"not found", keyring.ErrNotFound, auth.ErrSecretNotFound, false, "log in again or import"},
		{"too big", keyring.ErrSetDataTooBig, ErrSecretTooLarge, false, "larger than"},
		{"locked", dbus.Error{Name: "org.freedesktop.Secret.Error.IsLocked"}, ErrKeyringLocked, true, "unlock your keyring"},
		{"prompt dismissed", errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"), ErrKeyringLocked, true, "unlock your keyring"},
		{"no service", &dbus.Error{Name: "org.freedesktop.DBus.Error.ServiceUnknown", Body: []any{"The name org.freedesktop.secrets was not provided by any .service files"}}, ErrKeyringUnavailable, true, "start a Secret Service"},
		{"no bus", fmt.Errorf("dial unix /run/user/1/bus: connect: no such file or directory"), ErrKeyringUnavailable, true, "--storage file"},
		{"no reply", dbus.Error{Name: "org.freedesktop.DBus.Error.NoReply"}, ErrKeyringTimeout, true, "unlock your keyring"},
	} {
		t.Run(c.desc, func(t *testing.T) {
			k := &keyringSecrets{service: "svc", timeout: time.Second, kr: fakeKeyring{err: c.err}, storeID: testStoreID}
			_, err := k.get(context.Background(), "sess")
			var ke *KeyringError
			if !errors.As(err, &ke) || !errors.Is(err, c.kind) {
				t.Fatalf("get = %v, want a *KeyringError of kind %v", err, c.kind)
			}
			if errors.Is(err, auth.ErrStoreUnavailable) != c.unavail {
				t.Fatalf("errors.Is(%v, ErrStoreUnavailable) = %v, want %v", err, !c.unavail, c.unavail)
			}
			var de dbus.Error
			var dep *dbus.Error
			if !errors.Is(err, c.err) && !errors.As(err, &de) && !errors.As(err, &dep) {
				t.Fatalf("cause %v not reachable from %v", c.err, err)
			}
			if !strings.Contains(err.Error(), c.hintPart) || !strings.Contains(err.Error(), `"sess"`) {
				t.Fatalf("message %q lacks %q or the session name", err, c.hintPart)
			}
		})
	}
}

// A call that never returns (an unlock prompt nobody answers) is abandoned
// at the timeout, and a cancelled context ends it sooner.
func TestKeyringHungCallTimesOut(t *testing.T) {
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	k := &keyringSecrets{service: "svc", timeout: 100 * time.Millisecond, kr: fakeKeyring{block: block}, storeID: testStoreID}
	ctx := context.Background()
	for op, call := range map[string]func() error{
		"get":    func() error { _, err := k.get(ctx, "s"); return err },
		"set":    func() error { return k.set(ctx, "s", testSecrets("s", 1)) },
		"delete": func() error { return k.delete(ctx, "s") },
	} {
		err := call()
		if !errors.Is(err, ErrKeyringTimeout) || !errors.Is(err, auth.ErrStoreUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s on a hung keyring = %v, want ErrKeyringTimeout", op, err)
		}
	}
	k.timeout = time.Hour
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := k.get(cctx, "s"); !errors.Is(err, ErrKeyringTimeout) || !errors.Is(err, context.Canceled) {
		t.Fatalf("get with a cancelled context = %v", err)
	}
}

// countingKeyring fails every call and counts them.
type countingKeyring struct {
	mu    sync.Mutex
	calls int
}

func (c *countingKeyring) hit() error {
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
	return errors.New("keyring must not be called")
}
func (c *countingKeyring) Get(string, string) (string, error) { return "", c.hit() }
func (c *countingKeyring) Set(string, string, string) error   { return c.hit() }
func (c *countingKeyring) Delete(string, string) error        { return c.hit() }

// Listing 10,000 sessions, reading one, updating metadata, locking and the
// audit log need no secret: the keyring is never called.
func TestKeyringNotTouchedByMetadata(t *testing.T) {
	s := openDir(t, t.TempDir(), BackendKeyring)
	kr := &countingKeyring{}
	ks := s.secrets.(*keyringSecrets)
	ks.kr, ks.busCheck = kr, nil
	ctx := context.Background()
	seedIndex(t, s, 10000)
	list, err := s.List(ctx)
	if err != nil || len(list) != 10000 {
		t.Fatalf("List = %d sessions, %v", len(list), err)
	}
	se, err := s.Get(ctx, "session-04242")
	if err != nil {
		t.Fatal(err)
	}
	se.State = auth.StatePaused
	if err := s.PutMeta(ctx, se); err != nil {
		t.Fatal(err)
	}
	unlock, err := s.Lock(ctx, "session-04242")
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	if _, err := s.Stamp(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Record(auth.Event{Session: "session-04242", Kind: auth.EventPaused}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Events("session-04242", 10); err != nil {
		t.Fatal(err)
	}
	if kr.calls != 0 {
		t.Fatalf("metadata operations made %d keyring calls", kr.calls)
	}
	// Secrets does call it (and reports the failure as a KeyringError).
	if _, err := s.Secrets(ctx, "session-04242"); !errors.Is(err, ErrKeyringUnavailable) || kr.calls != 1 {
		t.Fatalf("Secrets = %v after %d calls", err, kr.calls)
	}
}

// throwawayKeyringPassword is the password of a keyring this test may lock:
// TOKENTOP_TEST_KEYRING_PASSWORD, or the one .ci/with-keyring unlocks its
// private keyring with (recognised by its temporary HOME). Never a user's.
func throwawayKeyringPassword() string {
	if p := os.Getenv("TOKENTOP_TEST_KEYRING_PASSWORD"); p != "" {
		return p
	}
	if strings.HasPrefix(filepath.Base(os.Getenv("HOME")), "tokentop-home.") {
		return "tokentop-ci\n" // printf 'tokentop-ci\n' | gnome-keyring-daemon --unlock
	}
	return ""
}

// A locked keyring (and no one to answer the unlock prompt): a typed error
// telling the user to unlock it, and a refused Put writes no metadata.
func TestKeyringLocked(t *testing.T) {
	password := throwawayKeyringPassword()
	if password == "" {
		t.Skip("locking the keyring needs a throwaway one: run under .ci/with-keyring or set TOKENTOP_TEST_KEYRING_PASSWORD")
	}
	s, _ := openKeyring(t)
	s.secrets.(*keyringSecrets).timeout = 3 * time.Second
	conn, err := dbus.SessionBus()
	if err != nil {
		t.Fatal(err)
	}
	svc := conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets")
	coll := dbus.ObjectPath("/org/freedesktop/secrets/aliases/default")
	var locked []dbus.ObjectPath
	var prompt dbus.ObjectPath
	if err := svc.Call("org.freedesktop.Secret.Service.Lock", 0, []dbus.ObjectPath{coll}).Store(&locked, &prompt); err != nil {
		t.Fatalf("lock the keyring: %v", err)
	}
	t.Cleanup(func() { unlockThrowawayKeyring(t, conn, password) })

	ctx := context.Background()
	name := keyringPrefix() + "locked"
	checkLocked := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, auth.ErrStoreUnavailable) || !(errors.Is(err, ErrKeyringLocked) || errors.Is(err, ErrKeyringTimeout)) {
			t.Fatalf("%s on a locked keyring = %v, want ErrKeyringLocked (or ErrKeyringTimeout)", op, err)
		}
		if !strings.Contains(err.Error(), "unlock your keyring") {
			t.Fatalf("%s error does not say to unlock: %v", op, err)
		}
	}
	_, err = s.Secrets(ctx, name)
	checkLocked("Secrets", err)
	sec := testSecrets(name, 1)
	checkLocked("Put", s.Put(ctx, testSession(name, sec, testNow), sec))
	if _, err := s.Get(ctx, name); !errors.Is(err, auth.ErrSessionNotFound) {
		t.Fatalf("metadata written although the keyring refused the secrets: %v", err)
	}
}

// unlockThrowawayKeyring unlocks the login collection with its password
// through gnome-keyring's internal interface (no prompt needed).
func unlockThrowawayKeyring(t *testing.T, conn *dbus.Conn, password string) {
	svc := conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets")
	var ignored dbus.Variant
	var session dbus.ObjectPath
	if err := svc.Call("org.freedesktop.Secret.Service.OpenSession", 0, "plain", dbus.MakeVariant("")).Store(&ignored, &session); err != nil {
		t.Fatalf("unlock the keyring again: open session: %v", err)
	}
	secret := struct {
		Session     dbus.ObjectPath
		Parameters  []byte
		Value       []byte
		ContentType string
	}{session, []byte{}, []byte(password), "text/plain"}
	err := svc.Call("org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface.UnlockWithMasterPassword", 0,
		dbus.ObjectPath("/org/freedesktop/secrets/collection/login"), secret).Err
	if err != nil {
		t.Fatalf("unlock the keyring again (later keyring tests will fail): %v", err)
	}
}

// gatedKeyring holds its first Set until gate is closed, as a keyring
// waiting on an unlock prompt would, and stores values per account.
type gatedKeyring struct {
	gate     chan struct{}
	mu       sync.Mutex
	vals     map[string]string
	sets     int
	finished int
}

func (g *gatedKeyring) Get(_, user string) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	v, ok := g.vals[user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (g *gatedKeyring) Set(_, user, pass string) error {
	g.mu.Lock()
	n := g.sets
	g.sets++
	g.mu.Unlock()
	if n == 0 {
		<-g.gate
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.vals[user] = pass
	g.finished++
	return nil
}

func (g *gatedKeyring) Delete(string, string) error { return nil }

func (g *gatedKeyring) state() (map[string]string, int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return maps.Clone(g.vals), g.finished
}

// A save abandoned at its timeout that completes later (the keyring was
// unlocked) must not overwrite a newer pair saved after it: calls for one
// session keep their order, while other sessions are not held up.
func TestKeyringAbandonedSetNeverOverwritesANewerOne(t *testing.T) {
	g := &gatedKeyring{gate: make(chan struct{}), vals: map[string]string{}}
	k := &keyringSecrets{service: "svc", timeout: 5 * time.Second, kr: g, storeID: testStoreID}
	older, newer := testSecrets("s", 1), testSecrets("s", 2)
	bg := context.Background()

	ctx, cancel := context.WithTimeout(bg, 20*time.Millisecond)
	defer cancel()
	if err := k.set(ctx, "s", older); !errors.Is(err, ErrKeyringTimeout) {
		t.Fatalf("set on a keyring waiting for an unlock = %v, want ErrKeyringTimeout", err)
	}
	// Another session is not queued behind the hung one.
	if err := k.set(bg, "other", testSecrets("other", 1)); err != nil {
		t.Fatalf("set of another session while one call hangs: %v", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- k.set(bg, "s", newer) }()
	// Give the newer save a chance to overtake (it would, unordered), then
	// let the abandoned one finish.
	for range 20 {
		if v, _ := g.state(); v["s"] != "" {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(g.gate)
	if err := <-errc; err != nil {
		t.Fatalf("newer set: %v", err)
	}
	for {
		if _, n := g.state(); n == 3 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	got, err := k.get(bg, "s")
	if err != nil {
		t.Fatal(err)
	}
	if got != newer {
		t.Fatalf("keyring holds %v after the abandoned save completed, want the newer %v", got, newer)
	}
	k.mu.Lock()
	left := len(k.tail)
	k.mu.Unlock()
	if left != 0 {
		t.Errorf("%d call queues left after every call ended", left)
	}
}
