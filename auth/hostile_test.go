package auth

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fixedTestClock is a Clock frozen at one instant, so expiries and clock
// offsets computed by the client are exact.
type fixedTestClock struct{ t time.Time }

func (c fixedTestClock) Now() time.Time                 { return c.t }
func (c fixedTestClock) NewTimer(d time.Duration) Timer { return SystemClock{}.NewTimer(d) }

// goodTokenBody is a valid flat login answer relative to now.
func goodTokenBody(now time.Time) string {
	return fmt.Sprintf(`{"access_token":"acc-1","refresh_token":"ref-1","frontend_token":"abcdefghijklmnopqrstuvwxyz012345","token_type":"Bearer","expires_in":%q,"refresh_expires_in":%q,"user":{"user_id":7,"email":"a@example.com","role_id":1,"org_unit_id":9}}`,
		now.Add(time.Hour).UTC().Format("2006-01-02T15:04:05.000Z07:00"), now.Add(24*time.Hour).UTC().Format("2006-01-02T15:04:05.000Z07:00"))
}

// hostileServer serves h on loopback and returns endpoints for it.
func hostileServer(t *testing.T, h http.HandlerFunc) Endpoints {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return Endpoints{OAuthURL: srv.URL, APIURL: srv.URL + "/v3"}
}

// call runs op against ep with a fresh default client.
func call(ctx context.Context, c *Client, ep Endpoints, op string) error {
	switch op {
	case "login":
		_, _, err := c.Login(ctx, ep, "a@example.com", "pw-SECRET")
		return err
	case "refresh":
		_, _, err := c.Refresh(ctx, ep, "ref-SECRET")
		return err
	case "revoke":
		_, err := c.Revoke(ctx, ep, "tok-SECRET", AccessToken)
		return err
	case "probe":
		_, err := c.Probe(ctx, ep, "acc-SECRET")
		return err
	}
	panic("unknown op " + op)
}

