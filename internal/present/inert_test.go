package present

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
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

// TestListHostileEmailIsInert: the list's table and JSON, fed a session
// whose every text field is hostile.
func TestListHostileEmailIsInert(t *testing.T) {
	now := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	s := sample(now)
	evil := hostileOSC52 + hostileTitle + hostileClear + hostileC1 + hostileBidi + "\x00\x7f\xff"
	s.Email, s.User.Email, s.LastError = evil, evil, evil
	s.Endpoints.OAuthURL = "https://x/" + evil
	s.TokenFormat = evil
	var tbl, js bytes.Buffer
	WriteListTable(&tbl, "file", []auth.Session{s}, now, 0)
	if err := WriteListJSON(&js, "file", "/cfg", []auth.Session{s}, now); err != nil {
		t.Fatal(err)
	}
	safetexttest.RequireInert(t, "list", tbl.Bytes())
	safetexttest.RequireInertJSON(t, "list --json", js.Bytes())
	if !strings.Contains(tbl.String(), `\x1b]52;c;aGFja2Vk\x07`) {
		t.Errorf("the table does not show the email escaped:\n%s", tbl.String())
	}
}
