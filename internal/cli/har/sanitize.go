package har

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	harpkg "github.com/tokentop/tokentop/har"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
	"github.com/tokentop/tokentop/internal/cli/iostreams"
	"github.com/tokentop/tokentop/internal/safetext"
)

// SanitizeOptions are `har sanitize`'s inputs.
type SanitizeOptions struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory

	File   string
	Output string // "" or "-": stdout
}

// NewCmdSanitize builds `har sanitize`; runF, when not nil, runs instead.
func NewCmdSanitize(f *cmdutil.Factory, runF func(*SanitizeOptions) error) *cobra.Command {
	opts := &SanitizeOptions{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "sanitize FILE|- [-o OUT]",
		Short: "Write a copy of a HAR with every secret replaced by its fingerprint",
		Long: `sanitize writes the same HAR with every secret replaced by a stable placeholder
that names its kind and fingerprint, e.g. tokentop:refresh:sha256:1a2b3c4d:
tokens wherever they appear (headers, cookies, query strings, bodies, URLs),
passwords in login bodies, cookie values and Authorization headers. Everything
else is kept (URLs, statuses, timings, sizes, other bodies), so
"tokentop har analyze" on the copy reports the same chain and findings.

The copy goes to OUT (written whole, then renamed into place, mode 0600) or
to stdout; what was replaced, by kind and count, goes to stderr.

A FILE is read twice, so a token is replaced even where it appears before the
entry that reveals it. Stdin ("-") is read once: tokens are learnt entry by
entry, and a token-shaped value met before the file says what it is is still
replaced when it looks like a JWT, but an opaque one is not; give a file when
you can.`,
		Example: `  tokentop har sanitize customer.har -o customer.sanitised.har
  tokentop har sanitize - < customer.har > clean.har`,
		Args: cmdutil.ExactArgs(1, "a HAR FILE, or - for stdin"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			if opts.Output != "" && opts.Output != "-" && opts.File != "-" && sameFile(opts.File, opts.Output) {
				return cmdutil.UsageErrorf("-o %s is the input file: write the sanitised copy elsewhere, so that the original stays as evidence", safetext.Escape(opts.Output))
			}
			if runF != nil {
				return runF(opts)
			}
			return sanitizeRun(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "write the sanitised HAR to this file (default: stdout)")
	return cmd
}

func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	if err1 == nil && err2 == nil {
		return os.SameFile(sa, sb)
	}
	aa, _ := filepath.Abs(a)
	bb, _ := filepath.Abs(b)
	return aa == bb
}

func sanitizeRun(opts *SanitizeOptions) error {
	var known *harpkg.Report
	if opts.File != "-" {
		in, err := open(opts.IO, opts.File)
		if err != nil {
			return err
		}
		known, err = harpkg.Analyze(in)
		in.Close()
		if err != nil {
			return fmt.Errorf("read %s: %w", safetext.Escape(opts.File), err)
		}
	}
	in, err := open(opts.IO, opts.File)
	if err != nil {
		return err
	}
	defer in.Close()

	var replaced harpkg.Replaced
	if opts.Output == "" || opts.Output == "-" {
		// On stdout a failure halfway leaves a half copy; the error says so.
		replaced, err = harpkg.Sanitize(in, opts.IO.Out, known)
		if err != nil {
			return fmt.Errorf("sanitise %s: %w (the copy written to stdout is incomplete: discard it)", safetext.Escape(opts.File), err)
		}
	} else {
		replaced, err = writeAtomic(opts.Output, func(w io.Writer) (harpkg.Replaced, error) {
			return harpkg.Sanitize(in, w, known)
		})
		if err != nil {
			return fmt.Errorf("sanitise %s: %w", safetext.Escape(opts.File), err)
		}
	}
	writeReplaced(opts.IO.ErrOut, replaced, opts.Output)
	return nil
}

// writeAtomic writes path through a temporary file beside it, renamed into
// place only when complete: a failure never leaves half a copy, nor replaces
// an earlier good one.
func writeAtomic(path string, write func(io.Writer) (harpkg.Replaced, error)) (harpkg.Replaced, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("create the output: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	replaced, err := write(tmp)
	if err != nil {
		return nil, fmt.Errorf("%w (nothing was written to %s)", err, safetext.Escape(path))
	}
	if err := tmp.Sync(); err != nil {
		return nil, fmt.Errorf("write %s: %w", safetext.Escape(path), err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("write %s: %w", safetext.Escape(path), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, fmt.Errorf("write %s: %w", safetext.Escape(path), err)
	}
	done = true
	return replaced, nil
}

func writeReplaced(w io.Writer, r harpkg.Replaced, out string) {
	kinds := make([]string, 0, len(r))
	total := 0
	for k, n := range r {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
		total += n
	}
	sort.Strings(kinds)
	dest := "stdout"
	if out != "" && out != "-" {
		dest = safetext.Escape(out)
	}
	if total == 0 {
		fmt.Fprintf(w, "wrote %s: no secrets found, nothing replaced\n", dest)
		return
	}
	fmt.Fprintf(w, "wrote %s: replaced %d secrets (%s)\n", dest, total, strings.Join(kinds, ", "))
}
