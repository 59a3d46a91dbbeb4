package storage

import (
	"errors"
	"time"

	"github.com/tokentop/tokentop/auth"
)

// The etcd backend (etcd.go, team.go) is built only with the build tag
// etcd: linking the etcd client (gRPC, protobuf) adds about 2 ms of package
// initialisation to every run of every command, and `tokentop token` in a
// script loop is the path that must stay close to a bare keyring read.
// Without the tag --storage etcd and the team commands say how to get it.

// BackendEtcd keeps metadata, secrets, locks and the audit timeline in an
// etcd cluster shared by a team (see etcdStore).
const BackendEtcd = "etcd"

// DefaultEtcdPrefix is where a team's keys live when no prefix is given.
const DefaultEtcdPrefix = "/tokentop"

// DefaultEtcdLockTTL is the lease of a session lock, in seconds: a holder
// that crashed or lost etcd frees the lock within it.
const DefaultEtcdLockTTL = 15

// EtcdOptions configure BackendEtcd. The TLS and user fields are named as
// etcdctl names its flags.
type EtcdOptions struct {
	Endpoints []string
	Prefix    string // default DefaultEtcdPrefix
	CACert    string // --cacert
	Cert      string // --cert
	Key       string // --key
	User      string // --user (name only)
	Password  string // never from a flag: the command reads it from the environment
	// IdentityFile holds the team identity (TOKENTOP_TEAM_IDENTITY, mode
	// 0600); empty: the OS keyring.
	IdentityFile string
	// Host and OSUser are recorded with every audit event; empty: this
	// machine's host name and user.
	Host, OSUser string
	LockTTL      int           // seconds, default DefaultEtcdLockTTL
	Timeout      time.Duration // per call, default 5s
}

// ErrNoTeamIdentity matches a member without the team identity.
var ErrNoTeamIdentity = errors.New("this member holds no team identity")

// ErrTeamExists matches team init on a prefix that has a team.
var ErrTeamExists = errors.New("team exists")

// TeamInfo says what team init or join did.
type TeamInfo struct {
	StoreID   string
	Recipient string // public: safe to show
	Where     string // where this member's identity is kept
}

// TimelineEvent is an audit event and who did it.
type TimelineEvent struct {
	auth.Event
	Host string
	User string
}
