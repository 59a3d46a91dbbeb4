package har_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tokentop/tokentop/har"
	"github.com/tokentop/tokentop/har/hartest"
)

func kinds(rep *har.Report) map[string]int {
	m := map[string]int{}
	for _, f := range rep.Findings {
		m[f.Kind]++
	}
	return m
}

func TestAnalyzeFindsEveryKind(t *testing.T) {
	for _, format := range []string{"opaque", "jwt"} {
		t.Run(format, func(t *testing.T) {
			rec := hartest.Browse(t, format)
			rep, err := har.Analyze(bytes.NewReader(rec.HAR))
			if err != nil {
				t.Fatal(err)
			}
			got := kinds(rep)
			for _, k := range []string{har.FindRefreshReuse, har.FindConcurrentRefresh, har.FindExpiredAccessUsed,
				har.FindRejectedAfterRotation, har.FindClockSkew, har.FindLoginFailed, har.FindRateLimited,
				har.FindServerError, har.FindSecretsInFile} {
				if got[k] == 0 {
					t.Errorf("no %s finding; findings:", k)
				}
			}
			if t.Failed() {
				for _, f := range rep.Findings {
					t.Logf("  %s: %s %v", f.Kind, f.Summary, f.Entries)
				}
			}
		})
	}
}

func TestAnalyzeDump(t *testing.T) {
	rec := hartest.Browse(t, "opaque")
	rep, err := har.Analyze(bytes.NewReader(rec.HAR))
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range rep.Exchanges {
		t.Logf("%+v", x)
	}
	for _, x := range rep.Tokens {
		t.Logf("%+v", *x)
	}
	for _, f := range rep.Findings {
		t.Logf("  %s: %s %v", f.Kind, f.Summary, f.Entries)
	}
	t.Log(rep.Secrets, rep.OAuthURLs, rep.APIURLs, rep.Families)
}

// A server that echoes what it was sent (the password in a failed login,
// the refresh token in a 401) does not put them in the report: messages
// carry placeholders.
func TestAnalyzeRedactsEchoedSecrets(t *testing.T) {
	const password, refresh = "hunter2-secret", "rt-0123456789abcdef0123456789abcdef"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		msg := "invalid password " + password
		if strings.Contains(r.URL.Path, "refresh") {
			msg = "refresh token " + refresh + " is revoked"
		}
		fmt.Fprintf(w, `{"statusCode":401,"message":%q}`, msg)
	}))
	defer srv.Close()
	rec := &hartest.Recorder{Next: http.DefaultTransport, Now: time.Now}
	c := &http.Client{Transport: rec}
	resp, err := c.Post(srv.URL+"/oauth/token", "application/json", strings.NewReader(`{"email":"a@example.com","password":"`+password+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = c.Post(srv.URL+"/oauth/refresh-token", "application/json", strings.NewReader(`{"refresh_token":"`+refresh+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	rep, err := har.Analyze(bytes.NewReader(rec.HAR()))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(rep)
	text := string(out)
	for _, x := range rep.Exchanges {
		text += x.Message
	}
	for _, f := range rep.Findings {
		text += f.Summary
	}
	for _, secret := range []string{password, refresh} {
		if strings.Contains(text, secret) {
			t.Errorf("the report holds %q", secret)
		}
	}
	if !strings.Contains(text, "invalid password") {
		t.Fatalf("the login's message is gone altogether: %s", text)
	}
}

// An OAuth server mounted under a path keeps it in the report (har revoke
// sends to it).
func TestAnalyzeOAuthBaseKeepsItsPath(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	rec := &hartest.Recorder{Next: http.DefaultTransport, Now: time.Now}
	resp, err := (&http.Client{Transport: rec}).Post(srv.URL+"/auth-svc/oauth/token", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	rep, err := har.Analyze(bytes.NewReader(rec.HAR()))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{srv.URL + "/auth-svc"}; len(rep.OAuthURLs) != 1 || rep.OAuthURLs[0] != want[0] {
		t.Fatalf("OAuthURLs %q, want %q", rep.OAuthURLs, want)
	}
}
