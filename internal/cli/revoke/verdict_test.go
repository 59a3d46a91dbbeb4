package revoke

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/cli/cmdutil"
)

func TestJudgeRevoke(t *testing.T) {
	now := time.Date(2026, 4, 3, 12, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Minute), now.Add(time.Hour)
	ok := auth.Meta{Status: 200, RequestID: "r1"}
	netErr := &auth.NetworkError{Op: "revoke", Err: errors.New("connection refused")}
	tests := []struct {
		name   string
		o      auth.RevokeOutcome
		expiry time.Time
		want   revokeVerdict
		dead   bool
	}{
		{"confirmed", auth.RevokeOutcome{Fingerprint: "sha256:1", Meta: ok}, future, verdictRevoked, true},
		{"confirmed, recording failed", auth.RevokeOutcome{Fingerprint: "sha256:1", Meta: ok, Err: errors.New("disk full")}, future, verdictRevokedBut, true},
		{"no answer", auth.RevokeOutcome{Fingerprint: "sha256:1", Err: netErr}, future, verdictFailed, false},
		{"server error", auth.RevokeOutcome{Fingerprint: "sha256:1", Meta: auth.Meta{Status: 503}, Err: errors.New("503")}, future, verdictFailed, false},
		{"not sent, present.Expired", auth.RevokeOutcome{Fingerprint: "sha256:1"}, past, verdictExpired, true},
		{"not sent, still valid", auth.RevokeOutcome{Fingerprint: "sha256:1"}, future, verdictNotTried, false},
		{"not sent, expiry unknown", auth.RevokeOutcome{Fingerprint: "sha256:1"}, time.Time{}, verdictNotTried, false},
		{"no such token", auth.RevokeOutcome{}, future, verdictNoToken, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := judgeRevoke(tt.o, tt.expiry, now)
			if got != tt.want || got.dead() != tt.dead {
				t.Errorf("judgeRevoke = %d (dead %v), want %d (dead %v)", got, got.dead(), tt.want, tt.dead)
			}
		})
	}
}

func TestRevokeError(t *testing.T) {
	netErr := fmt.Errorf("revoke: %w: connection refused", auth.ErrNetwork)
	srvErr := fmt.Errorf("revoke: %w (HTTP 503:\nbusy)", auth.ErrServer)
	storeErr := fmt.Errorf("keyring: %w", auth.ErrStoreUnavailable)
	tests := []struct {
		name                 string
		refresh, access, kpr error
		want                 string
		is                   []error
		code                 int
	}{
		{"both, same cause", netErr, netErr, nil, "revoke p: refresh and access tokens not revoked: revoke: network failure: connection refused", []error{auth.ErrNetwork}, cmdutil.ExitUnavailable},
		{"both, different causes", netErr, srvErr, nil, "revoke p: refresh token not revoked: revoke: network failure: connection refused; access token not revoked: revoke: server error (HTTP 503: busy)", []error{auth.ErrNetwork, auth.ErrServer}, cmdutil.ExitUnavailable},
		{"refresh only", srvErr, nil, nil, "revoke p: refresh token not revoked: revoke: server error (HTTP 503: busy)", []error{auth.ErrServer}, cmdutil.ExitUnavailable},
		{"access only", nil, netErr, storeErr, "revoke p: access token not revoked: revoke: network failure: connection refused", []error{auth.ErrNetwork}, cmdutil.ExitUnavailable},
		{"keeper only", nil, nil, storeErr, "revoke p: keyring: secret storage unavailable", []error{auth.ErrStoreUnavailable}, cmdutil.ExitStorage},
		{"no cause known", nil, nil, nil, "revoke p: not every token was revoked", nil, cmdutil.ExitFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := revokeError("p", tt.refresh, tt.access, tt.kpr)
			if err.Error() != tt.want {
				t.Errorf("message\n got %q\nwant %q", err.Error(), tt.want)
			}
			for _, target := range tt.is {
				if !errors.Is(err, target) {
					t.Errorf("errors.Is(err, %v) = false", target)
				}
			}
			if got := cmdutil.ExitCode(err); got != tt.code {
				t.Errorf("exit code %d, want %d", got, tt.code)
			}
		})
	}
}
