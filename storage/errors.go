package storage

import (
	"errors"
	"fmt"

	"github.com/tokentop/tokentop/auth"
)

// Keyring error kinds. A *KeyringError matches exactly one of these (or
// auth.ErrSecretNotFound) with errors.Is; unavailable, locked and timed-out
// errors also match auth.ErrStoreUnavailable, so the command line exits 4.
var (
	ErrKeyringUnavailable = errors.New("no Secret Service available")
	ErrKeyringLocked      = errors.New("keyring is locked")
	ErrKeyringTimeout     = errors.New("keyring did not answer in time")
	ErrSecretTooLarge     = errors.New("secret value too large")
)

// ErrMetadataDamaged is matched by the error for a session record (or legacy sessions.json) that cannot
// be parsed; ErrMetadataTooNew by one written by a newer tokentop.
var (
	ErrMetadataDamaged = errors.New("session index is damaged")
	ErrMetadataTooNew  = errors.New("session index was written by a newer tokentop")
)

// ErrBackendMismatch is matched when a login or import would save a
// session's new pair in another backend than the one holding its current
// pair (it also matches auth.ErrStoreUnavailable: exit 4).
var ErrBackendMismatch = errors.New("the session's tokens are in another storage backend")

// ErrInsecureFile is matched when secrets.json is readable by group or others.
var ErrInsecureFile = errors.New("secrets file is readable by other users")

// KeyringError is a failed keyring call. It never holds a secret value.
type KeyringError struct {
	Op   string // "get", "set", "delete"
	Name string // session name
	Kind error  // ErrKeyringUnavailable, ErrKeyringLocked, ErrKeyringTimeout, ErrSecretTooLarge or auth.ErrSecretNotFound
	Err  error  // the cause from go-keyring / D-Bus, may be nil
}

// Error says what failed, why, and what to do about it.
func (e *KeyringError) Error() string {
	msg := fmt.Sprintf("keyring %s session %q: %v", e.Op, e.Name, e.Kind)
	if e.Err != nil && !errors.Is(e.Err, e.Kind) {
		msg += fmt.Sprintf(" (%v)", e.Err)
	}
	return msg + ": " + keyringHint(e.Kind)
}

// keyringHint says what the user can do about each kind of failure.
func keyringHint(kind error) string {
	switch kind {
	case auth.ErrSecretNotFound:
		return "its tokens are not in the keyring; log in again or import"
	case ErrKeyringUnavailable:
		// A session's tokens stay in the backend they were saved in, so
		// another --storage helps only new sessions.
		return "start a Secret Service (see README 'Keyring on headless Linux'), or keep new sessions in a file knowingly (--storage file)"
	case ErrKeyringLocked:
		return "unlock your keyring (e.g. log in to the desktop or run your keyring's unlock command) and try again"
	case ErrKeyringTimeout:
		return "the keyring may be waiting for an unlock prompt or D-Bus may be stuck; unlock your keyring or start a Secret Service, then try again"
	case ErrSecretTooLarge:
		return "the token pair is larger than tokentop stores; check what was imported"
	}
	return "check your Secret Service"
}

// Is matches the kind, and auth.ErrStoreUnavailable for the kinds that mean
// the keyring cannot be used right now.
func (e *KeyringError) Is(target error) bool {
	if target == e.Kind {
		return true
	}
	if target == auth.ErrStoreUnavailable {
		return e.Kind == ErrKeyringUnavailable || e.Kind == ErrKeyringLocked || e.Kind == ErrKeyringTimeout
	}
	return false
}

// Unwrap exposes the cause (a dbus.Error, a dial error, context errors...).
func (e *KeyringError) Unwrap() error { return e.Err }

// validName is the session name rule: 1-64 letters, digits, '.', '_', '-',
// not starting with '.' or '-' (no hidden files, no flag look-alikes). It
// is the regular expression ^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$ written
// out: listing checks every directory entry, and the regexp was a tenth
// of `tokentop list` at 10,000 sessions.
func validName(name string) bool {
	if len(name) == 0 || len(name) > 64 || name[0] == '.' || name[0] == '-' {
		return false
	}
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// maxShownBadName is the longest bad name an error quotes.
const maxShownBadName = 32

// ValidateName checks a session name: 1-64 of letters, digits, '.', '_', '-'.
func ValidateName(name string) error {
	if validName(name) {
		return nil
	}
	const rule = "use 1-64 ASCII letters, digits, '.', '_' or '-', not starting with '.' or '-'"
	if len(name) > maxShownBadName {
		// A long bad name is most often a token pasted where a name
		// belongs (tokentop inspect TOKEN): never echo it.
		return fmt.Errorf("%w: the %d-character argument (%s) is not shown, in case it is a token (to inspect a token, use --token - and paste it on stdin); %s",
			auth.ErrInvalidName, len(name), auth.Fingerprint(name), rule)
	}
	return fmt.Errorf("%w %q: %s", auth.ErrInvalidName, name, rule)
}
