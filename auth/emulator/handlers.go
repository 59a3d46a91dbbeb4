package emulator

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// tokenResponse is the flat body of a successful login or refresh.
type tokenResponse struct {
	AccessToken      string   `json:"access_token"`
	RefreshToken     string   `json:"refresh_token"`
	FrontendToken    string   `json:"frontend_token"`
	TokenType        string   `json:"token_type"`
	ExpiresIn        string   `json:"expires_in"`
	RefreshExpiresIn string   `json:"refresh_expires_in"`
	User             userJSON `json:"user"`
}

// userJSON is a user as the API shows it: no password.
type userJSON struct {
	UserID    int64  `json:"user_id"`
	Email     string `json:"email"`
	RoleID    int    `json:"role_id"`
	OrgUnitID int64  `json:"org_unit_id"`
}

func toUserJSON(u User) userJSON {
	return userJSON{UserID: u.UserID, Email: u.Email, RoleID: u.RoleID, OrgUnitID: u.OrgUnitID}
}

// tokenBody encodes p for user u as the token endpoints answer.
func tokenBody(p pair, u User) []byte {
	b, _ := json.Marshal(tokenResponse{
		AccessToken:      p.access,
		RefreshToken:     p.refresh,
		FrontendToken:    p.frontend,
		TokenType:        "Bearer",
		ExpiresIn:        isoTime(p.accessExp),
		RefreshExpiresIn: isoTime(p.refreshExp),
		User:             toUserJSON(u),
	})
	return b
}

// loginRequest accepts "username" as a synonym of "email".
type loginRequest struct {
	Email    *string `json:"email"`
	Username *string `json:"username"`
	Password *string `json:"password"`
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request, rl *reqLog, reqID string) {
	s.mu.Lock()
	ok, wait := s.allowLoginLocked(clientIP(r), s.nowLocked())
	s.mu.Unlock()
	if !ok {
		rl.note("rate-limited")
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(wait)))
		s.writeError(w, r, reqID, http.StatusTooManyRequests,
			fmt.Sprintf("Too many login attempts: at most %d a minute from one address", s.loginRate))
		return
	}
	var req loginRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.badBody(w, r, reqID, err)
		return
	}
	email := ""
	switch {
	case req.Email != nil && *req.Email != "":
		email = *req.Email
	case req.Username != nil:
		email = *req.Username
	}
	if email == "" {
		s.writeError(w, r, reqID, http.StatusBadRequest, "email is required")
		return
	}
	rl.user = email
	if req.Password == nil || *req.Password == "" {
		s.writeError(w, r, reqID, http.StatusBadRequest, "password is required")
		return
	}
	u, known := s.users[strings.ToLower(email)]
	// Compare even for unknown users so timing does not reveal who exists.
	want := u.Password
	if !known {
		want = "\x00no such user"
	}
	if subtle.ConstantTimeCompare([]byte(*req.Password), []byte(want)) != 1 || !known {
		s.writeError(w, r, reqID, http.StatusUnauthorized, "Invalid email or password")
		return
	}
	s.mu.Lock()
	now := s.nowLocked()
	ss := &session{user: u, accessTTL: s.cfg.AccessTTL, refreshTTL: s.cfg.RefreshTTL}
	p := s.issueLocked(ss, now)
	s.stats.Logins++
	s.mu.Unlock()
	rl.token("out.access", p.access)
	rl.token("out.refresh", p.refresh)
	s.writeBody(w, http.StatusOK, tokenBody(p, u))
}

type refreshRequest struct {
	RefreshToken *string `json:"refresh_token"`
}

// refreshOutcome is why a refresh was refused, for the error and the log.
type refreshOutcome int

const (
	refreshOK refreshOutcome = iota
	refreshUnknown
	refreshExpired
	refreshReused
)

func (s *Server) handleRefresh(w http.ResponseWriter, r *http.Request, rl *reqLog, reqID string) {
	var req refreshRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.badBody(w, r, reqID, err)
		return
	}
	if req.RefreshToken == nil || *req.RefreshToken == "" {
		s.writeError(w, r, reqID, http.StatusBadRequest, "refresh_token is required")
		return
	}
	tok := *req.RefreshToken
	rl.token("in.refresh", tok)

	s.mu.Lock()
	now := s.nowLocked()
	outcome, p, u, drop := s.rotateLocked(tok, now)
	s.mu.Unlock()

	switch outcome {
	case refreshReused:
		rl.note("reuse-detected")
		s.writeError(w, r, reqID, http.StatusUnauthorized, "Refresh token already used")
		return
	case refreshExpired:
		s.writeError(w, r, reqID, http.StatusUnauthorized, "Refresh token expired")
		return
	case refreshUnknown:
		s.writeError(w, r, reqID, http.StatusUnauthorized, "Invalid or revoked refresh token")
		return
	}
	rl.user = u.Email
	rl.token("out.access", p.access)
	rl.token("out.refresh", p.refresh)
	body := tokenBody(p, u)
	if drop {
		s.mu.Lock()
		s.dropped = append(s.dropped, body)
		s.mu.Unlock()
		rl.status = statusDropped
		cutConnection(w)
		return
	}
	s.writeBody(w, http.StatusOK, body)
}

