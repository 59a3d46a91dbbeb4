//go:build unix

package storage

import (
	"os"
	"syscall"
)

// oNoFollow makes opening a symlink fail instead of following it.
const oNoFollow = syscall.O_NOFOLLOW

// oNonBlock keeps opening a FIFO (or a device) planted where a file
// belongs from waiting forever for the other end; for regular files it
// changes nothing. The file is then refused for not being regular.
const oNonBlock = syscall.O_NONBLOCK

// unixPermissions: owners and mode bits mean what the trust rule assumes.
const unixPermissions = true

// fileOwner is the uid owning fi.
func fileOwner(fi os.FileInfo) (int, bool) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), true
	}
	return 0, false
}

// readFast reads NAME+suffix in d with the fewest system calls: openat relative to
// the directory already open (no path walk, and nothing above d can be
// swapped under it), O_NOFOLLOW; fstat; one read of the size fstat gave;
// close. Listing reads every record this way: at 10,000 records, os.File's
// extra calls (the poller's registration and flag checks, a second fstat,
// ReadAll's growing reads) were a third of `tokentop list`. Records are
// replaced by rename, never written in place, so an open file's size is
// its content's. ok is false for anything unusual (an error, a file that
// breaks the trust rule, a size that does not match): the caller then goes
// the slow way, which says precisely what is wrong.
func (d *dirFiles) readFast(name, suffix string, buf []byte) (data []byte, ok bool) {
	if d.f == nil {
		return nil, false
	}
	fd, err := openAt(d.fd, name, suffix, syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC)
	if err != nil {
		return nil, false
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if syscall.Fstat(fd, &st) != nil ||
		st.Mode&syscall.S_IFMT != syscall.S_IFREG || int(st.Uid) != d.t.uid || st.Mode&0o022 != 0 ||
		st.Size > maxFastRead {
		return nil, false
	}
	size := int(st.Size)
	if cap(buf) < size+1 {
		buf = make([]byte, size+1)
	}
	// One byte more than the size, so a file that grew is noticed.
	n, err := syscall.Read(fd, buf[:size+1])
	if err != nil || n != size {
		return nil, false
	}
	return buf[:n], true
}
