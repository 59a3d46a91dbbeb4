// Package version is `tokentop version` and `tokentop --version`: what this
// binary is, from the module's build info (no version string to forget to
// bump).
package version

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tokentop/tokentop/internal/cli/cmdutil"
)

// String is the version line's value: the module version (a tag when
// installed with go install, "(devel)" when built from a checkout), then the
// VCS revision and whether the tree was modified, and the Go version.
func String() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown (no build info in this binary)"
	}
	return fromBuildInfo(info)
}

func fromBuildInfo(info *debug.BuildInfo) string {
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var extra []string
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if settings["vcs.modified"] == "true" {
			rev += ", modified"
		}
		extra = append(extra, "commit "+rev)
	}
	if t := settings["vcs.time"]; t != "" {
		extra = append(extra, t)
	}
	if info.GoVersion != "" {
		extra = append(extra, info.GoVersion)
	}
	if len(extra) == 0 {
		return v
	}
	return v + " (" + strings.Join(extra, ", ") + ")"
}

// NewCmdVersion builds `version`.
func NewCmdVersion(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print tokentop's version (also --version)",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(f.IOStreams.Out, "tokentop "+String())
			return err
		},
	}
}
