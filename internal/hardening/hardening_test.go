//go:build linux

package hardening

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// childEnv makes the re-executed test binary call NoCoreDumps and report.
const childEnv = "TOKENTOP_HARDENING_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		if err := NoCoreDumps(); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		dumpable, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		var rl unix.Rlimit
		if err := unix.Getrlimit(unix.RLIMIT_CORE, &rl); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Printf("dumpable=%d core=%d hard=%d\n", dumpable, rl.Cur, rl.Max)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// child runs NoCoreDumps in a fresh process (it changes the whole process)
// whose soft core limit starts at what the parent has, and returns what it
// saw afterwards.
func child(t *testing.T, debug string) (dumpable int, core, hard uint64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", DebugCoreEnv+"="+debug)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if _, err := fmt.Sscanf(strings.TrimSpace(string(out)), "dumpable=%d core=%d hard=%d", &dumpable, &core, &hard); err != nil {
		t.Fatalf("child said %q: %v", out, err)
	}
	return dumpable, core, hard
}

// raiseCoreLimit makes the parent's soft core limit non-zero, so that a
// child reporting 0 proves NoCoreDumps lowered it.
func raiseCoreLimit(t *testing.T) uint64 {
	t.Helper()
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &rl); err != nil {
		t.Fatal(err)
	}
	if rl.Max == 0 {
		t.Skip("the hard core limit is 0 here: nothing to lower")
	}
	old := rl
	rl.Cur = rl.Max
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &rl); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Setrlimit(unix.RLIMIT_CORE, &old) })
	return rl.Max
}

func TestNoCoreDumps(t *testing.T) {
	limit := raiseCoreLimit(t)
	dumpable, core, hard := child(t, "")
	if dumpable != 0 || core != 0 {
		t.Errorf("after NoCoreDumps: dumpable=%d, soft core limit %d; want 0 and 0", dumpable, core)
	}
	if hard != limit {
		t.Errorf("hard core limit %d, want it left at %d", hard, limit)
	}
}

func TestDebugCoreLeavesDumpsAlone(t *testing.T) {
	limit := raiseCoreLimit(t)
	dumpable, core, _ := child(t, "1")
	if dumpable != 1 || core != limit {
		t.Errorf("with %s=1: dumpable=%d, core limit %d; want 1 and %s", DebugCoreEnv, dumpable, core, strconv.FormatUint(limit, 10))
	}
}