// rotateLocked checks a refresh token and, when it is live, issues the
// session's next pair and counts it. drop says whether this response is to
// be cut off (DropNextRefreshResponses). Callers hold s.mu.
func (s *Server) rotateLocked(tok string, now time.Time) (refreshOutcome, pair, User, bool) {
	e, ok := s.refresh[tok]
	switch {
	case !ok:
		s.stats.RefreshRejections++
		return refreshUnknown, pair{}, User{}, false
	case e.used:
		s.stats.RefreshRejections++
		s.stats.ReuseDetected++
		return refreshReused, pair{}, User{}, false
	case !now.Before(e.exp):
		s.stats.RefreshRejections++
		return refreshExpired, pair{}, User{}, false
	}
	p := s.issueLocked(e.sess, now)
	s.stats.Refreshes++
	drop := false
	if s.dropN > 0 {
		s.dropN--
		drop = true
	}
	return refreshOK, p, e.sess.user, drop
}

// cutConnection closes the connection without answering, as a network
// failure after the request was sent would.
func cutConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2): abort the stream instead.
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(interface{ SetLinger(int) error }); ok {
		_ = tc.SetLinger(0) // a reset, not a polite close
	}
	_ = conn.Close()
}

type revokeRequest struct {
	Token     *string `json:"token"`
	TokenType *string `json:"token_type"`
}

func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request, rl *reqLog, reqID string) {
	var req revokeRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.badBody(w, r, reqID, err)
		return
	}
	if req.Token == nil || *req.Token == "" {
		s.writeError(w, r, reqID, http.StatusBadRequest, "token is required")
		return
	}
	kind := ""
	if req.TokenType != nil {
		kind = *req.TokenType
	}
	if kind != KindAccess && kind != KindRefresh {
		s.writeError(w, r, reqID, http.StatusBadRequest, `token_type must be "access" or "refresh"`)
		return
	}
	rl.token("revoke."+kind, *req.Token)
	s.mu.Lock()
	if s.revokeLocked(*req.Token, kind) {
		rl.note("was-live")
	}
	s.stats.Revocations++
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, map[string]string{"message": "Token revoked successfully"})
}

// revokeLocked kills tok of the given kind and reports whether it was known
// and not yet retired. A rotated-away refresh token is kept as used, so a
// later presentation still counts as reuse. Callers hold s.mu.
func (s *Server) revokeLocked(tok, kind string) bool {
	if kind == KindAccess {
		if _, ok := s.access[tok]; ok {
			delete(s.access, tok)
			return true
		}
		return false
	}
	e, ok := s.refresh[tok]
	if !ok || e.used {
		return false
	}
	delete(s.refresh, tok)
	if e.sess.refresh == tok {
		e.sess.refresh = ""
	}
	return true
}

// profileResponse is the success envelope of the business API.
type profileResponse struct {
	Code      int      `json:"code"`
	Message   string   `json:"message"`
	Data      userJSON `json:"data"`
	RequestID string   `json:"request_id"`
	Timestamp string   `json:"timestamp"`
}

func (s *Server) handleProfile(w http.ResponseWriter, r *http.Request, rl *reqLog, reqID string) {
	tok, err := bearer(r)
	if err != nil {
		s.writeError(w, r, reqID, http.StatusUnauthorized, err.Error())
		return
	}
	rl.token("in.access", tok)
	s.mu.Lock()
	now := s.nowLocked()
	e := s.lookupAccessLocked(tok, now)
	var u User
	if e != nil {
		u = e.sess.user
	}
	s.mu.Unlock()
	if e == nil {
		s.writeError(w, r, reqID, http.StatusUnauthorized, "Invalid or expired token")
		return
	}
	rl.user = u.Email
	s.writeJSON(w, http.StatusOK, profileResponse{
		Code: 200, Message: "Success", Data: toUserJSON(u), RequestID: reqID, Timestamp: isoTime(now),
	})
}

// bearer extracts the token of "Authorization: Bearer <token>".
func bearer(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		//lint:ignore ST1005 this is the server's error message, worded as the API words it
		return "", errors.New("Missing Authorization header")
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		//lint:ignore ST1005 this is the server's error message, worded as the API words it
		return "", errors.New("Authorization header must be: Bearer <access_token>")
	}
	return strings.TrimSpace(tok), nil
}

func (s *Server) handleStats(w http.ResponseWriter, _ *http.Request, _ *reqLog, _ string) {
	s.writeJSON(w, http.StatusOK, s.Stats())
}
