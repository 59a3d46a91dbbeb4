package revoke

import (
	"io"
	"strings"
	"testing"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
	"github.com/tokentop/tokentop/internal/cli/iostreams"
)

// TestNewCmdRevoke stops at the options: what each command line asks for,
// and the mistakes refused before anything is read or sent.
func TestNewCmdRevoke(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want Options
		err  string
	}{
		{args: []string{"prod"}, want: Options{Name: "prod", OAuthURL: auth.DefaultOAuthURL}},
		{args: []string{"--token", "-", "--type", "refresh"}, want: Options{TokenStdin: true, Kind: auth.RefreshToken, OAuthURL: auth.DefaultOAuthURL}},
		{args: []string{"--token", "-", "--type", "access", "--oauth-url", "http://127.0.0.1:8787"}, want: Options{TokenStdin: true, Kind: auth.AccessToken, OAuthURL: "http://127.0.0.1:8787"}},
		{args: []string{"--token", "-"}, err: "needs --type access or --type refresh"},
		{args: []string{"--token", "-", "--type", "id"}, err: `--type "id": choose access or refresh`},
		{args: []string{"--token", "eyJhbGciOi"}, err: `--token takes only "-"`},
		{args: []string{"prod", "--token", "-", "--type", "access"}, err: "either a session NAME or --token -"},
		{args: []string{"prod", "--type", "access"}, err: "go with --token -"},
		{args: nil, err: "needs a session NAME, or --token -"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := cmdutil.New(ios, func(string) string { return "" }, nil)
			var got *Options
			cmd := NewCmdRevoke(f, func(o *Options) error { got = o; return nil })
			cmd.SetArgs(tc.args)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			err := cmd.Execute()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || cmdutil.ExitCode(err) != cmdutil.ExitUsage {
					t.Fatalf("err %v (exit %d), want a usage error saying %q", err, cmdutil.ExitCode(err), tc.err)
				}
				if got != nil {
					t.Fatal("ran despite the usage error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.IO, got.Factory = nil, nil
			if *got != tc.want {
				t.Errorf("options %+v, want %+v", *got, tc.want)
			}
		})
	}
}
