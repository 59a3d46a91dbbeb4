package cmdutil

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tokentop/tokentop/auth"
)

// NoArgs is a cobra argument check that fails as a usage error, and on a
// command with subcommands names the unknown one and suggests the nearest.
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 && cmd.HasSubCommands() {
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			return UsageErrorf("unknown command %q; did you mean %q? (see %s --help)", args[0], s[0], cmd.CommandPath())
		}
		return UsageErrorf("unknown command %q (see %s --help)", args[0], cmd.CommandPath())
	}
	if len(args) > 0 {
		return UsageErrorf("%s takes no arguments, got %q (see %s --help)", cmd.CommandPath(), args[0], cmd.CommandPath())
	}
	return nil
}

// ExactArgs is a cobra argument check for n arguments, described as what,
// that fails as a usage error.
func ExactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return UsageErrorf("%s takes %s, got %d arguments (see %s --help)", cmd.CommandPath(), what, len(args), cmd.CommandPath())
		}
		if len(args) != n {
			return UsageErrorf("%s needs %s (see %s --help)", cmd.CommandPath(), what, cmd.CommandPath())
		}
		return nil
	}
}

// AddEndpointFlags adds --oauth-url and --api-url, defaulting to production.
func AddEndpointFlags(cmd *cobra.Command, ep *auth.Endpoints) {
	cmd.Flags().StringVar(&ep.OAuthURL, "oauth-url", auth.DefaultOAuthURL, "Convirza OAuth base URL")
	cmd.Flags().StringVar(&ep.APIURL, "api-url", auth.DefaultAPIURL, "Convirza API base URL")
}

// EndpointNote points out a half-given pair of base URLs, or returns "":
// one flag pointing somewhere (an emulator, staging) while the other stays
// at the production default is almost always a forgotten flag.
func EndpointNote(cmd *cobra.Command, ep auth.Endpoints) string {
	oauth, api := cmd.Flags().Changed("oauth-url"), cmd.Flags().Changed("api-url")
	switch {
	case oauth && !api && ep.APIURL == auth.DefaultAPIURL && ep.OAuthURL != auth.DefaultOAuthURL:
		return fmt.Sprintf("Note: --api-url was not given, so the session's API is production (%s); "+
			"log in again with --api-url to change it.\n", ep.APIURL)
	case api && !oauth && ep.OAuthURL == auth.DefaultOAuthURL && ep.APIURL != auth.DefaultAPIURL:
		return fmt.Sprintf("Note: --oauth-url was not given, so the session refreshes at production (%s); "+
			"log in again with --oauth-url to change it.\n", ep.OAuthURL)
	}
	return ""
}
