package proxy

import (
	"context"
	"sync"
	"time"

	"github.com/tokentop/tokentop/auth"
)

// TokenSource hands out a session's current pair; *auth.Keeper is one.
// Token serialises refreshes across processes with the session lock, so
// any number of proxies and `tokentop token` calls share one rotation.
type TokenSource interface {
	Token(ctx context.Context, name string, minValid time.Duration) (auth.Secrets, auth.Session, error)
	Refresh(ctx context.Context, name string) (auth.RefreshResult, error)
}

// tokenCallTimeout bounds one call to the source made on behalf of
// requests; a refresh that reached the server is finished by the keeper
// whatever this says.
const tokenCallTimeout = 60 * time.Second

// tokenCache keeps the session's pair between requests. The keeper's fast
// path still reads the metadata and the secrets backend (a keyring call
// over D-Bus) on every call, which costs more than the proxy may add to a
// request; so the pair is reused while its metadata says it is outside the
// refresh window, and re-read in the background every maxAge so that a
// pair another process rotated in, or a session forgotten or revoked, is
// followed within that time. Only one call to the source is in flight at a
// time: concurrent requests wait for the same answer.
type tokenCache struct {
	src    TokenSource
	name   string
	now    func() time.Time
	maxAge time.Duration

	mu      sync.Mutex
	cur     *tokenEntry
	checked time.Time
	flight  *tokenCall
	// forced is the 401 refresh in flight per access fingerprint, so that
	// concurrent 401s for one token cause one refresh.
	forced map[string]*tokenCall
	bg     sync.WaitGroup
}

type tokenEntry struct {
	sec  auth.Secrets
	meta auth.Session
	// authz is the Authorization header's value, made once per token
	// rather than once per request; never changed.
	authz []string
}

func newTokenEntry(sec auth.Secrets, meta auth.Session) *tokenEntry {
	return &tokenEntry{sec: sec, meta: meta, authz: []string{"Bearer " + sec.AccessToken}}
}

type tokenCall struct {
	done chan struct{}
	e    *tokenEntry
	err  error
	// refreshed is set when this call rotated or adopted a pair.
	refreshed bool
}

func newTokenCache(src TokenSource, name string, now func() time.Time, maxAge time.Duration) *tokenCache {
	return &tokenCache{src: src, name: name, now: now, maxAge: maxAge, forced: map[string]*tokenCall{}}
}

// get returns a pair whose access token is outside its refresh window.
func (c *tokenCache) get(ctx context.Context) (*tokenEntry, error) {
	now := c.now()
	c.mu.Lock()
	if e := c.cur; e != nil && e.meta.Fresh(now, 0) {
		if now.Sub(c.checked) >= c.maxAge && c.flight == nil {
			// Serve this one now; the re-read happens beside the request.
			c.startLocked()
		}
		c.mu.Unlock()
		return e, nil
	}
	call := c.flight
	if call == nil {
		call = c.startLocked()
	}
	c.mu.Unlock()
	return c.wait(ctx, call)
}

func (c *tokenCache) wait(ctx context.Context, call *tokenCall) (*tokenEntry, error) {
	select {
	case <-call.done:
		return call.e, call.err
	case <-ctx.Done():
		// The call goes on for the next request; only this one gave up.
		return nil, ctx.Err()
	}
}

// startLocked starts one call to the source's Token; c.mu is held.
func (c *tokenCache) startLocked() *tokenCall {
	call := &tokenCall{done: make(chan struct{})}
	c.flight = call
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), tokenCallTimeout)
		defer cancel()
		sec, meta, err := c.src.Token(ctx, c.name, 0)
		c.mu.Lock()
		if err == nil {
			call.e = newTokenEntry(sec, meta)
			c.cur, c.checked = call.e, c.now()
		} else {
			call.err = err
			// A session that needs a login, or storage that went away,
			// must not keep being served from memory.
			c.cur = nil
		}
		c.flight = nil
		c.mu.Unlock()
		close(call.done)
	}()
	return call
}

// after401 returns the pair to replay a request with after the server
// refused sentFP, and whether there is one: a pair rotated in since the
// request was sent, or one refreshed now because sentFP had expired (or
// was about to, within justExpired). A token the server refused while it
// should be valid is not refreshed: that 401 means something else (a
// revoked token, a resource outside the user's organisation), and a
// rotation would not help. why says, when there is no pair, why not.
func (c *tokenCache) after401(ctx context.Context, sentFP string, justExpired time.Duration) (e *tokenEntry, refreshed bool, why string, err error) {
	c.mu.Lock()
	call, ok := c.forced[sentFP]
	if !ok {
		call = &tokenCall{done: make(chan struct{})}
		c.forced[sentFP] = call
		c.bg.Add(1)
		go c.reconsider(call, sentFP, justExpired)
	}
	c.mu.Unlock()
	e, err = c.wait(ctx, call)
	if err != nil {
		return nil, false, "", err
	}
	if e == nil || auth.Fingerprint(e.sec.AccessToken) == sentFP {
		return nil, false, stillValid, nil
	}
	return e, call.refreshed, "", nil
}

// stillValid is after401's reason for not refreshing.
const stillValid = "the server refused an access token that is the session's current one and not expired, so it was not refreshed " +
	"(a 401 for a valid token means revoked, or not allowed for this resource)"

func (c *tokenCache) reconsider(call *tokenCall, sentFP string, justExpired time.Duration) {
	defer c.bg.Done()
	ctx, cancel := context.WithTimeout(context.Background(), tokenCallTimeout)
	defer cancel()
	defer func() {
		c.mu.Lock()
		if call.e != nil {
			if cur := c.cur; cur == nil || cur.meta.AccessFP != call.e.meta.AccessFP {
				c.cur, c.checked = call.e, c.now()
			}
		}
		delete(c.forced, sentFP)
		c.mu.Unlock()
		close(call.done)
	}()
	sec, meta, err := c.src.Token(ctx, c.name, 0)
	if err != nil {
		call.err = err
		return
	}
	call.e = newTokenEntry(sec, meta)
	if auth.Fingerprint(sec.AccessToken) != sentFP {
		// Rotated since the request went out (by this proxy or any
		// other process): replay with the newer token.
		call.refreshed = true
		return
	}
	if meta.AccessLeft(c.now()) > justExpired {
		return
	}
	// Refresh adopts a pair another process saved meanwhile rather than
	// rotating twice (under the session lock).
	if _, err := c.src.Refresh(ctx, c.name); err != nil {
		call.err = err
		return
	}
	sec, meta, err = c.src.Token(ctx, c.name, 0)
	if err != nil {
		call.err = err
		return
	}
	call.e, call.refreshed = newTokenEntry(sec, meta), true
}

// close waits for the calls this cache started; each is bounded by
// tokenCallTimeout.
func (c *tokenCache) close() { c.bg.Wait() }
