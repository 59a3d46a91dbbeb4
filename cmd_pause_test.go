package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth/emulator"
)

// An imported pair is someone else's: the session starts paused, `token`
// prints its access token while it is valid and then fails (exit 1) naming
// `tokentop resume`, nothing refreshes it, and `resume` / `pause` switch
// that, as p does in the TUI.
func TestImportStartsPausedPauseResume(t *testing.T) {
	t.Parallel()
	em, url := startEmulator(t, shortConfig())
	c := newCLI(t, "file")

	body, err := em.Issue(emulator.DefaultUser().Email, 10*time.Minute, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p := decodePair(t, body)
	r := c.run(string(body), append([]string{"import", "customer"}, endpointArgs(url)...)...)
	wantResult(t, r, 0, nil, []string{"Paused (watch-only)", "tokentop resume customer"})
	if s := listedSession(t, c, "customer"); s.State != "paused" {
		t.Fatalf("an imported session is %q in list --json, want paused", s.State)
	}
	r = c.run("", "token", "customer")
	if r.code != 0 || r.stdout != p.access+"\n" {
		t.Fatalf("token of a paused session with a valid access token: exit %d, stderr %s", r.code, r.stderr)
	}

	// One whose access token has expired by its response: no refresh.
	var m map[string]any
	body2, err := em.Issue(emulator.DefaultUser().Email, 10*time.Minute, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(body2, &m); err != nil {
		t.Fatal(err)
	}
	m["expires_in"] = time.Now().Add(-time.Minute).UTC().Format("2006-01-02T15:04:05.000Z")
	body2, _ = json.Marshal(m)
	r = c.run(string(body2), append([]string{"import", "gone"}, endpointArgs(url)...)...)
	wantResult(t, r, 0, nil, []string{"Paused (watch-only), and the access token has already expired"})
	for _, args := range [][]string{{"token", "gone"}, {"exec", "gone", "--", "true"}} {
		r = c.run("", args...)
		wantResult(t, r, 1, nil, []string{`session "gone" is paused`, "expired", "tokentop resume gone"})
		if r.stdout != "" {
			t.Errorf("%v printed %q", args, r.stdout)
		}
	}
	if st := em.Stats(); st.Refreshes != 0 {
		t.Fatalf("a paused session was refreshed: %+v", st)
	}

	r = c.run("", "resume", "gone")
	wantResult(t, r, 0, nil, []string{"Resumed gone"})
	if r = c.run("", "token", "gone"); r.code != 0 || r.stdout == "" {
		t.Fatalf("token after resume: exit %d: %s", r.code, r.stderr)
	}
	if st := em.Stats(); st.Refreshes != 1 {
		t.Fatalf("after resume: %+v, want one refresh", st)
	}
	r = c.run("", "pause", "gone")
	wantResult(t, r, 0, nil, []string{"Paused gone (watch-only)"})
	if s := listedSession(t, c, "gone"); s.State != "paused" {
		t.Fatalf("after pause: %q", s.State)
	}
	r = c.run("", "pause", "gone")
	wantResult(t, r, 0, nil, []string{"already paused"})
	wantResult(t, c.run("", "resume", "nope"), 1, nil, []string{"no such session"})
	wantResult(t, c.run("", "pause"), 2, nil, []string{"NAME"})

	// --keep-alive: refreshed when due, like a login.
	r = c.run(string(body), append([]string{"import", "mine", "--keep-alive"}, endpointArgs(url)...)...)
	wantResult(t, r, 0, nil, nil)
	if strings.Contains(r.stderr, "Paused") {
		t.Errorf("import --keep-alive says paused: %s", r.stderr)
	}
	if s := listedSession(t, c, "mine"); s.State != "ok" {
		t.Fatalf("import --keep-alive: %q, want ok", s.State)
	}
}

// keepalive leaves a paused session alone and says so at the start, not
// silently.
func TestKeepaliveSaysPaused(t *testing.T) {
	t.Parallel()
	em, url := startEmulator(t, shortConfig())
	c := newCLI(t, "file")
	body, err := em.Issue(emulator.DefaultUser().Email, 10*time.Minute, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	wantResult(t, c.run(string(body), append([]string{"import", "watched"}, endpointArgs(url)...)...), 0, nil, nil)
	cmd, _, errb := startProcess(t, c, "keepalive", "watched")
	waitForOutput(t, errb, `(?m)^\S+Z watched paused auto-refresh is off \(watch-only\); left alone until you run: tokentop resume watched`, 10*time.Second)
	if code := interruptProcess(t, cmd); code != 0 {
		t.Errorf("keepalive exit %d\n%s", code, errb.String())
	}
	if st := em.Stats(); st.Refreshes != 0 {
		t.Errorf("keepalive refreshed a paused session: %+v", st)
	}
}
