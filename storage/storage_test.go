package storage

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
)

// testSecrets returns a distinctive token pair for name; the values are
// grepped for in files by the leak test.
func testSecrets(name string, gen int) auth.Secrets {
	return auth.Secrets{
		AccessToken:   fmt.Sprintf("acc-%s-%d-Zq8vWm3kT7yP2rXn5bLd9hJf4sGc6aQe", name, gen),
		RefreshToken:  fmt.Sprintf("ref-%s-%d-Hy3nB8cV1xK6mL0pR4tW7zE2uA9sD5fG", name, gen),
		FrontendToken: fmt.Sprintf("fe%s%dabcdefghijklmnopqrstu", name, gen),
	}
}

// testSession is the metadata that goes with testSecrets.
func testSession(name string, sec auth.Secrets, now time.Time) auth.Session {
	return auth.Session{
		Name:          name,
		Endpoints:     auth.Endpoints{OAuthURL: "http://127.0.0.1:1/oauth", APIURL: "http://127.0.0.1:1/v3"},
		Email:         name + "@example.com",
		User:          auth.User{UserID: 42, Email: name + "@example.com", RoleID: 1, OrgUnitID: 7},
		AccessExpiry:  now.Add(time.Hour).UTC(),
		RefreshExpiry: now.Add(24 * time.Hour).UTC(),
		IssuedAt:      now.UTC(),
		AccessFP:      auth.Fingerprint(sec.AccessToken),
		RefreshFP:     auth.Fingerprint(sec.RefreshToken),
		FrontendFP:    auth.Fingerprint(sec.FrontendToken),
		State:         auth.StateOK,
		CreatedAt:     now.UTC(),
		UpdatedAt:     now.UTC(),
	}
}

var testNow = time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)

