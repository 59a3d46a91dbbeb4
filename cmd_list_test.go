package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/auth/emulator"
)

func TestListCommand(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			em, url := startEmulator(t, shortConfig())
			c := newCLI(t, b)

			empty := c.run("", "list")
			if empty.code != 0 || empty.stdout != "" || !strings.Contains(empty.stderr, "No saved sessions") {
				t.Errorf("empty list: exit %d, stdout %q, stderr %q", empty.code, empty.stdout, empty.stderr)
			}
			emptyJSON := c.run("", "list", "--json")
			var top struct {
				Storage  string            `json:"storage"`
				Sessions []json.RawMessage `json:"sessions"`
			}
			if err := json.Unmarshal([]byte(emptyJSON.stdout), &top); err != nil || top.Sessions == nil || len(top.Sessions) != 0 || top.Storage != b {
				t.Errorf("empty list --json: %q (%v)", emptyJSON.stdout, err)
			}

			name := uniqueName(t, c, "listed")
			p := importPair(t, c, em, url, name, 10*time.Minute, time.Hour)
			r := c.run("", "list")
			if r.code != 0 {
				t.Fatalf("list: exit %d\n%s", r.code, r.stderr)
			}
			for _, want := range []string{"Storage: " + b, name, emulator.DefaultUser().Email, "Admin", "1001", "in 9m 5", "in 59m 5", "ok"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("list lacks %q:\n%s", want, r.stdout)
				}
			}
			requireNoPairSecret(t, "list", r.stdout, p)
			j := c.run("", "list", "--json")
			requireNoPairSecret(t, "list --json", j.stdout, p)
			got := listedSession(t, c, name)
			if got.AccessFingerprint != auth.Fingerprint(p.access) || got.RefreshFingerprint != auth.Fingerprint(p.refresh) ||
				got.AccessExpiresIn < 590 || got.AccessExpiresIn > 600 || got.State != "ok" {
				t.Errorf("list --json: %+v", got)
			}
		})
	}
}

// TestListWithoutKeyring shows that list reads metadata only: it works
// when the Secret Service is unreachable.
func TestListWithoutKeyring(t *testing.T) {
	t.Parallel()
	em, url := startEmulator(t, shortConfig())
	c := newCLI(t, "file")
	name := uniqueName(t, c, "meta")
	importPair(t, c, em, url, name, 10*time.Minute, time.Hour)
	c.storage = "keyring"
	c.env, c.process = append(c.env, "DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent"), true
	r := c.run("", "list")
	if r.code != 0 || !strings.Contains(r.stdout, name) {
		t.Errorf("list with the keyring unreachable: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
