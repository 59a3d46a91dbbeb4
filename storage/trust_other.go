//go:build !unix

package storage

import "os"

// oNoFollow is 0 where there is no O_NOFOLLOW: trust checks with Lstat
// before opening instead.
const oNoFollow = 0

// oNonBlock is 0 where there are no FIFOs to plant (see trust_unix.go).
const oNonBlock = 0

// unixPermissions is false where mode bits are synthesised (Windows reports
// 0666 for every writable file) and there is no uid: only the symlink and
// file-type parts of the trust rule apply; the OS's ACLs do the rest.
const unixPermissions = false

// fileOwner knows no owner here.
func fileOwner(os.FileInfo) (int, bool) { return 0, false }

// readFast leaves every read to the slow way here (see trust_unix.go).
func (d *dirFiles) readFast(string, string, []byte) ([]byte, bool) { return nil, false }