func openMemory(t testing.TB) *Store {
	t.Helper()
	s, err := Open(Options{Backend: BackendMemory})
	if err != nil {
		t.Fatalf("Open memory: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// storeBehaviours runs the behaviours every backend must share.
func storeBehaviours(t *testing.T, s *Store, prefix string) {
	ctx := context.Background()
	name := func(n string) string { return prefix + n }
	cases := []struct {
		desc string
		run  func(t *testing.T)
	}{
		{"round trip", func(t *testing.T) {
			n := name("round")
			sec := testSecrets(n, 1)
			want := testSession(n, sec, testNow)
			if err := s.Put(ctx, want, sec); err != nil {
				t.Fatalf("Put: %v", err)
			}
			got, err := s.Secrets(ctx, n)
			if err != nil {
				t.Fatalf("Secrets: %v", err)
			}
			if got.Tokens() != sec {
				t.Fatalf("Secrets = %v, want %v", got, sec)
			}
			// Saved with its owner: this store, this name, this user.
			if id, _ := s.identity(); got.Owner != (auth.SecretsOwner{StoreID: id, Session: n, UserID: want.User.UserID}) || id == "" {
				t.Fatalf("Secrets owner = %+v, want store %q, session %q, user %d", got.Owner, id, n, want.User.UserID)
			}
			meta, err := s.Get(ctx, n)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			// The store records where the secrets went.
			want.SecretsBackend = s.Backend()
			if !sessionEqual(meta, want) {
				t.Fatalf("Get = %+v\nwant %+v", meta, want)
			}
			t.Cleanup(func() { _ = s.Delete(ctx, n) })
		}},
		{"overwrite", func(t *testing.T) {
			n := name("over")
			for gen := 1; gen <= 3; gen++ {
				sec := testSecrets(n, gen)
				if err := s.Put(ctx, testSession(n, sec, testNow), sec); err != nil {
					t.Fatalf("Put gen %d: %v", gen, err)
				}
			}
			got, err := s.Secrets(ctx, n)
			if err != nil || got.Tokens() != testSecrets(n, 3) {
				t.Fatalf("Secrets = %v, %v; want generation 3", got, err)
			}
			meta, err := s.Get(ctx, n)
			if err != nil || meta.AccessFP != auth.Fingerprint(testSecrets(n, 3).AccessToken) {
				t.Fatalf("Get = %+v, %v; want generation 3 fingerprint", meta, err)
			}
			_ = s.Delete(ctx, n)
		}},
		{"not found", func(t *testing.T) {
			n := name("absent")
			if _, err := s.Get(ctx, n); !errors.Is(err, auth.ErrSessionNotFound) {
				t.Fatalf("Get absent: %v, want ErrSessionNotFound", err)
			}
			if _, err := s.Secrets(ctx, n); !errors.Is(err, auth.ErrSecretNotFound) {
				t.Fatalf("Secrets absent: %v, want ErrSecretNotFound", err)
			}
			if err := s.Delete(ctx, n); !errors.Is(err, auth.ErrSessionNotFound) {
				t.Fatalf("Delete absent: %v, want ErrSessionNotFound", err)
			}
		}},
		{"delete", func(t *testing.T) {
			n := name("del")
			sec := testSecrets(n, 1)
			if err := s.Put(ctx, testSession(n, sec, testNow), sec); err != nil {
				t.Fatalf("Put: %v", err)
			}
			if err := s.Delete(ctx, n); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if _, err := s.Get(ctx, n); !errors.Is(err, auth.ErrSessionNotFound) {
				t.Fatalf("Get after delete: %v", err)
			}
			if _, err := s.Secrets(ctx, n); !errors.Is(err, auth.ErrSecretNotFound) {
				t.Fatalf("Secrets after delete: %v", err)
			}
		}},
		{"delete metadata without secret", func(t *testing.T) {
			n := name("metaonly")
			if err := s.PutMeta(ctx, testSession(n, testSecrets(n, 1), testNow)); err != nil {
				t.Fatalf("PutMeta: %v", err)
			}
			if _, err := s.Secrets(ctx, n); !errors.Is(err, auth.ErrSecretNotFound) {
				t.Fatalf("Secrets of metadata-only session: %v", err)
			}
			if err := s.Delete(ctx, n); err != nil {
				t.Fatalf("Delete with missing secret: %v", err)
			}
		}},
		{"put meta keeps secrets", func(t *testing.T) {
			n := name("putmeta")
			sec := testSecrets(n, 1)
			se := testSession(n, sec, testNow)
			if err := s.Put(ctx, se, sec); err != nil {
				t.Fatalf("Put: %v", err)
			}
			se.State, se.Failures, se.LastError = auth.StateRetrying, 2, "HTTP 503"
			if err := s.PutMeta(ctx, se); err != nil {
				t.Fatalf("PutMeta: %v", err)
			}
			got, _ := s.Get(ctx, n)
			if got.State != auth.StateRetrying || got.Failures != 2 || got.LastError != "HTTP 503" {
				t.Fatalf("Get after PutMeta = %+v", got)
			}
			if gotSec, err := s.Secrets(ctx, n); err != nil || gotSec.Tokens() != sec {
				t.Fatalf("Secrets after PutMeta = %v, %v", gotSec, err)
			}
			_ = s.Delete(ctx, n)
		}},
		{"invalid names", func(t *testing.T) {
			for _, bad := range []string{"", ".hidden", "-flag", "a/b", "../x", "sp ace", "é", strings.Repeat("a", 65), "a\x00b"} {
				se := testSession(bad, testSecrets("x", 1), testNow)
				errs := map[string]error{}
				_, errs["Get"] = s.Get(ctx, bad)
				_, errs["Secrets"] = s.Secrets(ctx, bad)
				errs["Put"] = s.Put(ctx, se, testSecrets("x", 1))
				errs["PutMeta"] = s.PutMeta(ctx, se)
				errs["Delete"] = s.Delete(ctx, bad)
				_, errs["Lock"] = s.Lock(ctx, bad)
				for op, err := range errs {
					if !errors.Is(err, auth.ErrInvalidName) {
						t.Errorf("%s(%q) = %v, want ErrInvalidName", op, bad, err)
					} else if !strings.Contains(err.Error(), "1-64") {
						t.Errorf("%s(%q) error %q does not state the rule", op, bad, err)
					}
				}
			}
		}},
		{"value too large", func(t *testing.T) {
			n := name("big")
			sec := auth.Secrets{AccessToken: strings.Repeat("A", maxSecretBytes), RefreshToken: "r"}
			err := s.Put(ctx, testSession(n, sec, testNow), sec)
			if !errors.Is(err, ErrSecretTooLarge) {
				t.Fatalf("Put too large: %v, want ErrSecretTooLarge", err)
			}
			if strings.Contains(err.Error(), "AAAAAAAA") {
				t.Fatalf("error quotes the value: %.200s", err)
			}
			if _, err := s.Get(ctx, n); !errors.Is(err, auth.ErrSessionNotFound) {
				t.Fatalf("metadata saved although secrets were refused: %v", err)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.desc, c.run)
	}
}

// sessionEqual compares sessions, times by instant.
func sessionEqual(a, b auth.Session) bool {
	if !a.AccessExpiry.Equal(b.AccessExpiry) || !a.RefreshExpiry.Equal(b.RefreshExpiry) ||
		!a.IssuedAt.Equal(b.IssuedAt) || !a.CreatedAt.Equal(b.CreatedAt) || !a.UpdatedAt.Equal(b.UpdatedAt) {
		return false
	}
	a.AccessExpiry, a.RefreshExpiry, a.IssuedAt, a.CreatedAt, a.UpdatedAt = b.AccessExpiry, b.RefreshExpiry, b.IssuedAt, b.CreatedAt, b.UpdatedAt
	return a == b
}

func TestMemoryBehaviours(t *testing.T) {
	storeBehaviours(t, openMemory(t), "mem-")
}

func TestValidateName(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"a", true}, {"prod", true}, {"Prod_2.eu-west", true}, {"_x", true}, {"9", true},
		{strings.Repeat("z", 64), true}, {strings.Repeat("z", 65), false},
		{"", false}, {".", false}, {"..", false}, {".x", false}, {"-x", false},
		{"a/b", false}, {"a b", false}, {"ü", false}, {"a\n", false}, {"a:b", false},
	} {
		err := ValidateName(c.name)
		if (err == nil) != c.ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", c.name, err, c.ok)
		}
		if err != nil && !errors.Is(err, auth.ErrInvalidName) {
			t.Errorf("ValidateName(%q) = %v, does not match auth.ErrInvalidName", c.name, err)
		}
	}
}

// A token pasted where a session name belongs is refused without being
// echoed (not even a prefix of it); a short bad name is shown as given.
func TestValidateNameNeverEchoesAPastedToken(t *testing.T) {
	for _, tok := range []string{
		"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbklkIjoiYWJjIiwiaWF0IjoxNzA5NTEwNDAwfQ.c2lnbmF0dXJl",
		"a1Qy081rff1vJNZl4iv1Vva/2rJ+JGlqn6Lv6=0zCxI=", // standard base64: '/' and '+' make it a bad name
		strings.Repeat("Z", 65),
	} {
		err := ValidateName(tok)
		if !errors.Is(err, auth.ErrInvalidName) {
			t.Fatalf("ValidateName(token) = %v, want ErrInvalidName", err)
		}
		if strings.Contains(err.Error(), tok[:24]) || !strings.Contains(err.Error(), auth.Fingerprint(tok)) || !strings.Contains(err.Error(), "--token -") {
			t.Errorf("message %q echoes the token or lacks its fingerprint and the hint", err)
		}
	}
	if err := ValidateName("a b"); err == nil || !strings.Contains(err.Error(), `"a b"`) {
		t.Errorf("short bad name not shown: %v", err)
	}
}

func TestMemoryListSortedAndStamp(t *testing.T) {
	testListSortedAndStamp(t, openMemory(t))
}

func testListSortedAndStamp(t *testing.T, s *Store) {
	ctx := context.Background()
	st0, err := s.Stamp(ctx)
	if err != nil {
		t.Fatalf("Stamp: %v", err)
	}
	if list, err := s.List(ctx); err != nil || len(list) != 0 {
		t.Fatalf("List of empty store = %v, %v", list, err)
	}
	for _, n := range []string{"zeta", "alpha", "mid"} {
		if err := s.PutMeta(ctx, testSession(n, testSecrets(n, 1), testNow)); err != nil {
			t.Fatalf("PutMeta %s: %v", n, err)
		}
	}
	list, err := s.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var names []string
	for _, se := range list {
		names = append(names, se.Name)
	}
	if strings.Join(names, ",") != "alpha,mid,zeta" {
		t.Fatalf("List names = %v, want sorted alpha,mid,zeta", names)
	}
	st1, _ := s.Stamp(ctx)
	if st1 == st0 {
		t.Fatalf("Stamp unchanged after writes: %q", st1)
	}
	if st2, _ := s.Stamp(ctx); st2 != st1 {
		t.Fatalf("Stamp changed without a write: %q then %q", st1, st2)
	}
	se := list[0]
	se.Refreshes++
	if err := s.PutMeta(ctx, se); err != nil {
		t.Fatal(err)
	}
	if st3, _ := s.Stamp(ctx); st3 == st1 {
		t.Fatalf("Stamp unchanged after PutMeta: %q", st3)
	}
}

func TestMemoryLockExcludesGoroutines(t *testing.T) {
	testLockExcludesGoroutines(t, openMemory(t))
}

func testLockExcludesGoroutines(t *testing.T, s *Store) {
	ctx := context.Background()
	unlock, err := s.Lock(ctx, "locked")
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	// A second taker times out, naming the session.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err = s.Lock(short, "locked")
	cancel()
	if !errors.Is(err, auth.ErrLockTimeout) || !strings.Contains(err.Error(), `"locked"`) {
		t.Fatalf("second Lock = %v, want ErrLockTimeout naming the session", err)
	}
	// Another session is independent.
	other, err := s.Lock(ctx, "other")
	if err != nil {
		t.Fatalf("Lock other session: %v", err)
	}
	other()
	// Waiters get the lock one at a time after release.
	var mu sync.Mutex
	inside, maxInside := 0, 0
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, err := s.Lock(ctx, "locked")
			if err != nil {
				t.Errorf("waiter Lock: %v", err)
				return
			}
			mu.Lock()
			inside++
			if inside > maxInside {
				maxInside = inside
			}
			mu.Unlock()
			time.Sleep(time.Millisecond)
			mu.Lock()
			inside--
			mu.Unlock()
			u()
		}()
	}
	unlock()
	unlock() // idempotent: must not release someone else's hold
	wg.Wait()
	if maxInside != 1 {
		t.Fatalf("%d holders at once, want 1", maxInside)
	}
}

