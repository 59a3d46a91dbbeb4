package har

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokentop/tokentop/auth/emulator"
	harpkg "github.com/tokentop/tokentop/har"
	"github.com/tokentop/tokentop/har/hartest"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
	"github.com/tokentop/tokentop/internal/cli/iostreams"
)

func factory() (*cmdutil.Factory, *bytes.Buffer, *bytes.Buffer) {
	ios, _, out, errOut := iostreams.Test()
	f := cmdutil.New(ios, func(string) string { return "" }, nil)
	f.StorageName = "memory"
	return f, out, errOut
}

func execute(cmd *cobra.Command, args ...string) error {
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	return cmd.Execute()
}

func writeHAR(t *testing.T, b []byte) string {
	p := filepath.Join(t.TempDir(), "customer.har")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func noSecrets(t *testing.T, rec hartest.Recording, outs ...*bytes.Buffer) {
	t.Helper()
	for _, o := range outs {
		for _, s := range rec.Secrets {
			if strings.Contains(o.String(), s) {
				t.Errorf("output holds a secret (%.4s…)", s)
			}
		}
	}
}

// revoke runs `har revoke` with Retry-After waits recorded, not slept.
func revoke(f *cmdutil.Factory, waits *[]time.Duration, args ...string) error {
	var cmd *cobra.Command
	cmd = NewCmdRevoke(f, func(o *RevokeOptions) error {
		o.Sleep = func(_ context.Context, d time.Duration) error { *waits = append(*waits, d); return nil }
		return revokeRun(cmd, o, cmd.Flags().Changed("oauth-url"))
	})
	return execute(cmd, args...)
}

func TestRevokeKillsEveryTokenHonoursRetryAfterAndIsSafeTwice(t *testing.T) {
	rec, em, srv := hartest.BrowseLive(t, "opaque")
	defer srv.Close()
	file := writeHAR(t, rec.HAR)
	em.FailNext(1, 429) // the first revoke is told to come back in 1 s

	f, out, errOut := factory()
	var waits []time.Duration
	if err := revoke(f, &waits, file, "--yes", "--json"); err != nil {
		t.Fatalf("har revoke: %v\n%s", err, errOut)
	}
	var got RevokeJSON
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if !got.AllDead || got.OAuthURL != srv.URL {
		t.Errorf("all_dead %v at %s, want true at %s", got.AllDead, got.OAuthURL, srv.URL)
	}
	if len(waits) != 1 || waits[0] != time.Second {
		t.Errorf("waited %v, want one wait of 1s (Retry-After)", waits)
	}
	// Refresh tokens first, then access tokens; frontend tokens are not revocable.
	if n := len(got.Tokens); n != 14 || got.Tokens[0].Kind != "refresh" || got.Tokens[n-1].Kind != "access" {
		t.Errorf("outcomes %+v, want 7 refresh then 7 access", got.Tokens)
	}
	for i, tok := range rec.Tokens {
		kind := []string{emulator.KindAccess, emulator.KindRefresh, ""}[i%3]
		if kind != "" && em.Valid(tok, kind) {
			t.Errorf("%s token %d still valid at the server", kind, i)
		}
	}
	noSecrets(t, rec, out, errOut)

	f2, out2, errOut2 := factory()
	if err := revoke(f2, &waits, file, "--yes"); err != nil {
		t.Fatalf("second har revoke: %v\n%s", err, errOut2)
	}
	if !strings.Contains(errOut2.String(), "Every token in the file is dead") {
		t.Errorf("second run stderr: %s", errOut2)
	}
	noSecrets(t, rec, out2, errOut2)
}

func TestRevokeRefusals(t *testing.T) {
	rec := hartest.Browse(t, "opaque")
	file := writeHAR(t, rec.HAR)
	foreign := writeHAR(t, bytes.ReplaceAll(rec.HAR, []byte(strings.TrimPrefix(rec.OAuthURL, "http://")), []byte("auth.example.net")))
	var waits []time.Duration
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{file}, "run again with --yes"},
		{[]string{"-", "--yes"}, "not a HAR file"},
		{[]string{foreign, "--yes"}, "name it with --oauth-url http://auth.example.net"},
	} {
		f, _, _ := factory()
		err := revoke(f, &waits, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("har revoke %v: %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestSanitizeWritesACleanCopyAndKeepsTheOriginal(t *testing.T) {
	rec := hartest.Browse(t, "jwt")
	file := writeHAR(t, rec.HAR)
	dst := filepath.Join(filepath.Dir(file), "clean.har")
	f, out, errOut := factory()
	if err := execute(NewCmdSanitize(f, nil), file, "-o", dst); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rec.Secrets {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("sanitised copy holds a secret (%.4s…)", s)
		}
	}
	if st, _ := os.Stat(dst); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	if !strings.Contains(errOut.String(), "replaced") || !strings.Contains(errOut.String(), "password") {
		t.Errorf("stderr %q does not say what was replaced", errOut)
	}
	noSecrets(t, rec, out, errOut)
	if orig, _ := os.ReadFile(file); !bytes.Equal(orig, rec.HAR) {
		t.Error("the original changed")
	}
	f, _, _ = factory()
	if err := execute(NewCmdSanitize(f, nil), file, "-o", file); err == nil || !strings.Contains(err.Error(), "is the input file") {
		t.Errorf("sanitize -o onto its input: %v", err)
	}
}

func TestAnalyzeProbeMarksLiveAndDead(t *testing.T) {
	rec, _, srv := hartest.BrowseLive(t, "opaque")
	defer srv.Close()
	file := writeHAR(t, rec.HAR)
	f, out, errOut := factory()
	if err := execute(NewCmdAnalyze(f, nil), file, "--probe", "--json"); err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	var rep harpkg.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, tok := range rep.Tokens {
		if tok.Kind == harpkg.KindAccess {
			seen[tok.Probe]++
		}
	}
	// The emulator's clock ran a minute ahead at the end: only the pair
	// issued then is still alive.
	if seen["LIVE"] != 1 || seen["dead"] != 6 {
		t.Errorf("probe results %v, want 1 LIVE and 6 dead", seen)
	}
	noSecrets(t, rec, out, errOut)
}

// TestHarFileWithoutATerminalPrintsTheReport: `har FILE` opens the view
// only on a terminal; in a pipe it prints what `har analyze` prints.
func TestHarFileWithoutATerminalPrintsTheReport(t *testing.T) {
	rec := hartest.Browse(t, "opaque")
	p := writeHAR(t, rec.HAR)
	f, out, errOut := factory()
	if err := execute(NewCmdHar(f), p); err != nil {
		t.Fatal(err)
	}
	f2, want, _ := factory()
	if err := execute(NewCmdAnalyze(f2, nil), p); err != nil {
		t.Fatal(err)
	}
	if out.String() != want.String() || out.Len() == 0 {
		t.Errorf("har FILE printed:\n%s\nwant what har analyze prints:\n%s", out, want)
	}
	noSecrets(t, rec, out, errOut)
}

// A run stopped part way (Ctrl-C) still says what it had revoked.
func TestRevokeStoppedReportsWhatWasDone(t *testing.T) {
	f, out, _ := factory()
	opts := &RevokeOptions{IO: f.IOStreams, Factory: f, JSON: true}
	done := []Outcome{{Fingerprint: "sha256:0000aaaa", Kind: "refresh", Dead: true, Result: "revoked"}}
	err := stopped(opts, "http://127.0.0.1:1", newProgress(io.Discard, false, 2), done, context.Canceled)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped = %v, want the stop's error", err)
	}
	var got RevokeJSON
	if jerr := json.Unmarshal(out.Bytes(), &got); jerr != nil || len(got.Tokens) != 1 || !got.Tokens[0].Dead {
		t.Fatalf("report after the stop: %v %+v\n%s", jerr, got, out)
	}
}
