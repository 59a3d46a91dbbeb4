// Package login is `tokentop login`: log in with email and password and
// save the session.
package login

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
	"github.com/tokentop/tokentop/internal/cli/iostreams"
	"github.com/tokentop/tokentop/internal/present"
	"github.com/tokentop/tokentop/storage"
)

// Options are login's inputs.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory

	Name          string
	Email         string
	PasswordStdin bool
	Endpoints     auth.Endpoints
	// EndpointNote is said after logging in (see cmdutil.EndpointNote).
	EndpointNote string
}

// NewCmdLogin builds the command; runF, when not nil, runs instead of the
// login itself (tests stop at the parsed options).
func NewCmdLogin(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		DisableFlagsInUseLine: true,
		Use:                   "login NAME --email EMAIL [--password-stdin] [--oauth-url U] [--api-url U]",
		Short:                 "Log in with email and password and save the session as NAME",
		Long: `Log in to Convirza V3 with an email and password, and save the token pair as the
session NAME (replacing any session of that name). The tokens go to secret
storage; what is not secret (user, role, org, expiries) goes to the session's
metadata.

The password is never a flag value (it would land in shell history and ps):
it is read with a no-echo prompt when stdin is a terminal, or from the first
line of stdin with --password-stdin. Ctrl-C at the prompt stops with exit 130.`,
		Example: `  tokentop login work --email me@example.com
  pass show convirza | tokentop login work --email me@example.com --password-stdin
  tokentop login local --email demo@example.com --oauth-url http://127.0.0.1:8787 --api-url http://127.0.0.1:8787/v3`,
		Args:              cmdutil.ExactArgs(1, "a session NAME"),
		ValidArgsFunction: cmdutil.CompleteSessionName(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if err := storage.ValidateName(opts.Name); err != nil {
				return err
			}
			if strings.TrimSpace(opts.Email) == "" {
				return cmdutil.NewUsageError(errors.New("login needs --email EMAIL"))
			}
			if err := auth.CheckEndpoints(opts.Endpoints); err != nil {
				return cmdutil.NewUsageError(err)
			}
			opts.EndpointNote = cmdutil.EndpointNote(cmd, opts.Endpoints)
			if runF != nil {
				return runF(opts)
			}
			return loginRun(cmd, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Email, "email", "", "the account's email address (required)")
	fl.BoolVar(&opts.PasswordStdin, "password-stdin", false, "read the password from the first line of stdin instead of prompting")
	cmdutil.AddEndpointFlags(cmd, &opts.Endpoints)
	return cmd
}

func loginRun(cmd *cobra.Command, opts *Options) error {
	ctx := cmd.Context()
	f, name := opts.Factory, opts.Name
	// Before the password is typed (the keeper checks again before it is
	// sent): a store that cannot keep the pair wastes both.
	if err := f.CheckCanStore(ctx, "login "+name+": nothing was sent", name); err != nil {
		return err
	}
	password, err := readPassword(cmd, opts)
	if err != nil {
		return err
	}
	k, err := f.Keeper()
	if err != nil {
		return err
	}
	prev := f.Previous(ctx, name)
	s, err := k.Login(ctx, name, opts.Endpoints, opts.Email, password)
	if err != nil {
		return loginError(name, opts.Email, err, f.Now())
	}
	w := opts.IO.ErrOut
	fmt.Fprintf(w, "Logged in as %s; saved as session %q.\n", present.Who(s), name)
	present.WriteExpiries(w, s, f.Now())
	present.WriteReplacedNote(w, prev, s)
	fmt.Fprint(w, opts.EndpointNote)
	return nil
}

// readPassword gets the password: from stdin with --password-stdin, else
// from the no-echo prompt when stdin is a terminal. It never falls back to
// reading a non-terminal stdin silently, so a forgotten flag fails loudly.
func readPassword(cmd *cobra.Command, opts *Options) (string, error) {
	if opts.PasswordStdin {
		return cmdutil.SecretFromStdin(opts.IO.In, "password")
	}
	if !opts.IO.IsStdinTTY() {
		return "", cmdutil.NewUsageError(errors.New("stdin is not a terminal, so there is no one to prompt for the password: " +
			"pipe it in with --password-stdin, e.g. `pass show convirza | tokentop login NAME --email E --password-stdin`"))
	}
	pw, err := opts.IO.ReadSecret(cmd.Context(), fmt.Sprintf("Password for %s: ", opts.Email))
	if errors.Is(err, iostreams.ErrInterrupted) {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("read the password: %w", err)
	}
	if strings.TrimSpace(pw) == "" {
		return "", cmdutil.NewUsageError(errors.New("empty password"))
	}
	return pw, nil
}
