//go:build unix

package hardening

import "golang.org/x/sys/unix"

// zeroCoreLimit sets the soft RLIMIT_CORE to 0 and leaves the hard limit.
func zeroCoreLimit() error {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &rl); err != nil {
		return err
	}
	rl.Cur = 0
	return unix.Setrlimit(unix.RLIMIT_CORE, &rl)
}
