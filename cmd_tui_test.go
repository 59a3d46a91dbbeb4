package main

import (
	"strings"
	"testing"

	"github.com/tokentop/tokentop/internal/cli/cmdutil"
)

// TestTUINeedsATerminal: run from a script, the TUI refuses with a usage
// error instead of drawing into a pipe; demo refuses before starting
// anything.
func TestTUINeedsATerminal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
	}{
		{"tui", nil},
		{"demo", []string{"demo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t, "file")
			r := c.run("", tt.args...)
			if r.code != cmdutil.ExitUsage || !strings.Contains(r.stderr, "needs a terminal") {
				t.Fatalf("exit %d, stderr %q; want exit %d saying it needs a terminal", r.code, r.stderr, cmdutil.ExitUsage)
			}
			if r.stdout != "" {
				t.Fatalf("wrote to stdout: %q", r.stdout)
			}
		})
	}
}

func TestTUIDemoUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"demo", "--access-ttl", "1s"}, "at least 2s"},
		{[]string{"demo", "--refresh-ttl", "0s"}, "at least 2s"},
		{[]string{"demo", "--access-ttl", "soon"}, "invalid argument"},
		{[]string{"demo", "extra"}, "takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := newCLI(t, "file").run("", tt.args...)
			if r.code != cmdutil.ExitUsage || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d mentioning %q", r.code, r.stderr, cmdutil.ExitUsage, tt.want)
			}
		})
	}
}
