package storage

import (
	"regexp"
	"strings"

	"github.com/tokentop/tokentop/auth"
)

// fingerprintRE is what auth.Fingerprint produces.
var fingerprintRE = regexp.MustCompile(`^sha256:[0-9a-f]{8}$`)

// tokenLikeRE finds runs that could be tokens: 32 or more characters of the
// base64url / JWT alphabet. Frontend tokens are 32 characters, opaque and
// JWT tokens longer; ordinary messages have no such runs.
var tokenLikeRE = regexp.MustCompile(`[A-Za-z0-9_\-+/=.~]{32,}`)

// scrubEvent is the last line of defence: events carry fingerprints by
// construction, but a fingerprint field holding anything else is replaced
// by that value's fingerprint, and token-like runs in the message are
// replaced by "[redacted sha256:...]", so a caller's mistake cannot put a
// token into the audit log. Request ids are short and kept as they are.
func scrubEvent(e auth.Event) auth.Event {
	e.OldFP = scrubFP(e.OldFP)
	e.NewFP = scrubFP(e.NewFP)
	if e.Message != "" {
		e.Message = tokenLikeRE.ReplaceAllStringFunc(e.Message, func(s string) string {
			return "[redacted " + auth.Fingerprint(s) + "]"
		})
	}
	if len(e.RequestID) > 128 || tokenLikeRE.MatchString(e.RequestID) && strings.Count(e.RequestID, ".") >= 2 {
		e.RequestID = "[redacted " + auth.Fingerprint(e.RequestID) + "]"
	}
	return e
}

func scrubFP(fp string) string {
	if fp == "" || fingerprintRE.MatchString(fp) {
		return fp
	}
	return auth.Fingerprint(fp)
}
