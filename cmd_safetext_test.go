package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/safetext"
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

// requireInert fails when out could act on a terminal: an ESC byte, any
// other C0 control but newline, DEL, a C1 control, a format (bidi) rune or
// bytes that are not UTF-8.
func requireInert(t testing.TB, what string, out []byte) {
	t.Helper()
	if bytes.IndexByte(out, 0x1b) >= 0 {
		t.Fatalf("%s holds an ESC byte:\n%q", what, out)
	}
	if !utf8.Valid(out) {
		t.Fatalf("%s is not UTF-8:\n%q", what, out)
	}
	for _, r := range string(out) {
		if r != '\n' && safetext.Unsafe(r) {
			t.Fatalf("%s holds %U:\n%q", what, r, out)
		}
	}
}

// requireInertJSON is requireInert for a JSON document, decoded too: a
// \u001b escape is as bad as the byte once `jq -r` prints it.
func requireInertJSON(t testing.TB, what string, out []byte) {
	t.Helper()
	requireInert(t, what, out)
	var v any
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber() // numbers beyond float64 are still JSON
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s is not JSON: %v\n%s", what, err, out)
	}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			if safetext.Needs(x) {
				t.Fatalf("%s holds %q once decoded", what, x)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for k, e := range x {
				if safetext.Needs(k) {
					t.Fatalf("%s holds key %q once decoded", what, k)
				}
				walk(e)
			}
		}
	}
	walk(v)
}

// runHere runs one command line in this process on a file-backed store in
// dir.
func runHere(t *testing.T, dir, stdin string, args ...string) (code int, stdout, stderr []byte) {
	t.Helper()
	var out, errb bytes.Buffer
	args = append([]string{"--config-dir", dir, "--storage", "file"}, args...)
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.Bytes(), errb.Bytes()
}

// TestInspectHostileTokenIsInert: the support workflow (a customer's token
// piped to inspect --token -) cannot set the clipboard, retitle the window
// or clear the screen, in text or in --json, and the escaped claims are
// still there to read.
func TestInspectHostileTokenIsInert(t *testing.T) {
	jwt := hostileJWT(t)
	for _, asJSON := range []bool{false, true} {
		args := []string{"inspect", "--token", "-"}
		if asJSON {
			args = append(args, "--json")
		}
		code, out, errb := runHere(t, t.TempDir(), jwt+"\n", args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d\n%s", args, code, errb)
		}
		requireInert(t, "stderr", errb)
		if asJSON {
			requireInertJSON(t, "inspect --json", out)
		} else {
			requireInert(t, "inspect", out)
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
	dir := t.TempDir()
	resp, _ := json.Marshal(map[string]any{
		"access_token": hostileJWT(t), "refresh_token": "ref-token-123456", "expires_in": 3600, "refresh_expires_in": 7200,
		"user": map[string]any{"user_id": 7, "email": "a" + hostileTitle + hostileC1 + "@example.com", "role_id": 1},
	})
	code, _, errb := runHere(t, dir, string(resp), "import", "x")
	if code != exitOK {
		t.Fatalf("import: exit %d\n%s", code, errb)
	}
	requireInert(t, "import's messages", errb)

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
		if code != exitOK {
			t.Fatalf("%v: exit %d\n%s", args, code, errb)
		}
		requireInert(t, strings.Join(args, " ")+" stderr", errb)
		if args[len(args)-1] == "--json" {
			requireInertJSON(t, strings.Join(args, " "), out)
		} else {
			requireInert(t, strings.Join(args, " "), out)
			if strings.Contains(string(out), "\nforged line") {
				t.Errorf("%v: a newline from the file forged a line:\n%s", args, out)
			}
		}
		if !bytes.Contains(out, []byte(`x1b]52;c;aGFja2Vk`)) {
			t.Errorf("%v: the hostile email is not shown escaped:\n%s", args, out)
		}
	}
}

// TestListHostileEmailIsInert: the list's table and JSON, fed a session
// whose every text field is hostile.
func TestListHostileEmailIsInert(t *testing.T) {
	now := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	s := sessSample(now)
	evil := hostileOSC52 + hostileTitle + hostileClear + hostileC1 + hostileBidi + "\x00\x7f\xff"
	s.Email, s.User.Email, s.LastError = evil, evil, evil
	s.Endpoints.OAuthURL = "https://x/" + evil
	s.TokenFormat = evil
	var tbl, js bytes.Buffer
	sessWriteListTable(&tbl, "file", []auth.Session{s}, now, 0)
	if err := sessWriteListJSON(&js, "file", "/cfg", []auth.Session{s}, now); err != nil {
		t.Fatal(err)
	}
	requireInert(t, "list", tbl.Bytes())
	requireInertJSON(t, "list --json", js.Bytes())
	if !strings.Contains(tbl.String(), `\x1b]52;c;aGFja2Vk\x07`) {
		t.Errorf("the table does not show the email escaped:\n%s", tbl.String())
	}
}

// FuzzCLIOutputIsInert: whatever a token, an email or a server message
// holds, inspect (text and --json) and list (table and --json) print no
// byte that could act on a terminal.
func FuzzCLIOutputIsInert(f *testing.F) {
	f.Add(`{"alg":"HS256","x":"`+hostileClear+`"}`, `{"`+hostileOSC52+`":"`+hostileBidi+`"}`, hostileC1+"@x", "msg\x1b]0;t\x07")
	f.Add(`{"alg":"none"}`, `{"exp":1,"a":[{"b":"\u202e"}]}`, "a@b", "")
	f.Add("not json", "\xff\xfe", "\u2028", "\u0085")
	f.Fuzz(func(t *testing.T, header, claims, email, message string) {
		enc := base64.RawURLEncoding.EncodeToString
		now := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
		for _, tok := range []string{enc([]byte(header)) + "." + enc([]byte(claims)) + ".c2ln", header} {
			in := auth.Inspect(tok, auth.InspectOptions{Now: now})
			se := sessSample(now)
			se.Email, se.User.Email, se.LastError, se.Name = email, email, message, message
			rep := inspectReport{Source: "session", CheckedAt: now, Token: &in,
				Session:     newInspectSession(se, "file", now),
				Probe:       &inspectProbe{Status: 401, Message: message, RequestID: message, User: &auth.User{Email: email}},
				Events:      []auth.Event{{Time: now, Session: message, Kind: auth.EventKind(message), Message: message, RequestID: message}},
				EventsError: message, AccessToken: tok}
			for _, asJSON := range []bool{false, true} {
				var out bytes.Buffer
				a := &app{stdout: &out}
				if err := a.printInspect(rep, inspectOptions{json: asJSON}); err != nil {
					t.Fatal(err)
				}
				if asJSON {
					requireInertJSON(t, "inspect --json", out.Bytes())
				} else {
					requireInert(t, "inspect", out.Bytes())
				}
			}
			var tbl, js bytes.Buffer
			sessWriteListTable(&tbl, "file", []auth.Session{se}, now, 80)
			if err := sessWriteListJSON(&js, "file", "/cfg", []auth.Session{se}, now); err != nil {
				t.Fatal(err)
			}
			requireInert(t, "list", tbl.Bytes())
			requireInertJSON(t, "list --json", js.Bytes())
		}
	})
}
