//go:build unix

package execcmd

import (
	"os"

	"golang.org/x/sys/unix"
)

// terminalDeliveredInterrupt reports whether tokentop is in the foreground
// process group of its terminal: then a SIGINT almost surely came from
// Ctrl-C, which the terminal sends to the whole group, the child included.
func terminalDeliveredInterrupt() bool {
	for _, f := range []*os.File{os.Stdin, os.Stdout, os.Stderr} {
		pgrp, err := unix.IoctlGetInt(int(f.Fd()), unix.TIOCGPGRP)
		if err == nil {
			return pgrp == unix.Getpgrp()
		}
	}
	return false
}
