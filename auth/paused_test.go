package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/auth/emulator"
)

// An imported pair is someone else's: it starts paused, a running keeper
// leaves it alone past its refresh window and its expiry, and Token hands
// out its access token while it is valid and then refuses, saying how to
// resume, without ever refreshing it. Resumed, it is refreshed as usual.
func TestImportStartsPausedAndNothingRefreshesIt(t *testing.T) {
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	body, err := e.emu.Issue(emulator.DefaultUser().Email, 100*time.Second, time.Hour) // window 30 s
	if err != nil {
		t.Fatal(err)
	}
	e.tap.noteBody(body)
	s, err := e.k.Import(ctx, "customer-4453", e.ep, body, auth.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Paused || s.State != auth.StatePaused {
		t.Fatalf("imported session: paused %v, state %s; want paused", s.Paused, s.State)
	}
	if got := e.get("customer-4453"); !got.Paused {
		t.Fatal("the stored record is not paused")
	}
	sec := e.secrets("customer-4453")

	e.run(e.k)
	e.advance(80 * time.Second) // inside the refresh window
	got, _, err := e.k.Token(ctx, "customer-4453", 0)
	if err != nil || got.AccessToken != sec.AccessToken {
		t.Fatalf("Token inside the window of a paused session = %v, %v; want its current access token", got, err)
	}
	if _, _, err := e.k.Token(ctx, "customer-4453", time.Minute); !errors.Is(err, auth.ErrPaused) {
		t.Fatalf("Token --min-valid beyond what is left: %v, want ErrPaused", err)
	}
	e.advance(time.Minute) // expired
	_, _, err = e.k.Token(ctx, "customer-4453", 0)
	if !errors.Is(err, auth.ErrPaused) || !strings.Contains(err.Error(), "tokentop resume customer-4453") ||
		!strings.Contains(err.Error(), "expired") {
		t.Fatalf("Token of an expired paused session: %v, want ErrPaused naming tokentop resume", err)
	}
	if n := requests(e.emu.Stats()); n != 0 {
		t.Fatalf("%d requests to the server for a paused session", n)
	}

	if err := e.k.SetPaused(ctx, "customer-4453", false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.k.Token(ctx, "customer-4453", 0); err != nil {
		t.Fatalf("Token after resume: %v", err)
	}
	if n := e.emu.Stats().Refreshes; n != 1 {
		t.Fatalf("%d refreshes after resume, want 1", n)
	}
}

// --keep-alive: the importer says the pair is theirs to keep alive.
func TestImportKeepAlive(t *testing.T) {
	e := newEnv(t, envOpt{})
	s := e.seed("mine", 100*time.Second, time.Hour) // seed imports with KeepAlive
	if s.Paused || s.State != auth.StateOK {
		t.Fatalf("kept-alive import: paused %v, state %s", s.Paused, s.State)
	}
	e.run(e.k)
	e.clock.Advance(75 * time.Second)
	waitEvent(t, e.k, "mine", auth.EventRefreshed)
}
