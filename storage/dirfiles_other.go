//go:build !linux

package storage

import (
	"fmt"
	"strings"
)

// namesWithSuffix lists the entries of d named NAME+suffix, for which keep
// says yes, as NAMEs, unsorted (see dirfiles_linux.go).
func (d *dirFiles) namesWithSuffix(suffix string, keep func(string) bool) ([]string, error) {
	if d.f == nil {
		return nil, nil
	}
	all, err := d.f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", d.dir, err)
	}
	out := all[:0]
	for _, e := range all {
		if n, ok := strings.CutSuffix(e, suffix); ok && keep(n) {
			out = append(out, n)
		}
	}
	return out, nil
}
