package storage

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
)

// Tests that need another process re-execute the test binary with
// childEnv naming the role; TestMain runs the role instead of the tests.
const (
	childEnv     = "TOKENTOP_STORAGE_TEST_CHILD"
	childDirEnv  = "TOKENTOP_STORAGE_TEST_DIR"
	childNameEnv = "TOKENTOP_STORAGE_TEST_NAME"
)

func TestMain(m *testing.M) {
	if role := os.Getenv(childEnv); role != "" {
		os.Exit(runChild(role))
	}
	os.Exit(m.Run())
}

// runChild plays one role and reports progress as lines on stdout.
func runChild(role string) int {
	dir, name := os.Getenv(childDirEnv), os.Getenv(childNameEnv)
	ctx := context.Background()
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	switch role {
	case "hold-lock":
		s, err := Open(Options{ConfigDir: dir, Backend: BackendMemory})
		if err != nil {
			return fail(err)
		}
		if _, err := s.Lock(ctx, name); err != nil {
			return fail(err)
		}
		fmt.Println("locked")
		select {} // hold until killed
	case "save-loop":
		s, err := Open(Options{ConfigDir: dir, Backend: BackendMemory})
		if err != nil {
			return fail(err)
		}
		for i := 0; ; i++ {
			se := testSession(fmt.Sprintf("loop-%03d", i%100), testSecrets("loop", i), testNow)
			se.Refreshes = i
			if err := s.PutMeta(ctx, se); err != nil {
				return fail(err)
			}
			fmt.Println("saved", i)
		}
	case "audit-append":
		s, err := Open(Options{ConfigDir: dir, Backend: BackendMemory})
		if err != nil {
			return fail(err)
		}
		for i := 0; i < 200; i++ {
			if err := s.Record(auth.Event{Session: name, Kind: auth.EventRefreshed, Status: i, PID: os.Getpid(),
				Message: strings.Repeat("m", 300)}); err != nil {
				return fail(err)
			}
		}
		fmt.Println("done")
		return 0
	case "keyring-get":
		// One keyring call in a process whose D-Bus session address the
		// parent chose; reports the error kind and how long it took.
		s, err := Open(Options{ConfigDir: dir, Backend: BackendKeyring, KeyringTimeout: 700 * time.Millisecond})
		if err != nil {
			return fail(err)
		}
		start := time.Now()
		_, err = s.Secrets(ctx, name)
		out, _ := json.Marshal(childKeyringResult{
			Err:          fmt.Sprint(err),
			Unavailable:  errors.Is(err, ErrKeyringUnavailable),
			Timeout:      errors.Is(err, ErrKeyringTimeout),
			StoreUnavail: errors.Is(err, auth.ErrStoreUnavailable),
			Elapsed:      time.Since(start),
		})
		fmt.Println(string(out))
		return 0
	}
	return fail(fmt.Errorf("unknown role %q", role))
}

type childKeyringResult struct {
	Err          string
	Unavailable  bool
	Timeout      bool
	StoreUnavail bool
	Elapsed      time.Duration
}

// child is a running re-executed test binary.
type child struct {
	cmd    *exec.Cmd
	out    *bufio.Scanner
	stderr *bytes.Buffer
}

// startChild runs role in a child process with extra environment.
func startChild(t *testing.T, role, dir, name string, env ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+role, childDirEnv+"="+dir, childNameEnv+"="+name)
	cmd.Env = append(cmd.Env, env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, out: bufio.NewScanner(stdout), stderr: &bytes.Buffer{}}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child %s: %v", role, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return c
}

// line reads the child's next stdout line.
func (c *child) line(t *testing.T) string {
	t.Helper()
	if !c.out.Scan() {
		_ = c.cmd.Wait()
		t.Fatalf("child ended early: %v; stderr: %s", c.out.Err(), c.stderr)
	}
	return c.out.Text()
}

// kill ends the child with SIGKILL, as a crash would.
func (c *child) kill() {
	_ = c.cmd.Process.Kill()
	_ = c.cmd.Wait()
}
