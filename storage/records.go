package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	jsonv2 "github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"

	"github.com/tokentop/tokentop/auth"
)

// Per-session metadata: one small file per session, <config-dir>/sessions/
// NAME.json, so reading or updating one session touches only its record
// and listing reads each record once. The layout maps onto a networked
// store key for key (a record per session, a lock per session, a watch on
// the directory), which is why the Store's interface is in those terms.
const (
	recordsDirName = "sessions"
	recordSuffix   = ".json"
	// recordVersion is the record schema this code reads and writes.
	recordVersion = 2
)

// recordOp says what update does with the record fn returned.
type recordOp int

const (
	recordKeep   recordOp = iota // leave the record as it is
	recordPut                    // write the returned session
	recordDelete                 // remove the record
)

// recordDoc is the on-disk form of one record.
type recordDoc struct {
	Version int           `json:"version"`
	Session *auth.Session `json:"session"`
}

// fileRecords is the metadata of a config dir, one record per session.
// Records are replaced atomically (temp file, fsync, rename); writers of one
// record take its write lock (sessions/.NAME.lock, a flock held only for the
// read-modify-write, never across a refresh), readers take no lock.
type fileRecords struct {
	dir   string
	locks *procLocks
	trust trust
	// decode reads records as encoding/json does (the records are written
	// with it), on the engine of encoding/json/v2, which decodes them
	// about twice as fast: at 10,000 sessions decoding was half of `list`.
	decode jsonv2.Options
}

func newFileRecords(dir string, locks *procLocks, tr trust) *fileRecords {
	return &fileRecords{dir: filepath.Join(dir, recordsDirName), locks: locks, trust: tr, decode: jsonv1.DefaultOptionsV1()}
}

func (f *fileRecords) path(name string) string { return filepath.Join(f.dir, name+recordSuffix) }

// read loads one record; found is false when there is none.
func (f *fileRecords) read(name string) (auth.Session, bool, error) {
	data, err := f.trust.readFile(f.path(name))
	var se auth.Session
	found, err := f.decodeInto(&se, name, data, err, nil)
	return se, found, err
}

// decodeInto is read's second half, the result of reading name's record,
// decoded into dst.
func (f *fileRecords) decodeInto(dst *auth.Session, name string, data []byte, err error, in *interner) (bool, error) {
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read session record %s: %w", f.path(name), err)
	}
	return true, f.parse(dst, name, data, in)
}

// parse decodes and checks one record into dst; damage is kept aside and
// reported.
func (f *fileRecords) parse(dst *auth.Session, name string, data []byte, in *interner) error {
	version, hasSession, ok := decodeRecordFast(data, dst, in)
	if !ok {
		var doc recordDoc
		if err := jsonv2.Unmarshal(data, &doc, f.decode); err != nil {
			*dst = auth.Session{}
			return f.damaged(f.path(name), data, err)
		}
		version, hasSession = doc.Version, doc.Session != nil
		if hasSession {
			*dst = *doc.Session
		} else {
			*dst = auth.Session{}
		}
	}
	if version <= recordVersion && version >= 1 && hasSession && dst.Name == name {
		return nil
	}
	got := dst.Name
	*dst = auth.Session{}
	path := f.path(name) // for the errors below, only
	switch {
	case version > recordVersion:
		return fmt.Errorf("%w (record schema version %d; this tokentop reads version %d): %s is left untouched; upgrade tokentop, or use another --config-dir",
			ErrMetadataTooNew, version, recordVersion, path)
	case version < 1 || !hasSession:
		return f.damaged(path, data, errors.New("no schema version or no session"))
	default:
		return f.damaged(path, data, fmt.Errorf("it describes session %q", got))
	}
}

// damaged keeps a byte-exact copy of a damaged record beside it (not
// named *.json, so it is never listed) and returns the error naming both.
func (f *fileRecords) damaged(path string, data []byte, cause error) error {
	aside := path + ".damaged"
	kept := "a copy is kept at " + aside
	if err := keepCopy(aside, data); err != nil {
		kept = "copying it aside to " + aside + " failed too (" + err.Error() + "); back it up yourself"
	}
	return fmt.Errorf("%w: %s cannot be read (%v); %s; tokentop will not change it: fix it by hand, or move it away to drop that session (its stored secrets stay; log in or import again)",
		ErrMetadataDamaged, path, cause, kept)
}

func (f *fileRecords) get(_ context.Context, name string) (auth.Session, bool, error) {
	return f.read(name)
}

