package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"

	"github.com/tokentop/tokentop/auth"
)

// metaVersion is the sessions.json schema this code reads and writes.
const metaVersion = 1

// metaFileName and friends live in the config dir.
const (
	metaFileName = "sessions.json"
	metaLockName = "sessions.lock"
)

// fileMeta is the metadata index in <config-dir>/sessions.json, shared by
// several processes: writes are read-modify-write under a flock on
// sessions.lock and replace the file atomically; reads need no lock.
//
// A damaged (unparseable) or newer-version file is never overwritten: reads
// and writes are refused with an error naming it, a damaged file is also
// copied aside once (sessions.json.damaged-<mtime>), and the user decides.
type fileMeta struct {
	path     string
	lockPath string
	locks    *procLocks
	trust    trust

	mu         sync.Mutex // guards the parse cache
	cacheStamp string
	cacheSum   uint64         // hash of the bytes the cache was parsed from (or written as)
	cache      []auth.Session // sorted by name; never handed out without copying
	index      map[string]int
	seed       maphash.Seed
}

func newFileMeta(dir string, locks *procLocks, tr trust) *fileMeta {
	return &fileMeta{
		path:     filepath.Join(dir, metaFileName),
		lockPath: filepath.Join(dir, metaLockName),
		locks:    locks,
		trust:    tr,
		seed:     maphash.MakeSeed(),
	}
}

// statStamp is the change detector: mtime in ns, size and inode. Every save
// renames a new file into place, so the inode changes too.
func statStamp(fi os.FileInfo) string {
	ino := inode(fi)
	return strconv.FormatInt(fi.ModTime().UnixNano(), 10) + "-" + strconv.FormatInt(fi.Size(), 10) + "-" + strconv.FormatUint(ino, 10)
}

const noFileStamp = "none"

func (f *fileMeta) stamp(context.Context) (string, error) {
	fi, err := os.Lstat(f.path) // a symlink is refused by read, not followed
	if errors.Is(err, os.ErrNotExist) {
		return noFileStamp, nil
	}
	if err != nil {
		return "", fmt.Errorf("stat %s: %w", f.path, err)
	}
	return statStamp(fi), nil
}

// read loads sessions.json from disk, bypassing the stamp check, and makes
// it the cache. Only bytes that differ from the cache's are parsed again. A
// missing file is an empty index.
func (f *fileMeta) read() ([]auth.Session, map[string]int, error) {
	fh, err := f.trust.openFile(f.path, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		f.setCache(noFileStamp, 0, nil)
		return nil, map[string]int{}, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read session index %s: %w", f.path, err)
	}
	defer fh.Close()
	// Stat the open file, not the path: the stamp then describes exactly
	// the bytes read even if another process renames a new file into place.
	fi, err := fh.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("read session index %s: %w", f.path, err)
	}
	buf := bytes.NewBuffer(make([]byte, 0, fi.Size()+bytes.MinRead)) // one allocation when the size holds
	if _, err := buf.ReadFrom(fh); err != nil {
		return nil, nil, fmt.Errorf("read session index %s: %w", f.path, err)
	}
	data := buf.Bytes()
	st, sum := statStamp(fi), maphash.Bytes(f.seed, data)
	f.mu.Lock()
	if f.index != nil && sum == f.cacheSum {
		f.cacheStamp = st
		c, idx := f.cache, f.index
		f.mu.Unlock()
		return c, idx, nil
	}
	f.mu.Unlock()
	sessions, err := f.parse(data, fi)
	if err != nil {
		return nil, nil, err
	}
	return sessions, f.setCache(st, sum, sessions), nil
}

// setCache remembers sessions (sorted) as the parse of the file with stamp
// st and hash sum, and returns its name index.
func (f *fileMeta) setCache(st string, sum uint64, sessions []auth.Session) map[string]int {
	idx := make(map[string]int, len(sessions))
	for i, se := range sessions {
		idx[se.Name] = i
	}
	f.mu.Lock()
	f.cacheStamp, f.cacheSum, f.cache, f.index = st, sum, sessions, idx
	f.mu.Unlock()
	return idx
}

