// Package quietinit keeps Bubble Tea's package init from querying the
// terminal in commands that never start the TUI.
//
// bubbletea v1's tea_init.go calls lipgloss.HasDarkBackground() from a
// package init, so every process that links it writes an OSC 11 and a DSR
// query to a terminal stdout and waits up to 5 s for the answer (forever, as
// far as `tokentop token` in a script on a relayed pty is concerned).
// Upstream closed this as fixed in v2 only (charmbracelet/bubbletea#1771).
//
// termenv skips the query when TERM is "dumb". This package's init sets that
// for non-TUI command lines and main calls Restore first thing. It runs before
// bubbletea's init because of the spec's initialisation order: among packages
// whose imports are initialised, the one with the smallest import path goes
// first; this package imports only os and strings, while bubbletea waits for
// fmt (and more), which sort after this package's path. The tests prove it
// on a pseudo-terminal (TestSessTokenDoesNotQueryTerminal).
package quietinit

import (
	"os"
	"strings"
)

// saved is set once, during init, and read by Restore: the only way to carry
// a value from before bubbletea's init to main.
var saved = quiet(os.Args[1:])

type savedTerm struct {
	active bool   // TERM was changed
	value  string // the original TERM
	had    bool   // TERM was set at all
}

func quiet(args []string) savedTerm {
	if WantsTUI(args) {
		return savedTerm{}
	}
	v, had := os.LookupEnv("TERM")
	_ = os.Setenv("TERM", "dumb")
	return savedTerm{active: true, value: v, had: had}
}

// Restore puts TERM back as it was, for child processes (exec) and anything
// that reads it later. Safe to call more than once.
func Restore() {
	if !saved.active {
		return
	}
	if saved.had {
		_ = os.Setenv("TERM", saved.value)
	} else {
		_ = os.Unsetenv("TERM")
	}
}

// WantsTUI reports whether a tokentop command line starts a full-screen
// program: no subcommand, "demo", or "har FILE" (the HAR view; not its
// analyze, sanitize and revoke subcommands). Values of the global flags
// are skipped.
func WantsTUI(args []string) bool {
	words, dashes := commandWords(args, 2)
	switch {
	case len(words) == 0:
		return !dashes
	case words[0] == "demo":
		return true
	case words[0] == "har" && len(words) == 2:
		switch words[1] {
		case "analyze", "sanitize", "revoke", "help":
			return false
		}
		return true
	}
	return false
}

// takesValue says whether a global flag takes the next argument.
func takesValue(flag string) bool {
	switch flag {
	case "--config-dir", "--storage", "--etcd-endpoints", "--etcd-prefix", "--etcd-cacert", "--etcd-cert", "--etcd-key", "--etcd-user":
		return true
	}
	return false
}

// commandWords is the first n arguments of args that are neither flags nor
// their values, up to "--" (dashes: it stopped there).
func commandWords(args []string, n int) (words []string, dashes bool) {
	for i := 0; i < len(args) && len(words) < n; i++ {
		a := args[i]
		switch {
		case a == "--":
			return words, true
		case takesValue(a):
			i++ // the flag's value
		case strings.HasPrefix(a, "-"):
		default:
			words = append(words, a)
		}
	}
	return words, false
}
