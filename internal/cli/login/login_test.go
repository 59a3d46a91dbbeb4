package login

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
	"github.com/tokentop/tokentop/internal/cli/iostreams"
)

// TestNewCmdLogin stops at the options: what each command line asks for,
// and the mistakes refused before a password is asked for.
func TestNewCmdLogin(t *testing.T) {
	const local = "http://127.0.0.1:8787"
	for _, tc := range []struct {
		args []string
		want Options
		err  string
	}{
		{args: []string{"work", "--email", "me@example.com"},
			want: Options{Name: "work", Email: "me@example.com", Endpoints: auth.Endpoints{OAuthURL: auth.DefaultOAuthURL, APIURL: auth.DefaultAPIURL}}},
		{args: []string{"local", "--email", "me@example.com", "--password-stdin", "--oauth-url", local, "--api-url", local + "/v3"},
			want: Options{Name: "local", Email: "me@example.com", PasswordStdin: true, Endpoints: auth.Endpoints{OAuthURL: local, APIURL: local + "/v3"}}},
		{args: []string{"work"}, err: "login needs --email EMAIL"},
		{args: []string{"--email", "me@example.com"}, err: "needs a session NAME"},
		{args: []string{"bad/name", "--email", "me@example.com"}},
		{args: []string{"work", "--email", "me@example.com", "--oauth-url", "http://example.com"}, err: "plain http"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := cmdutil.New(ios, func(string) string { return "" }, nil)
			var got *Options
			cmd := NewCmdLogin(f, func(o *Options) error { got = o; return nil })
			cmd.SetArgs(tc.args)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			err := cmd.Execute()
			if tc.want.Name == "" {
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
			got.IO, got.Factory, got.EndpointNote = nil, nil, ""
			if *got != tc.want {
				t.Errorf("options %+v, want %+v", *got, tc.want)
			}
		})
	}
}

// Without --password-stdin, login prompts only at a terminal; a "terminal"
// test double gets the prompt, and Ctrl-C there ends the login as an
// interruption (exit 130), with nothing sent.
func TestReadPassword(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tty    bool
		stdin  string
		stdinF bool
		want   string
		err    error
		code   int
	}{
		{name: "pipe with --password-stdin", stdin: "hunter2\nrest\n", stdinF: true, want: "hunter2"},
		{name: "pipe without --password-stdin", stdin: "hunter2\n", code: cmdutil.ExitUsage},
		{name: "terminal", tty: true, stdin: "hunter2\r", want: "hunter2"},
		{name: "terminal, Ctrl-C", tty: true, stdin: "hun\x03", err: iostreams.ErrInterrupted, code: cmdutil.ExitInterrupted},
		{name: "terminal, empty", tty: true, stdin: "\r", code: cmdutil.ExitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios, stdin, _, stderr := iostreams.Test()
			ios.SetStdinTTY(tc.tty)
			stdin.WriteString(tc.stdin)
			cmd := &cobra.Command{}
			cmd.SetContext(context.Background())
			got, err := readPassword(cmd, &Options{IO: ios, Email: "me@example.com", PasswordStdin: tc.stdinF})
			if got != tc.want || (tc.err != nil && !errors.Is(err, tc.err)) || cmdutil.ExitCode(err) != tc.code {
				t.Fatalf("readPassword = %q, %v (exit %d); want %q, %v (exit %d)", got, err, cmdutil.ExitCode(err), tc.want, tc.err, tc.code)
			}
			if tc.tty && !strings.HasPrefix(stderr.String(), "Password for me@example.com: ") {
				t.Errorf("stderr %q: want the prompt", stderr.String())
			}
			if strings.Contains(stderr.String(), "hun") {
				t.Errorf("the password reached stderr: %q", stderr.String())
			}
		})
	}
}
