//go:build linux

package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"syscall"
	"unsafe"
)

// eachName hands the entries of d named NAME+suffix, for which keep says
// yes, to emit as NAMEs, unsorted, in batches of up to batch names, as the
// directory is read: listing starts reading records while the rest of a
// large directory is still being read. Each batch is emit's to keep. It
// reads getdents64 itself, with one large buffer: a records directory holds
// a record and a lock per session, and at 20,000 entries os.File.Readdirnames'
// 8 KiB reads and one new string per entry (the locks' included) were a
// third of the time spent listing it.
func (d *dirFiles) eachName(suffix string, keep func(string) bool, batch int, emit func([]string) error) error {
	if d.f == nil {
		return nil
	}
	buf := make([]byte, 64<<10)
	// The first read is small, so the first batch goes out early.
	size := 8 << 10
	var out []string
	for {
		n, err := syscall.Getdents(d.fd, buf[:size])
		size = len(buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("list %s: %w", d.dir, err)
		}
		if n <= 0 {
			if len(out) > 0 {
				return emit(out)
			}
			return nil
		}
		// struct linux_dirent64: ino (8), off (8), reclen (2), type (1),
		// name (NUL-terminated), in the machine's byte order.
		for b := buf[:n]; len(b) > 0; {
			if len(b) < 19 {
				return fmt.Errorf("list %s: a truncated directory entry", d.dir)
			}
			reclen := int(binary.NativeEndian.Uint16(b[16:18]))
			if reclen < 19 || reclen > len(b) {
				return fmt.Errorf("list %s: a directory entry of %d bytes", d.dir, reclen)
			}
			name := b[19:reclen]
			b = b[reclen:]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			if len(name) <= len(suffix) || string(name[len(name)-len(suffix):]) != suffix {
				continue // locks, temp files, damaged copies: no string made
			}
			if s := string(name[:len(name)-len(suffix)]); keep(s) {
				if out == nil {
					out = make([]string, 0, batch)
				}
				if out = append(out, s); len(out) == batch {
					if err := emit(out); err != nil {
						return err
					}
					out = nil
				}
			}
		}
	}
}

// openAt opens NAME+suffix relative to the directory dirfd, building the
// path on the stack (syscall.Openat would make two strings per record).
func openAt(dirfd int, name, suffix string, flags int) (int, error) {
	var path [256]byte
	if len(name)+len(suffix) >= len(path) {
		return syscall.Openat(dirfd, name+suffix, flags, 0)
	}
	n := copy(path[:], name)
	n += copy(path[n:], suffix)
	path[n] = 0
	for {
		fd, _, errno := syscall.Syscall6(syscall.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(&path[0])), uintptr(flags), 0, 0, 0)
		switch errno {
		case 0:
			return int(fd), nil
		case syscall.EINTR:
			continue
		}
		return -1, errno
	}
}
