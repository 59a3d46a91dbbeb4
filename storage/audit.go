package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/tokentop/tokentop/auth"
)

// fingerprintRE is what auth.Fingerprint produces.
var fingerprintRE = regexp.MustCompile(`^sha256:[0-9a-f]{8}$`)

// tokenLikeRE finds what could be a token: a JWT (three base64url parts,
// the first starting "eyJ"), or a run of 32 or more characters of the
// URL-safe alphabet without dots or slashes (opaque and frontend tokens).
// Host names and URL paths are broken up by '.', '/' and ':' and survive.
var tokenLikeRE = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*|[A-Za-z0-9_~+=-]{32,}`)

// hexLikeRE matches UUIDs and hex digests, which are ids, not tokens.
var hexLikeRE = regexp.MustCompile(`^[0-9a-fA-F-]+$`)

// scrubEvent is the last line of defence: events carry fingerprints by
// construction, but a fingerprint field holding anything else is replaced
// by that value's fingerprint, token-like runs in the message are replaced
// by "[redacted sha256:...]", and so is a request id that looks like a
// token, so a caller's mistake cannot put a token into the audit log.
func scrubEvent(e auth.Event) auth.Event {
	e.OldFP = scrubFP(e.OldFP)
	e.NewFP = scrubFP(e.NewFP)
	e.OldRefreshFP = scrubFP(e.OldRefreshFP)
	e.NewRefreshFP = scrubFP(e.NewRefreshFP)
	e.Message = scrubText(e.Message)
	if len(e.RequestID) > 128 || scrubText(e.RequestID) != e.RequestID {
		e.RequestID = "[redacted " + auth.Fingerprint(e.RequestID) + "]"
	}
	return e
}

// scrubText replaces token-like runs in s by their fingerprints.
func scrubText(s string) string {
	if s == "" {
		return s
	}
	return tokenLikeRE.ReplaceAllStringFunc(s, func(run string) string {
		if hexLikeRE.MatchString(run) {
			return run
		}
		return "[redacted " + auth.Fingerprint(run) + "]"
	})
}

func scrubFP(fp string) string {
	if fp == "" || fingerprintRE.MatchString(fp) {
		return fp
	}
	return auth.Fingerprint(fp)
}

// Audit file names in the config dir.
const (
	auditDirName = "events"
	// auditFileName is the single log of older versions.
	auditFileName = "events.jsonl"
	// auditGlobal holds events of no session (a name no session can have).
	auditGlobal     = ".global"
	auditLockName   = ".rotate.lock"
	auditFileSuffix = ".jsonl"
	// auditMaxBytes bounds one session's log; past it the file is rotated
	// to NAME.jsonl.1 (replacing the previous one), so at most about twice
	// this is kept per session, and one session's traffic never pushes
	// another's history out.
	auditMaxBytes = 256 << 10
	// auditMaxMessage bounds one event's message.
	auditMaxMessage = 2048
)

// fileAudit is <config-dir>/events/NAME.jsonl, one log per session: one
// JSON event per line, 0600, appended with O_APPEND and a single write per
// line, so lines of concurrent processes never interleave. Rotation happens
// under a flock.
type fileAudit struct {
	dir      string
	lockPath string
	max      int64
	locks    *procLocks
	trust    trust
}

func newFileAudit(dir string, locks *procLocks, tr trust) *fileAudit {
	d := filepath.Join(dir, auditDirName)
	return &fileAudit{dir: d, lockPath: filepath.Join(d, auditLockName), max: auditMaxBytes, locks: locks, trust: tr}
}

// path is the log of session name ("" for events of no session).
func (a *fileAudit) path(name string) string {
	if name == "" {
		name = auditGlobal
	}
	return filepath.Join(a.dir, name+auditFileSuffix)
}

func (a *fileAudit) record(e auth.Event) error {
	if len(e.Message) > auditMaxMessage {
		e.Message = e.Message[:auditMaxMessage] + "..."
	}
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("record event: %w", err)
	}
	line = append(line, '\n')
	path := a.path(e.Session)
	if fi, err := os.Lstat(path); err == nil && fi.Size()+int64(len(line)) > a.max {
		if err := a.rotate(path, int64(len(line))); err != nil {
			return err
		}
	}
	fh, err := a.trust.openFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("record event: %w", err)
	}
	if _, err := fh.Write(line); err != nil {
		fh.Close()
		return fmt.Errorf("record event in %s: %w", path, err)
	}
	return fh.Close()
}

// rotate moves a full log to path.1. Under the lock it checks again, so
// that of several processes noticing the full file only the first rotates.
// A writer that opened the old file just before the rename appends to
// path.1, which loses nothing.
func (a *fileAudit) rotate(path string, need int64) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	unlock, err := a.trust.lockFile(ctx, a.locks, a.lockPath)
	if err != nil {
		return fmt.Errorf("rotate audit log: %w", err)
	}
	defer unlock()
	fi, err := os.Lstat(path)
	if err != nil || fi.Size()+need <= a.max {
		return nil
	}
	if err := os.Rename(path, path+".1"); err != nil {
		return fmt.Errorf("rotate audit log %s: %w", path, err)
	}
	return nil
}

// events reads one session's log (every log for name ""), oldest first.
func (a *fileAudit) events(name string, limit int) ([]auth.Event, error) {
	var paths []string
	if name != "" {
		paths = []string{a.path(name) + ".1", a.path(name)}
	} else {
		entries, err := os.ReadDir(a.dir)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("read audit log: %w", err)
		}
		for _, e := range entries {
			if n := e.Name(); strings.HasSuffix(n, auditFileSuffix) || strings.HasSuffix(n, auditFileSuffix+".1") {
				paths = append(paths, filepath.Join(a.dir, n))
			}
		}
	}
	var all []auth.Event
	for _, p := range paths {
		data, err := a.trust.readFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read audit log: %w", err)
		}
		for _, line := range bytes.Split(data, []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			var e auth.Event
			// A line cut short by a crash is skipped, not fatal.
			if json.Unmarshal(line, &e) != nil {
				continue
			}
			all = append(all, e)
		}
	}
	if name == "" {
		sort.SliceStable(all, func(i, j int) bool { return all[i].Time.Before(all[j].Time) })
	}
	return filterEvents(all, name, limit), nil
}
