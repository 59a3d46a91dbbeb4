package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokentop/tokentop/auth/emulator"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
)

// runIn runs one command line with the environment given as KEY=VALUE
// pairs (TOKENTOP_CONFIG_DIR and TOKENTOP_STORAGE among them), and returns
// exit code and stderr.
func runIn(t *testing.T, env []string, stdin string, args ...string) (int, string) {
	t.Helper()
	c := &cli{t: t, env: env}
	r := c.run(stdin, args...)
	return r.code, r.stderr
}

const fileWarning = "not the OS keyring"

// --storage file on the command line warns once per command on stderr;
// TOKENTOP_STORAGE=file in the environment is a standing, knowing choice
// and does not.
func TestFileStorageWarning(t *testing.T) {
	t.Parallel()
	em, url := startEmulator(t, emulator.Config{})
	body, err := em.Issue(emulator.DefaultUser().Email, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	env := []string{"TOKENTOP_CONFIG_DIR=" + dir, "TOKENTOP_STORAGE="}
	secrets := filepath.Join(dir, "secrets")
	for _, args := range [][]string{
		{"--storage", "file", "import", "w", "--oauth-url", url, "--api-url", url + "/v3"},
		{"--storage", "file", "list"},
		{"--storage", "file", "token", "w"},
	} {
		code, stderr := runIn(t, env, string(body), args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, stderr)
		}
		if n := strings.Count(stderr, fileWarning); n != 1 || !strings.Contains(stderr, secrets) || !strings.Contains(stderr, "TOKENTOP_STORAGE=file") {
			t.Errorf("%v: stderr has the file-storage warning %d times, want once naming %s and how to silence it:\n%s", args, n, secrets, stderr)
		}
	}
	// Commands that never open the store say nothing.
	if code, stderr := runIn(t, env, "", "--storage", "file", "completion", "bash"); code != 0 || strings.Contains(stderr, fileWarning) {
		t.Errorf("completion: exit %d, stderr %q", code, stderr)
	}
	env = append(env, "TOKENTOP_STORAGE=file")
	for _, args := range [][]string{{"list"}, {"--storage", "file", "list"}} {
		if code, stderr := runIn(t, env, "", args...); code != 0 || stderr != "" {
			t.Errorf("%v with TOKENTOP_STORAGE=file: exit %d, stderr %q, want silence", args, code, stderr)
		}
	}
}

// The trust rule reaches the command line: a world-writable config dir is
// refused with exit 4 and the fix, a 0755 one is tightened with a warning.
func TestConfigDirTrustOnCommandLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := []string{"TOKENTOP_CONFIG_DIR=" + dir, "TOKENTOP_STORAGE=file"}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	code, stderr := runIn(t, env, "", "list")
	if code != cmdutil.ExitStorage || !strings.Contains(stderr, dir) || !strings.Contains(stderr, "chmod 700 "+dir) {
		t.Errorf("list in a 0777 dir: exit %d, want %d naming the dir and chmod 700:\n%s", code, cmdutil.ExitStorage, stderr)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	code, stderr = runIn(t, env, "", "list")
	if code != 0 || !strings.Contains(stderr, "warning: "+dir+" had mode 0755") {
		t.Errorf("list in a 0755 dir: exit %d, want 0 and a warning naming the dir:\n%s", code, stderr)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("dir after list: %v, %v; want mode 0700", fi.Mode(), err)
	}
}
