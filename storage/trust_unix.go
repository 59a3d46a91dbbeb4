//go:build unix

package storage

import (
	"os"
	"syscall"
)

// oNoFollow makes opening a symlink fail instead of following it.
const oNoFollow = syscall.O_NOFOLLOW

// unixPermissions: owners and mode bits mean what the trust rule assumes.
const unixPermissions = true

// fileOwner is the uid owning fi.
func fileOwner(fi os.FileInfo) (int, bool) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), true
	}
	return 0, false
}