func TestMemoryAudit(t *testing.T) {
	s := openMemory(t)
	for i := 0; i < memAuditSize+10; i++ {
		n := "a"
		if i%2 == 1 {
			n = "b"
		}
		if err := s.Record(auth.Event{Time: testNow.Add(time.Duration(i) * time.Second), Session: n, Kind: auth.EventRefreshed, Status: i}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.Events("", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != memAuditSize || all[0].Status != 10 || all[len(all)-1].Status != memAuditSize+9 {
		t.Fatalf("ring holds %d events from %d to %d, want the newest %d", len(all), all[0].Status, all[len(all)-1].Status, memAuditSize)
	}
	b, _ := s.Events("b", 3)
	if len(b) != 3 || b[0].Status != memAuditSize+5 || b[2].Status != memAuditSize+9 {
		t.Fatalf("Events(b, 3) = %+v", b)
	}
}

func TestScrubText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"refresh: token rejected (HTTP 401; requestId 550e8400-e29b-41d4-a716-446655440000)", ""},
		{"POST https://platform-oauth.convirza.com/oauth/token: connection reset", ""},
		{"dial tcp 127.0.0.1:8787: connect: connection refused", ""},
		{"digest 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", ""},
		{"got abcdefghijklmnopqrstuvwxyz012345 back", "got [redacted " + auth.Fingerprint("abcdefghijklmnopqrstuvwxyz012345") + "] back"},
		{"jwt eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.sig!", "jwt [redacted " + auth.Fingerprint("eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.sig") + "]!"},
	} {
		want := c.want
		if want == "" {
			want = c.in
		}
		if got := scrubText(c.in); got != want {
			t.Errorf("scrubText(%q) = %q, want %q", c.in, got, want)
		}
	}
}

