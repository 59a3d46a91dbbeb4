package storage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
)

func TestDecodeSecretsRefusesUnusablePairs(t *testing.T) {
	for _, tc := range []struct{ name, data string }{
		{"empty object", `{}`},
		{"no refresh token", `{"access_token":"a"}`},
		{"no access token", `{"refresh_token":"r"}`},
		{"garbage", `not json at all`},
		{"a JSON string", `"secret"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeSecrets("s", []byte(tc.data))
			if !errors.Is(err, auth.ErrSecretUnusable) {
				t.Fatalf("decodeSecrets(%s) = %v, want ErrSecretUnusable", tc.data, err)
			}
			if strings.Contains(err.Error(), tc.data) && len(tc.data) > 2 {
				t.Fatalf("the error quotes the stored value: %v", err)
			}
		})
	}
	if sec, err := decodeSecrets("s", []byte(`{"access_token":"a","refresh_token":"r"}`)); err != nil || sec.RefreshToken != "r" {
		t.Fatalf("a usable pair: %v %v", sec, err)
	}
}

func rescuedPair(name string) auth.RescuedPair {
	return auth.RescuedPair{
		Session:       auth.Session{Name: name, AccessFP: "sha256:aaaaaaaa", RefreshFP: "sha256:bbbbbbbb"},
		Secrets:       auth.Secrets{AccessToken: "access-secret", RefreshToken: "refresh-secret"},
		FromRefreshFP: "sha256:cccccccc", Cause: "keyring timed out", At: time.Unix(1e9, 0).UTC(), PID: 42,
	}
}

func TestRescueRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, err := Open(Options{ConfigDir: t.TempDir(), Backend: BackendMemory})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok, err := s.Rescued(ctx, "s"); ok || err != nil {
		t.Fatalf("Rescued before any = %v, %v", ok, err)
	}
	where, err := s.Rescue(ctx, rescuedPair("s"))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(s.ConfigDir(), "rescue", "s.json"); where != want {
		t.Fatalf("kept in %s, want %s", where, want)
	}
	for path, mode := range map[string]os.FileMode{where: 0o600, filepath.Dir(where): 0o700} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != mode {
			t.Fatalf("%s: %v %v, want %v", path, fi, err, mode)
		}
	}
	p, at, ok, err := s.Rescued(ctx, "s")
	if err != nil || !ok || at != where || p.Secrets.RefreshToken != "refresh-secret" || p.FromRefreshFP != "sha256:cccccccc" {
		t.Fatalf("Rescued = %+v %q %v %v", p, at, ok, err)
	}
	if err := s.DropRescued(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	if _, _, ok, _ := s.Rescued(ctx, "s"); ok {
		t.Fatal("still there after DropRescued")
	}
	if err := s.DropRescued(ctx, "s"); err != nil {
		t.Fatalf("dropping none: %v", err)
	}
}

// A damaged rescue file is kept and reported, without its content; a
// symlink in its place is not followed.
func TestRescuedDamagedOrSymlinked(t *testing.T) {
	ctx := context.Background()
	s, err := Open(Options{ConfigDir: t.TempDir(), Backend: BackendMemory})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(s.ConfigDir(), "rescue")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "s.json")
	if err := os.WriteFile(path, []byte(`{"secrets":{"refresh_token":"half-a-secr`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, _, err = s.Rescued(ctx, "s")
	if err == nil || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "half-a-secr") {
		t.Fatalf("damaged rescue file: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the damaged file was not kept: %v", err)
	}

	target := filepath.Join(t.TempDir(), "elsewhere.json")
	if _, err := s.Rescue(ctx, rescuedPair("t")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "t.json"), target); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, "t.json")); err != nil {
		t.Fatal(err)
	}
	if _, _, ok, err := s.Rescued(ctx, "t"); ok || err == nil {
		t.Fatalf("a symlinked rescue file was read: ok=%v err=%v", ok, err)
	}
}

func TestRescueNeedsADisk(t *testing.T) {
	s, err := Open(Options{Backend: BackendMemory})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Rescue(context.Background(), rescuedPair("s")); err == nil {
		t.Fatal("a pure memory store claimed to keep a pair aside")
	}
}

// A rescue directory others can write is not used: they could swap the file
// the next run adopts.
func TestRescueRefusesAnUntrustedDir(t *testing.T) {
	ctx := context.Background()
	s, err := Open(Options{ConfigDir: t.TempDir(), Backend: BackendMemory})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(s.ConfigDir(), "rescue")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Rescue(ctx, rescuedPair("s")); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("Rescue into a 0777 dir = %v, want ErrUntrusted", err)
	}
}
