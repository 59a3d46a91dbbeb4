//go:build etcd

package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"filippo.io/age"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/tokentop/tokentop/auth"
)

// The team identity is an age X25519 identity shared by the members of a
// team: secrets on etcd are encrypted to its recipient, so only members
// read them. A member keeps it in the OS keyring (service "tokentop",
// account "team/STORE-ID"), or, for headless runners, in the 0600 file
// TOKENTOP_TEAM_IDENTITY names.

// teamKeyringTimeout bounds the keyring calls for the team identity.
const teamKeyringTimeout = 5 * time.Second

// teamIdentity loads this member's identity once.
type teamIdentity struct {
	file    string
	storeID func() (string, error)
	kr      keyringAPI // nil: the OS keyring

	mu sync.Mutex
	id *age.X25519Identity
}

func (t *teamIdentity) keyring() keyringAPI {
	if t.kr == nil {
		return osKeyring{}
	}
	return t.kr
}

func teamAccount(storeID string) string { return "team/" + storeID }

// krCall runs a keyring call with a timeout: a locked keyring may wait on
// an unlock prompt forever.
func krCall(f func() (string, error)) (string, error) {
	type res struct {
		v   string
		err error
	}
	ch := make(chan res, 1)
	go func() { v, err := f(); ch <- res{v, err} }()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-time.After(teamKeyringTimeout):
		return "", fmt.Errorf("the OS keyring did not answer within %s (locked?)", teamKeyringTimeout)
	}
}

func (t *teamIdentity) load() (*age.X25519Identity, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.id != nil {
		return t.id, nil
	}
	var text string
	if t.file != "" {
		data, err := readPrivateFile(t.file)
		if err != nil {
			return nil, err
		}
		text = string(data)
	} else {
		sid, err := t.storeID()
		if err != nil {
			return nil, err
		}
		v, err := krCall(func() (string, error) { return t.keyring().Get(keyringService, teamAccount(sid)) })
		if err != nil {
			return nil, fmt.Errorf("%w (keyring: %v): run `tokentop team join` with the identity a team member gives you, "+
				"or set TOKENTOP_TEAM_IDENTITY to a 0600 file holding it: %w", ErrNoTeamIdentity, err, auth.ErrStoreUnavailable)
		}
		text = v
	}
	id, err := parseTeamIdentity(text)
	if err != nil {
		return nil, err
	}
	t.id = id
	return id, nil
}

// parseTeamIdentity reads an age identity (comments and blank lines
// allowed, as age-keygen writes them); the error never quotes it.
func parseTeamIdentity(text string) (*age.X25519Identity, error) {
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, err := age.ParseX25519Identity(line)
		if err != nil {
			return nil, fmt.Errorf("the team identity is not an age X25519 identity (AGE-SECRET-KEY-1...): %w", auth.ErrStoreUnavailable)
		}
		return id, nil
	}
	return nil, fmt.Errorf("the team identity is empty: %w", auth.ErrStoreUnavailable)
}

// readPrivateFile reads a file that must be the user's own and 0600 (or
// stricter), like ssh's private keys, and not a symlink.
func readPrivateFile(path string) ([]byte, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: TOKENTOP_TEAM_IDENTITY names %s, which does not exist: run `tokentop team join` with the identity a team member gives you on stdin: %w",
			ErrNoTeamIdentity, path, auth.ErrStoreUnavailable)
	}
	if err != nil {
		return nil, fmt.Errorf("read the team identity (TOKENTOP_TEAM_IDENTITY): %w: %w", err, auth.ErrStoreUnavailable)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("the team identity %s is not a regular file (symlinks are refused): %w", path, auth.ErrStoreUnavailable)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("the team identity %s is readable or writable by others (mode %04o): run chmod 600 %s: %w",
			path, fi.Mode().Perm(), path, auth.ErrStoreUnavailable)
	}
	if uid, ok := fileOwner(fi); ok && uid != os.Geteuid() {
		return nil, fmt.Errorf("the team identity %s belongs to uid %d, not to you: %w", path, uid, auth.ErrStoreUnavailable)
	}
	return os.ReadFile(path)
}

// save keeps id for this member, refusing to replace an identity
// already there (losing it would lose the team's secrets for this member).
func (t *teamIdentity) save(id *age.X25519Identity) (where string, err error) {
	text := id.String()
	if t.file != "" {
		f, err := os.OpenFile(t.file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return "", fmt.Errorf("write the team identity to %s (TOKENTOP_TEAM_IDENTITY): %w; an existing file is never replaced: move it away first: %w", t.file, err, auth.ErrStoreUnavailable)
		}
		_, err = f.WriteString("# tokentop team identity (age X25519); keep it secret\n" + text + "\n")
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(t.file)
			return "", fmt.Errorf("write the team identity to %s: %w: %w", t.file, err, auth.ErrStoreUnavailable)
		}
		t.id = id
		return t.file, nil
	}
	sid, err := t.storeID()
	if err != nil {
		return "", err
	}
	if old, err := krCall(func() (string, error) { return t.keyring().Get(keyringService, teamAccount(sid)) }); err == nil {
		if cur, perr := parseTeamIdentity(old); perr == nil && cur.String() != text {
			return "", fmt.Errorf("the OS keyring already holds another identity for this team (recipient %s); it was left as it is: "+
				"delete it with `secret-tool clear service tokentop username %s` first to replace it: %w",
				cur.Recipient(), teamAccount(sid), auth.ErrStoreUnavailable)
		}
	}
	if _, err := krCall(func() (string, error) { return "", t.keyring().Set(keyringService, teamAccount(sid), text) }); err != nil {
		return "", fmt.Errorf("save the team identity in the OS keyring: %w: set TOKENTOP_TEAM_IDENTITY to a file instead: %w", err, auth.ErrStoreUnavailable)
	}
	t.id = id
	return "the OS keyring", nil
}

