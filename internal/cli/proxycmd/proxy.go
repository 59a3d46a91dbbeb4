// Package proxycmd is `tokentop proxy`: a local HTTP proxy that sends every
// request to a session's API with the session's current access token.
package proxycmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/har"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
	"github.com/tokentop/tokentop/internal/cli/iostreams"
	"github.com/tokentop/tokentop/internal/present"
	"github.com/tokentop/tokentop/internal/proxy"
)

// DefaultListen is where the proxy listens unless told otherwise.
const DefaultListen = "127.0.0.1:8788"

// minSecret is the shortest shared secret accepted for --allow-remote.
const minSecret = 16

// Options are proxy's inputs.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory

	Name        string
	Listen      string
	AllowRemote bool
	Forwarded   bool
	Quiet       bool
	JSON        bool
	Record      string // a new HAR file recording every exchange, sanitised
}

// NewCmdProxy builds `proxy`; runF, when not nil, runs instead of serving.
func NewCmdProxy(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		DisableFlagsInUseLine: true,
		Use:                   "proxy NAME [--listen 127.0.0.1:8788] [--allow-remote] [--forwarded] [--quiet|--json]",
		Short:                 "Serve NAME's API on a local port, adding a fresh access token to every request",
		Long: `Listen on a local port and forward every request to the session's API URL (the
request's path and query appended to it), with any Authorization header replaced by
"Bearer <access token>". Point Postman, a browser extension or a script at the port
instead of pasting tokens: the token is refreshed as the session needs, under the
session's lock, so any number of requests and other tokentop processes share one
refresh.

Request and response bodies stream both ways (uploads, downloads, server-sent
events); status, headers and trailers pass through, minus hop-by-hop headers.
X-Forwarded-For/-Host/-Proto are added only with --forwarded.

A 401 for a token that had expired, or that was rotated meanwhile, is answered by
refreshing once and sending the request again, when its body can be sent again:
bodies with a Content-Length up to 1 MiB are kept for that; longer or chunked ones
are streamed, and their 401 is passed through with a Tokentop-Proxy-Note header
saying why (the token is fresh by then: send the request again). A 401 for a token
that is current and valid is passed through untouched, with the same header: a
refresh would not help (revoked, or not allowed for that resource). Answers the
proxy makes itself (no token, server unreachable) carry Tokentop-Proxy-Error.

The proxy listens on loopback only. Anyone who can reach its port uses the session
as its user, without a token of their own, so another address is refused (exit 2)
unless --allow-remote is given; then every client must send the shared secret in a
Tokentop-Proxy-Secret header. The secret is read from stdin (or a hidden prompt on
a terminal), at least 16 characters, never from a flag. The proxy also refuses a
plain-http API URL beyond loopback, which would send the token in the clear.

One line per request on stderr: time, method, path (secret-looking query values
redacted), status, upstream latency, the access token's fingerprint; refreshes as
they happen. --quiet logs only refreshes and failures; --json one JSON object a line.
Ctrl-C stops accepting, lets requests in flight finish (up to 10s), and finishes
and saves a refresh in flight before exiting.

--record FILE.har writes every exchange to a new HAR 1.2 file (mode 0600; an
existing file is refused): method, URL, headers, cookies, status and timings,
not bodies, which are streamed. Each entry is sanitised as it is written, as
"tokentop har sanitize" does: the proxy's own token is never in it, and tokens,
cookie values and passwords met in the traffic become placeholders naming their
fingerprint. The file is a complete HAR after every entry, so "tokentop har
analyze" reads it while the proxy runs or after it was killed.

Exit codes: 0 stopped by Ctrl-C; 2 bad flags or a refused --listen; 3 the session
needs a new login; 4 secret storage unavailable; 5 server unavailable at start.`,
		Example: `  tokentop proxy work
  curl -sS http://127.0.0.1:8788/auth/profile
  tokentop proxy work --listen 127.0.0.1:0 --json
  tokentop proxy work --record work.har
  openssl rand -hex 24 | tee secret | tokentop proxy work --listen 0.0.0.0:8788 --allow-remote`,
		Args:              cmdutil.ExactArgs(1, "a session NAME"),
		ValidArgsFunction: cmdutil.CompleteSessionName(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if opts.Quiet && opts.JSON {
				return cmdutil.UsageErrorf("--quiet and --json: choose one")
			}
			if err := proxy.CheckListen(opts.Listen, opts.AllowRemote); err != nil {
				return cmdutil.NewUsageError(err)
			}
			if runF != nil {
				return runF(opts)
			}
			return proxyRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Listen, "listen", DefaultListen, "address HOST:PORT to listen on, loopback only (port 0 picks a free one)")
	fl.BoolVar(&opts.AllowRemote, "allow-remote", false, "allow a --listen address beyond loopback; requires a shared secret on stdin that clients send")
	fl.BoolVar(&opts.Forwarded, "forwarded", false, "add X-Forwarded-For, -Host and -Proto to requests sent upstream")
	fl.BoolVar(&opts.Quiet, "quiet", false, "log only refreshes and failures, not every request")
	fl.BoolVar(&opts.JSON, "json", false, "log one JSON object a line")
	fl.StringVar(&opts.Record, "record", "", "record every exchange, sanitised, to this new HAR `FILE`")
	return cmd
}