func TestHostileResponses(t *testing.T) {
	now := time.Now()
	big := strings.Repeat("x", 5<<20)
	tests := []struct {
		name    string
		ops     []string
		handler http.HandlerFunc
		kind    error
		status  int
		msg     string // substring of the error
	}{
		{"HTML 502 page", []string{"login", "refresh", "revoke", "probe"}, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			io.WriteString(w, "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>")
		}, ErrServer, 502, "502 Bad Gateway 502 Bad Gateway nginx"},
		{"plain text 503", []string{"login", "refresh"}, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(503)
			io.WriteString(w, "upstream connect error or disconnect/reset before headers\n")
		}, ErrServer, 503, "upstream connect error"},
		{"200 HTML", []string{"login", "refresh"}, func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "<!doctype html><html><body>Welcome to nginx!</body></html>")
		}, ErrBadResponse, 200, "HTML page"},
		{"200 plain text", []string{"login", "refresh"}, func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "OK")
		}, ErrBadResponse, 200, "plain text"},
		{"200 truncated JSON", []string{"login", "refresh"}, func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, goodTokenBody(now)[:80])
		}, ErrBadResponse, 200, "truncated"},
		{"200 wrong types", []string{"login", "refresh"}, func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"access_token":["a"],"refresh_token":{"r":1},"expires_in":true,"refresh_expires_in":null}`)
		}, ErrBadResponse, 200, "access_token is an array"},
		{"200 missing fields", []string{"login", "refresh"}, func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"access_token":"a","token_type":"Bearer"}`)
		}, ErrBadResponse, 200, "missing refresh_token"},
		{"200 absurd expiry", []string{"login", "refresh"}, func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"access_token":"a","refresh_token":"r","expires_in":"9999-01-01T00:00:00Z","refresh_expires_in":60}`)
		}, ErrBadResponse, 200, "not a plausible expiry"},
		{"200 expired at issue", []string{"login"}, func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"access_token":"a","refresh_token":"r","expires_in":"2020-01-01T00:00:00Z","refresh_expires_in":60}`)
		}, ErrBadResponse, 200, "already past"},
		{"200 echoing the sent token in a field", []string{"refresh"}, func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"access_token":"a","refresh_token":"r","expires_in":"ref-SECRET","refresh_expires_in":60}`)
		}, ErrBadResponse, 200, `"[redacted]" is neither an ISO-8601 instant`},
		{"200 five MiB", []string{"login", "refresh"}, func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"access_token":"`+big+`"}`)
		}, ErrBadResponse, 200, "response larger than 1 MiB"},
		{"500 five MiB", []string{"login", "probe"}, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(500)
			io.WriteString(w, big)
		}, ErrServer, 500, "HTTP 500"},
		{"login 401 ERR shape", []string{"login"}, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(401)
			io.WriteString(w, `{"statusCode":401,"message":"Unauthorized","error":"Invalid credentials","timestamp":"2024-03-18T10:30:00.000Z","path":"/oauth/token","requestId":"req-42"}`)
		}, ErrInvalidCredentials, 401, "Unauthorized: Invalid credentials; requestId req-42"},
		{"login 403", []string{"login"}, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(403)
		}, ErrInvalidCredentials, 403, "HTTP 403"},
		{"refresh 401 OAuth shape", []string{"refresh"}, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(401)
			io.WriteString(w, `{"error":"invalid_grant","error_description":"refresh token already used"}`)
		}, ErrRefreshRejected, 401, "invalid_grant: refresh token already used"},
		{"refresh 400 about the token", []string{"refresh"}, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(400)
			io.WriteString(w, `{"statusCode":400,"message":"Invalid refresh token"}`)
		}, ErrRefreshRejected, 400, "Invalid refresh token"},
		{"400 not about the token", []string{"login", "refresh", "revoke"}, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(400)
			io.WriteString(w, `{"statusCode":400,"message":"body must be JSON"}`)
		}, ErrBadRequest, 400, "body must be JSON"},
		{"revoke 401", []string{"revoke"}, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(401)
		}, ErrUnauthorized, 401, "HTTP 401"},
		{"404 wrong base", []string{"login", "refresh", "revoke", "probe"}, func(w http.ResponseWriter, r *http.Request) {
			http.NotFound(w, r)
		}, ErrNotFound, 404, "404 page not found"},
		{"418 odd client error", []string{"login"}, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(418)
		}, ErrBadRequest, 418, "HTTP 418"},
		{"redirect on POST", []string{"login", "refresh", "revoke"}, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://evil.example/steal", http.StatusFound)
		}, ErrBadResponse, 302, `redirected to "https://evil.example/steal"`},
		{"redirect on GET to another host", []string{"probe"}, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://127.0.0.2:1/elsewhere", http.StatusMovedPermanently)
		}, ErrBadResponse, 301, "redirected"},
		{"HTTP 200 with a failed envelope", []string{"login"}, func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"code":401,"message":"Invalid email or password","request_id":"env-1"}`)
		}, ErrInvalidCredentials, 401, "Invalid email or password; requestId env-1"},
		{"HTTP 200 with a failed envelope, refresh", []string{"refresh"}, func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"code":"401","message":"x"}`) // a string code is not an envelope code
		}, ErrBadResponse, 200, "missing access_token"},
		{"HTTP 200 with a 500 envelope", []string{"revoke", "probe"}, func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"code":500,"message":"Internal error","data":null}`)
		}, ErrServer, 500, "Internal error"},
		{"server echoes secrets", []string{"login", "refresh", "revoke", "probe"}, func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			w.Header().Set("X-Request-Id", "rid-9")
			w.WriteHeader(500)
			fmt.Fprintf(w, `{"message":"could not handle %s %s"}`, strings.ReplaceAll(string(b), `"`, `'`), r.Header.Get("Authorization"))
		}, ErrServer, 500, "[redacted]"},
	}
	for _, tt := range tests {
		for _, op := range tt.ops {
			t.Run(tt.name+"/"+op, func(t *testing.T) {
				ep := hostileServer(t, tt.handler)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				err := call(ctx, NewClient(nil, nil), ep, op)
				if err == nil {
					t.Fatal("no error")
				}
				if !errors.Is(err, tt.kind) {
					t.Fatalf("error %q does not match %v", err, tt.kind)
				}
				var ae *APIError
				if !errors.As(err, &ae) {
					t.Fatalf("error %q is not an *APIError", err)
				}
				httpStatus := tt.status
				if strings.Contains(tt.name, "HTTP 200") {
					httpStatus = 200 // the status came from the envelope
				}
				if ae.Status != tt.status || ae.Meta.Status != httpStatus || ae.Op != op {
					t.Errorf("status/op = %d/%d/%s, want %d/%d/%s", ae.Status, ae.Meta.Status, ae.Op, tt.status, httpStatus, op)
				}
				if !strings.Contains(err.Error(), tt.msg) {
					t.Errorf("error %q does not contain %q", err, tt.msg)
				}
				if strings.Contains(err.Error(), "SECRET") {
					t.Errorf("error leaks a secret: %q", err)
				}
			})
		}
	}
}

