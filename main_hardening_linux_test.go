//go:build linux

package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tokentop/tokentop/internal/hardening"
)

// coreLimitOf reads the soft "Max core file size" of a running process.
func coreLimitOf(t *testing.T, pid int) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "Max core file size"); ok {
			return strings.Fields(rest)[0]
		}
	}
	t.Fatalf("no core limit in /proc/%d/limits:\n%s", pid, data)
	return ""
}

// A running tokentop has core dumps off, unless TOKENTOP_DEBUG_CORE=1.
func TestBinaryDisablesCoreDumps(t *testing.T) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &rl); err != nil {
		t.Fatal(err)
	}
	if rl.Max == 0 {
		t.Skip("the hard core limit is 0 here: nothing to lower")
	}
	old := rl
	rl.Cur = rl.Max // so that a child showing 0 proves tokentop lowered it
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &rl); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Setrlimit(unix.RLIMIT_CORE, &old) })

	t.Setenv(hardening.DebugCoreEnv, "")
	if got := coreLimitOf(t, startEmulatorProcess(t, "--addr", "127.0.0.1:0").cmd.Process.Pid); got != "0" {
		t.Errorf("tokentop's soft core limit is %s, want 0", got)
	}
	t.Setenv(hardening.DebugCoreEnv, "1")
	if got := coreLimitOf(t, startEmulatorProcess(t, "--addr", "127.0.0.1:0").cmd.Process.Pid); got == "0" {
		t.Errorf("with %s=1 tokentop's soft core limit is 0, want it left alone", hardening.DebugCoreEnv)
	}
}
