// Package hardening keeps tokens from leaking out of a crashed tokentop:
// NoCoreDumps stops the kernel from writing a core file (which would hold
// every token the process had in memory) and, on Linux, from letting other
// processes of the same user read its memory through ptrace or /proc.
package hardening

import (
	"fmt"
	"os"
)

// DebugCoreEnv set to "1" leaves core dumps as the environment has them,
// for debugging a crash (the core then holds tokens: treat it as a secret).
const DebugCoreEnv = "TOKENTOP_DEBUG_CORE"

// NoCoreDumps disables core dumps for this process unless DebugCoreEnv is
// "1". It sets the soft RLIMIT_CORE to 0 (children inherit that, and
// `tokentop exec`'s child holds a token in its environment too; the hard
// limit is left, so a child may raise it again) and, on Linux, marks the
// process not dumpable (PR_SET_DUMPABLE 0), which also covers a core_pattern
// pipe that ignores RLIMIT_CORE. An error says what could not be done; the
// caller warns and goes on.
func NoCoreDumps() error {
	if os.Getenv(DebugCoreEnv) == "1" {
		return nil
	}
	if err := noCoreDumps(); err != nil {
		return fmt.Errorf("disable core dumps (a crash could write tokens to disk; set ulimit -c 0): %w", err)
	}
	return nil
}