func proxyRun(ctx context.Context, opts *Options) error {
	secret := ""
	if opts.AllowRemote {
		s, err := readSecret(ctx, opts.IO)
		if err != nil {
			return err
		}
		secret = s
	}
	k, err := opts.Factory.Keeper()
	if err != nil {
		return err
	}
	opts.Factory.ShowEvents(true) // refreshes get their log line below
	// A first token now: a session that needs a login, or storage that is
	// locked, is told at once rather than on the first request.
	_, meta, err := k.Token(ctx, opts.Name, 0)
	if err != nil {
		return present.Explain(opts.Name, err)
	}
	target, err := proxy.CheckTarget(meta.Endpoints.APIURL)
	if err != nil {
		return fmt.Errorf("proxy %s: %w", opts.Name, err)
	}
	lg := newLogger(opts.IO.ErrOut, opts.JSON, opts.Quiet, opts.Factory.Now)
	cfg := proxy.Config{
		Session: opts.Name, Target: target, Tokens: k, Now: opts.Factory.Now,
		Secret: secret, Forwarded: opts.Forwarded, Log: lg.request,
	}
	var rec *har.Writer
	if opts.Record != "" {
		rec, err = har.Create(opts.Record, "tokentop proxy", buildVersion(), func(err error) {
			lg.note("%v; recording stopped (the file holds the entries before it)", err)
		})
		if err != nil {
			return err
		}
		cfg.Recorder = rec
	}
	h := proxy.New(cfg)
	if p, ok := gcPercent(opts.Factory.Getenv); ok {
		defer debug.SetGCPercent(debug.SetGCPercent(p))
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		if rec != nil {
			_ = rec.Close()
		}
		return fmt.Errorf("proxy: listen on %s: %w", opts.Listen, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	addr := ln.Addr().String()
	lg.started(opts.Name, target.Redacted(), addr, secret != "")

	evCtx, stopEvents := context.WithCancel(context.Background())
	eventsDone := make(chan struct{})
	go func() {
		defer close(eventsDone)
		lg.events(evCtx, k.Events())
	}()
	status := startStatus(opts.Factory, opts.Name, addr, h)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	var serveErr error
	select {
	case serveErr = <-served:
	case <-ctx.Done():
	}
	lg.note("stopping: no new connections; requests in flight may finish (up to %s)", proxy.DrainFor)
	shutCtx, cancel := context.WithTimeout(context.Background(), proxy.DrainFor)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		lg.note("requests still in flight after %s were cut off", proxy.DrainFor)
		_ = srv.Close()
	}
	// A refresh a request began is saved before the process ends.
	h.Close()
	if names := k.Exchanging(); len(names) > 0 {
		lg.note("%s", auth.ExchangeWarning(names))
	}
	<-k.Settled()
	status.stop()
	stopEvents()
	<-eventsDone
	if rec != nil {
		// The document is complete after every entry; this only syncs it.
		if err := rec.Close(); err != nil {
			lg.note("%v", err)
		} else {
			lg.note("recorded %d exchanges to %s", rec.Entries(), opts.Record)
		}
	}
	lg.note("stopped after %d requests", h.Served())
	lg.close()
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("proxy: serve: %w", serveErr)
	}
	return nil
}

// proxyGCPercent is the proxy's garbage-collection target: its live heap
// is small (a few MiB of connection buffers however busy), so at the
// default of 100 the collector runs every few thousand requests, and its
// marking took about 5% of the busy proxy's CPU (a profile at 32
// connections); at 400 the heap may grow to five times what is live,
// still a few tens of MiB (the bench reports the RSS under load and
// during 200 MB transfers).
const proxyGCPercent = 400

// gcPercent is the GC target to set, unless the user chose one in GOGC.
func gcPercent(getenv func(string) string) (int, bool) {
	if getenv("GOGC") != "" {
		return 0, false
	}
	return proxyGCPercent, true
}

// buildVersion is the module's version for a recording's log.creator.
func buildVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "devel"
}

// readSecret reads the shared secret for --allow-remote.
func readSecret(ctx context.Context, ios *iostreams.IOStreams) (string, error) {
	var s string
	var err error
	if ios.IsStdinTTY() {
		s, err = ios.ReadSecret(ctx, "Shared secret clients must send in "+proxy.SecretHeader+" (input hidden): ")
	} else {
		s, err = cmdutil.SecretFromStdin(ios.In, "shared secret")
	}
	if err != nil {
		return "", err
	}
	if len(s) < minSecret {
		return "", cmdutil.UsageErrorf("--allow-remote: the shared secret is %d characters; use at least %d, e.g. `openssl rand -hex 24`", len(s), minSecret)
	}
	return s, nil
}
