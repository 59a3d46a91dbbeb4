package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/gofrs/flock"

	"github.com/tokentop/tokentop/auth"
)

// ErrUntrusted is matched by the error for a config dir, or a file in it,
// that tokentop will not use because someone other than the user could have
// put it there or changed it. Such errors also match auth.ErrStoreUnavailable,
// so the command line exits 4.
var ErrUntrusted = errors.New("not safe to use")

// TrustError names a path tokentop refuses, why, and what to do about it.
type TrustError struct {
	Path    string
	Problem string // e.g. "is writable by group or others (mode 0777)"
	Fix     string // e.g. "run `chmod 700 DIR`"
}

// Error says what is wrong with which path and how to fix it.
func (e *TrustError) Error() string {
	return fmt.Sprintf("%s %s: %v (another user could have planted or changed it); %s",
		e.Path, e.Problem, ErrUntrusted, e.Fix)
}

// Is matches ErrUntrusted and auth.ErrStoreUnavailable.
func (e *TrustError) Is(target error) bool {
	return target == ErrUntrusted || target == auth.ErrStoreUnavailable
}

// trust is the rule for the config dir and everything in it, the one ssh
// applies to ~/.ssh: owned by the user (uid), not writable by group or
// others, and never a symlink (the config dir itself excepted, see
// prepareConfigDir). uid is a field, not a call to os.Geteuid at each
// check, so tests running as root can still play a foreign owner.
type trust struct{ uid int }

// currentTrust is the rule for the user running this process.
func currentTrust() trust { return trust{uid: os.Geteuid()} }

// prepareConfigDir creates dir (0700) and its locks dir, or checks the
// existing ones, and returns the directory to use from now on (symlinks
// resolved) and warnings for what it tightened.
//
// A symlinked config dir is followed, as ssh follows a symlinked ~/.ssh
// (dotfile managers link config dirs): the link must belong to the user or
// root, and the directory it points to is checked like any config dir. It
// is resolved once, here; every file is then opened below the resolved path, so
// re-pointing the link later does not redirect this Store.
//
// A dir that others can read or enter but not write (0755) is tightened to
// 0700 with a warning. One they can write (0777), or that belongs to
// someone else, is refused: they may already have planted files in it.
func (t trust) prepareConfigDir(dir string) (string, []string, error) {
	fi, err := os.Lstat(dir)
	if errors.Is(err, os.ErrNotExist) {
		if err := ensureDir(dir); err != nil {
			return "", nil, err
		}
		fi, err = os.Lstat(dir)
	}
	if err != nil {
		return "", nil, fmt.Errorf("config directory %s: %w", dir, err)
	}
	resolved := dir
	if fi.Mode()&os.ModeSymlink != 0 {
		if uid, ok := fileOwner(fi); ok && uid != t.uid && uid != 0 {
			return "", nil, &TrustError{Path: dir, Problem: fmt.Sprintf("is a symlink owned by uid %d, not by you (uid %d)", uid, t.uid),
				Fix: "remove the link, or choose another --config-dir"}
		}
		if resolved, err = filepath.EvalSymlinks(dir); err != nil {
			return "", nil, fmt.Errorf("config directory %s: follow the symlink: %w", dir, err)
		}
		if fi, err = os.Lstat(resolved); err != nil {
			return "", nil, fmt.Errorf("config directory %s (%s): %w", dir, resolved, err)
		}
	}
	var warnings []string
	w, err := t.checkDir(resolved, fi)
	if err != nil {
		return "", nil, err
	}
	warnings = append(warnings, w...)
	w, err = t.subdir(filepath.Join(resolved, locksDirName))
	if err != nil {
		return "", nil, err
	}
	return resolved, append(warnings, w...), nil
}

// subdir creates dir (0700) inside the config dir, or checks the existing
// one by the same rule; a symlink in its place is refused.
func (t trust) subdir(dir string) ([]string, error) {
	fi, err := os.Lstat(dir)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("create directory %s: %w", dir, err)
		}
		fi, err = os.Lstat(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("directory %s: %w", dir, err)
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		return nil, symlinkError(dir)
	}
	return t.checkDir(dir, fi)
}

// checkDir applies the rule to an existing directory (fi from Lstat).
func (t trust) checkDir(dir string, fi os.FileInfo) ([]string, error) {
	if !fi.IsDir() {
		return nil, fmt.Errorf("config directory %s is not a directory (%v): move it away or choose another --config-dir: %w",
			dir, fi.Mode().Type(), auth.ErrStoreUnavailable)
	}
	if !unixPermissions {
		return nil, nil
	}
	if err := t.checkOwner(dir, fi); err != nil {
		return nil, err
	}
	mode := fi.Mode().Perm()
	if mode&0o022 != 0 {
		return nil, &TrustError{Path: dir, Problem: fmt.Sprintf("is writable by group or others (mode %04o)", mode),
			Fix: fmt.Sprintf("check that every file in it is yours and unchanged (the session records hold the URLs tokens are sent to), then run `chmod 700 %s`", dir)}
	}
	if mode&0o077 == 0 {
		return nil, nil
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("tighten %s from mode %04o to 0700: %w: run `chmod 700 %s`: %w", dir, mode, err, dir, auth.ErrStoreUnavailable)
	}
	return []string{fmt.Sprintf("%s had mode %04o (other users could list it); tokentop changed it to 0700", dir, mode)}, nil
}

