package ui

import (
	"errors"
	"fmt"
	"testing"
)

// The header says the keyring cannot be used before anyone tries to copy
// a token or log in, and why; a store without the check says nothing.
func TestHeaderSaysKeyringUnavailable(t *testing.T) {
	for _, w := range []int{60, 120, 200} {
		t.Run(fmt.Sprint(w), func(t *testing.T) {
			h := newHarness(t, w, 24, func(c *Config) {
				c.Store.(*fakeStore).secretsErr = errors.New("no Secret Service on the session bus")
			})
			h.send(h.run(h.m.Init())...)
			want := "keyring unavailable: no Secret Service on the session bus"
			if w < 100 {
				want = "keyring unavailable"
			}
			h.requireContains(want)
			if h.store.secretsChecks != 1 {
				t.Fatalf("checked %d times, want once at start", h.store.secretsChecks)
			}
		})
	}
	h := newHarness(t, 120, 24)
	h.send(h.run(h.m.Init())...)
	h.requireNotContains("keyring unavailable")
}