func TestRateLimitRetryAfter(t *testing.T) {
	date := time.Date(2026, 4, 3, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		retryAfter string
		kind       error
		status     int
		want       time.Duration
	}{
		{"seconds", "7", ErrRateLimited, 429, 7 * time.Second},
		{"HTTP-date, measured from the server's Date", date.Add(90 * time.Second).Format(http.TimeFormat), ErrRateLimited, 429, 90 * time.Second},
		{"date in the past", date.Add(-time.Minute).Format(http.TimeFormat), ErrRateLimited, 429, 0},
		{"absent", "", ErrRateLimited, 429, 0},
		{"garbage", "soon", ErrRateLimited, 429, 0},
		{"negative", "-3", ErrRateLimited, 429, 0},
		{"absurd, capped", "999999999999", ErrRateLimited, 429, maxRetryAfter},
		{"503 with Retry-After", "30", ErrServer, 503, 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep := hostileServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Date", date.Format(http.TimeFormat))
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, `{"statusCode":429,"message":"Too many login attempts","requestId":"rl-1"}`)
			})
			_, _, err := NewClient(nil, nil).Login(context.Background(), ep, "a@example.com", "pw")
			var ae *APIError
			if !errors.Is(err, tt.kind) || !errors.As(err, &ae) {
				t.Fatalf("err = %v, want %v", err, tt.kind)
			}
			if ae.RetryAfter != tt.want {
				t.Errorf("RetryAfter = %v, want %v", ae.RetryAfter, tt.want)
			}
			if ae.RequestID != "rl-1" {
				t.Errorf("RequestID = %q, want rl-1 from the body", ae.RequestID)
			}
		})
	}
}

// deadlineOnSignal is a context whose deadline passes when fire is called,
// so a test can let the deadline expire exactly after the server has read
// the request, however slow the machine is.
type deadlineOnSignal struct {
	context.Context
	done chan struct{}
	once sync.Once
}

func newDeadlineOnSignal() *deadlineOnSignal {
	c := &deadlineOnSignal{Context: context.Background(), done: make(chan struct{})}
	time.AfterFunc(10*time.Second, c.fire) // a bug shows as a failure, not a hang
	return c
}

