package ui

import (
	"fmt"
	"strings"
	"testing"
)

// A dialog is drawn over the screen it is about, so the person still sees
// which row (or which form) they are confirming.
func TestDialogsDrawOverTheScreen(t *testing.T) {
	for _, sz := range []struct{ w, h int }{{60, 24}, {120, 30}, {200, 40}} {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			h := newHarness(t, sz.w, sz.h)
			h.keys("x")
			h.requireContains("Revoke acme-admin?", "NAME▾")
			// The row under the cursor stays visible beside or above the dialog.
			h.requireContains("▸ acme-admin")
			requireFits(t, h.view(), sz.w, sz.h)
			h.keys("esc", "c")
			h.requireContains("Copy from acme-admin", "NAME▾")
			h.keys("esc", "X")
			h.typeText("leaked-token")
			h.keys("ctrl+s")
			h.requireContains("Revoke this access token?", "REVOKE A PASTED TOKEN")
		})
	}
}

func TestOverlay(t *testing.T) {
	bg := "aaaaaaaa\nbbbbbbbb\ncccccccc\ndddddddd"
	got := overlay(bg, "XY\nZW", 8, 4)
	want := "aaaaaaaa\nbbbXYbbb\ncccZWccc\ndddddddd"
	if got != want {
		t.Fatalf("overlay:\n%s\nwant:\n%s", got, want)
	}
	// A dialog wider or taller than the screen is cut, never wrapped.
	got = overlay("ab\ncd", "12345\n6\n7\n8", 2, 2)
	for _, l := range strings.Split(got, "\n") {
		if len(l) > 2 {
			t.Fatalf("overlay overflows: %q", got)
		}
	}
}
