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
}

// encodeSecrets is the stored form of a pair, refused when too large.
func encodeSecrets(name string, sec auth.Secrets) ([]byte, error) {
	data, err := json.Marshal(sec)
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
	var sec auth.Secrets
	if err := json.Unmarshal(data, &sec); err != nil {
		return auth.Secrets{}, fmt.Errorf("stored secrets for session %q are not valid JSON (%d bytes): log in again or import: %w", name, len(data), auth.ErrSecretUnusable)
	}
	if sec.AccessToken == "" || sec.RefreshToken == "" {
		return auth.Secrets{}, fmt.Errorf("stored secrets for session %q lack the access or refresh token: log in again or import: %w", name, auth.ErrSecretUnusable)
	}
	return sec, nil
}
