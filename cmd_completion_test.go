package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/auth/emulator"
	"github.com/tokentop/tokentop/storage"
)

// completionsFor runs cobra's hidden __complete command and returns the
// candidates and the directive line (":4" is NoFileComp).
func completionsFor(t *testing.T, c *cli, args ...string) ([]string, string) {
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
	t.Parallel()
	a := seedSession(t, "file", emulator.Config{}, nil)
	b := seedInto(t, a.c, a.em, a.url, nil)
	both := []string{a.name, b.name}
	slices.Sort(both)
	prefix := a.name[:len(a.name)-1] // testName differ in their last hex digits at worst
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
		{"token", []string{"token", ""}, both, ":4"},
		{"refresh", []string{"refresh", ""}, both, ":4"},
		{"keepalive", []string{"keepalive", ""}, both, ":4"},
		{"keepalive second NAME", []string{"keepalive", a.name, ""}, []string{b.name}, ":4"},
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
			got, directive := completionsFor(t, a.c, tt.args...)
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
	t.Parallel()
	// Metadata written with the file backend, then completion with an
	// unreachable keyring: the names still complete, since Tab must never
	// wait for (or prompt through) secret storage.
	s := seedSession(t, "file", emulator.Config{}, nil)
	c := &cli{t: t, configDir: s.c.configDir, storage: "keyring", env: []string{"DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent"}, process: true}
	got, _ := completionsFor(t, c, "inspect", "")
	if !slices.Equal(got, []string{s.name}) {
		t.Errorf("completions %v, want [%s]", got, s.name)
	}
}

func TestCompletionScripts(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "file")
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		t.Run(shell, func(t *testing.T) {
			r := c.run("", "completion", shell)
			wantResult(t, r, 0, []string{"tokentop", "__complete"}, nil)
		})
	}
}

// shellPATH is a PATH whose first directory holds the test binary under
// its real name, since the generated scripts register completion for the
// command "tokentop".
func shellPATH(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Symlink(tokentopBin, filepath.Join(dir, "tokentop")); err != nil {
		t.Fatal(err)
	}
	return dir + string(os.PathListSeparator) + os.Getenv("PATH")
}

// TestCompletionInShells loads the generated scripts into real shells, as
// the README's install lines do, and asks them what Tab offers.
func TestCompletionInShells(t *testing.T) {
	t.Parallel()
	a := seedSession(t, "file", emulator.Config{}, nil)
	script := filepath.Join(t.TempDir(), "tokentop.completion")
	const bashCompletion = "/usr/share/bash-completion/bash_completion"
	tests := []struct {
		shell, line, want string
		need              []string // files the shell needs; the test skips without them
		run               func(line string) []string
	}{
		{"bash", "tokentop token ", a.name, []string{bashCompletion}, func(line string) []string {
			// What bash does on Tab: split the line, call the function
			// registered for the command, read COMPREPLY.
			return []string{"bash", "--norc", "--noprofile", "-c", `source "$1" && source "$2" &&
				read -ra COMP_WORDS <<<"$3" && COMP_WORDS+=("") && COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) &&
				COMP_LINE="$3" && COMP_POINT=${#COMP_LINE} &&
				__start_tokentop tokentop "" "${COMP_WORDS[COMP_CWORD-1]}" &&
				printf '%s\n' "${COMPREPLY[@]}"`, "bash", bashCompletion, script, line}
		}},
		{"bash", "tokentop revoke --type ", "refresh", []string{bashCompletion}, nil},
		{"fish", "tokentop forget ", a.name, nil, func(line string) []string {
			return []string{"fish", "--no-config", "-c", "source $argv[1]; complete -C $argv[2]", script, line}
		}},
		{"fish", "tokentop inspect --token - --", "--probe", nil, nil},
	}
	for i, tt := range tests {
		if tt.run == nil {
			tt.run = tests[i-1].run
		}
		t.Run(tt.shell+" "+tt.line, func(t *testing.T) {
			if _, err := exec.LookPath(tt.shell); err != nil {
				t.Skipf("no %s here", tt.shell)
			}
			for _, f := range tt.need {
				if _, err := os.Stat(f); err != nil {
					t.Skipf("%s needs %s (the bash-completion package)", tt.shell, f)
				}
			}
			r := a.c.run("", "completion", tt.shell)
			if r.code != 0 {
				t.Fatalf("completion %s: exit %d: %s", tt.shell, r.code, r.stderr)
			}
			if err := os.WriteFile(script, []byte(r.stdout), 0o600); err != nil {
				t.Fatal(err)
			}
			argv := tt.run(tt.line)
			cmd := exec.Command(argv[0], argv[1:]...)
			// The CLI's environment (config dir, storage), with tokentop on
			// PATH and an empty HOME (no user shell config); later entries win.
			cmd.Env = append(a.c.command(context.Background()).Env, "PATH="+shellPATH(t), "HOME="+t.TempDir())
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", tt.shell, err, out)
			}
			var got []string
			for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				word, _, _ := strings.Cut(l, "\t") // fish adds descriptions
				got = append(got, strings.TrimSpace(word))
			}
			if !slices.Contains(got, tt.want) {
				t.Errorf("%s offers %q after %q, want %q among them", tt.shell, got, tt.line, tt.want)
			}
		})
	}
}

// manySessions writes n sessions' metadata (no secrets: completion never
// reads them) into a fresh config dir with the file backend.
func manySessions(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	s, err := storage.Open(storage.Options{ConfigDir: dir, Backend: storage.BackendFile})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	for i := range n {
		se := auth.Session{
			Name: fmt.Sprintf("session-%04d", i), Endpoints: auth.Endpoints{OAuthURL: auth.DefaultOAuthURL, APIURL: auth.DefaultAPIURL},
			Email: "demo@example.com", User: auth.User{UserID: int64(i), Email: "demo@example.com", RoleID: 2, OrgUnitID: 1001},
			AccessExpiry: now.Add(7 * 24 * time.Hour), RefreshExpiry: now.Add(180 * 24 * time.Hour), IssuedAt: now,
			AccessFP: "sha256:00000000", RefreshFP: "sha256:11111111", State: auth.StateOK, CreatedAt: now, UpdatedAt: now,
		}
		if err := s.PutMeta(context.Background(), se); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// BenchmarkCompleteBinary measures one Tab as the shell runs it: a whole
// `tokentop __complete` process, with 1000 saved sessions.
func BenchmarkCompleteBinary(b *testing.B) {
	dir := manySessions(b, 1000)
	c := &cli{t: b, configDir: dir, storage: "file"}
	b.ResetTimer()
	for b.Loop() {
		if r := c.run("", "__complete", "inspect", "session-09"); r.code != 0 || strings.Count(r.stdout, "\n") != 101 {
			b.Fatalf("exit %d, %d lines", r.code, strings.Count(r.stdout, "\n"))
		}
	}
}
