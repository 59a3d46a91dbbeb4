package emulator_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokentop/tokentop/auth/emulator"
)

// benchPost posts body and returns the answer's body, failing on non-200.
func benchPost(b *testing.B, c *http.Client, url, body string) []byte {
	res, err := c.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		b.Fatalf("%s: %d %s", url, res.StatusCode, raw)
	}
	return raw
}

// BenchmarkServeLogin is one login round trip over loopback HTTP.
func BenchmarkServeLogin(b *testing.B) {
	srv := httptest.NewServer(emulator.New(emulator.Config{LoginRate: -1}))
	defer srv.Close()
	c := srv.Client()
	body := `{"email":"demo@example.com","password":"demo-password"}`
	b.ReportAllocs()
	for b.Loop() {
		benchPost(b, c, srv.URL+"/oauth/token", body)
	}
}

// BenchmarkServeRefresh is one rotation round trip over loopback HTTP,
// each using the refresh token the previous one returned.
func BenchmarkServeRefresh(b *testing.B) {
	for _, format := range []string{emulator.FormatOpaque, emulator.FormatJWT} {
		b.Run(format, func(b *testing.B) {
			em := emulator.New(emulator.Config{TokenFormat: format})
			srv := httptest.NewServer(em)
			defer srv.Close()
			c := srv.Client()
			first, err := em.Issue(emulator.DefaultUser().Email, 0, 0)
			if err != nil {
				b.Fatal(err)
			}
			var tr struct {
				RefreshToken string `json:"refresh_token"`
			}
			_ = json.Unmarshal(first, &tr)
			b.ReportAllocs()
			for b.Loop() {
				raw := benchPost(b, c, srv.URL+"/oauth/refresh-token", `{"refresh_token":"`+tr.RefreshToken+`"}`)
				if err := json.Unmarshal(raw, &tr); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
