package execcmd

import (
	"os"
	"strings"
	"syscall"
)

// Environment variables exec sets for the child.
const (
	envAccessToken = "CONVIRZA_ACCESS_TOKEN"
	envAPIURL      = "CONVIRZA_API_URL"
)

// Exit codes of exec when the child cannot run, as in POSIX shells and env(1).
const (
	ExitCannotExec = 126 // found but not executable
	ExitNotFound   = 127 // not found
)

// childExitCode is the child's exit code, 128+N when signal N killed it
// (as shells report it), or -1 when unknown.
func childExitCode(ps *os.ProcessState) int {
	if ps == nil {
		return -1
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// envWithout drops the given variables from env, so the child never sees a
// stale token from the parent's environment.
func envWithout(env []string, names ...string) []string {
	out := make([]string, 0, len(env)+len(names))
	for _, kv := range env {
		key, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, n := range names {
			if key == n {
				drop = true
				break
			}
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}
