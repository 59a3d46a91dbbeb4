// Package har is `tokentop har`: analyse a HAR file's Convirza tokens and
// exchanges, write a sanitised copy, and revoke the tokens it exposed.
package har

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/tokentop/tokentop/auth"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/spf13/cobra"

	harpkg "github.com/tokentop/tokentop/har"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
	"github.com/tokentop/tokentop/internal/cli/iostreams"
	"github.com/tokentop/tokentop/internal/safetext"
	"github.com/tokentop/tokentop/ui"
)

// NewCmdHar builds `har` and its subcommands. `har FILE` alone opens the
// report in a full-screen view on a terminal, and prints it otherwise.
func NewCmdHar(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "har analyze|sanitize|revoke FILE|-",
		Short: "Find, sanitise and revoke the Convirza tokens in a HAR file",
		Long: `har reads a HAR file (the browser's "Save all as HAR"; "-" reads stdin) as a
stream, whatever its size, and works on the Convirza exchanges in it:

  analyze   the tokens by fingerprint, the rotation chain, and what went wrong
  sanitize  a copy with every secret replaced by tokentop:KIND:sha256:XXXXXXXX
  revoke    revoke every token in the file at the server (after a leak)

"tokentop har FILE" alone shows the analysis: on a terminal in a full-screen
view (the timeline of exchanges, the tokens and the findings; ? lists the
keys), else as the text "har analyze" prints.

HAR files carry live tokens, passwords and cookies. Nothing tokentop reads
from one is printed: tokens are named by fingerprint.`,
		Args: cmdutil.ExactArgs(1, "a subcommand, or a HAR FILE to analyse"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := &AnalyzeOptions{IO: f.IOStreams, Factory: f, File: args[0]}
			// The view reads keys from stdin, so a HAR on stdin is printed.
			if out, ok := f.IOStreams.TerminalOut(); ok && opts.File != "-" {
				return viewRun(cmd.Context(), opts, out)
			}
			return analyzeRun(cmd, opts)
		},
	}
	cmd.AddCommand(NewCmdAnalyze(f, nil), NewCmdSanitize(f, nil), NewCmdRevoke(f, nil))
	return cmd
}

// viewRun reads the HAR, then shows its report in the HAR view. The file
// is read whole before the view opens: a large one takes a few seconds,
// said on stderr, and the view never waits on the disk.
func viewRun(ctx context.Context, opts *AnalyzeOptions, out *os.File) error {
	in, err := open(opts.IO, opts.File)
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "reading %s…\n", safetext.Escape(opts.File))
	rep, err := harpkg.Analyze(in)
	in.Close()
	if err != nil {
		return fmt.Errorf("read %s: %w", safetext.Escape(opts.File), err)
	}
	r := lipgloss.NewRenderer(out)
	// As the main TUI does: reuse the background colour Bubble Tea's init
	// settled on rather than ask the terminal again (up to 5 s on one that
	// never answers).
	r.SetHasDarkBackground(lipgloss.HasDarkBackground())
	v := ui.NewHarView(ui.NewStyles(r), filepath.Base(opts.File), rep)
	p := tea.NewProgram(v, tea.WithAltScreen(), tea.WithOutput(out), tea.WithContext(ctx))
	if _, err := p.Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		return fmt.Errorf("run the HAR view: %w", err)
	}
	return nil
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
	return auth.IsLoopback(u.Hostname())
}
