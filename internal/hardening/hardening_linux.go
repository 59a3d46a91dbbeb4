//go:build linux

package hardening

import "golang.org/x/sys/unix"

func noCoreDumps() error {
	if err := zeroCoreLimit(); err != nil {
		return err
	}
	// Not dumpable: no core even through a core_pattern pipe (which the
	// kernel runs whatever RLIMIT_CORE says), and no ptrace or
	// /proc/PID/mem access by other processes running as the same user.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return err
	}
	return nil
}