func (c *deadlineOnSignal) fire()                       { c.once.Do(func() { close(c.done) }) }
func (c *deadlineOnSignal) Done() <-chan struct{}       { return c.done }
func (c *deadlineOnSignal) Deadline() (time.Time, bool) { return time.Now().Add(time.Hour), true }
func (c *deadlineOnSignal) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// TestNetworkFailures checks MaybeSent, which decides later whether a
// rotation might have been lost in transit.
func TestNetworkFailures(t *testing.T) {
	// stall reads the request, lets the client's deadline pass, and keeps
	// the connection open until the client gives up.
	stall := func(partial bool) func(*deadlineOnSignal) Endpoints {
		return func(ctx *deadlineOnSignal) Endpoints {
			return hostileServer(t, func(w http.ResponseWriter, r *http.Request) {
				io.ReadAll(r.Body)
				if partial {
					io.WriteString(w, `{"access_token":"acc`)
					w.(http.Flusher).Flush()
				}
				ctx.fire()
				<-r.Context().Done()
			})
		}
	}
	hangUp := func(*deadlineOnSignal) Endpoints {
		return hostileServer(t, func(w http.ResponseWriter, r *http.Request) {
			io.ReadAll(r.Body)
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Errorf("hijack: %v", err)
				return
			}
			conn.Close()
		})
	}
	cutMidBody := func(*deadlineOnSignal) Endpoints {
		return hostileServer(t, func(w http.ResponseWriter, r *http.Request) {
			io.ReadAll(r.Body)
			w.Header().Set("Content-Length", "1000")
			io.WriteString(w, `{"access_token":"acc`)
			w.(http.Flusher).Flush()
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		})
	}
	refused := func(*deadlineOnSignal) Endpoints {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		u := "http://" + l.Addr().String()
		l.Close()
		return Endpoints{OAuthURL: u, APIURL: u + "/v3"}
	}
	plainAsTLS := func(*deadlineOnSignal) Endpoints {
		srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		t.Cleanup(srv.Close)
		u := strings.Replace(srv.URL, "http://", "https://", 1)
		return Endpoints{OAuthURL: u, APIURL: u}
	}
	untrustedTLS := func(*deadlineOnSignal) Endpoints {
		srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake failure is the point
		t.Cleanup(srv.Close)
		return Endpoints{OAuthURL: srv.URL, APIURL: srv.URL}
	}
	stallBeforeWrite := func(ctx *deadlineOnSignal) Endpoints {
		// The deadline passes before the client has even connected.
		ctx.fire()
		return hostileServer(t, func(http.ResponseWriter, *http.Request) { t.Error("request arrived after its deadline") })
	}
	tests := []struct {
		name      string
		ep        func(*deadlineOnSignal) Endpoints
		maybeSent bool
		cause     error // matched with errors.Is when set
	}{
		{"stalls past the deadline", stall(false), true, context.DeadlineExceeded},
		{"stalls in the middle of the body", stall(true), true, context.DeadlineExceeded},
		{"deadline before sending", stallBeforeWrite, false, context.DeadlineExceeded},
		{"hangs up after reading the request", hangUp, true, nil},
		{"cuts the body short", cutMidBody, true, io.ErrUnexpectedEOF},
		{"connection refused", refused, false, nil},
		{"TLS to a plain server", plainAsTLS, false, nil},
		{"untrusted certificate", untrustedTLS, false, nil},
	}
	for _, tt := range tests {
		for _, op := range []string{"login", "refresh", "revoke", "probe"} {
			t.Run(tt.name+"/"+op, func(t *testing.T) {
				ctx := newDeadlineOnSignal()
				ep := tt.ep(ctx)
				err := call(ctx, NewClient(nil, nil), ep, op)
				var ne *NetworkError
				if !errors.As(err, &ne) || !errors.Is(err, ErrNetwork) {
					t.Fatalf("err = %v, want a *NetworkError", err)
				}
				if ne.MaybeSent != tt.maybeSent {
					t.Errorf("MaybeSent = %v, want %v (%v)", ne.MaybeSent, tt.maybeSent, err)
				}
				if ne.Op != op {
					t.Errorf("Op = %q, want %q", ne.Op, op)
				}
				if tt.cause != nil && !errors.Is(err, tt.cause) {
					t.Errorf("err = %v, want it to wrap %v", err, tt.cause)
				}
				if strings.Contains(err.Error(), "SECRET") {
					t.Errorf("error leaks a secret: %q", err)
				}
			})
		}
	}
}

