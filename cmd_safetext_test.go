package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
	"github.com/tokentop/tokentop/internal/safetext/safetexttest"
)

// The hostile pieces: OSC 52 (set the clipboard), OSC 0 (retitle the
// window), CSI 2J (clear the screen), the one-rune C1 CSI, and bidi
// overrides, isolates and marks.
const (
	hostileOSC52 = "\x1b]52;c;aGFja2Vk\x07"
	hostileTitle = "\x1b]0;owned\x07"
	hostileClear = "\x1b[2J"
	hostileC1    = "\u009b2J"
	hostileBidi  = "\u202egnp.exe\u202c\u2066x\u2069\u200f"
)

// hostileJWT is a JWT whose claim names and values, nested ones too, and
// header fields hold every hostile piece.
func hostileJWT(t testing.TB) string {
	t.Helper()
	header := map[string]any{"alg": "HS256", "typ": "JWT" + hostileClear, "kid": hostileC1}
	claims := map[string]any{
		hostileOSC52:          "clip",
		hostileTitle + "name": hostileClear,
		"sub":                 hostileC1 + hostileBidi,
		"roles":               []any{"ok", hostileBidi},
		"org":                 map[string]any{hostileClear: hostileTitle},
		"exp":                 time.Now().Add(time.Hour).Unix(),
	}
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(header) + "." + enc(claims) + ".c2ln"
}

// runHere runs one command line in this process on a file-backed store in
// dir.
func runHere(t *testing.T, dir, stdin string, args ...string) (code int, stdout, stderr []byte) {
	t.Helper()
	c := &cli{t: t, configDir: dir, storage: "file"}
	r := c.run(stdin, append([]string{"--config-dir", dir, "--storage", "file"}, args...)...)
	return r.code, []byte(r.stdout), []byte(r.stderr)
}

// TestInspectHostileTokenIsInert: the support workflow (a customer's token
// piped to inspect --token -) cannot set the clipboard, retitle the window
// or clear the screen, in text or in --json, and the escaped claims are
// still there to read.
func TestInspectHostileTokenIsInert(t *testing.T) {
	t.Parallel()
	jwt := hostileJWT(t)
	for _, asJSON := range []bool{false, true} {
		args := []string{"inspect", "--token", "-"}
		if asJSON {
			args = append(args, "--json")
		}
		code, out, errb := runHere(t, t.TempDir(), jwt+"\n", args...)
		if code != cmdutil.ExitOK {
			t.Fatalf("%v: exit %d\n%s", args, code, errb)
		}
		safetexttest.RequireInert(t, "stderr", errb)
		if asJSON {
			safetexttest.RequireInertJSON(t, "inspect --json", out)
		} else {
			safetexttest.RequireInert(t, "inspect", out)
		}
		// The escapes are shown, not dropped: support must see the attack.
		// Values are printed as JSON, so their backslashes come doubled.
		text := strings.ReplaceAll(string(out), `\\`, `\`)
		for _, want := range []string{`\x1b]52;c;aGFja2Vk\x07`, `\x1b]0;owned\x07name`, `\u009b2J\u202egnp.exe`, `JWT\x1b[2J`, "shown escaped"} {
			if !strings.Contains(text, want) {
				t.Errorf("%v: output lacks %q:\n%s", args, want, out)
			}
		}
	}
}

// TestHostileSessionFilesAreInert: an imported session whose access token
// is the hostile JWT, and whose session record and audit log were edited to
// hold control sequences, shows nothing raw through inspect NAME, list and
// list --json.
func TestHostileSessionFilesAreInert(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	resp, _ := json.Marshal(map[string]any{
		"access_token": hostileJWT(t), "refresh_token": "ref-token-123456", "expires_in": 3600, "refresh_expires_in": 7200,
		"user": map[string]any{"user_id": 7, "email": "a" + hostileTitle + hostileC1 + "@example.com", "role_id": 1},
	})
	code, _, errb := runHere(t, dir, string(resp), "import", "x")
	if code != cmdutil.ExitOK {
		t.Fatalf("import: exit %d\n%s", code, errb)
	}
	safetexttest.RequireInert(t, "import's messages", errb)

	// Edited by hand, or damaged: the files are outside text too.
	meta := filepath.Join(dir, "sessions", "x.json")
	b, err := os.ReadFile(meta)
	if err != nil {
		t.Fatal(err)
	}
	hostile, _ := json.Marshal(hostileOSC52 + hostileBidi + "\nforged line" + hostileC1)
	hostile = hostile[1 : len(hostile)-1]
	b = bytes.ReplaceAll(b, []byte(`"email":"a`), append([]byte(`"email":"a`), hostile...))
	b = bytes.Replace(b, []byte(`"state":"ok"`), append(append([]byte(`"state":"ok","last_error":"`), hostile...), '"'), 1)
	b = bytes.Replace(b, []byte(`"oauth_url":"`), append([]byte(`"oauth_url":"`), hostile...), 1)
	if err := os.WriteFile(meta, b, 0o600); err != nil {
		t.Fatal(err)
	}
	ev, _ := json.Marshal(auth.Event{Time: time.Now(), Session: "x", Kind: auth.EventFailed,
		Message: "refresh failed: " + hostileClear + hostileBidi, RequestID: hostileTitle})
	f, err := os.OpenFile(filepath.Join(dir, "events", "x.jsonl"), os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(append(append([]byte("\n"), ev...), '\n')); err != nil {
		t.Fatal(err)
	}
	f.Close()

	for _, args := range [][]string{{"inspect", "x"}, {"inspect", "x", "--json"}, {"list"}, {"list", "--json"}} {
		code, out, errb := runHere(t, dir, "", args...)
		if code != cmdutil.ExitOK {
			t.Fatalf("%v: exit %d\n%s", args, code, errb)
		}
		safetexttest.RequireInert(t, strings.Join(args, " ")+" stderr", errb)
		if args[len(args)-1] == "--json" {
			safetexttest.RequireInertJSON(t, strings.Join(args, " "), out)
		} else {
			safetexttest.RequireInert(t, strings.Join(args, " "), out)
			if strings.Contains(string(out), "\nforged line") {
				t.Errorf("%v: a newline from the file forged a line:\n%s", args, out)
			}
		}
		if !bytes.Contains(out, []byte(`x1b]52;c;aGFja2Vk`)) {
			t.Errorf("%v: the hostile email is not shown escaped:\n%s", args, out)
		}
	}
	// forget repeats the OAuth URL in the revoke line it suggests.
	code, out, errb := runHere(t, dir, "", "forget", "x")
	if code != cmdutil.ExitOK {
		t.Fatalf("forget: exit %d\n%s", code, errb)
	}
	safetexttest.RequireInert(t, "forget", out)
	safetexttest.RequireInert(t, "forget stderr", errb)
}
