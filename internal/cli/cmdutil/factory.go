// Package cmdutil is what every command shares: the Factory (streams,
// environment, clock, and the store and keeper opened on demand), exit
// codes and the errors that carry them, argument checks, common flags and
// session-name completion, and running a command line as the process.
package cmdutil

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/cli/iostreams"
	"github.com/tokentop/tokentop/internal/safetext"
	"github.com/tokentop/tokentop/storage"
)

// Factory carries what commands need from the outside world. One Factory
// serves one command line; tests build one per run over test streams and
// an environment of their own, so runs can go in parallel in one process.
type Factory struct {
	IOStreams *iostreams.IOStreams
	// Getenv reads the environment; commands never call os.Getenv.
	Getenv func(string) string
	// Environ is the whole environment, for a child process (exec).
	Environ func() []string
	// Now is the clock.
	Now func() time.Time

	// ConfigDir and StorageName are the global flags (--config-dir,
	// --storage), bound by the root command.
	ConfigDir   string
	StorageName string
	// Etcd holds the --etcd-* flags, used with --storage etcd.
	Etcd EtcdFlags

	// HoldAll, when set, is called by a command that is about to read
	// every session and hold them until it exits (list): the process may
	// stop collecting garbage that cannot exist yet. main sets it (see
	// HoldAllGC); tests leave it nil, since the runtime's settings belong
	// to the whole test process.
	HoldAll func()

	// signalsHandedOff: the command takes the signals (HandOffSignals).
	signalsHandedOff atomic.Bool
	signalsSeen      atomic.Int32

	store *storage.Store
	// kp is the command's keeper once built, read by the signal handler to
	// learn whether stopping now would abandon a refresh.
	kp atomic.Pointer[auth.Keeper]
	// showsEvents is set while the command shows every keeper event itself
	// (the TUI, keepalive), so urgentEvent stays quiet.
	showsEvents atomic.Bool
}

// New builds a Factory over the given streams and environment.
func New(ios *iostreams.IOStreams, getenv func(string) string, environ func() []string) *Factory {
	return &Factory{IOStreams: ios, Getenv: getenv, Environ: environ, Now: time.Now}
}

// Store opens the session store chosen by the global flags, once.
func (f *Factory) Store() (*storage.Store, error) {
	if f.store != nil {
		return f.store, nil
	}
	switch f.StorageName {
	case storage.BackendKeyring, storage.BackendFile, storage.BackendMemory, storage.BackendEtcd:
	default:
		return nil, UsageErrorf("--storage %q: choose keyring, file, memory or etcd", f.StorageName)
	}
	dir := f.ConfigDir
	if f.StorageName == storage.BackendMemory {
		// Memory means nothing outlives the process: metadata on disk would
		// describe secrets that vanished with it.
		dir = ""
	} else if dir == "" {
		d, err := storage.DefaultConfigDir()
		if err != nil {
			return nil, fmt.Errorf("find the config directory (set --config-dir or TOKENTOP_CONFIG_DIR): %w", err)
		}
		dir = d
	}
	opts := storage.Options{ConfigDir: dir, Backend: f.StorageName, RuntimeDir: f.Getenv("XDG_RUNTIME_DIR")}
	if f.StorageName == storage.BackendEtcd {
		opts.Etcd = f.etcdOptions()
	}
	s, err := storage.Open(opts)
	if err != nil {
		return nil, err
	}
	stderr := f.IOStreams.ErrOut
	for _, w := range s.Warnings() {
		fmt.Fprintf(stderr, "tokentop: warning: %s\n", safetext.Lines(w)) // paths from the environment
	}
	// The file backend keeps tokens in plain text. A --storage file flag may
	// be copied from an example without a second thought, so each command
	// says where the tokens are; TOKENTOP_STORAGE=file in the environment is
	// a standing choice made once (a CI job, a test machine) and stays quiet.
	if p := s.SecretsPath(); p != "" && f.Getenv("TOKENTOP_STORAGE") != storage.BackendFile {
		fmt.Fprintf(stderr, "tokentop: warning: secrets are stored in %s (a plain file, mode 0600), not the OS keyring; set TOKENTOP_STORAGE=file to make this your standing choice and silence this\n", safetext.Escape(p))
	}
	f.store = s
	return s, nil
}

