//go:build unix && !linux

package hardening

// noCoreDumps: RLIMIT_CORE is what these systems offer to every process.
func noCoreDumps() error { return zeroCoreLimit() }
