//go:build !unix

package hardening

// noCoreDumps does nothing where there is no RLIMIT_CORE.
func noCoreDumps() error { return nil }
