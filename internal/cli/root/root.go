// Package root builds the tokentop command: the global flags and every
// subcommand, each from its own package.
package root

import (
	"github.com/spf13/cobra"

	"github.com/tokentop/tokentop/internal/cli/cmdutil"
	"github.com/tokentop/tokentop/internal/cli/emulatorcmd"
	"github.com/tokentop/tokentop/internal/cli/execcmd"
	"github.com/tokentop/tokentop/internal/cli/forget"
	"github.com/tokentop/tokentop/internal/cli/har"
	"github.com/tokentop/tokentop/internal/cli/importcmd"
	"github.com/tokentop/tokentop/internal/cli/inspect"
	"github.com/tokentop/tokentop/internal/cli/keepalive"
	"github.com/tokentop/tokentop/internal/cli/list"
	"github.com/tokentop/tokentop/internal/cli/login"
	"github.com/tokentop/tokentop/internal/cli/pause"
	"github.com/tokentop/tokentop/internal/cli/proxycmd"
	"github.com/tokentop/tokentop/internal/cli/revoke"
	"github.com/tokentop/tokentop/internal/cli/team"
	"github.com/tokentop/tokentop/internal/cli/token"
	"github.com/tokentop/tokentop/internal/cli/tui"
	"github.com/tokentop/tokentop/internal/cli/version"
	"github.com/tokentop/tokentop/storage"
)

// NewCmdRoot builds the command line over f; the global flags fill in
// f.ConfigDir and f.StorageName.
func NewCmdRoot(f *cmdutil.Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "tokentop",
		Short: "Session manager and token inspector for the Convirza V3 platform",
		Long: `tokentop logs in to Convirza V3 (or imports a token pair), keeps the secrets in the
OS keyring, refreshes before expiry with single-use refresh-token rotation, and lets
you inspect, copy and revoke tokens: in the TUI (run with no command) or from scripts.`,
		SilenceUsage:               true,
		SilenceErrors:              true,
		SuggestionsMinimumDistance: 2,
		Args:                       cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return tui.RunTUI(cmd, f, nil)
		},
		Version: version.String(),
	}
	root.SetVersionTemplate("tokentop {{.Version}}\n")
	storageName := f.Getenv("TOKENTOP_STORAGE")
	if storageName == "" {
		storageName = storage.BackendKeyring
	}
	pf := root.PersistentFlags()
	pf.StringVar(&f.ConfigDir, "config-dir", f.Getenv("TOKENTOP_CONFIG_DIR"),
		"directory for metadata, locks and the audit log (env TOKENTOP_CONFIG_DIR)")
	pf.StringVar(&f.StorageName, "storage", storageName,
		"where secrets live: keyring, file, memory or etcd (env TOKENTOP_STORAGE); --storage file warns on stderr unless TOKENTOP_STORAGE=file")
	etcdPrefix := f.Getenv("TOKENTOP_ETCD_PREFIX")
	if etcdPrefix == "" {
		etcdPrefix = storage.DefaultEtcdPrefix
	}
	// Named as etcdctl names them; the password is never a flag (it would
	// show in ps and shell history): TOKENTOP_ETCD_PASSWORD.
	pf.StringVar(&f.Etcd.Endpoints, "etcd-endpoints", f.Getenv("TOKENTOP_ETCD_ENDPOINTS"),
		"with --storage etcd: the cluster's client URLs, comma-separated (env TOKENTOP_ETCD_ENDPOINTS)")
	pf.StringVar(&f.Etcd.Prefix, "etcd-prefix", etcdPrefix, "with --storage etcd: the key prefix of the team's sessions (env TOKENTOP_ETCD_PREFIX)")
	pf.StringVar(&f.Etcd.CACert, "etcd-cacert", f.Getenv("TOKENTOP_ETCD_CACERT"), "with --storage etcd: CA bundle to verify the cluster (env TOKENTOP_ETCD_CACERT)")
	pf.StringVar(&f.Etcd.Cert, "etcd-cert", f.Getenv("TOKENTOP_ETCD_CERT"), "with --storage etcd: client certificate (env TOKENTOP_ETCD_CERT)")
	pf.StringVar(&f.Etcd.Key, "etcd-key", f.Getenv("TOKENTOP_ETCD_KEY"), "with --storage etcd: client certificate's key (env TOKENTOP_ETCD_KEY)")
	pf.StringVar(&f.Etcd.User, "etcd-user", f.Getenv("TOKENTOP_ETCD_USER"),
		"with --storage etcd: etcd user name; the password comes from TOKENTOP_ETCD_PASSWORD (env TOKENTOP_ETCD_USER)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return cmdutil.NewUsageError(err) })
	root.AddCommand(
		tui.NewCmdDemo(f, nil),
		emulatorcmd.NewCmdEmulator(f, nil),
		login.NewCmdLogin(f, nil),
		importcmd.NewCmdImport(f, nil),
		list.NewCmdList(f, nil),
		token.NewCmdToken(f, nil),
		token.NewCmdRefresh(f, nil),
		proxycmd.NewCmdProxy(f, nil),
		inspect.NewCmdInspect(f, nil),
		revoke.NewCmdRevoke(f, nil),
		forget.NewCmdForget(f, nil),
		pause.NewCmdPause(f, nil),
		pause.NewCmdResume(f, nil),
		keepalive.NewCmdKeepalive(f, nil),
		execcmd.NewCmdExec(f, nil),
		har.NewCmdHar(f),
		version.NewCmdVersion(f),
		team.NewCmdTeam(f, nil),
	)
	// demo and emulator keep nothing (demo's sessions live in memory, the
	// emulator is a server): their help does not offer the global flags
	// that choose where sessions are kept, which they ignore.
	for _, c := range root.Commands() {
		if c.Name() == "demo" || c.Name() == "emulator" {
			withoutStorageFlags(c)
		}
	}
	return root
}

// withoutStorageFlags hides --storage and --config-dir from cmd's help.
func withoutStorageFlags(cmd *cobra.Command) {
	cmd.SetHelpFunc(func(c *cobra.Command, args []string) {
		for _, name := range []string{"storage", "config-dir", "etcd-endpoints", "etcd-prefix", "etcd-cacert", "etcd-cert", "etcd-key", "etcd-user"} {
			if fl := c.Root().PersistentFlags().Lookup(name); fl != nil {
				fl.Hidden = true
			}
		}
		c.Root().HelpFunc()(c, args)
	})
}