func encryptSecrets(recipients []string, plain []byte) ([]byte, error) {
	rs := make([]age.Recipient, 0, len(recipients))
	for _, r := range recipients {
		rc, err := age.ParseX25519Recipient(r)
		if err != nil {
			return nil, fmt.Errorf("a team recipient is not an age X25519 recipient: %w", err)
		}
		rs = append(rs, rc)
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, rs...)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(plain); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decryptSecrets(id *age.X25519Identity, ct []byte) ([]byte, error) {
	r, err := age.Decrypt(bytes.NewReader(ct), id)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(r, maxSecretBytes+1))
}

func (s *Store) etcd() (*etcdStore, error) {
	if s.etcdStore == nil {
		return nil, fmt.Errorf("team commands need --storage etcd (or TOKENTOP_STORAGE=etcd): %w", auth.ErrStoreUnavailable)
	}
	return s.etcdStore, nil
}

// TeamInit creates the team under the etcd prefix: its store id and an
// identity whose recipient it registers; the identity is kept for this
// member. A team that exists already is left alone (join it instead).
func (s *Store) TeamInit(ctx context.Context) (TeamInfo, error) {
	e, err := s.etcd()
	if err != nil {
		return TeamInfo{}, err
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return TeamInfo{}, fmt.Errorf("make the team identity: %w", err)
	}
	sid, err := newStoreID()
	if err != nil {
		return TeamInfo{}, err
	}
	rcpt := id.Recipient().String()
	sidKey := e.key("team", "store-id")
	cctx, cancel := e.call(ctx)
	defer cancel()
	r, err := e.cli.Txn(cctx).If(clientv3.Compare(clientv3.CreateRevision(sidKey), "=", 0)).
		Then(clientv3.OpPut(sidKey, sid), clientv3.OpPut(e.key("team", "recipients", rcpt), rcpt)).Commit()
	if err != nil {
		return TeamInfo{}, e.unavailable("create the team", err)
	}
	if !r.Succeeded {
		return TeamInfo{}, fmt.Errorf("a tokentop team exists already under %s at %s: ask a member for the team identity and run `tokentop team join`: %w",
			e.prefix, strings.Join(e.opts.Endpoints, ","), ErrTeamExists)
	}
	where, err := e.ident.save(id)
	if err != nil {
		// Nobody could decrypt what is encrypted to this recipient: undo.
		dctx, dcancel := e.call(context.Background())
		_, _ = e.cli.Txn(dctx).Then(clientv3.OpDelete(sidKey), clientv3.OpDelete(e.key("team", "recipients", rcpt))).Commit()
		dcancel()
		return TeamInfo{}, fmt.Errorf("%w (the team was not created)", err)
	}
	return TeamInfo{StoreID: sid, Recipient: rcpt, Where: where}, nil
}

// TeamJoin keeps the team identity read from r for this member, after
// checking that it is the team's (its recipient is registered).
func (s *Store) TeamJoin(ctx context.Context, r io.Reader) (TeamInfo, error) {
	e, err := s.etcd()
	if err != nil {
		return TeamInfo{}, err
	}
	data, err := io.ReadAll(io.LimitReader(r, 64<<10))
	if err != nil {
		return TeamInfo{}, fmt.Errorf("read the team identity from stdin: %w", err)
	}
	id, err := parseTeamIdentity(string(data))
	if err != nil {
		return TeamInfo{}, err
	}
	sid, err := e.teamStoreID()
	if err != nil {
		return TeamInfo{}, err
	}
	rcpts, err := e.recipients(ctx)
	if err != nil {
		return TeamInfo{}, err
	}
	rcpt := id.Recipient().String()
	found := false
	for _, r := range rcpts {
		found = found || r == rcpt
	}
	if !found {
		return TeamInfo{}, fmt.Errorf("that identity's recipient %s is not one of the team's under %s: ask a member for the current team identity: %w",
			rcpt, e.prefix, auth.ErrStoreUnavailable)
	}
	where, err := e.ident.save(id)
	if err != nil {
		return TeamInfo{}, err
	}
	return TeamInfo{StoreID: sid, Recipient: rcpt, Where: where}, nil
}