// TestLoopbackIsWhatIsDialled: plain http passes only for hosts that Go
// dials without asking DNS; everything else is refused before any request.
func TestLoopbackIsWhatIsDialled(t *testing.T) {
	tests := []struct {
		host string
		ok   bool
	}{
		{"127.0.0.1", true},
		{"127.1.2.3", true},
		{"127.255.255.254", true},
		{"[::1]", true},
		{"[::ffff:127.0.0.1]", true},
		{"[::1%25lo]", true},
		{"localhost", true},
		{"LOCALHOST", true},
		{"LocalHost", true},
		{"localhost.", false},
		{"LOCALHOST.", false},
		{"localhost..", false},
		{"foo.localhost", false},
		{"foo.localhost.", false},
		{"localhost.localdomain", false},
		{"localhost.example.com", false},
		{"127.0.0.1.", false},
		{"127.1", false},
		{"127.0.1", false},
		{"0x7f.0.0.1", false},
		{"0177.0.0.1", false},
		{"2130706433", false},
		{"127.0.0.1.nip.io", false},
		{"0.0.0.0", false},
		{"[::]", false},
		{"10.0.0.1", false},
		{"[fe80::1%25lo]", false},
		{"localhost%00", false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			for _, ep := range []Endpoints{
				{OAuthURL: "http://" + tt.host + ":8787", APIURL: DefaultAPIURL},
				{OAuthURL: DefaultOAuthURL, APIURL: "http://" + tt.host + ":8787/v3"},
			} {
				err := CheckEndpoints(ep)
				if tt.ok && err != nil {
					t.Errorf("CheckEndpoints(%+v) = %v, want nil", ep, err)
				}
				if !tt.ok && !errors.Is(err, ErrInsecureURL) && !errors.Is(err, ErrInvalidURL) {
					t.Errorf("CheckEndpoints(%+v) = %v, want it refused", ep, err)
				}
			}
		})
	}
	// No call gets as far as the network.
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	port := srv.URL[strings.LastIndexByte(srv.URL, ':'):]
	ep := Endpoints{OAuthURL: "http://localhost." + port, APIURL: "http://localhost." + port + "/v3"}
	c := NewClient(nil, nil)
	ctx := context.Background()
	if _, _, err := c.Login(ctx, ep, "a@example.com", "pw"); !errors.Is(err, ErrInsecureURL) {
		t.Errorf("Login to %s: %v, want ErrInsecureURL", ep.OAuthURL, err)
	}
	if _, _, err := c.Refresh(ctx, ep, "tok"); !errors.Is(err, ErrInsecureURL) {
		t.Errorf("Refresh: %v", err)
	}
	if _, err := c.Revoke(ctx, ep, "tok", AccessToken); !errors.Is(err, ErrInsecureURL) {
		t.Errorf("Revoke: %v", err)
	}
	if _, err := c.Probe(ctx, ep, "tok"); !errors.Is(err, ErrInsecureURL) {
		t.Errorf("Probe: %v", err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests reached the server", n)
	}
}

func TestCheckEndpoints(t *testing.T) {
	tests := []struct {
		oauth, api string
		kind       error
		msg        string
	}{
		{"https://platform-oauth.convirza.com", "https://platform-api.convirza.com/v3", nil, ""},
		{"http://127.0.0.1:8787", "http://127.0.0.1:8787/v3/", nil, ""},
		{"http://127.1.2.3:80/", "http://[::1]:8787", nil, ""},
		{"http://localhost:8787", "HTTP://LOCALHOST:1/v3", nil, ""},
		{"http://platform-oauth.convirza.com", DefaultAPIURL, ErrInsecureURL, "unencrypted; use https://"},
		{DefaultOAuthURL, "http://10.0.0.1/v3", ErrInsecureURL, "API URL"},
		{"http://127.0.0.1.example.com", DefaultAPIURL, ErrInsecureURL, "only for 127.0.0.1, ::1 and localhost"},
		{"http://evil.localhost:8787", DefaultAPIURL, ErrInsecureURL, "only for 127.0.0.1, ::1 and localhost"},
		{"", DefaultAPIURL, ErrInvalidURL, "OAuth URL is empty"},
		{"platform-oauth.convirza.com", DefaultAPIURL, ErrInvalidURL, "not absolute"},
		{"/oauth", DefaultAPIURL, ErrInvalidURL, "not absolute"},
		{"ftp://example.com", DefaultAPIURL, ErrInvalidURL, `scheme "ftp"`},
		{"https://user:pw@example.com", DefaultAPIURL, ErrInvalidURL, "credentials"},
		{"https://example.com/?x=1", DefaultAPIURL, ErrInvalidURL, "query"},
		{"https://exa mple.com", DefaultAPIURL, ErrInvalidURL, "does not parse"},
		{DefaultOAuthURL, "https://", ErrInvalidURL, "not absolute"},
		// Credentials in URLs that fail an earlier check are not echoed either.
		{"user:pw@platform-oauth.convirza.com", DefaultAPIURL, ErrInvalidURL, "not absolute"},
		{"//user:pw@platform-oauth.convirza.com", DefaultAPIURL, ErrInvalidURL, "not absolute"},
		{"https://user:p w@example.com", DefaultAPIURL, ErrInvalidURL, "does not parse"},
		{"https://user:pw@example.com/%zz", DefaultAPIURL, ErrInvalidURL, "does not parse"},
		{DefaultOAuthURL, "http://user:pw@[::1", ErrInvalidURL, "does not parse"},
		{"ftp://user:pw@example.com", DefaultAPIURL, ErrInvalidURL, "credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.oauth+" "+tt.api, func(t *testing.T) {
			err := CheckEndpoints(Endpoints{OAuthURL: tt.oauth, APIURL: tt.api})
			if tt.kind == nil {
				if err != nil {
					t.Fatalf("CheckEndpoints: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want %v saying %q", err, tt.kind, tt.msg)
			}
			if strings.Contains(err.Error(), "pw@") || strings.Contains(err.Error(), "p w@") {
				t.Errorf("error shows URL credentials: %v", err)
			}
		})
	}
}

