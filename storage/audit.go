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
	auditFileName = "events.jsonl"
	auditLockName = "events.lock"
	// auditMaxBytes bounds events.jsonl; past it the file is rotated to
	// events.jsonl.1 (replacing the previous one), so at most about twice
	// this is kept.
	auditMaxBytes = 1 << 20
	// auditMaxMessage bounds one event's message.
	auditMaxMessage = 2048
)

// fileAudit is <config-dir>/events.jsonl: one JSON event per line, 0600,
// appended with O_APPEND and a single write per line, so lines of
// concurrent processes never interleave. Rotation happens under a flock.
type fileAudit struct {
	path     string
	lockPath string
	max      int64
	locks    *procLocks
	trust    trust
}

func newFileAudit(dir string, locks *procLocks, tr trust) *fileAudit {
	return &fileAudit{
		path:     filepath.Join(dir, auditFileName),
		lockPath: filepath.Join(dir, auditLockName),
		max:      auditMaxBytes,
		locks:    locks,
		trust:    tr,
	}
}

func (a *fileAudit) rotatedPath() string { return a.path + ".1" }

func (a *fileAudit) record(e auth.Event) error {
	if len(e.Message) > auditMaxMessage {
		e.Message = e.Message[:auditMaxMessage] + "..."
	}
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("record event: %w", err)
	}
	line = append(line, '\n')
	if fi, err := os.Lstat(a.path); err == nil && fi.Size()+int64(len(line)) > a.max {
		if err := a.rotate(int64(len(line))); err != nil {
			return err
		}
	}
	fh, err := a.trust.openFile(a.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("record event: %w", err)
	}
	if _, err := fh.Write(line); err != nil {
		fh.Close()
		return fmt.Errorf("record event in %s: %w", a.path, err)
	}
	return fh.Close()
}

// rotate moves a full events.jsonl to events.jsonl.1. Under the lock it
// checks again, so that of several processes noticing the full file only
// the first rotates. A writer that opened the old file just before the
// rename appends to events.jsonl.1, which loses nothing.
func (a *fileAudit) rotate(need int64) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	unlock, err := a.trust.lockFile(ctx, a.locks, a.lockPath)
	if err != nil {
		return fmt.Errorf("rotate audit log: %w", err)
	}
	defer unlock()
	fi, err := os.Lstat(a.path)
	if err != nil || fi.Size()+need <= a.max {
		return nil
	}
	if err := os.Rename(a.path, a.rotatedPath()); err != nil {
		return fmt.Errorf("rotate audit log %s: %w", a.path, err)
	}
	return nil
}

func (a *fileAudit) events(name string, limit int) ([]auth.Event, error) {
	var all []auth.Event
	for _, p := range []string{a.rotatedPath(), a.path} {
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
			if name == "" || e.Session == name {
				all = append(all, e)
			}
		}
	}
	return filterEvents(all, name, limit), nil
}
