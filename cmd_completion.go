package main

import (
	"strings"

	"github.com/spf13/cobra"
)

// completeSessionNames completes the first positional argument (NAME) with
// the saved session names. It reads metadata only (no keyring prompt can
// appear while someone presses Tab), and fails silently: a completion that
// prints errors into the shell line is worse than none.
func (a *app) completeSessionNames(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return a.sessionNamesExcept(cmd, nil, toComplete), cobra.ShellCompDirectiveNoFileComp
}

// completeSessionNameUnlessToken is completeSessionNames for commands whose
// NAME gives way to --token - (inspect, revoke).
func (a *app) completeSessionNameUnlessToken(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if cmd.Flags().Changed("token") {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return a.completeSessionNames(cmd, args, toComplete)
}

// completeSessionNamesMulti completes every positional argument with the
// saved session names not given yet, for commands taking NAME... (keepalive).
func (a *app) completeSessionNamesMulti(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	return a.sessionNamesExcept(cmd, args, toComplete), cobra.ShellCompDirectiveNoFileComp
}

// sessionNamesExcept lists the saved session names starting with prefix,
// leaving out those in skip.
func (a *app) sessionNamesExcept(cmd *cobra.Command, skip []string, prefix string) []string {
	s, err := a.openStore()
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