// TestEveryMethodChecksEndpoints: no request leaves for an insecure URL.
func TestEveryMethodChecksEndpoints(t *testing.T) {
	ep := Endpoints{OAuthURL: "http://example.com", APIURL: "http://example.com/v3"}
	for _, op := range []string{"login", "refresh", "revoke", "probe"} {
		if err := call(context.Background(), NewClient(nil, nil), ep, op); !errors.Is(err, ErrInsecureURL) {
			t.Errorf("%s: err = %v, want ErrInsecureURL", op, err)
		}
	}
}

func TestBadInputNeverSent(t *testing.T) {
	var hits int
	var mu sync.Mutex
	ep := hostileServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
	})
	c := NewClient(nil, nil)
	ctx := context.Background()
	errs := map[string]error{}
	_, _, errs["login without password"] = c.Login(ctx, ep, "a@example.com", "")
	_, _, errs["login without email"] = c.Login(ctx, ep, " ", "pw")
	_, _, errs["empty refresh token"] = c.Refresh(ctx, ep, "")
	_, _, errs["refresh token with a newline"] = c.Refresh(ctx, ep, "ref-SECRET\n")
	_, errs["revoke bad kind"] = c.Revoke(ctx, ep, "tok", TokenKind("id"))
	_, errs["probe token with a space"] = c.Probe(ctx, ep, "acc SECRET")
	for name, err := range errs {
		if !errors.Is(err, ErrBadRequest) {
			t.Errorf("%s: err = %v, want ErrBadRequest", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%s: error leaks the token: %v", name, err)
		}
	}
	if hits != 0 {
		t.Errorf("%d requests reached the server", hits)
	}
}