// names lists the sessions that have a record, sorted.
func (f *fileRecords) names() ([]string, error) {
	d, err := f.trust.openDirFiles(f.dir)
	if err != nil {
		return nil, fmt.Errorf("list session records: %w", err)
	}
	defer d.Close()
	// Temp files, locks and damaged copies do not end in .json or have
	// no valid name before it.
	var names []string
	err = d.eachName(recordSuffix, validName, 1024, func(batch []string) error {
		names = append(names, batch...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list session records: %w", err)
	}
	slices.Sort(names)
	return names, nil
}

// scanBatch is how many records a scan worker takes at a time: small
// enough that every worker has some before the directory is read to the
// end, large enough that handing them over costs nothing.
const scanBatch = 128

// scan reads every record once and calls a visitor with each, in no order,
// from one goroutine per CPU (newVisitor gives each its own), starting
// while the directory is still being read: at 10,000 sessions reading the
// directory (a record and a lock per session) took a seventh of `tokentop
// list`, with the second CPU idle. A visitor's session is its only until it
// returns. A damaged record is reported, with every other damaged one, once
// the rest are read; an error from a visitor stops the scan and is
// returned.
func (f *fileRecords) scan(ctx context.Context, newVisitor func() func(*auth.Session) error) error {
	d, err := f.trust.openDirFiles(f.dir)
	if err != nil {
		return fmt.Errorf("read session records: %w", err)
	}
	defer d.Close()
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	type failure struct {
		name string
		err  error
	}
	batches := make(chan []string, 64)
	workers := runtime.GOMAXPROCS(0)
	fails := make([][]failure, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			visit := newVisitor()
			buf := make([]byte, 4<<10)
			in := newInterner()
			var se auth.Session
			for names := range batches {
				for _, name := range names {
					if ctx.Err() != nil {
						continue // drain, so the reader never waits on a full channel
					}
					se = auth.Session{}
					data, err := d.read(name, recordSuffix, buf)
					found, err := f.decodeInto(&se, name, data, err, in)
					if err != nil {
						fails[w] = append(fails[w], failure{name, err})
						continue
					}
					if !found {
						continue // deleted since the directory was read
					}
					if err := visit(&se); err != nil {
						stop(err)
					}
				}
			}
		}()
	}
	err = d.eachName(recordSuffix, validName, scanBatch, func(names []string) error {
		batches <- names
		return context.Cause(ctx)
	})
	close(batches)
	wg.Wait()
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if err != nil {
		return fmt.Errorf("list session records: %w", err)
	}
	all := slices.Concat(fails...)
	slices.SortFunc(all, func(a, b failure) int { return strings.Compare(a.name, b.name) })
	errs := make([]error, len(all))
	for i, fl := range all {
		errs[i] = fl.err
	}
	return errors.Join(errs...)
}

// load reads every record once; the result is sorted by name.
func (f *fileRecords) load(ctx context.Context) ([]auth.Session, error) {
	names, err := f.names()
	if err != nil {
		return nil, err
	}
	return f.readMany(ctx, names)
}

// readMany reads the records of names (in that order). Decoding dominates,
// so they are read by one worker per CPU. A record deleted meanwhile is
// left out.
func (f *fileRecords) readMany(ctx context.Context, names []string) ([]auth.Session, error) {
	d, err := f.trust.openDirFiles(f.dir)
	if err != nil {
		return nil, fmt.Errorf("read session records: %w", err)
	}
	defer d.Close()
	out := make([]auth.Session, len(names))
	found := make([]bool, len(names))
	errs := make([]error, len(names))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(names)/64))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 4<<10)
			in := newInterner()
			for i := w; i < len(names); i += workers {
				if ctx.Err() != nil {
					errs[i] = ctx.Err()
					return
				}
				data, err := d.read(names[i], recordSuffix, buf)
				// Into the result itself: a session is half a kilobyte to copy.
				found[i], errs[i] = f.decodeInto(&out[i], names[i], data, err, in)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	// A record deleted between the directory read and its own read is gone.
	kept := 0
	for i := range out {
		if found[i] {
			if kept != i {
				out[kept] = out[i]
			}
			kept++
		}
	}
	return out[:kept], nil
}

// update runs fn on one record under its write lock and saves the result.
func (f *fileRecords) update(ctx context.Context, name string, fn func(auth.Session, bool) (auth.Session, recordOp, error)) error {
	lockPath := filepath.Join(f.dir, "."+name+".lock")
	unlock, err := f.trust.lockFile(ctx, f.locks, lockPath)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("update session %q: waiting for %s: %w: %w", name, lockPath, auth.ErrLockTimeout, ctx.Err())
		}
		return fmt.Errorf("update session %q: %w", name, err)
	}
	defer unlock()
	path := f.path(name)
	cur, found, err := f.read(name)
	if err != nil {
		return err
	}
	next, op, err := fn(cur, found)
	if err != nil {
		return err
	}
	switch op {
	case recordPut:
		next.Name = name
		var buf bytes.Buffer
		buf.Grow(1024)
		buf.WriteString(`{"version": ` + strconv.Itoa(recordVersion) + `, "session": `)
		if err := json.NewEncoder(&buf).Encode(&next); err != nil {
			return fmt.Errorf("encode session %q: %w", name, err)
		}
		buf.Truncate(buf.Len() - 1)
		buf.WriteString("}\n")
		if err := writeFileLocked(path, buf.Bytes(), 0o600); err != nil {
			return fmt.Errorf("save session %q: %w", name, err)
		}
	case recordDelete:
		if !found {
			return nil
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove session %q: %w", name, err)
		}
		if err := syncDir(f.dir); err != nil {
			return err
		}
	}
	return nil
}

// stamp changes whenever a record is added, replaced or removed: every
// write renames into (or unlinks from) the records directory, which moves
// its modification time. It is the fallback where Watch is unavailable.
func (f *fileRecords) stamp(context.Context) (string, error) {
	fi, err := os.Lstat(f.dir)
	if errors.Is(err, os.ErrNotExist) {
		return noFileStamp, nil
	}
	if err != nil {
		return "", fmt.Errorf("stat %s: %w", f.dir, err)
	}
	return statStamp(fi), nil
}

// batches calls fn with every session, sorted by name, first in a batch
// of first sessions and then of size each, so a screen can show the first
// rows long before ten thousand records are read.
func (f *fileRecords) batches(ctx context.Context, first, size int, fn func([]auth.Session) error) error {
	names, err := f.names()
	if err != nil {
		return err
	}
	for n := first; len(names) > 0; n = size {
		chunk := names[:min(max(n, 1), len(names))]
		names = names[len(chunk):]
		list, err := f.readMany(ctx, chunk)
		if err != nil {
			return err
		}
		if err := fn(list); err != nil {
			return err
		}
	}
	return nil
}