// checkOwner refuses fi unless it belongs to the user.
func (t trust) checkOwner(path string, fi os.FileInfo) error {
	uid, ok := fileOwner(fi)
	if !ok || uid == t.uid {
		return nil
	}
	return &TrustError{Path: path, Problem: fmt.Sprintf("belongs to uid %d, not to you (uid %d)", uid, t.uid),
		Fix: fmt.Sprintf("if it really is yours, run `chown %d %s`; otherwise move it away and find out who created it", t.uid, path)}
}

// checkFile applies the rule to an open file (fi from its Stat).
func (t trust) checkFile(path string, fi os.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return &TrustError{Path: path, Problem: fmt.Sprintf("is not a regular file (%v)", fi.Mode().Type()),
			Fix: "move it away; tokentop creates its files itself"}
	}
	if !unixPermissions {
		return nil
	}
	if err := t.checkOwner(path, fi); err != nil {
		return err
	}
	if mode := fi.Mode().Perm(); mode&0o022 != 0 {
		return &TrustError{Path: path, Problem: fmt.Sprintf("is writable by group or others (mode %04o)", mode),
			Fix: fmt.Sprintf("check its content, then run `chmod 600 %s`", path)}
	}
	return nil
}

func symlinkError(path string) error {
	return &TrustError{Path: path, Problem: "is a symbolic link",
		Fix: "tokentop never reads or writes through one: if the file it points to is yours, move that file here in place of the link; otherwise remove the link (`rm " + path + "`)"}
}

// openErr turns the error of opening path into a TrustError when path is a
// symlink (O_NOFOLLOW fails with ELOOP on Linux, other errors elsewhere).
func openErr(path string, err error) error {
	if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&os.ModeSymlink != 0 {
		return symlinkError(path)
	}
	return err
}

// openFile opens a file in the config dir, never through a symlink, and
// only if it passes checkFile. New files get perm (0600 everywhere).
func (t trust) openFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	if oNoFollow == 0 {
		// No O_NOFOLLOW here: check first (a race only the user or an
		// administrator can win, since the directory passed the rule).
		if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSymlink != 0 {
			return nil, symlinkError(path)
		}
	}
	fh, err := os.OpenFile(path, flag|oNoFollow|oNonBlock, perm)
	if err != nil {
		return nil, openErr(path, err)
	}
	fi, err := fh.Stat()
	if err == nil {
		err = t.checkFile(path, fi)
	}
	if err != nil {
		fh.Close()
		return nil, err
	}
	return fh, nil
}

// readFile reads a whole file in the config dir through openFile.
func (t trust) readFile(path string) ([]byte, error) {
	fh, err := t.openFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return io.ReadAll(fh)
}

// dirFiles reads the files of one directory in the config dir by name,
// for reading many of them: the directory is opened once, and each file is
// read with as few system calls as the platform allows (readFast), under
// the same rule as readFile.
type dirFiles struct {
	t   trust
	dir string
	f   *os.File // nil: the directory does not exist
	fd  int
}

// maxFastRead is the largest file readFast reads itself.
const maxFastRead = 1 << 20

// openDirFiles opens dir; one that does not exist has no files.
func (t trust) openDirFiles(dir string) (*dirFiles, error) {
	d := &dirFiles{t: t, dir: dir}
	// Never through a symlink: Open checked the directory, and a link
	// put in its place since must not redirect the reads.
	f, err := os.OpenFile(dir, os.O_RDONLY|oNoFollow, 0)
	if errors.Is(err, os.ErrNotExist) {
		return d, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, openErr(dir, err))
	}
	d.f, d.fd = f, int(f.Fd())
	return d, nil
}

// read is readFile(dir/NAME+suffix) (buf, when big enough, holds the
// result).
func (d *dirFiles) read(name, suffix string, buf []byte) ([]byte, error) {
	if data, ok := d.readFast(name, suffix, buf); ok {
		return data, nil
	}
	return d.t.readFile(filepath.Join(d.dir, name+suffix))
}

// Close closes the directory.
func (d *dirFiles) Close() error {
	if d.f == nil {
		return nil
	}
	return d.f.Close()
}

// lockFile takes the in-process lock for path and then an exclusive flock on
// path (created 0600, never through a symlink, and checked like every file
// in the config dir), waiting until ctx is done. flock excludes other
// processes (and other open file descriptions); the kernel releases it when
// the process dies, so a crashed holder never wedges the session.
func (t trust) lockFile(ctx context.Context, p *procLocks, path string) (func(), error) {
	release, err := p.acquire(ctx, path)
	if err != nil {
		return nil, err
	}
	if oNoFollow == 0 {
		if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSymlink != 0 {
			release()
			return nil, symlinkError(path)
		}
	}
	fl := flock.New(path, flock.SetFlag(os.O_CREATE|os.O_RDONLY|oNoFollow|oNonBlock), flock.SetPermissions(0o600))
	ok, err := fl.TryLockContext(ctx, lockRetry)
	if err == nil && !ok {
		err = errors.New("lock not taken")
	}
	if err == nil {
		// Stat of the locked descriptor: the file actually opened.
		var fi os.FileInfo
		if fi, err = fl.Stat(); err == nil {
			err = t.checkFile(path, fi)
		}
		if err != nil {
			_ = fl.Unlock()
		}
	}
	if err != nil {
		release()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var te *TrustError
		if errors.As(err, &te) {
			return nil, err
		}
		if err = openErr(path, err); errors.As(err, &te) {
			return nil, err
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			_ = fl.Unlock() // also closes the descriptor
			release()
		})
	}, nil
}

// Warnings are what Open changed and the user should know about (a config
// dir it tightened to 0700). The command line prints them on stderr.
func (s *Store) Warnings() []string { return append([]string(nil), s.warnings...) }
