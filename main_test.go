package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth/emulator"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
	"github.com/tokentop/tokentop/internal/cli/iostreams"
	"github.com/tokentop/tokentop/internal/cli/root"
)

// tokentopBin is the binary built once for the tests that need a real
// process: signals, killed and concurrent processes, terminals, tmux.
var tokentopBin string

func TestMain(m *testing.M) {
	// Most of these tests wait (emulator latency, tokens that live seconds,
	// processes being signalled), not compute: run more of them at once
	// than there are CPUs, unless -parallel says otherwise.
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		_ = flag.Set("test.parallel", "32")
	}
	dir, err := os.MkdirTemp("", "tokentop-test-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tokentopBin = filepath.Join(dir, "tokentop")
	args := []string{"build", "-o", tokentopBin}
	if etcdBuild {
		args = append(args, "-tags", "etcd") // the binary under test is built as the tests are
	}
	build := exec.Command("go", append(args, ".")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building tokentop for the tests:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cli runs tokentop command lines against its own config dir and storage
// backend: in this process through the factory (run), or as a process of
// the built binary (command, and run when process is set).
type cli struct {
	t         testing.TB
	configDir string
	storage   string
	// env is more environment, as KEY=VALUE.
	env []string
	// now, when set, is the in-process run's clock.
	now func() time.Time
	// process makes run start the binary: for environment that is read
	// below the factory (DBUS_SESSION_BUS_ADDRESS, read by the keyring
	// library itself).
	process bool
}

// newCLI gives a fresh config dir with the given storage backend ("file",
// "keyring" or "memory").
func newCLI(t testing.TB, storage string) *cli {
	t.Helper()
	return &cli{t: t, configDir: privateDir(t), storage: storage}
}

// privateDir is a fresh directory as tokentop would make it (0700):
// t.TempDir follows the umask, and a 0755 config dir earns a warning that
// tests of what a command prints do not expect.
func privateDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// result is what one run printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

// environ is the environment a run sees: the test process's, then the
// cli's own settings, which win.
func (c *cli) environ() []string {
	return append(os.Environ(), append([]string{
		"TOKENTOP_CONFIG_DIR=" + c.configDir,
		"TOKENTOP_STORAGE=" + c.storage,
		"NO_COLOR=1",
	}, c.env...)...)
}

// getenv looks key up in env, the last setting winning, as a process would.
func getenv(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

// run executes tokentop with args, feeding stdin, and waits up to 60s.
func (c *cli) run(stdin string, args ...string) result {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if c.process {
		return c.runProcess(ctx, stdin, args...)
	}
	ios, in, out, errb := iostreams.Test()
	in.WriteString(stdin)
	env := c.environ()
	ios.Getenv = func(k string) string { return getenv(env, k) }
	f := cmdutil.New(ios, ios.Getenv, func() []string { return env })
	if c.now != nil {
		f.Now = c.now
	}
	code := cmdutil.Run(ctx, f, root.NewCmdRoot(f), args)
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

// runProcess runs the built binary.
func (c *cli) runProcess(ctx context.Context, stdin string, args ...string) result {
	c.t.Helper()
	cmd := c.command(ctx, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("run tokentop %v: %v", args, err)
	}
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

// command prepares (but does not start) a tokentop process.
func (c *cli) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, tokentopBin, args...)
	cmd.Env = c.environ()
	return cmd
}

// startEmulator serves an emulator on loopback for the test's lifetime.
func startEmulator(t testing.TB, cfg emulator.Config) (*emulator.Server, string) {
	t.Helper()
	em := emulator.New(cfg)
	srv := httptest.NewServer(em)
	t.Cleanup(srv.Close)
	return em, srv.URL
}

// backends lists the storage backends to test commands with: always file,
// and keyring with TOKENTOP_TEST_KEYRING=1 (CI sets it inside a private,
// throwaway Secret Service: .ci/with-keyring). Without it the tests never
// write to the keyring of the person running them.
func backends(t testing.TB) []string {
	t.Helper()
	b := []string{"file"}
	if os.Getenv("TOKENTOP_TEST_KEYRING") == "1" {
		b = append(b, "keyring")
	}
	return b
}
