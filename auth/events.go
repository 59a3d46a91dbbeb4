package auth

import "time"

// EventKind names what happened to a session.
type EventKind string

// Event kinds emitted by the keeper and recorded in the audit log.
const (
	EventLogin          EventKind = "login"
	EventImported       EventKind = "imported"
	EventScheduled      EventKind = "scheduled"  // next refresh planned at Event.At
	EventRefreshing     EventKind = "refreshing" // request about to be sent
	EventRefreshed      EventKind = "refreshed"  // OldFP -> NewFP
	EventAdopted        EventKind = "adopted"    // another process had rotated already; NewFP adopted
	EventRetrying       EventKind = "retrying"   // transient failure; next attempt at Event.At
	EventNeedsLogin     EventKind = "needs_login"
	EventReuseSuspected EventKind = "reuse_suspected" // loud: someone else may hold the refresh token
	EventSkew           EventKind = "skew"            // server clock differs by Event.Skew
	EventRevoked        EventKind = "revoked"
	EventForgotten      EventKind = "forgotten"
	EventPaused         EventKind = "paused"
	EventResumed        EventKind = "resumed"
	EventFailed         EventKind = "failed" // an operation failed without changing state
	// EventSaveRetrying: the server issued a pair the store refused; saving
	// is retried until Event.At.
	EventSaveRetrying EventKind = "save_retrying"
	// EventRescued: a pair the store refused was kept aside (see Rescuer).
	EventRescued EventKind = "rescued"
)

// Event is one thing that happened to one session. It carries fingerprints,
// never token values.
type Event struct {
	Time    time.Time `json:"time"`
	Session string    `json:"session"`
	Kind    EventKind `json:"kind"`
	OldFP   string    `json:"old_fingerprint,omitempty"`
	NewFP   string    `json:"new_fingerprint,omitempty"`
	// OldRefreshFP and NewRefreshFP fingerprint the refresh tokens (OldFP
	// and NewFP are the access tokens', except where noted), so the audit
	// log links each rotation to the next and a reuse to the rotation that
	// retired the token.
	OldRefreshFP string        `json:"old_refresh_fingerprint,omitempty"`
	NewRefreshFP string        `json:"new_refresh_fingerprint,omitempty"`
	RequestID    string        `json:"request_id,omitempty"`
	Status       int           `json:"status,omitempty"`
	Reason       Reason        `json:"reason,omitempty"`
	Message      string        `json:"message,omitempty"`
	At           time.Time     `json:"at,omitzero"` // scheduled / next attempt instant
	Skew         time.Duration `json:"skew_ns,omitempty"`
	PID          int           `json:"pid,omitempty"`
	// Host and User name the machine and OS user that recorded the event,
	// when a store shared by several machines reports them (empty
	// otherwise). Such a store keeps them beside the event, not in it.
	Host string `json:"-"`
	User string `json:"-"`
}
