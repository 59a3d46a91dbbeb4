package inspect

import (
	"bytes"
	"encoding/base64"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/cli/iostreams"
	"github.com/tokentop/tokentop/internal/present"
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
			se := sampleSession(now)
			se.Email, se.User.Email, se.LastError, se.Name = email, email, message, message
			rep := report{Source: "session", CheckedAt: now, Token: &in,
				Session:     newSession(se, "file", now),
				Probe:       &probe{Status: 401, Message: message, RequestID: message, User: &auth.User{Email: email}},
				Events:      []auth.Event{{Time: now, Session: message, Kind: auth.EventKind(message), Message: message, RequestID: message}},
				EventsError: message, AccessToken: tok}
			for _, asJSON := range []bool{false, true} {
				var out bytes.Buffer
				ios, _, _, _ := iostreams.Test()
				ios.Out = &out
				if err := write(&Options{IO: ios, JSON: asJSON}, rep); err != nil {
					t.Fatal(err)
				}
				if asJSON {
					safetexttest.RequireInertJSON(t, "inspect --json", out.Bytes())
				} else {
					safetexttest.RequireInert(t, "inspect", out.Bytes())
				}
			}
			var tbl, js bytes.Buffer
			present.WriteListTable(&tbl, "file", []auth.Session{se}, now, 80)
			if err := present.WriteListJSON(&js, "file", "/cfg", []auth.Session{se}, now); err != nil {
				t.Fatal(err)
			}
			safetexttest.RequireInert(t, "list", tbl.Bytes())
			safetexttest.RequireInertJSON(t, "list --json", js.Bytes())
		}
	})
}

// sampleSession is a healthy session seen at now.
func sampleSession(now time.Time) auth.Session {
	return auth.Session{
		Name:          "work",
		Endpoints:     auth.Endpoints{OAuthURL: auth.DefaultOAuthURL, APIURL: auth.DefaultAPIURL},
		Email:         "me@example.com",
		User:          auth.User{UserID: 4453, Email: "me@example.com", RoleID: 2, OrgUnitID: 70035},
		AccessExpiry:  now.Add(4*time.Minute + 5*time.Second),
		RefreshExpiry: now.Add(180 * 24 * time.Hour),
		IssuedAt:      now.Add(-time.Hour),
		AccessFP:      "sha256:aaaaaaaa",
		RefreshFP:     "sha256:bbbbbbbb",
		State:         auth.StateOK,
		CreatedAt:     now.Add(-time.Hour),
		UpdatedAt:     now.Add(-time.Hour),
		Refreshes:     3,
	}
}
