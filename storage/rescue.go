package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tokentop/tokentop/auth"
)

// rescueDirName holds, one 0600 file per session, pairs the server issued
// that the secrets backend refused to save (see auth.Rescuer).
const rescueDirName = "rescue"

var _ auth.Rescuer = (*Store)(nil)

// rescueDirs are where rescued pairs go, in order of preference: the config
// dir, then (when the config dir's disk is what failed) a directory of this
// store under $XDG_RUNTIME_DIR, which is private to the user and usually on
// another file system. Nothing goes to shared temp directories.
func (s *Store) rescueDirs() []string {
	if s.dir == "" {
		return nil
	}
	dirs := []string{filepath.Join(s.dir, rescueDirName)}
	if rt := s.opts.RuntimeDir; rt != "" && filepath.IsAbs(rt) {
		abs, err := filepath.Abs(s.dir)
		if err == nil {
			sum := sha256.Sum256([]byte(abs))
			dirs = append(dirs, filepath.Join(rt, "tokentop", "rescue-"+hex.EncodeToString(sum[:4])))
		}
	}
	return dirs
}

// Rescue writes p to the first rescue directory that takes it and returns
// the file's path.
func (s *Store) Rescue(_ context.Context, p auth.RescuedPair) (string, error) {
	if err := ValidateName(p.Session.Name); err != nil {
		return "", err
	}
	dirs := s.rescueDirs()
	if len(dirs) == 0 {
		return "", errors.New("this store keeps nothing on disk (--storage memory without a config dir)")
	}
	data, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("encode the rescued pair: %w", err)
	}
	var errs []error
	for _, dir := range dirs {
		path := filepath.Join(dir, p.Session.Name+".json")
		if err := s.trustedDir(dir); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := writeFileAtomic(path, data, 0o600); err != nil {
			errs = append(errs, err)
			continue
		}
		return path, nil
	}
	return "", errors.Join(errs...)
}

// Rescued returns the pair kept for name, from the first rescue directory
// that has one.
func (s *Store) Rescued(_ context.Context, name string) (auth.RescuedPair, string, bool, error) {
	if err := ValidateName(name); err != nil {
		return auth.RescuedPair{}, "", false, err
	}
	for _, dir := range s.rescueDirs() {
		path := filepath.Join(dir, name+".json")
		p, ok, err := s.readRescued(path)
		if err != nil || ok {
			return p, path, ok, err
		}
	}
	return auth.RescuedPair{}, "", false, nil
}

func (s *Store) readRescued(path string) (auth.RescuedPair, bool, error) {
	data, err := s.trust.readFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return auth.RescuedPair{}, false, nil
	}
	if err != nil {
		return auth.RescuedPair{}, false, fmt.Errorf("read the pair kept aside in %s: %w", path, err)
	}
	var p auth.RescuedPair
	if err := json.Unmarshal(data, &p); err != nil || p.Secrets.RefreshToken == "" || p.Session.Name == "" {
		// Never quote the content: it holds tokens.
		return auth.RescuedPair{}, false, fmt.Errorf("the pair kept aside in %s is damaged (%d bytes); it is left in place: "+
			"move it away to go on, and log in again if the session then fails", path, len(data))
	}
	return p, true, nil
}

// DropRescued deletes the pair kept for name from every rescue directory.
func (s *Store) DropRescued(_ context.Context, name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	var errs []error
	for _, dir := range s.rescueDirs() {
		if err := os.Remove(filepath.Join(dir, name+".json")); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("delete the pair kept aside: %w", err))
		}
	}
	return errors.Join(errs...)
}

// trustedDir creates dir and its missing parents (0700), or checks the
// existing ones below the runtime or config dir, by the rule of the config
// dir: a rescue file holds live tokens, so nobody else may plant or swap one.
func (s *Store) trustedDir(dir string) error {
	base := s.dir
	if rt := s.opts.RuntimeDir; rt != "" && !strings.HasPrefix(dir, s.dir+string(filepath.Separator)) {
		base = rt
	}
	rel, err := filepath.Rel(base, dir)
	if err != nil || strings.HasPrefix(rel, "..") {
		return fmt.Errorf("rescue directory %s is outside %s", dir, base)
	}
	cur := base
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		cur = filepath.Join(cur, part)
		if err := os.Mkdir(cur, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("create directory %s: %w", cur, err)
		}
		fi, err := os.Lstat(cur)
		if err != nil {
			return fmt.Errorf("directory %s: %w", cur, err)
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			return symlinkError(cur)
		}
		if _, err := s.trust.checkDir(cur, fi); err != nil {
			return err
		}
	}
	return nil
}
