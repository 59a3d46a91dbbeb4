package proxy

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

func TestUpstreamOverTLSVerifiesTheCertificateAndSpeaksHTTP1(t *testing.T) {
	conns := map[string]bool{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conns[r.RemoteAddr] = true
		_, _ = io.WriteString(w, r.Proto)
	}))
	srv.EnableHTTP2 = true                           // offers h2 too: the proxy must still get HTTP/1.1
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	srv.StartTLS()
	defer srv.Close()
	target, err := url.Parse(srv.URL + "/v3")
	if err != nil {
		t.Fatal(err)
	}
	get := func(u *upstream) (string, error) {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+"/v3/x", nil)
		resp, err := u.send(req, nil, nil)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}

	u := newUpstream(target)
	defer u.closeIdle()
	var unknown x509.UnknownAuthorityError
	if _, err := get(u); !errors.As(err, &unknown) {
		t.Fatalf("a certificate no system root signed: err %v, want it refused", err)
	}

	u.tlsCfg.RootCAs = x509.NewCertPool()
	u.tlsCfg.RootCAs.AddCert(srv.Certificate())
	for range 3 {
		if proto, err := get(u); err != nil || proto != "HTTP/1.1" {
			t.Fatalf("with the server's root trusted: %q, %v: want HTTP/1.1", proto, err)
		}
	}
	if len(conns) != 1 {
		t.Errorf("%d TLS connections for three requests: want one kept alive", len(conns))
	}
}
