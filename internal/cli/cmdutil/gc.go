package cmdutil

import (
	"runtime/debug"
)

// holdAllMemoryLimit caps the heap of a command that stopped collecting
// (HoldAllGC): past it the collector runs again, as usual.
const holdAllMemoryLimit = 512 << 20

// HoldAllGC is Factory.HoldAll for the tokentop process. A command that
// reads every session and exits builds one heap that only grows: at 10,000
// sessions, collecting it as it grew was a third of `tokentop list`'s time
// (bench/scale/run.sh). So collection waits for a memory limit instead of
// the heap's growth (the runtime's GOGC=off with GOMEMLIMIT). A user who
// set GOGC or GOMEMLIMIT keeps their setting.
func HoldAllGC(getenv func(string) string) func() {
	return func() {
		if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
			return
		}
		debug.SetMemoryLimit(holdAllMemoryLimit)
		debug.SetGCPercent(-1)
	}
}
