package proxy

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// StatusDirName is the directory, inside the config dir, holding one status
// file per running proxy, so that the TUI in another process can show
// which sessions are being proxied.
const StatusDirName = "proxies"

// StatusStale is how old a status file may be before it is ignored: a
// proxy rewrites its file every StatusEvery, so an older one was left by a
// process that was killed (and its pid may have been reused since).
const (
	StatusEvery = 2 * time.Second
	StatusStale = 15 * time.Second
)

// Status is what a running proxy publishes about itself. It holds no secret.
type Status struct {
	PID     int       `json:"pid"`
	Session string    `json:"session"`
	Listen  string    `json:"listen"` // host:port it listens on
	Served  uint64    `json:"requests_served"`
	Started time.Time `json:"started"`
	Updated time.Time `json:"updated"`
}

func statusFile(dir string, pid int) string {
	return filepath.Join(dir, StatusDirName, strconv.Itoa(pid)+".json")
}

// WriteStatus replaces this process's status file in the config dir dir
// atomically (a temporary file, then renamed), readable by the user alone.
// It is not synced: a courtesy file, rewritten every few seconds and
// ignored once stale, is not worth an fsync every time.
func WriteStatus(dir string, s Status) error {
	sub := filepath.Join(dir, StatusDirName)
	if err := os.Mkdir(sub, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("proxy status: %w", err)
	}
	if fi, err := os.Lstat(sub); err != nil || !fi.IsDir() {
		return fmt.Errorf("proxy status: %s is not a directory", sub)
	}
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(sub, ".tmp-*")
	if err != nil {
		return fmt.Errorf("proxy status: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename there is nothing to remove
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("proxy status: %w", err)
	}
	if err := os.Rename(tmp.Name(), statusFile(dir, s.PID)); err != nil {
		return fmt.Errorf("proxy status: %w", err)
	}
	return nil
}

// RemoveStatus removes the status file of pid, if any.
func RemoveStatus(dir string, pid int) error {
	if err := os.Remove(statusFile(dir, pid)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("proxy status: %w", err)
	}
	return nil
}

// ReadStatuses returns the proxies running now over the config dir dir,
// by session name: files not updated within StatusStale of now are left
// out, and so are damaged ones (a proxy rewrites its own within seconds)
// and ones whose fields could not have come from a proxy: their session
// and address reach the screen. A symlink, in place of the directory or
// listed in it, is not followed.
func ReadStatuses(dir string, now time.Time) (map[string][]Status, error) {
	sub := filepath.Join(dir, StatusDirName)
	if fi, err := os.Lstat(sub); err == nil && !fi.IsDir() {
		return nil, nil
	}
	ents, err := os.ReadDir(sub)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("proxy status: %w", err)
	}
	out := map[string][]Status{}
	for _, e := range ents {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(sub, e.Name()))
		if err != nil {
			continue
		}
		var s Status
		if json.Unmarshal(data, &s) != nil || !plausible(s) || now.Sub(s.Updated) > StatusStale {
			continue
		}
		out[s.Session] = append(out[s.Session], s)
	}
	return out, nil
}

// plausible says whether s could have been written by a proxy: a session
// name and a host:port of printable ASCII.
func plausible(s Status) bool {
	printable := func(v string) bool {
		for i := 0; i < len(v); i++ {
			if v[i] <= ' ' || v[i] >= 0x7f {
				return false
			}
		}
		return v != ""
	}
	_, _, err := net.SplitHostPort(s.Listen)
	return err == nil && printable(s.Session) && printable(s.Listen)
}
