// Package importcmd is `tokentop import`: save a token response read from
// stdin as a session. (import is a Go keyword, hence the name.)
package importcmd

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
	"github.com/tokentop/tokentop/internal/cli/iostreams"
	"github.com/tokentop/tokentop/internal/present"
	"github.com/tokentop/tokentop/storage"
)

// Options are import's inputs.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory

	Name      string
	Endpoints auth.Endpoints
	// KeepAlive lets tokentop refresh the pair from the start; without it
	// the session starts paused.
	KeepAlive bool
	// EndpointNote is said after importing (see cmdutil.EndpointNote).
	EndpointNote string
}

// NewCmdImport builds the command; runF, when not nil, runs instead of the
// import itself.
func NewCmdImport(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		DisableFlagsInUseLine: true,
		Use:                   "import NAME [--keep-alive] [--oauth-url U] [--api-url U] < RESPONSE.json",
		Short:                 "Save a token response (JSON on stdin) as the session NAME",
		Long: `Import a token pair obtained elsewhere: stdin holds the JSON that the login
(/oauth/token) or refresh (/oauth/refresh-token) endpoint returned, either flat
or wrapped in a {"code", "message", "data": {...}} envelope. Expiries may be
ISO-8601 instants or seconds from now. The session NAME is created or replaced.

An imported pair is usually someone else's (a customer's integration), and a
refresh rotates it: the new pair would be here and theirs would stop working. So
the session starts paused (watch-only): nothing refreshes it, not the TUI,
keepalive, token or exec; token prints its access token while it is valid. Resume
it with ` + "`tokentop resume NAME`" + ` (or p in the TUI) when it is yours to keep alive, or
import with --keep-alive to let tokentop refresh it from the start.

Tokens are never accepted as flag values: pipe the JSON in.`,
		Example: `  tokentop import customer-4453 < response.json
  tokentop import work --keep-alive < response.json
  curl -s -X POST https://platform-oauth.convirza.com/oauth/token -H 'Content-Type: application/json' \
      -d @creds.json | tokentop import work
  tokentop import local --oauth-url http://127.0.0.1:8787 --api-url http://127.0.0.1:8787/v3 < response.json`,
		Args:              cmdutil.ExactArgs(1, "a session NAME"),
		ValidArgsFunction: cmdutil.CompleteSessionName(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if err := storage.ValidateName(opts.Name); err != nil {
				return err
			}
			if err := auth.CheckEndpoints(opts.Endpoints); err != nil {
				return cmdutil.NewUsageError(err)
			}
			if opts.IO.IsStdinTTY() {
				return cmdutil.NewUsageError(errors.New("import reads the token response JSON from stdin, which is a terminal " +
					"(pasting would show the tokens): pipe it in, e.g. `tokentop import NAME < response.json`"))
			}
			opts.EndpointNote = cmdutil.EndpointNote(cmd, opts.Endpoints)
			if runF != nil {
				return runF(opts)
			}
			return importRun(cmd, opts)
		},
	}
	cmdutil.AddEndpointFlags(cmd, &opts.Endpoints)
	cmd.Flags().BoolVar(&opts.KeepAlive, "keep-alive", false, "let tokentop refresh the pair from the start (default: paused, watch-only)")
	return cmd
}

func importRun(cmd *cobra.Command, opts *Options) error {
	ctx := cmd.Context()
	f, name := opts.Factory, opts.Name
	if err := f.CheckCanStore(ctx, "import "+name+": nothing was read or saved", name); err != nil {
		return err
	}
	body, err := readResponse(opts.IO.In)
	if err != nil {
		return err
	}
	k, err := f.Keeper()
	if err != nil {
		return err
	}
	prev := f.Previous(ctx, name)
	s, err := k.Import(ctx, name, opts.Endpoints, body, auth.ImportOptions{KeepAlive: opts.KeepAlive})
	if err != nil {
		if errors.Is(err, auth.ErrNotToken) || errors.Is(err, auth.ErrBadResponse) {
			return cmdutil.NewUsageError(fmt.Errorf("%w; e.g. %s", err, responseExample))
		}
		return err
	}
	now := f.Now()
	w := opts.IO.ErrOut
	fmt.Fprintf(w, "Imported %s; saved as session %q.\n", present.Who(s), name)
	present.WriteExpiries(w, s, now)
	expired := present.Describe(s, now).Access.Expired()
	switch {
	case s.Paused && expired:
		fmt.Fprintf(w, "Paused (watch-only), and the access token has already expired: nothing refreshes it until you run `tokentop resume %s`.\n", name)
	case s.Paused:
		fmt.Fprintf(w, "Paused (watch-only): nothing refreshes it; `tokentop token %s` prints the access token while it is valid. "+
			"If the pair is yours to keep alive: `tokentop resume %s`.\n", name, name)
	case expired:
		fmt.Fprintf(w, "The access token has already expired; `tokentop token %s` will refresh it.\n", name)
	}
	present.WriteReplacedNote(w, prev, s)
	fmt.Fprint(w, opts.EndpointNote)
	return nil
}