func TestRecordScrubsTokens(t *testing.T) {
	s := openMemory(t)
	tok := "eyJhbGciOiJIUzI1NiJ9.eyJ0b2tlbklkIjoxMjM0NTY3fQ.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWc"
	err := s.Record(auth.Event{Session: "x", Kind: auth.EventFailed, OldFP: tok, NewFP: auth.Fingerprint("n"),
		Message: "refresh failed for " + tok + " (HTTP 401)", RequestID: "req-123"})
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := s.Events("x", 0)
	if len(ev) != 1 {
		t.Fatalf("%d events", len(ev))
	}
	e := ev[0]
	if e.OldFP != auth.Fingerprint(tok) || e.NewFP != auth.Fingerprint("n") || e.RequestID != "req-123" {
		t.Fatalf("fingerprints/request id = %q %q %q", e.OldFP, e.NewFP, e.RequestID)
	}
	if strings.Contains(e.Message, "eyJ") || !strings.Contains(e.Message, "(HTTP 401)") || !strings.Contains(e.Message, auth.Fingerprint(tok)) {
		t.Fatalf("message not scrubbed: %q", e.Message)
	}
	if e.Time.IsZero() {
		t.Fatal("Record did not stamp the time")
	}
}

// validName is the rule its comment states as a regular expression.
func TestValidNameIsTheRegexp(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$`)
	names := []string{"", "a", "_", ".a", "-a", "a.", "a-b_c.D9", "a b", "a/b", "é", "a\x00", strings.Repeat("a", 64), strings.Repeat("a", 65), "0", "s00001", "x.json.tmp"}
	for c := 0; c < 256; c++ {
		names = append(names, string(rune(c)), "a"+string([]byte{byte(c)}))
	}
	for _, n := range names {
		if got, want := validName(n), re.MatchString(n); got != want {
			t.Errorf("validName(%q) = %v, the regexp says %v", n, got, want)
		}
	}
}
