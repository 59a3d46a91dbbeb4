package auth

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth/emulator"
)

// BenchmarkLogin is one login round trip, client to emulator over loopback.
func BenchmarkLogin(b *testing.B) {
	_, ep := benchEmu(b)
	c := NewClient(nil, nil)
	ctx := context.Background()
	for b.Loop() {
		if _, _, err := c.Login(ctx, ep, emulator.DefaultUser().Email, emulator.DefaultUser().Password); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRefresh is one refresh round trip (with rotation), client to
// emulator over loopback.
func BenchmarkRefresh(b *testing.B) {
	_, ep := benchEmu(b)
	c := NewClient(nil, nil)
	ctx := context.Background()
	ts, _, err := c.Login(ctx, ep, emulator.DefaultUser().Email, emulator.DefaultUser().Password)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ts, _, err = c.Refresh(ctx, ep, ts.RefreshToken); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProbe is one profile round trip.
func BenchmarkProbe(b *testing.B) {
	_, ep := benchEmu(b)
	c := NewClient(nil, nil)
	ctx := context.Background()
	ts, _, err := c.Login(ctx, ep, emulator.DefaultUser().Email, emulator.DefaultUser().Password)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if pr, err := c.Probe(ctx, ep, ts.AccessToken); err != nil || !pr.Accepted {
			b.Fatal(pr, err)
		}
	}
}

// benchEmu is an emulator on the real clock without a login rate limit.
func benchEmu(b *testing.B) (*emulator.Server, Endpoints) {
	b.Helper()
	return startEmu(b, emulator.Config{LoginRate: -1, Now: time.Now})
}

// BenchmarkInspectJWT1KiB inspects a 1 KiB HS256 JWT.
func BenchmarkInspectJWT1KiB(b *testing.B) {
	tok := makeJWT(`{"alg":"HS256","typ":"JWT"}`, `{"tokenId":"6f1c2a3b-4d5e-4f60-8a71-92b3c4d5e6f7","iat":1709510400,"exp":1709553600,"pad":"`+strings.Repeat("x", 620)+`"}`, strings.Repeat("s", 43))
	if len(tok) < 1000 || len(tok) > 1048 {
		b.Fatalf("token is %d bytes, want about 1 KiB", len(tok))
	}
	opts := InspectOptions{Now: emuBase}
	b.SetBytes(int64(len(tok)))
	for b.Loop() {
		if in := Inspect(tok, opts); in.Format != "jwt" {
			b.Fatal(in.Warnings)
		}
	}
}

// BenchmarkParseTokenResponse parses a documented login response.
func BenchmarkParseTokenResponse(b *testing.B) {
	body := []byte(goodTokenBody(emuBase))
	for b.Loop() {
		if _, err := ParseTokenResponse(body, emuBase); err != nil {
			b.Fatal(err)
		}
	}
}
