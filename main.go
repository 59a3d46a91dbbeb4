// Command tokentop is a terminal session manager and token inspector for the
// Convirza V3 platform. This file only wires the process to the command
// line, which lives in internal/cli (see ARCHITECTURE.md).
package main

import (
	"fmt"
	"os"

	"github.com/tokentop/tokentop/internal/cli/cmdutil"
	"github.com/tokentop/tokentop/internal/cli/iostreams"
	"github.com/tokentop/tokentop/internal/cli/root"
	"github.com/tokentop/tokentop/internal/hardening"
	"github.com/tokentop/tokentop/internal/quietinit"
)

func main() {
	// First, before any secret is in memory.
	if err := hardening.NoCoreDumps(); err != nil {
		fmt.Fprintf(os.Stderr, "tokentop: warning: %v\n", err)
	}
	quietinit.Restore()
	f := cmdutil.New(iostreams.System(), os.Getenv, os.Environ)
	f.HoldAll = cmdutil.HoldAllGC(os.Getenv)
	os.Exit(cmdutil.RunWithSignals(f, root.NewCmdRoot(f), os.Args[1:]))
}
