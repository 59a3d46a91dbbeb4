package proxy

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/tokentop/tokentop/auth"
)

// ErrRemoteListen is returned by CheckListen for an address beyond loopback
// when remote clients were not allowed.
var ErrRemoteListen = errors.New("refusing to listen beyond loopback")

// CheckListen accepts host:port addresses on loopback only, unless
// allowRemote: anyone who can reach the port acts as the session's user.
func CheckListen(addr string, allowRemote bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %q: want HOST:PORT, such as 127.0.0.1:8788: %w", addr, err)
	}
	if port == "" {
		return fmt.Errorf("--listen %q: no port: want HOST:PORT, such as 127.0.0.1:8788", addr)
	}
	if allowRemote || auth.IsLoopback(host) {
		return nil
	}
	what := host
	if host == "" {
		what = "every interface"
	}
	return fmt.Errorf("--listen %q: %w (%s): anyone who reaches the port would use the session as its user; "+
		"use 127.0.0.1 or [::1], or add --allow-remote, which then requires a shared secret from every client", addr, ErrRemoteListen, what)
}

// CheckTarget refuses an API URL the proxy must not forward to: not
// http(s), or plain http to a host beyond loopback, which would send the
// token in the clear.
func CheckTarget(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("the session's API URL is not a URL: %w", err)
	}
	switch {
	case u.Host == "":
		return nil, fmt.Errorf("the session's API URL %q has no host", u.Redacted())
	case u.Scheme == "https":
	case u.Scheme == "http" && auth.IsLoopback(u.Hostname()):
	case u.Scheme == "http":
		return nil, fmt.Errorf("refusing to forward to %s: plain http beyond loopback would send the access token in the clear; "+
			"log in again with an https --api-url", u.Redacted())
	default:
		return nil, fmt.Errorf("the session's API URL %s is neither https nor http", u.Redacted())
	}
	u.User = nil
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

// RedactedPath is the request's path and query for the log, with the value
// of every secret-looking query parameter replaced by REDACTED.
func RedactedPath(u *url.URL) string {
	p := u.EscapedPath()
	if u.RawQuery == "" {
		return p
	}
	parts := strings.Split(u.RawQuery, "&")
	for i, kv := range parts {
		k, _, hasValue := strings.Cut(kv, "=")
		if !hasValue {
			continue
		}
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if secretName(name) {
			parts[i] = k + "=REDACTED"
		}
	}
	return p + "?" + strings.Join(parts, "&")
}

// secretName says whether a query parameter's name (or part of it) says
// its value is a credential.
func secretName(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"token", "key", "secret", "password", "passwd", "auth", "signature", "sig", "code", "session", "credential"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}
