// Package har is `tokentop har`: analyse a HAR file's Convirza tokens and
// exchanges, write a sanitised copy, and revoke the tokens it exposed.
package har

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tokentop/tokentop/internal/cli/cmdutil"
	"github.com/tokentop/tokentop/internal/cli/iostreams"
)

// NewCmdHar builds `har` and its subcommands. `har FILE` alone prints the
// analysis (the report the TUI view would show).
func NewCmdHar(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "har analyze|sanitize|revoke FILE|-",
		Short: "Find, sanitise and revoke the Convirza tokens in a HAR file",
		Long: `har reads a HAR file (the browser's "Save all as HAR"; "-" reads stdin) as a
stream, whatever its size, and works on the Convirza exchanges in it:

  analyze   the tokens by fingerprint, the rotation chain, and what went wrong
  sanitize  a copy with every secret replaced by tokentop:KIND:sha256:XXXXXXXX
  revoke    revoke every token in the file at the server (after a leak)

HAR files carry live tokens, passwords and cookies. Nothing tokentop reads
from one is printed: tokens are named by fingerprint.`,
		Args: cmdutil.ExactArgs(1, "a subcommand, or a HAR FILE to analyse"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := &AnalyzeOptions{IO: f.IOStreams, Factory: f, File: args[0]}
			return analyzeRun(cmd, opts)
		},
	}
	cmd.AddCommand(NewCmdAnalyze(f, nil), NewCmdSanitize(f, nil), NewCmdRevoke(f, nil))
	return cmd
}

// open opens the HAR named on the command line ("-" is stdin).
func open(ios *iostreams.IOStreams, name string) (io.ReadCloser, error) {
	if name == "-" {
		return io.NopCloser(ios.In), nil
	}
	fh, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("open the HAR file: %w", err)
	}
	return fh, nil
}

// hostAllowed says whether tokentop may send the file's tokens to base
// without the user naming it: Convirza's own hosts, or this machine.
func hostAllowed(base string) bool {
	u, err := url.Parse(base)
	if err != nil {
		return false
	}
	h := strings.ToLower(u.Hostname())
	if h == "convirza.com" || strings.HasSuffix(h, ".convirza.com") {
		return u.Scheme == "https"
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
