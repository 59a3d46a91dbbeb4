package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/tokentop/tokentop/auth/emulator"
)

// admCompletions runs cobra's hidden __complete command and returns the
// candidates and the directive line (":4" is NoFileComp).
func admCompletions(t *testing.T, c *cli, args ...string) ([]string, string) {
	t.Helper()
	r := c.run("", append([]string{"__complete"}, args...)...)
	if r.code != 0 {
		t.Fatalf("__complete %v: exit %d: %s", args, r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	directive := lines[len(lines)-1]
	var names []string
	for _, l := range lines[:len(lines)-1] {
		name, _, _ := strings.Cut(l, "\t")
		names = append(names, name)
	}
	return names, directive
}

func TestCompletionSessionNames(t *testing.T) {
	a := admSeed(t, "file", emulator.Config{}, nil)
	b := admSeedInto(t, a.c, a.em, a.url, nil)
	both := []string{a.name, b.name}
	slices.Sort(both)
	prefix := a.name[:len(a.name)-1] // admName differ in their last hex digits at worst
	tests := []struct {
		name      string
		args      []string
		want      []string
		directive string
	}{
		{"inspect", []string{"inspect", ""}, both, ":4"},
		{"revoke", []string{"revoke", ""}, both, ":4"},
		{"forget", []string{"forget", ""}, both, ":4"},
		{"exec", []string{"exec", ""}, both, ":4"},
		{"prefix", []string{"forget", prefix}, []string{a.name}, ":4"},
		{"no prefix match", []string{"forget", "zzz"}, nil, ":4"},
		{"only one NAME", []string{"forget", a.name, ""}, nil, ":4"},
		{"raw revoke takes no NAME", []string{"revoke", "--token", "-", ""}, nil, ":4"},
		{"raw inspect takes no NAME", []string{"inspect", "--token", "-", ""}, nil, ":4"},
		{"revoke --type", []string{"revoke", "--token", "-", "--type", ""}, []string{"access", "refresh"}, ":4"},
		{"exec command after --", []string{"exec", a.name, "--", ""}, nil, ":0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, directive := admCompletions(t, a.c, tt.args...)
			if strings.HasPrefix(tt.name, "prefix") && strings.HasPrefix(b.name, prefix) {
				t.Skip("both random names share the prefix")
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) || directive != tt.directive {
				t.Errorf("completions %v %s, want %v %s", got, directive, tt.want, tt.directive)
			}
		})
	}
}

func TestCompletionReadsNoSecrets(t *testing.T) {
	// Metadata written with the file backend, then completion with an
	// unreachable keyring: the names still complete, since Tab must never
	// wait for (or prompt through) secret storage.
	s := admSeed(t, "file", emulator.Config{}, nil)
	c := &cli{t: t, configDir: s.c.configDir, storage: "keyring", env: []string{"DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent"}}
	got, _ := admCompletions(t, c, "inspect", "")
	if !slices.Equal(got, []string{s.name}) {
		t.Errorf("completions %v, want [%s]", got, s.name)
	}
}

func TestCompletionScripts(t *testing.T) {
	c := newCLI(t, "file")
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		t.Run(shell, func(t *testing.T) {
			r := c.run("", "completion", shell)
			admWant(t, r, 0, []string{"tokentop", "__complete"}, nil)
		})
	}
}
