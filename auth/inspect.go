package auth

// SKELETON: the client helper replaces this file. Signatures are the contract.

import "time"

// Inspection is what a token string is, for display. Nothing in it is secret
// except through Claims of a JWT (which the user asked to see).
type Inspection struct {
	Fingerprint string         `json:"fingerprint"`
	Length      int            `json:"length"`
	Format      string         `json:"format"`   // "jwt" or "opaque"
	Alphabet    string         `json:"alphabet"` // e.g. "base64url", "hex", "alphanumeric", "mixed"
	Header      map[string]any `json:"header,omitempty"`
	Claims      map[string]any `json:"claims,omitempty"`
	IssuedAt    time.Time      `json:"issued_at,omitzero"`
	NotBefore   time.Time      `json:"not_before,omitzero"`
	Expires     time.Time      `json:"expires,omitzero"`
	// SignatureVerified is always false: tokentop holds no keys.
	SignatureVerified bool     `json:"signature_verified"`
	Warnings          []string `json:"warnings,omitempty"`
}

// InspectOptions give context for warnings.
type InspectOptions struct {
	Now time.Time
	// ExpectedExpiry is the response's expires_in for this token; a JWT exp
	// that disagrees with it (by more than a few seconds) is warned about.
	ExpectedExpiry time.Time
}

// Inspect describes a token. It never fails: anything that is not a JWT is
// opaque.
func Inspect(token string, opts InspectOptions) Inspection {
	return Inspection{Fingerprint: Fingerprint(token), Length: len(token), Format: "opaque"}
}
