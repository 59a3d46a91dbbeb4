package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// writeFileAtomic replaces path with data so that readers and a crash at
// any point see either the old or the new content, never a mix: a temp file
// (random name) in the same directory, fsync, rename over path, fsync the
// directory. A killed writer leaves a stray hidden temp file behind.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir, base := filepath.Split(path)
	tmp, err := os.CreateTemp(dir, tempPrefix(base)+"*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return replaceWith(tmp, path, data, perm)
}

// writeFileLocked is writeFileAtomic for a file whose writers all hold one
// lock: the temp file has a fixed name (.BASE.tmp) instead of a random one,
// so a writer killed mid-save leaves a temp file the next writer simply
// truncates and reuses, and nothing has to list the directory (which holds
// one file per session) to clean up after it. Never through a symlink.
func writeFileLocked(path string, data []byte, perm os.FileMode) error {
	dir, base := filepath.Split(path)
	tmpPath := filepath.Join(dir, "."+base+".tmp")
	tmp, err := os.OpenFile(tmpPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|oNoFollow|oNonBlock, perm)
	notFile := errors.Is(err, syscall.ENXIO) // a FIFO nobody reads
	if err == nil {
		if fi, serr := tmp.Stat(); serr == nil && !fi.Mode().IsRegular() {
			_ = tmp.Close()
			notFile = true
		}
	}
	if notFile {
		// A FIFO or a device at the temp name is not a save in progress
		// (this writer holds the lock): remove it and start a new file.
		// A symlink is refused below, as everywhere.
		if err = os.Remove(tmpPath); err == nil {
			tmp, err = os.OpenFile(tmpPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow|oNonBlock, perm)
		}
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, openErr(tmpPath, err))
	}
	return replaceWith(tmp, path, data, perm)
}

// replaceWith writes data to the open temp file tmp, makes it durable and
// renames it over path; on failure the temp file is removed.
func replaceWith(tmp *os.File, path string, data []byte, perm os.FileMode) (err error) {
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// tempPrefix names the temp files of base, hidden so nobody mistakes them.
func tempPrefix(base string) string { return "." + base + ".tmp-" }

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
