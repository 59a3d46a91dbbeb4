package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	dbus "github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"

	"github.com/tokentop/tokentop/auth"
)

// keyringService is the Secret Service "service" attribute of our items;
// the account ("username" attribute) is the store's identity, a slash and
// the session name (see keyringAccount).
const keyringService = "tokentop"

// keyringAccount is the account of a session's item: the keyring is shared
// by every config dir of the user, so the account names the store too, and
// two config dirs with a session of the same name never share an item.
// Items saved before that have the session name alone as their account
// (legacy items, see Store.adoptLegacy).
func keyringAccount(storeID, name string) string { return storeID + "/" + name }

// keyringAPI is the part of go-keyring we use, so tests can substitute a
// keyring that blocks or fails.
type keyringAPI interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

// osKeyring calls the OS keyring through go-keyring (on Linux the Secret
// Service over the D-Bus session bus).
type osKeyring struct{}

func (osKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (osKeyring) Set(service, user, pass string) error     { return keyring.Set(service, user, pass) }
func (osKeyring) Delete(service, user string) error        { return keyring.Delete(service, user) }

// keyringSecrets keeps each pair as one keyring item: service "tokentop",
// account = keyringAccount(store id, session name), value = the JSON of
// storedSecrets.
//
// Every call runs in its own goroutine bounded by timeout, because a locked
// keyring can wait forever on an unlock prompt and a dead D-Bus peer may
// never answer. A call that times out is abandoned (its goroutine finishes
// or stays blocked in go-keyring), and an abandoned Set may still complete
// later, when the keyring is unlocked. Calls for one session therefore run
// strictly one after another in the order they were made: otherwise a
// late-completing older Set could overwrite a newer pair saved after it, and
// the newest refresh token (the only one the server still accepts) would be
// lost.
type keyringSecrets struct {
	service string
	timeout time.Duration
	kr      keyringAPI
	// busCheck reports why there is no session bus to talk to (nil: go on).
	busCheck func() error
	// storeID returns the store's identity, part of every account.
	storeID func() (string, error)

	mu   sync.Mutex
	tail map[string]chan struct{} // per session: closed when its last queued call ends
}

func newKeyringSecrets(service string, timeout time.Duration, storeID func() (string, error)) *keyringSecrets {
	return &keyringSecrets{service: service, timeout: timeout, kr: osKeyring{}, busCheck: sessionBusCheck, storeID: storeID}
}

// sessionBusCheck refuses to go on when there is no session bus address
// and no /run/user/<uid>/bus socket, the cases where godbus would fall back
// to "dbus-launch --autolaunch": that spawns a dbus-daemon (and, through
// activation, a keyring daemon with a new locked keyring) that outlives us
// and cannot be unlocked without a desktop. Saying "no Secret Service" is
// both truer and more useful.
func sessionBusCheck() error {
	if runtime.GOOS != "linux" {
		return nil
	}
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return nil
	}
	if _, err := os.Stat(fmt.Sprintf("/run/user/%d/bus", os.Getuid())); err == nil {
		return nil
	}
	return errors.New("no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set and /run/user/UID/bus does not exist")
}

type keyringResult struct {
	val string
	err error
}

