package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/tokentop/tokentop/auth/emulator"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
)

// needKeyring skips unless the tests may use a (throwaway) keyring.
func needKeyring(t *testing.T) {
	t.Helper()
	if os.Getenv("TOKENTOP_TEST_KEYRING") != "1" {
		t.Skip("needs a Secret Service: run with TOKENTOP_TEST_KEYRING=1 under .ci/with-keyring")
	}
}

// loginAs logs c in as session name for user u.
func loginAs(t *testing.T, c *cli, url, name string, u emulator.User) result {
	t.Helper()
	return c.run(u.Password+"\n", append([]string{"login", name, "--email", u.Email, "--password-stdin"}, endpointArgs(url)...)...)
}

// With no Secret Service, login and import fail before anything is sent
// or read: the server never mints a pair that nobody could keep.
func TestStoreLoginWithoutKeyringSendsNothing(t *testing.T) {
	t.Parallel()
	em, url := startEmulator(t, emulator.Config{LoginRate: -1})
	c := &cli{t: t, configDir: privateDir(t), storage: "keyring", env: []string{"DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent"}, process: true}
	r := loginAs(t, c, url, "w", emulator.DefaultUser())
	wantResult(t, r, cmdutil.ExitStorage, nil, []string{"nothing was sent", "no Secret Service"})
	errorLine(t, r)
	if st := em.Stats(); st.Logins != 0 || st.ActiveSessions != 0 {
		t.Fatalf("the login reached the server: %+v", st)
	}
	body, err := em.Issue(emulator.DefaultUser().Email, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	r = c.run(string(body), append([]string{"import", "w"}, endpointArgs(url)...)...)
	wantResult(t, r, cmdutil.ExitStorage, nil, []string{"nothing was read or saved", "no Secret Service"})
	if r := c.run("", "list", "--json"); !strings.Contains(r.stdout, `"sessions": []`) {
		t.Errorf("a failed login or import left a session:\n%s", r.stdout)
	}
}

// listedBackend is what list --json says about one session.
type listedBackend struct {
	Name           string `json:"name"`
	Email          string `json:"email"`
	SecretsBackend string `json:"secrets_backend"`
}

func listBackends(t *testing.T, c *cli) map[string]listedBackend {
	t.Helper()
	r := c.run("", "list", "--json")
	if r.code != 0 {
		t.Fatalf("list: exit %d\n%s", r.code, r.stderr)
	}
	var doc struct {
		Sessions []listedBackend `json:"sessions"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]listedBackend{}
	for _, s := range doc.Sessions {
		out[s.Name] = s
	}
	return out
}

// The issue's case for config dirs: A and B each log in a session "prod"
// (ana in A, bob in B) with the one keyring; each keeps its own pair.
func TestStoreConfigDirsShareNoKeyringItem(t *testing.T) {
	needKeyring(t)
	t.Parallel()
	ana := emulator.DefaultUser()
	bob := emulator.User{Email: "bob@example.com", Password: "bob-password", UserID: 777, RoleID: 2, OrgUnitID: 2002}
	em, url := startEmulator(t, emulator.Config{LoginRate: -1, Users: []emulator.User{ana, bob}})
	a, b := newCLI(t, "keyring"), newCLI(t, "keyring")
	name := uniqueName(t, a, "prod")
	wantResult(t, loginAs(t, a, url, name, ana), cmdutil.ExitOK, nil, nil)
	wantResult(t, loginAs(t, b, url, name, bob), cmdutil.ExitOK, nil, nil)
	ta, tb := a.run("", "token", name), b.run("", "token", name)
	wantResult(t, ta, cmdutil.ExitOK, nil, nil)
	wantResult(t, tb, cmdutil.ExitOK, nil, nil)
	if ta.stdout == tb.stdout {
		t.Fatal("A and B hand out the same token for prod")
	}
	if strings.Contains(ta.stderr, "behind") {
		t.Errorf("A recovered from a pair it does not own:\n%s", ta.stderr)
	}
	if got := listBackends(t, a)[name].Email; got != ana.Email {
		t.Errorf("A lists prod as %q, want ana's", got)
	}
	if st := em.Stats(); st.Refreshes != 0 {
		t.Errorf("stats %+v: nothing needed a refresh", st)
	}
	// Forgetting B's prod leaves A's.
	wantResult(t, b.run("", "forget", name), cmdutil.ExitOK, nil, nil)
	if again := a.run("", "token", name); again.code != 0 || again.stdout != ta.stdout {
		t.Fatalf("A's prod after B forgot its own: exit %d\n%s", again.code, again.stderr)
	}
	a.run("", "forget", name)
}

// The issue's case for backends: in one config dir, s1 is logged in with
// the keyring; --storage file finds the same pair, refuses to log in over
// it (before sending anything), and puts new sessions in the file.
func TestStoreSessionKeepsItsBackend(t *testing.T) {
	needKeyring(t)
	t.Parallel()
	em, url := startEmulator(t, emulator.Config{LoginRate: -1})
	k := newCLI(t, "keyring")
	f := &cli{t: t, configDir: k.configDir, storage: "file"}
	s1 := uniqueName(t, k, "s1")
	wantResult(t, loginAs(t, k, url, s1, emulator.DefaultUser()), cmdutil.ExitOK, nil, nil)
	t.Cleanup(func() { k.run("", "forget", s1) })

	r := loginAs(t, f, url, s1, emulator.DefaultUser())
	wantResult(t, r, cmdutil.ExitStorage, nil, []string{"keyring backend", "--storage keyring", "nothing was sent"})
	if st := em.Stats(); st.Logins != 1 {
		t.Fatalf("the refused login reached the server: %+v", st)
	}
	tk, tf := k.run("", "token", s1), f.run("", "token", s1)
	wantResult(t, tk, cmdutil.ExitOK, nil, nil)
	if tf.code != 0 || tf.stdout != tk.stdout {
		t.Fatalf("--storage file token s1 = exit %d %q, want the keyring's token\n%s", tf.code, tf.stdout, tf.stderr)
	}

	s2 := uniqueName(t, f, "s2")
	wantResult(t, loginAs(t, f, url, s2, emulator.DefaultUser()), cmdutil.ExitOK, nil, nil)
	if r := k.run("", "token", s2); r.code != 0 {
		t.Fatalf("token s2 through the keyring: exit %d\n%s", r.code, r.stderr)
	}
	got := listBackends(t, k)
	if got[s1].SecretsBackend != "keyring" || got[s2].SecretsBackend != "file" {
		t.Fatalf("list --json backends: %+v", got)
	}
	table := k.run("", "list")
	if !strings.Contains(table.stdout, "STORAGE") {
		t.Errorf("list shows no STORAGE column for mixed backends:\n%s", table.stdout)
	}
	// inspect and forget name the backend the session is in.
	wantResult(t, f.run("", "inspect", s1), cmdutil.ExitOK, []string{"(storage: keyring)"}, nil)
	// Once s1 is forgotten, --storage file may log it in afresh.
	wantResult(t, f.run("", "forget", s1), cmdutil.ExitOK, nil, []string{"(keyring storage)"})
	wantResult(t, loginAs(t, f, url, s1, emulator.DefaultUser()), cmdutil.ExitOK, nil, nil)
	if got := listBackends(t, k)[s1].SecretsBackend; got != "file" {
		t.Fatalf("s1 after forget and a file login is in %q", got)
	}
}