// EtcdFlags are the --etcd-* global flags, as etcdctl names them.
type EtcdFlags struct {
	Endpoints, Prefix, CACert, Cert, Key, User string
}

// Env is the flags as the environment variables that set them, for a
// child tokentop that must open the same store (the password, never a
// flag, is in the environment already).
func (e EtcdFlags) Env() []string {
	var env []string
	for _, kv := range [][2]string{{"ENDPOINTS", e.Endpoints}, {"PREFIX", e.Prefix}, {"CACERT", e.CACert},
		{"CERT", e.Cert}, {"KEY", e.Key}, {"USER", e.User}} {
		if kv[1] != "" {
			env = append(env, "TOKENTOP_ETCD_"+kv[0]+"="+kv[1])
		}
	}
	return env
}

// etcdOptions turns the flags and the environment into storage's options.
func (f *Factory) etcdOptions() storage.EtcdOptions {
	var eps []string
	for _, ep := range strings.Split(f.Etcd.Endpoints, ",") {
		if ep = strings.TrimSpace(ep); ep != "" {
			eps = append(eps, ep)
		}
	}
	return storage.EtcdOptions{
		Endpoints: eps, Prefix: f.Etcd.Prefix,
		CACert: f.Etcd.CACert, Cert: f.Etcd.Cert, Key: f.Etcd.Key,
		User: f.Etcd.User, Password: f.Getenv("TOKENTOP_ETCD_PASSWORD"),
		IdentityFile: f.Getenv("TOKENTOP_TEAM_IDENTITY"),
	}
}

// CloseStore lets go of the store (keyring connection, files), if open; a
// later Store opens it again.
func (f *Factory) CloseStore() {
	if f.store != nil {
		_ = f.store.Close()
		f.store = nil
	}
}

// Client is the Convirza client over the default HTTP transport.
func (f *Factory) Client() *auth.Client { return auth.NewClient(nil, nil) }

// Keeper builds a keeper over the opened store with the factory's network;
// the store is also its audit log and its rescue for pairs it cannot save.
func (f *Factory) Keeper() (*auth.Keeper, error) {
	s, err := f.Store()
	if err != nil {
		return nil, err
	}
	k := auth.NewKeeper(auth.KeeperConfig{
		Store:   s,
		Client:  f.Client(),
		Audit:   s,
		Rescue:  s,
		OnEvent: f.urgentEvent,
	})
	f.UseKeeper(k)
	return k, nil
}

// UseKeeper tells the signal handler which keeper the command runs, for a
// command that builds its own (demo).
func (f *Factory) UseKeeper(k *auth.Keeper) { f.kp.Store(k) }

// ShowEvents says whether the command prints every keeper event itself
// (then urgent ones are not printed twice).
func (f *Factory) ShowEvents(on bool) { f.showsEvents.Store(on) }

// exchanging names the sessions whose refresh may be at the server now.
func (f *Factory) exchanging() []string {
	if k := f.kp.Load(); k != nil {
		return k.Exchanging()
	}
	return nil
}

// urgentEvent prints, as it happens, what a user must see before the
// command ends: a new pair whose save is being retried for up to a minute.
func (f *Factory) urgentEvent(e auth.Event) {
	if f.showsEvents.Load() {
		return
	}
	// A pair kept aside is told by the command's error, which names the file.
	if e.Kind == auth.EventSaveRetrying {
		fmt.Fprintf(f.IOStreams.ErrOut, "tokentop: session %q: %s\n", e.Session, safetext.Lines(e.Message))
	}
}

// CheckCanStore checks that a new pair for name could be saved, before the
// command asks for anything (see auth.SessionStore.CanStore); what starts
// the error when it cannot.
func (f *Factory) CheckCanStore(ctx context.Context, what, name string) error {
	st, err := f.Store()
	if err != nil {
		return err
	}
	if err := st.CanStore(ctx, name); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// Previous is the session a login or import is about to replace (zero when
// none, or when it cannot be read: the note about it is then left out).
func (f *Factory) Previous(ctx context.Context, name string) auth.Session {
	st, err := f.Store()
	if err != nil {
		return auth.Session{}
	}
	prev, err := st.Get(ctx, name)
	if err != nil {
		return auth.Session{}
	}
	return prev
}