// parse decodes and checks the document; damage is reported by f.damaged.
func (f *fileMeta) parse(data []byte, fi os.FileInfo) ([]auth.Session, error) {
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
func (f *fileMeta) damaged(data []byte, fi os.FileInfo, cause error) error {
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

// cached returns the parsed index, re-reading only when the file changed.
// The returned slice is shared: callers copy before handing it out.
func (f *fileMeta) cached() ([]auth.Session, map[string]int, error) {
	st, err := f.stamp(context.Background())
	if err != nil {
		return nil, nil, err
	}
	f.mu.Lock()
	if st == f.cacheStamp && f.index != nil {
		c, idx := f.cache, f.index
		f.mu.Unlock()
		return c, idx, nil
	}
	f.mu.Unlock()
	return f.read()
}

func (f *fileMeta) load(context.Context) ([]auth.Session, error) {
	sessions, _, err := f.cached()
	if err != nil {
		return nil, err
	}
	return append([]auth.Session(nil), sessions...), nil
}

func (f *fileMeta) get(_ context.Context, name string) (auth.Session, bool, error) {
	sessions, idx, err := f.cached()
	if err != nil {
		return auth.Session{}, false, err
	}
	i, ok := idx[name]
	if !ok {
		return auth.Session{}, false, nil
	}
	return sessions[i], true, nil
}

func (f *fileMeta) update(ctx context.Context, fn func(map[string]auth.Session) (bool, error)) error {
	unlock, err := f.trust.lockFile(ctx, f.locks, f.lockPath)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("update session index: waiting for %s: %w: %w", f.lockPath, auth.ErrLockTimeout, ctx.Err())
		}
		return fmt.Errorf("update session index: %w", err)
	}
	defer unlock()
	// Under the index lock every other writer is waiting, so temp files
	// present now belong to writers that died mid-save.
	removeStaleTemps(f.path)
	// Under the lock nobody else writes, but the stat stamp alone cannot be
	// trusted here: two saves in one tick of the file system's coarse clock,
	// of the same size, the second reusing the inode the first freed, look
	// unchanged, and starting from a stale cache would silently drop another
	// process's update. So the bytes are read and compared (cheap next to a
	// parse, which happens only when they differ).
	sessions, _, err := f.read()
	if err != nil {
		return err
	}
	m := make(map[string]auth.Session, len(sessions)+1)
	for _, se := range sessions {
		m[se.Name] = se
	}
	changed, err := fn(m)
	if err != nil || !changed {
		return err
	}
	return f.write(m)
}

// write saves the index atomically, one session per line (compact, yet
// easy to read, diff and fix by hand), and remembers it as the cached
// parse. Called with the index lock held.
func (f *fileMeta) write(m map[string]auth.Session) error {
	// Sort the names, not the (large) structs.
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	sessions := make([]auth.Session, len(names))
	for i, n := range names {
		sessions[i] = m[n]
	}
	var buf bytes.Buffer
	buf.Grow(len(sessions) * 700)
	fmt.Fprintf(&buf, "{\"version\": %d, \"sessions\": [", metaVersion)
	enc := json.NewEncoder(&buf) // appends a newline after each value
	for i := range sessions {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
		if err := enc.Encode(&sessions[i]); err != nil {
			return fmt.Errorf("encode session index: %w", err)
		}
		buf.Truncate(buf.Len() - 1)
	}
	buf.WriteString("\n]}\n")
	if err := writeFileAtomic(f.path, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("save session index: %w", err)
	}
	st, err := f.stamp(context.Background())
	if err != nil {
		return err
	}
	f.setCache(st, maphash.Bytes(f.seed, buf.Bytes()), sessions)
	return nil
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