// call runs fn with the timeout and maps its error to a *KeyringError.
func (k *keyringSecrets) call(ctx context.Context, op, name string, fn func() (string, error)) (string, error) {
	if k.busCheck != nil {
		if err := k.busCheck(); err != nil {
			return "", &KeyringError{Op: op, Name: name, Kind: ErrKeyringUnavailable, Err: err}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()
	prev, mine := k.enqueue(name)
	done := make(chan keyringResult, 1) // buffered: an abandoned call must not block forever on send
	go func() {
		if prev != nil {
			<-prev // the session's earlier calls, even abandoned ones, come first
		}
		v, err := fn()
		k.dequeue(name, mine) // before answering, so a caller that got its answer finds its call gone
		done <- keyringResult{v, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return "", classifyKeyringError(op, name, r.err)
		}
		return r.val, nil
	case <-ctx.Done():
		return "", &KeyringError{Op: op, Name: name, Kind: ErrKeyringTimeout,
			Err: fmt.Errorf("no answer within %s: %w", k.timeout, ctx.Err())}
	}
}

// enqueue makes a call the last in name's queue: it returns the channel of
// the call before it (nil when none is pending) and its own, which dequeue
// closes when the call ends.
func (k *keyringSecrets) enqueue(name string) (prev, mine chan struct{}) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.tail == nil {
		k.tail = make(map[string]chan struct{})
	}
	prev = k.tail[name]
	mine = make(chan struct{})
	k.tail[name] = mine
	return prev, mine
}

// dequeue ends a call queued by enqueue, letting the next one run.
func (k *keyringSecrets) dequeue(name string, mine chan struct{}) {
	k.mu.Lock()
	if k.tail[name] == mine {
		delete(k.tail, name) // nothing queued after it: keep the map small
	}
	k.mu.Unlock()
	close(mine)
}

// classifyKeyringError maps what go-keyring returns on Linux: ErrNotFound,
// ErrSetDataTooBig, D-Bus errors from the Secret Service or the bus daemon,
// dial errors when there is no session bus, and go-keyring's own
// "failed to unlock correct collection" when an unlock prompt is dismissed.
func classifyKeyringError(op, name string, err error) error {
	kind := ErrKeyringUnavailable
	var dbusName string
	var de dbus.Error
	var dep *dbus.Error
	switch {
	case errors.As(err, &de):
		dbusName = de.Name
	case errors.As(err, &dep):
		dbusName = dep.Name
	}
	switch {
	case errors.Is(err, keyring.ErrNotFound):
		kind = auth.ErrSecretNotFound
	case errors.Is(err, keyring.ErrSetDataTooBig):
		kind = ErrSecretTooLarge
	case dbusName == "org.freedesktop.Secret.Error.IsLocked",
		strings.Contains(err.Error(), "failed to unlock correct collection"):
		kind = ErrKeyringLocked
	case dbusName == "org.freedesktop.DBus.Error.NoReply", dbusName == "org.freedesktop.DBus.Error.Timeout":
		kind = ErrKeyringTimeout
	}
	if dbusName != "" && !strings.Contains(err.Error(), dbusName) {
		err = fmt.Errorf("%s: %w", dbusName, err)
	}
	return &KeyringError{Op: op, Name: name, Kind: kind, Err: err}
}

// account is name's account in this store.
func (k *keyringSecrets) account(name string) (string, error) {
	id, err := k.storeID()
	if err != nil {
		return "", err
	}
	return keyringAccount(id, name), nil
}

func (k *keyringSecrets) get(ctx context.Context, name string) (auth.Secrets, error) {
	acct, err := k.account(name)
	if err != nil {
		return auth.Secrets{}, err
	}
	return k.getAccount(ctx, name, acct)
}

func (k *keyringSecrets) getAccount(ctx context.Context, name, acct string) (auth.Secrets, error) {
	val, err := k.call(ctx, "get", name, func() (string, error) { return k.kr.Get(k.service, acct) })
	if err != nil {
		return auth.Secrets{}, err
	}
	return decodeSecrets(name, []byte(val))
}

func (k *keyringSecrets) set(ctx context.Context, name string, sec auth.Secrets) error {
	data, err := encodeSecrets(name, sec)
	if err != nil {
		return err
	}
	acct, err := k.account(name)
	if err != nil {
		return err
	}
	_, err = k.call(ctx, "set", name, func() (string, error) { return "", k.kr.Set(k.service, acct, string(data)) })
	return err
}

func (k *keyringSecrets) delete(ctx context.Context, name string) error {
	acct, err := k.account(name)
	if err != nil {
		return err
	}
	return k.deleteAccount(ctx, name, acct)
}

func (k *keyringSecrets) deleteAccount(ctx context.Context, name, acct string) error {
	_, err := k.call(ctx, "delete", name, func() (string, error) { return "", k.kr.Delete(k.service, acct) })
	return err
}

// getLegacy reads the item a tokentop without store identities saved for
// name (account = the name alone). It may belong to any config dir.
func (k *keyringSecrets) getLegacy(ctx context.Context, name string) (auth.Secrets, error) {
	return k.getAccount(ctx, name, name)
}

// deleteLegacy removes the legacy item of name.
func (k *keyringSecrets) deleteLegacy(ctx context.Context, name string) error {
	return k.deleteAccount(ctx, name, name)
}
