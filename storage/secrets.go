package storage

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tokentop/tokentop/auth"
)

// maxSecretBytes bounds the JSON of one token pair in every backend. Real
// pairs are a few KiB at most (JWTs); more means something else was pasted.
const maxSecretBytes = 32 << 10

// secretBackend keeps one auth.Secrets per session name. Implementations
// return errors matching auth.ErrSecretNotFound for a missing secret.
type secretBackend interface {
	get(ctx context.Context, name string) (auth.Secrets, error)
	set(ctx context.Context, name string, sec auth.Secrets) error
	// delete removes the secret; a missing one matches auth.ErrSecretNotFound.
	delete(ctx context.Context, name string) error
	// probe checks, without touching any session's secret, that a pair
	// for name could be saved now (see Store.CanStore).
	probe(ctx context.Context, name string) error
}

// storedSecrets is the stored form of a pair: the tokens, and whom they
// were saved for (auth.SecretsOwner), which proves which store and session
// a value belongs to. Values saved before owners were recorded have no
// owner fields and still decode.
type storedSecrets struct {
	AccessToken   string `json:"access_token"`
	RefreshToken  string `json:"refresh_token"`
	FrontendToken string `json:"frontend_token,omitempty"`
	StoreID       string `json:"store_id,omitempty"`
	Session       string `json:"session,omitempty"`
	UserID        int64  `json:"user_id,omitempty"`
}

func toStored(sec auth.Secrets) storedSecrets {
	return storedSecrets{
		AccessToken: sec.AccessToken, RefreshToken: sec.RefreshToken, FrontendToken: sec.FrontendToken,
		StoreID: sec.Owner.StoreID, Session: sec.Owner.Session, UserID: sec.Owner.UserID,
	}
}

func (st storedSecrets) secrets() auth.Secrets {
	return auth.Secrets{
		AccessToken: st.AccessToken, RefreshToken: st.RefreshToken, FrontendToken: st.FrontendToken,
		Owner: auth.SecretsOwner{StoreID: st.StoreID, Session: st.Session, UserID: st.UserID},
	}
}

// encodeSecrets is the stored form of a pair (with its owner), refused
// when too large.
func encodeSecrets(name string, sec auth.Secrets) ([]byte, error) {
	data, err := json.Marshal(toStored(sec))
	if err != nil {
		return nil, fmt.Errorf("encode secrets for session %q: %w", name, err)
	}
	if len(data) > maxSecretBytes {
		return nil, fmt.Errorf("save session %q: %w (%d bytes, at most %d): check what was imported", name, ErrSecretTooLarge, len(data), maxSecretBytes)
	}
	return data, nil
}

// decodeSecrets parses the stored form; the error never quotes the value.
func decodeSecrets(name string, data []byte) (auth.Secrets, error) {
	var st storedSecrets
	if err := json.Unmarshal(data, &st); err != nil {
		return auth.Secrets{}, fmt.Errorf("stored secrets for session %q are not valid JSON (%d bytes): log in again or import: %w", name, len(data), auth.ErrSecretUnusable)
	}
	if st.AccessToken == "" || st.RefreshToken == "" {
		return auth.Secrets{}, fmt.Errorf("stored secrets for session %q lack the access or refresh token: log in again or import: %w", name, auth.ErrSecretUnusable)
	}
	return st.secrets(), nil
}
