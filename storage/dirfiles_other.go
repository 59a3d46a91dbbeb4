//go:build !linux

package storage

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// eachName hands the entries of d named NAME+suffix, for which keep says
// yes, to emit as NAMEs, unsorted, in batches of up to batch names (see
// dirfiles_linux.go).
func (d *dirFiles) eachName(suffix string, keep func(string) bool, batch int, emit func([]string) error) error {
	if d.f == nil {
		return nil
	}
	for {
		all, err := d.f.Readdirnames(batch)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("list %s: %w", d.dir, err)
		}
		out := all[:0]
		for _, e := range all {
			if n, ok := strings.CutSuffix(e, suffix); ok && keep(n) {
				out = append(out, n)
			}
		}
		if len(out) > 0 {
			if err := emit(out); err != nil {
				return err
			}
		}
	}
}
