package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/tokentop/tokentop/auth/emulator"
)

// TestRootUsageErrors runs the command line in-process: mistakes in it are
// usage errors (exit 2) that say what was wrong and what to do.
func TestRootUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"tokn", "prod"}, `unknown command "tokn"; did you mean "token"?`},
		{[]string{"frobnicate"}, `unknown command "frobnicate" (see tokentop --help)`},
		{[]string{"token"}, "tokentop token needs a session NAME"},
		{[]string{"token", "a", "b"}, "tokentop token takes a session NAME, got 2 arguments"},
		{[]string{"list", "--no-such-flag"}, "unknown flag: --no-such-flag"},
		{[]string{"--storage", "vault", "list"}, `--storage "vault": choose keyring, file or memory`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			t.Setenv("TOKENTOP_CONFIG_DIR", t.TempDir())
			code := run(context.Background(), tc.args, strings.NewReader(""), &out, &errb)
			if code != exitUsage {
				t.Errorf("exit %d, want %d\n%s", code, exitUsage, errb.String())
			}
			if !strings.Contains(errb.String(), tc.want) {
				t.Errorf("stderr %q lacks %q", errb.String(), tc.want)
			}
			if out.Len() != 0 {
				t.Errorf("a usage error printed to stdout: %q", out.String())
			}
		})
	}
}

// TestMemoryStorageWritesNothing: --storage memory keeps nothing after the
// command, not even metadata that would outlive its secrets.
func TestMemoryStorageWritesNothing(t *testing.T) {
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
