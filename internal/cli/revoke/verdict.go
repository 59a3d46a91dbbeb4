package revoke

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
	"github.com/tokentop/tokentop/internal/present"
	"github.com/tokentop/tokentop/internal/timefmt"
)

// parseTokenKind checks --type; missing or wrong is a usage error, because
// revoking with the wrong kind would silently leave the token alive.
func parseTokenKind(s string) (auth.TokenKind, error) {
	switch auth.TokenKind(s) {
	case auth.AccessToken, auth.RefreshToken:
		return auth.TokenKind(s), nil
	case "":
		return "", cmdutil.NewUsageError(errors.New("--token - needs --type access or --type refresh (which kind of token is on stdin)"))
	default:
		return "", cmdutil.NewUsageError(fmt.Errorf("--type %q: choose access or refresh", s))
	}
}

// revokeFailure is revoke NAME's error when the session was kept: one line
// for the user (the details are on stdout already), while errors.Is and the
// exit code still see every cause.
type revokeFailure struct {
	msg  string
	errs []error
}

func (e *revokeFailure) Error() string { return e.msg }

func (e *revokeFailure) Unwrap() []error { return e.errs }

// revokeError builds revoke NAME's one-line error from why each token was not
// revoked (nil: it was, or it needed no revoking) and the keeper's own error.
func revokeError(name string, refreshErr, accessErr, keeperErr error) error {
	var msg string
	var errs []error
	switch {
	case refreshErr != nil && accessErr != nil && refreshErr.Error() == accessErr.Error():
		msg = fmt.Sprintf("refresh and access tokens not revoked: %v", refreshErr)
		errs = []error{refreshErr, accessErr}
	case refreshErr != nil && accessErr != nil:
		msg = fmt.Sprintf("refresh token not revoked: %v; access token not revoked: %v", refreshErr, accessErr)
		errs = []error{refreshErr, accessErr}
	case refreshErr != nil:
		msg = fmt.Sprintf("refresh token not revoked: %v", refreshErr)
		errs = []error{refreshErr}
	case accessErr != nil:
		msg = fmt.Sprintf("access token not revoked: %v", accessErr)
		errs = []error{accessErr}
	case keeperErr != nil:
		msg = keeperErr.Error()
		errs = []error{keeperErr}
	default:
		msg = "not every token was revoked"
	}
	// Newlines from a server message or a wrapped error would break the
	// one-line rule of every tokentop error.
	msg = strings.Join(strings.Fields(msg), " ")
	return &revokeFailure{msg: "revoke " + name + ": " + msg, errs: errs}
}

// revokeVerdict is what one RevokeOutcome means for the token.
type revokeVerdict int

const (
	verdictRevoked    revokeVerdict = iota // the server confirmed
	verdictRevokedBut                      // the server confirmed; recording it failed
	verdictExpired                         // not sent: it had expired already
	verdictFailed                          // the server did not confirm
	verdictNotTried                        // not sent although still valid
	verdictNoToken                         // the session had no such token
)

func (v revokeVerdict) dead() bool {
	return v == verdictRevoked || v == verdictRevokedBut || v == verdictExpired || v == verdictNoToken
}

// judgeRevoke reads an outcome; an outcome with no error and no answer is
// only "dead" when the token's own expiry has passed.
func judgeRevoke(o auth.RevokeOutcome, expiry, now time.Time) revokeVerdict {
	switch {
	case o.Err != nil && o.Meta.Status >= 200 && o.Meta.Status < 300:
		return verdictRevokedBut
	case o.Err != nil:
		return verdictFailed
	case o.Meta.Status != 0:
		return verdictRevoked
	case o.Fingerprint == "":
		return verdictNoToken
	case present.Expired(expiry, now):
		return verdictExpired
	default:
		return verdictNotTried
	}
}

func printRevokeLine(w io.Writer, label string, o auth.RevokeOutcome, v revokeVerdict, expiry time.Time) {
	fp := present.OrDash(o.Fingerprint)
	switch v {
	case verdictRevoked:
		fmt.Fprintf(w, "%s %s  revoked (%s)\n", label, fp, present.MetaText(o.Meta))
	case verdictRevokedBut:
		fmt.Fprintf(w, "%s %s  revoked (%s), but: %v\n", label, fp, present.MetaText(o.Meta), o.Err)
	case verdictExpired:
		fmt.Fprintf(w, "%s %s  already expired at %s, nothing to revoke\n", label, fp, timefmt.Absolute(expiry))
	case verdictFailed:
		fmt.Fprintf(w, "%s %s  NOT revoked: %v\n", label, fp, o.Err)
	case verdictNotTried:
		fmt.Fprintf(w, "%s %s  NOT revoked: not attempted\n", label, fp)
	case verdictNoToken:
		fmt.Fprintf(w, "%s -  none stored\n", label)
	}
}
