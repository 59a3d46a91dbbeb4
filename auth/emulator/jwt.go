package emulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"time"
)

// jwtHeader is the fixed header of every token the emulator signs.
var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// jwtClaims are the claims of the refresh-page sample token.
type jwtClaims struct {
	TokenID string `json:"tokenId"`
	IAT     int64  `json:"iat"`
	EXP     int64  `json:"exp"`
}

// signJWT makes an HS256 JWT with a fresh tokenId, issued at iat and
// expiring at exp. The random tokenId makes every token unique.
func signJWT(secret []byte, iat, exp time.Time) string {
	payload, _ := json.Marshal(jwtClaims{TokenID: newUUID(), IAT: iat.Unix(), EXP: exp.Unix()})
	signing := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(payload)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}
