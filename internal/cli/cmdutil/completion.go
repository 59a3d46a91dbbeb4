package cmdutil

import (
	"strings"

	"github.com/spf13/cobra"
)

// CompletionFunc completes a command's arguments.
type CompletionFunc = func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective)

// CompleteSessionName completes the first positional argument (NAME) with
// the saved session names. It reads metadata only (no keyring prompt can
// appear while someone presses Tab), and fails silently: a completion that
// prints errors into the shell line is worse than none.
func CompleteSessionName(f *Factory) CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return sessionNamesExcept(f, cmd, nil, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// CompleteSessionNameUnlessToken is CompleteSessionName for commands whose
// NAME gives way to --token - (inspect, revoke).
func CompleteSessionNameUnlessToken(f *Factory) CompletionFunc {
	names := CompleteSessionName(f)
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if cmd.Flags().Changed("token") {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return names(cmd, args, toComplete)
	}
}

// CompleteSessionNames completes every positional argument with the saved
// session names not given yet, for commands taking NAME... (keepalive).
func CompleteSessionNames(f *Factory) CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return sessionNamesExcept(f, cmd, args, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// sessionNamesExcept lists the saved session names starting with prefix,
// leaving out those in skip.
func sessionNamesExcept(f *Factory, cmd *cobra.Command, skip []string, prefix string) []string {
	s, err := f.Store()
	if err != nil {
		return nil
	}
	sessions, err := s.List(cmd.Context())
	if err != nil {
		return nil
	}
	given := make(map[string]bool, len(skip))
	for _, n := range skip {
		given[n] = true
	}
	var names []string
	for _, se := range sessions {
		if strings.HasPrefix(se.Name, prefix) && !given[se.Name] {
			names = append(names, se.Name)
		}
	}
	return names
}
