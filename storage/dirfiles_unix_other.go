//go:build unix && !linux

package storage

import "golang.org/x/sys/unix"

// openAt opens NAME+suffix relative to the directory dirfd.
func openAt(dirfd int, name, suffix string, flags int) (int, error) {
	return unix.Openat(dirfd, name+suffix, flags, 0)
}