// TestRequestsOnTheWire checks paths (joined with any base path and
// slashes), methods, headers and bodies.
func TestRequestsOnTheWire(t *testing.T) {
	type seen struct {
		method, path, ua, ctype, authz string
		body                           map[string]string
	}
	var mu sync.Mutex
	var got []seen
	now := time.Now()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := seen{method: r.Method, path: r.URL.Path, ua: r.UserAgent(), ctype: r.Header.Get("Content-Type"), authz: r.Header.Get("Authorization")}
		json.NewDecoder(r.Body).Decode(&s.body)
		mu.Lock()
		got = append(got, s)
		mu.Unlock()
		switch r.URL.Path {
		case "/base/oauth/token", "/base/oauth/refresh-token":
			io.WriteString(w, goodTokenBody(now))
		default:
			io.WriteString(w, `{"message":"Token revoked successfully"}`)
		}
	}))
	defer srv.Close()
	ep := Endpoints{OAuthURL: srv.URL + "/base/", APIURL: srv.URL + "/v3"}
	c := NewClient(nil, nil)
	ctx := context.Background()
	if _, _, err := c.Login(ctx, ep, "a@example.com", "pw"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Refresh(ctx, ep, "ref-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Revoke(ctx, ep, "ref-1", RefreshToken); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Probe(ctx, ep, "acc-1"); err != nil {
		t.Fatal(err)
	}
	want := []seen{
		{"POST", "/base/oauth/token", UserAgent, "application/json", "", map[string]string{"email": "a@example.com", "password": "pw"}},
		{"POST", "/base/oauth/refresh-token", UserAgent, "application/json", "", map[string]string{"refresh_token": "ref-1"}},
		{"POST", "/base/oauth/revoke-token", UserAgent, "application/json", "", map[string]string{"token": "ref-1", "token_type": "refresh"}},
		{"GET", "/v3/auth/profile", UserAgent, "", "Bearer acc-1", nil},
	}
	if len(got) != len(want) {
		t.Fatalf("saw %d requests, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.method != w.method || g.path != w.path || g.ua != w.ua || g.ctype != w.ctype || g.authz != w.authz || fmt.Sprint(g.body) != fmt.Sprint(w.body) {
			t.Errorf("request %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestMetaAndClockOffset(t *testing.T) {
	local := time.Date(2026, 4, 3, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		date   string
		offset time.Duration
	}{
		// Date is truncated to the second, so the estimate adds half a second.
		{"server an hour ahead", local.Add(time.Hour).Format(http.TimeFormat), time.Hour + 500*time.Millisecond},
		{"server 90 s behind", local.Add(-90 * time.Second).Format(http.TimeFormat), -90*time.Second + 500*time.Millisecond},
		{"no Date", "", 0},
		{"garbage Date", "yesterday", 0},
		// A broken proxy's epoch or far-future Date would make every
		// expiry look decades away (or past) by "server time".
		{"epoch Date", "Thu, 01 Jan 1970 00:00:00 GMT", 0},
		{"far-future Date", "Fri, 31 Dec 9999 23:59:59 GMT", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep := hostileServer(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.date == "" {
					w.Header()["Date"] = nil // suppress the automatic header
				} else {
					w.Header().Set("Date", tt.date)
				}
				w.Header().Set("X-Request-Id", "hdr-1")
				io.WriteString(w, goodTokenBody(local.Add(2*time.Hour)))
			})
			c := NewClient(nil, fixedTestClock{local})
			ts, meta, err := c.Login(context.Background(), ep, "a@example.com", "pw")
			if err != nil {
				t.Fatal(err)
			}
			if meta.Status != 200 || meta.RequestID != "hdr-1" || meta.ClockOffset != tt.offset {
				t.Errorf("meta = %+v, want status 200, request id hdr-1, offset %v", meta, tt.offset)
			}
			if tt.offset != 0 && meta.ServerTime.IsZero() {
				t.Error("ServerTime not set")
			}
			if tt.offset == 0 && !meta.ServerTime.IsZero() {
				t.Errorf("ServerTime %v kept from an unusable Date", meta.ServerTime)
			}
			if !ts.IssuedAt.Equal(local) {
				t.Errorf("IssuedAt = %v, want the receive time %v", ts.IssuedAt, local)
			}
		})
	}
}

func TestProbeOutcomes(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		accepted bool
		user     User
		msg      string
		kind     error
	}{
		{"200 envelope", 200, `{"code":200,"message":"Success","data":{"user_id":12345,"email":"demo@example.com","role_id":1,"org_unit_id":1001},"request_id":"p-1","timestamp":"2026-04-03T12:00:00.000Z"}`,
			true, User{UserID: 12345, Email: "demo@example.com", RoleID: 1, OrgUnitID: 1001}, "", nil},
		{"200 data.user", 200, `{"code":200,"data":{"user":{"user_id":"5","role_id":3}}}`, true, User{UserID: 5, RoleID: 3}, "", nil},
		{"200 flat", 200, `{"user_id":5,"email":"x@example.com"}`, true, User{UserID: 5, Email: "x@example.com"}, "", nil},
		{"204 empty", 204, ``, true, User{}, "profile unreadable", nil},
		{"200 HTML", 200, `<html>hello</html>`, true, User{}, "profile unreadable", nil},
		{"401", 401, `{"statusCode":401,"message":"Unauthorized","error":"Invalid or expired token","requestId":"p-2"}`, false, User{}, "Unauthorized: Invalid or expired token", nil},
		{"401 empty", 401, ``, false, User{}, "token rejected", nil},
		{"200 carrying a 401 envelope", 200, `{"code":401,"message":"Token expired"}`, false, User{}, "Token expired", nil},
		{"403", 403, `{"statusCode":403,"message":"Forbidden resource"}`, true, User{}, "accepted but not allowed: Forbidden resource", nil},
		{"500", 500, `oops`, false, User{}, "", ErrServer},
		{"429", 429, ``, false, User{}, "", ErrRateLimited},
		{"400", 400, `{}`, false, User{}, "", ErrBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep := hostileServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			pr, err := NewClient(nil, nil).Probe(context.Background(), ep, "acc-1")
			if tt.kind != nil {
				if !errors.Is(err, tt.kind) {
					t.Fatalf("err = %v, want %v", err, tt.kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			wantStatus := tt.status
			if code := envelopeCode([]byte(tt.body)); code != 0 {
				wantStatus = code
			}
			if pr.Accepted != tt.accepted || pr.User != tt.user || pr.Status != wantStatus || pr.Meta.Status != tt.status || !strings.Contains(pr.Message, tt.msg) {
				t.Errorf("probe = %+v, want accepted %v user %+v status %d message ~%q", pr, tt.accepted, tt.user, wantStatus, tt.msg)
			}
			if tt.status == 401 && tt.body != "" && pr.Meta.RequestID != "p-2" {
				t.Errorf("request id = %q, want p-2 from the body", pr.Meta.RequestID)
			}
		})
	}
}

// TestGivenClientRedirectPolicy: a caller's http.Client without a redirect
// policy still does not follow a POST redirect.
func TestGivenClientRedirectPolicy(t *testing.T) {
	var followed bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/elsewhere" {
			followed = true
			return
		}
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{}}}
	_, _, err := NewClient(hc, nil).Login(context.Background(), Endpoints{OAuthURL: srv.URL, APIURL: srv.URL}, "a@example.com", "pw")
	if !errors.Is(err, ErrBadResponse) || followed {
		t.Fatalf("err = %v, followed = %v; want ErrBadResponse and no second request", err, followed)
	}
	if hc.CheckRedirect != nil {
		t.Error("NewClient modified the caller's http.Client")
	}
}

// steppingTestClock advances by step on every Now, like a slow round trip.
type steppingTestClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *steppingTestClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.t
	c.t = c.t.Add(c.step)
	return t
}

func (c *steppingTestClock) NewTimer(d time.Duration) Timer { return SystemClock{}.NewTimer(d) }

// TestClockOffsetUsesMidpoint: with a 2 s round trip and a server exactly in
// step with us, the server stamped Date at the midpoint, so the offset is
// only the half second of Date's truncation, not -1.5 s.
func TestClockOffsetUsesMidpoint(t *testing.T) {
	t0 := time.Date(2026, 4, 3, 12, 0, 0, 0, time.UTC)
	ep := hostileServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", t0.Add(time.Second).Format(http.TimeFormat))
		io.WriteString(w, `{"code":200,"message":"Success","data":{"user_id":1}}`)
	})
	pr, err := NewClient(nil, &steppingTestClock{t: t0, step: 2 * time.Second}).Probe(context.Background(), ep, "acc-1")
	if err != nil {
		t.Fatal(err)
	}
	if pr.Meta.ClockOffset != 500*time.Millisecond {
		t.Errorf("ClockOffset = %v, want 500ms", pr.Meta.ClockOffset)
	}
}
