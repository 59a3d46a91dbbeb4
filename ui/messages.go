package ui

import (
	"time"

	"github.com/tokentop/tokentop/auth"
)

// tickMsg is the once-a-second tick; it carries the time every view uses
// and the store's change stamp read at that time ("" when not read).
type tickMsg struct {
	now      time.Time
	stamp    string
	stampErr error
}

// sessionsMsg is a fresh copy of all sessions' metadata.
type sessionsMsg struct {
	sessions []auth.Session
	stamp    string
	err      error
}

// secretsAvailMsg is the store's answer to whether secrets can be kept.
type secretsAvailMsg struct{ err error }

// keeperEventMsg is one event from the keeper.
type keeperEventMsg struct{ event auth.Event }

// keeperClosedMsg says the keeper's event channel closed.
type keeperClosedMsg struct{}

// settledMsg says that no refresh exchange is in flight any more (a quit
// was waiting for it).
type settledMsg struct{}

// secretsMsg carries one session's tokens for the inspector.
type secretsMsg struct {
	name    string
	secrets auth.Secrets
	err     error
}

// timelineMsg carries one session's recent audit events.
type timelineMsg struct {
	name   string
	events []auth.Event
	err    error
}

// probeMsg is the server's verdict on a session's access token.
type probeMsg struct {
	name   string
	at     time.Time
	result auth.ProbeResult
	err    error
}

// actionDoneMsg reports a finished session action (refresh, pause, forget...).
type actionDoneMsg struct {
	name   string
	action string
	text   string // what to put on the status line
	err    error
}

// revokeDoneMsg reports a finished session revoke.
type revokeDoneMsg struct {
	name   string
	report auth.RevokeReport
	err    error
}

// loginDoneMsg reports a finished login from the form.
type loginDoneMsg struct {
	session auth.Session
	at      time.Time
	err     error
}

// importDoneMsg reports a finished import from the form.
type importDoneMsg struct {
	session auth.Session
	err     error
}

// rawRevokeDoneMsg reports a finished revoke of a pasted token.
type rawRevokeDoneMsg struct {
	fingerprint string
	kind        auth.TokenKind
	rev         auth.TokenRevocation
	err         error
}

// copiedMsg reports a finished copy.
type copiedMsg struct {
	what             string
	fingerprint      string // of the token, for the status line
	valueFP          string // of what was copied, to clear only our own value
	terminal         bool   // OSC 52 written to the terminal
	tmuxSetClipboard string // tmux's set-clipboard option when inside tmux
	native           bool   // also on the native clipboard
	nativeErr        error  // why not, when a native clipboard was tried
	err              error
}

// clipboardClearedMsg reports the clean-up 30 s after a copy.
type clipboardClearedMsg struct {
	fingerprint string
	native      bool   // the native clipboard was emptied
	terminal    bool   // an empty OSC 52 was sent
	tmux        string // tmux's set-clipboard at the copy ("" outside tmux)
}

// pendingClear is the clean-up owed for the newest copy, by fingerprint.
type pendingClear struct {
	due              time.Time // zero: nothing pending
	valueFP, shownFP string
	tmux             string // tmux's set-clipboard at the copy
}

// openDetailMsg asks the root to open the inspector on a session.
type openDetailMsg struct{ name string }
