package ui

import (
	"context"
	"time"

	"github.com/tokentop/tokentop/auth"
)

// Keeper is what the UI asks of the refresh engine; *auth.Keeper satisfies it,
// and tests use a fake.
type Keeper interface {
	Events() <-chan auth.Event
	Refresh(ctx context.Context, name string) (auth.RefreshResult, error)
	Login(ctx context.Context, name string, ep auth.Endpoints, email, password string) (auth.Session, error)
	Import(ctx context.Context, name string, ep auth.Endpoints, response []byte, opts auth.ImportOptions) (auth.Session, error)
	Revoke(ctx context.Context, name string) (auth.RevokeReport, error)
	Forget(ctx context.Context, name string) error
	SetPaused(ctx context.Context, name string, paused bool) error
	// RevokeToken revokes a pasted token; a saved session holding it is
	// marked revoked (its next 401 is then ours, not a theft).
	RevokeToken(ctx context.Context, ep auth.Endpoints, token string, kind auth.TokenKind) (auth.TokenRevocation, error)
	Probe(ctx context.Context, name string) (auth.ProbeResult, error)
	// Exchanging names the sessions whose refresh request may have reached
	// the server and whose answer is not saved yet; Settled is closed once
	// there are none. Quitting waits for them.
	Exchanging() []string
	Settled() <-chan struct{}
}

// Store is what the UI reads from session storage; *storage.Store satisfies it.
type Store interface {
	List(ctx context.Context) ([]auth.Session, error)
	Secrets(ctx context.Context, name string) (auth.Secrets, error)
	Stamp(ctx context.Context) (string, error)
	Backend() string
	Events(name string, limit int) ([]auth.Event, error)
}

// SecretsChecker is an optional Store capability: SecretsAvailable says
// why secrets cannot be read or saved (no Secret Service, a locked
// keyring), or nil. The UI asks once at start, in a command, and says so
// in the header before anyone tries to copy a token or log in.
type SecretsChecker interface {
	SecretsAvailable(ctx context.Context) error
}

// Config wires the UI. Store, Keeper and Styles are required.
type Config struct {
	Store  Store
	Keeper Keeper
	Styles Styles
	// Clipboard copies tokens; nil copies nothing and says so.
	Clipboard *Clipboard
	// Sessions is the metadata already loaded (so the first frame has rows);
	// Stamp is the store stamp it was loaded at.
	Sessions []auth.Session
	Stamp    string
	// Now is the time of the first frame; later frames use the tick's time.
	Now time.Time
	// Location renders local times (nil: time.Local).
	Location *time.Location
	// Endpoints prefill the login, import and raw-revoke forms
	// (zero: production).
	Endpoints auth.Endpoints
	// DemoURL, when set, is shown in the header: the embedded emulator.
	DemoURL string
	// Status is the first status line (e.g. how to log in to the demo).
	Status string
	// Context bounds every background call; cancel it when the program ends.
	Context context.Context
	// Proxies, when set, shows which sessions a `tokentop proxy` serves
	// and lets P start one (nil: neither).
	Proxies Proxies
	// DisableTick stops the one-second tick (tests drive time themselves).
	DisableTick bool
}

// Timeouts for background work started from the UI.
const (
	callTimeout  = 30 * time.Second
	storeTimeout = 10 * time.Second
)
