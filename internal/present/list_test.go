package present

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
)

// sample is a session as metadata holds it, at a fixed time.
func sample(now time.Time) auth.Session {
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

func TestListTable(t *testing.T) {
	now := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	retry := sample(now)
	retry.Name, retry.State, retry.NextAttempt = "staging", auth.StateRetrying, now.Add(30*time.Second)
	retry.ClockSkew = 2 * time.Minute
	killed := sample(now)
	killed.Name, killed.State = "killed", auth.StateRefreshing
	killed.RefreshingSince, killed.RefreshingPID = now.Add(-5*time.Minute), 4242
	dead := sample(now)
	dead.Name, dead.State, dead.Reason = "old", auth.StateNeedsLogin, auth.ReasonRotationLost
	sessions := []auth.Session{killed, dead, retry, sample(now)}

	cases := []struct {
		width   int
		has     []string
		hasNot  []string
		maxLine int
	}{
		{0, []string{"Storage: keyring", "NAME", "USER", "ROLE", "ORG", "ACCESS EXPIRES", "REFRESH EXPIRES",
			"me@example.com", "Standard", "70035", "in 4m 05s", "2026-04-10 12:04:05Z", "in 180d 00h",
			"needs_login (rotation_lost)", "retrying, next in 30s, server clock 2m 00s ahead", "ok",
			"refreshing, a refresh by pid 4242 was interrupted 5m 00s ago"}, nil, 0},
		{100, []string{"NAME", "ACCESS", "STATE", "in 4m 05s"}, []string{"ACCESS EXPIRES"}, 100},
		{50, []string{"NAME", "ACCESS", "REFRESH", "STATE", "needs_login (rot…"}, []string{"USER", "ROLE", "REFRESH EXPIRES"}, 50},
		{40, []string{"NAME", "ACCESS", "STATE", "needs_login", "retrying"}, []string{"USER", "REFRESH"}, 40},
	}
	for _, tc := range cases {
		var b strings.Builder
		WriteListTable(&b, "keyring", sessions, now, tc.width)
		out := b.String()
		for _, want := range tc.has {
			if !strings.Contains(out, want) {
				t.Errorf("width %d: lacks %q:\n%s", tc.width, want, out)
			}
		}
		for _, not := range tc.hasNot {
			if strings.Contains(out, not) {
				t.Errorf("width %d: has %q, which should be dropped:\n%s", tc.width, not, out)
			}
		}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if tc.maxLine > 0 && len([]rune(line)) > tc.maxLine {
				t.Errorf("width %d: line of %d: %q", tc.width, len(line), line)
			}
			if strings.HasSuffix(line, " ") {
				t.Errorf("trailing blanks: %q", line)
			}
		}
		if n := strings.Count(out, "Storage:"); n != 1 {
			t.Errorf("storage shown %d times", n)
		}
	}
}

func TestListJSONSchema(t *testing.T) {
	now := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	s := sample(now)
	s.LastRefresh = time.Time{}
	var b strings.Builder
	if err := WriteListJSON(&b, "file", "/cfg", []auth.Session{s}, now); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Storage   string           `json:"storage"`
		ConfigDir string           `json:"config_dir"`
		Sessions  []map[string]any `json:"sessions"`
	}
	if err := json.Unmarshal([]byte(b.String()), &got); err != nil {
		t.Fatal(err)
	}
	if got.Storage != "file" || got.ConfigDir != "/cfg" || len(got.Sessions) != 1 {
		t.Fatalf("top level: %+v", got)
	}
	one := got.Sessions[0]
	want := map[string]any{
		"name": "work", "email": "me@example.com", "role": "Standard", "org_unit_id": 70035.0,
		"oauth_url": auth.DefaultOAuthURL, "api_url": auth.DefaultAPIURL,
		"access_expires_at": "2026-04-10T12:04:05Z", "access_expires_in_seconds": 245.0,
		"refresh_expires_in_seconds": float64(180 * 24 * 3600),
		"state":                      "ok", "stored_state": "ok", "reason": "", "last_error": "", "last_refresh": nil, "next_attempt": nil,
		"refreshes": 3.0, "failures": 0.0, "clock_skew_seconds": 0.0, "paused": false, "refresh_interrupted": false,
		"access_fingerprint": "sha256:aaaaaaaa", "refresh_fingerprint": "sha256:bbbbbbbb",
		"secrets_backend": "file", // not recorded: where the store was opened
		"user":            map[string]any{"user_id": 4453.0, "email": "me@example.com", "role_id": 2.0, "org_unit_id": 70035.0},
	}
	for k, v := range want {
		gv, ok := one[k]
		if !ok {
			t.Errorf("field %q missing", k)
			continue
		}
		if gj, wj := mustJSON(t, gv), mustJSON(t, v); gj != wj {
			t.Errorf("%s = %s, want %s", k, gj, wj)
		}
	}
	for _, k := range []string{"refresh_expires_at", "issued_at", "token_format", "created_at", "updated_at"} {
		if _, ok := one[k]; !ok {
			t.Errorf("field %q missing", k)
		}
	}
}

