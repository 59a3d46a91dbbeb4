package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tokentop/tokentop/auth/emulator"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
)

// TestRootUsageErrors: mistakes in it are
// usage errors (exit 2) that say what was wrong and what to do.
func TestRootUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"tokn", "prod"}, `unknown command "tokn"; did you mean "token"?`},
		{[]string{"frobnicate"}, `unknown command "frobnicate" (see tokentop --help)`},
		{[]string{"token"}, "tokentop token needs a session NAME"},
		{[]string{"token", "a", "b"}, "tokentop token takes a session NAME, got 2 arguments"},
		{[]string{"list", "--no-such-flag"}, "unknown flag: --no-such-flag"},
		{[]string{"--storage", "vault", "list"}, `--storage "vault": choose keyring, file, memory or etcd`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			r := newCLI(t, "").run("", tc.args...)
			if r.code != cmdutil.ExitUsage {
				t.Errorf("exit %d, want %d\n%s", r.code, cmdutil.ExitUsage, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr %q lacks %q", r.stderr, tc.want)
			}
			if r.stdout != "" {
				t.Errorf("a usage error printed to stdout: %q", r.stdout)
			}
		})
	}
}

// TestMemoryStorageWritesNothing: --storage memory keeps nothing after the
// command, not even metadata that would outlive its secrets.
func TestMemoryStorageWritesNothing(t *testing.T) {
	t.Parallel()
	em, url := startEmulator(t, emulator.Config{})
	body, err := em.Issue(emulator.DefaultUser().Email, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	c := newCLI(t, "memory")
	r := c.run(string(body), "import", "mem", "--oauth-url", url, "--api-url", url+"/v3")
	if r.code != 0 {
		t.Fatalf("import: exit %d\n%s", r.code, r.stderr)
	}
	entries, err := os.ReadDir(c.configDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("--storage memory wrote %d entries to the config dir, e.g. %s", len(entries), entries[0].Name())
	}
	if l := c.run("", "list", "--json"); l.code != 0 || strings.Contains(l.stdout, `"mem"`) {
		t.Errorf("a later process still lists the memory session: exit %d\n%s", l.code, l.stdout)
	}
}

// TestPlainHTTPOnlyToLoopbackAddresses: every command that takes a base URL
// refuses plain http to a name that DNS resolves ("localhost." with its
// trailing dot, a name under .localhost, 127.1) with exit 2, before any
// request is sent.
func TestPlainHTTPOnlyToLoopbackAddresses(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	port := srv.URL[strings.LastIndexByte(srv.URL, ':'):]
	for _, host := range []string{"localhost.", "LOCALHOST.", "foo.localhost", "127.1", "127.0.0.1."} {
		base := "http://" + host + port
		for _, tc := range []struct {
			stdin string
			args  []string
		}{
			{"pw", []string{"login", "x", "--email", "a@example.com", "--password-stdin", "--oauth-url", base}},
			{"pw", []string{"login", "x", "--email", "a@example.com", "--password-stdin", "--api-url", base + "/v3"}},
			{`{"access_token":"a","refresh_token":"r","expires_in":60,"refresh_expires_in":120}`, []string{"import", "x", "--oauth-url", base}},
			{"tok", []string{"inspect", "--token", "-", "--probe", "--api-url", base + "/v3"}},
			{"tok", []string{"revoke", "--token", "-", "--type", "access", "--oauth-url", base}},
		} {
			t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
				r := newCLI(t, "file").run(tc.stdin, tc.args...)
				if r.code != cmdutil.ExitUsage {
					t.Errorf("exit %d, want %d\n%s", r.code, cmdutil.ExitUsage, r.stderr)
				}
				if !strings.Contains(r.stderr, "plain http") {
					t.Errorf("stderr does not say why: %q", r.stderr)
				}
			})
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests reached the server", n)
	}
}

// `tokentop --version` and `tokentop version` print the same line on
// stdout, from the module's build info, and touch no storage.
func TestVersion(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "keyring")
	a, b := c.run("", "--version"), c.run("", "version")
	if a.code != 0 || b.code != 0 || !strings.HasPrefix(a.stdout, "tokentop ") || a.stdout != b.stdout || a.stderr+b.stderr != "" {
		t.Fatalf("--version: exit %d %q %q; version: exit %d %q %q", a.code, a.stdout, a.stderr, b.code, b.stdout, b.stderr)
	}
}

// demo and emulator keep no sessions where --storage and --config-dir say:
// their help does not offer them; the commands that do keep them still do.
func TestHelpOffersOnlyFlagsThatApply(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "memory")
	for _, cmd := range []string{"demo", "emulator"} {
		r := c.run("", cmd, "--help")
		if r.code != 0 || strings.Contains(r.stdout, "--storage") || strings.Contains(r.stdout, "--config-dir") {
			t.Errorf("%s --help (exit %d) offers flags it ignores:\n%s", cmd, r.code, r.stdout)
		}
	}
	if r := c.run("", "list", "--help"); !strings.Contains(r.stdout, "--storage") || !strings.Contains(r.stdout, "--config-dir") {
		t.Errorf("list --help lost the global flags:\n%s", r.stdout)
	}
}
