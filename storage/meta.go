package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/tokentop/tokentop/auth"
)

// metaVersion is the sessions.json schema older versions wrote, one file
// for every session; it is read once, to migrate it (see migrate.go).
const metaVersion = 1

// metaFileName and friends live in the config dir.
const (
	metaFileName = "sessions.json"
	metaLockName = "sessions.lock"
)

// legacyIndex reads <config-dir>/sessions.json as older versions wrote it.
// A damaged (unparseable) or newer-version file is never changed: the
// migration is refused with an error naming it, a damaged file is also
// copied aside once (sessions.json.damaged-<mtime>), and the user decides.
type legacyIndex struct {
	path     string
	lockPath string
	trust    trust
}

func newLegacyIndex(dir string, tr trust) *legacyIndex {
	return &legacyIndex{path: filepath.Join(dir, metaFileName), lockPath: filepath.Join(dir, metaLockName), trust: tr}
}

// statStamp is a change detector: mtime in ns, size and inode.
func statStamp(fi os.FileInfo) string {
	ino := inode(fi)
	return strconv.FormatInt(fi.ModTime().UnixNano(), 10) + "-" + strconv.FormatInt(fi.Size(), 10) + "-" + strconv.FormatUint(ino, 10)
}

const noFileStamp = "none"

// read loads sessions.json; found is false when there is none.
func (f *legacyIndex) read() ([]auth.Session, bool, error) {
	fh, err := f.trust.openFile(f.path, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read session index %s: %w", f.path, err)
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return nil, false, fmt.Errorf("read session index %s: %w", f.path, err)
	}
	buf := bytes.NewBuffer(make([]byte, 0, fi.Size()+bytes.MinRead))
	if _, err := buf.ReadFrom(fh); err != nil {
		return nil, false, fmt.Errorf("read session index %s: %w", f.path, err)
	}
	sessions, err := f.parse(buf.Bytes(), fi)
	return sessions, err == nil, err
}

// parse decodes and checks the document; damage is reported by f.damaged.
func (f *legacyIndex) parse(data []byte, fi os.FileInfo) ([]auth.Session, error) {
	var head struct {
		Version  *int            `json:"version"`
		Sessions json.RawMessage `json:"sessions"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, f.damaged(data, fi, err)
	}
	if head.Version == nil || *head.Version < 1 {
		return nil, f.damaged(data, fi, errors.New("no schema version"))
	}
	if *head.Version > metaVersion {
		return nil, fmt.Errorf("%w (schema version %d; this tokentop reads version %d): %s is left untouched; upgrade tokentop, or use another --config-dir",
			ErrMetadataTooNew, *head.Version, metaVersion, f.path)
	}
	var sessions []auth.Session
	if len(head.Sessions) > 0 && !bytes.Equal(head.Sessions, []byte("null")) {
		if err := json.Unmarshal(head.Sessions, &sessions); err != nil {
			return nil, f.damaged(data, fi, err)
		}
	}
	seen := make(map[string]bool, len(sessions))
	for i, se := range sessions {
		if err := ValidateName(se.Name); err != nil {
			return nil, f.damaged(data, fi, fmt.Errorf("entry %d: %w", i, err))
		}
		if seen[se.Name] {
			return nil, f.damaged(data, fi, fmt.Errorf("entry %d: session %q appears twice", i, se.Name))
		}
		seen[se.Name] = true
	}
	sortSessions(sessions)
	return sessions, nil
}

// damaged keeps a byte-exact copy of a damaged index beside it (once per
// version of the file: the copy is named after its mtime) and returns the
// error naming both paths. The original stays where it is, untouched.
func (f *legacyIndex) damaged(data []byte, fi os.FileInfo, cause error) error {
	aside := f.path + ".damaged-" + fi.ModTime().UTC().Format("20060102T150405.000000000Z")
	kept := "a copy is kept at " + aside
	if err := keepCopy(aside, data); err != nil {
		kept = "copying it aside to " + aside + " failed too (" + err.Error() + "); back it up yourself"
	}
	return fmt.Errorf("%w: %s cannot be read (%v); %s; tokentop will not change it: fix it by hand, or move it away to start an empty index (stored secrets stay; log in or import again)",
		ErrMetadataDamaged, f.path, cause, kept)
}

// keepCopy writes data to a new file at path, unless it already exists.
func keepCopy(path string, data []byte) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := fh.Write(data); err != nil {
		fh.Close()
		return err
	}
	if err := fh.Sync(); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

// fileLocker hands out per-session flocks in <config-dir>/locks.
type fileLocker struct {
	dir   string
	locks *procLocks
	trust trust
}

func (l fileLocker) lock(ctx context.Context, name string) (func(), error) {
	return l.trust.lockFile(ctx, l.locks, filepath.Join(l.dir, name+".lock"))
}