// A STORAGE column appears when some session keeps its secrets in another
// backend than the one the header names, and only then; --json always
// says where each session's secrets are.
func TestListBackendColumn(t *testing.T) {
	now := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	a, b := sample(now), sample(now)
	a.SecretsBackend = "keyring"
	b.Name, b.SecretsBackend = "scratch", "file"

	var same strings.Builder
	WriteListTable(&same, "keyring", []auth.Session{a}, now, 0)
	if strings.Contains(same.String(), "STORAGE") {
		t.Errorf("a STORAGE column although every session is in the keyring:\n%s", same.String())
	}
	var mixed strings.Builder
	WriteListTable(&mixed, "keyring", []auth.Session{b, a}, now, 0)
	lines := strings.Split(mixed.String(), "\n")
	if len(lines) < 4 || !strings.Contains(lines[1], "STORAGE") ||
		!strings.Contains(lines[2], "file") || !strings.Contains(lines[3], "keyring") {
		t.Errorf("mixed backends without a STORAGE column saying which:\n%s", mixed.String())
	}
	// Narrow terminals drop it late: it says where the tokens are.
	var narrow strings.Builder
	WriteListTable(&narrow, "keyring", []auth.Session{b, a}, now, 60)
	if !strings.Contains(narrow.String(), "STORAGE") || strings.Contains(narrow.String(), "USER") {
		t.Errorf("at 60 columns the STORAGE column should outlast USER:\n%s", narrow.String())
	}

	var js strings.Builder
	if err := WriteListJSON(&js, "keyring", "/cfg", []auth.Session{b, a}, now); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Sessions []struct {
			Name           string `json:"name"`
			SecretsBackend string `json:"secrets_backend"`
		} `json:"sessions"`
	}
	if err := json.Unmarshal([]byte(js.String()), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Sessions) != 2 || got.Sessions[0].SecretsBackend != "file" || got.Sessions[1].SecretsBackend != "keyring" {
		t.Errorf("list --json secrets_backend: %+v", got.Sessions)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A long name or user is cut (with "…") like the TUI cuts it, rather than
// pushing ACCESS and STATE off a narrow terminal; a pipe still gets it
// whole.
func TestListTableLongName(t *testing.T) {
	now := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	long := sample(now)
	long.Name = "a-very-long-session-name-for-the-legacy-partner"
	long.User.Email = "someone.with.a.long.address@example-customer.com"
	dead := sample(now)
	dead.Name, dead.State, dead.Reason = "old", auth.StateNeedsLogin, auth.ReasonRotationLost
	sessions := []auth.Session{long, dead}

	var narrow strings.Builder
	WriteListTable(&narrow, "keyring", sessions, now, 60)
	for _, want := range []string{"ACCESS", "STATE", "a-very-long-sess", "…", "needs_login (ro"} {
		if !strings.Contains(narrow.String(), want) {
			t.Errorf("at 60 columns lacks %q:\n%s", want, narrow.String())
		}
	}
	var pipe strings.Builder
	WriteListTable(&pipe, "keyring", sessions, now, 0)
	for _, want := range []string{long.Name, long.User.Email, "needs_login (rotation_lost)"} {
		if !strings.Contains(pipe.String(), want) {
			t.Errorf("with no width limit lacks %q:\n%s", want, pipe.String())
		}
	}
	if strings.Contains(pipe.String(), "…") {
		t.Errorf("with no width limit something is cut:\n%s", pipe.String())
	}
}
