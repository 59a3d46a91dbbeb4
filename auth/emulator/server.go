package emulator

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxBody bounds every request body the emulator reads.
const maxBody = 64 << 10

// statusDropped marks, in the log, a response cut off on purpose.
const statusDropped = -1

// Server is the emulator; it is an http.Handler safe for concurrent use.
type Server struct {
	cfg       Config
	jwt       bool
	secret    []byte // HS256 key for TokenFormat "jwt", made per server
	loginRate int
	users     map[string]User // by lower-cased email

	mu         sync.Mutex // guards everything below
	access     map[string]*tokenEntry
	refresh    map[string]*tokenEntry
	sessions   map[*session]struct{}
	limiter    map[string][]time.Time // client IP → request times in the window
	stats      Stats                  // ActiveSessions is computed on demand
	nextPrune  time.Time
	prunedSize int
	offset     time.Duration // ShiftClock total
	latency    time.Duration
	failN      int
	failStatus int
	dropN      int
	dropped    [][]byte
	rng        *mathrand.Rand

	logMu sync.Mutex // serialises writes to cfg.Log
}

// New builds a Server. Users without a UserID are numbered from 10001;
// duplicate emails keep the first.
func New(cfg Config) *Server {
	if cfg.AccessTTL <= 0 {
		cfg.AccessTTL = DefaultAccessTTL
	}
	if cfg.RefreshTTL <= 0 {
		cfg.RefreshTTL = DefaultRefreshTTL
	}
	if cfg.TokenFormat == "" {
		cfg.TokenFormat = FormatOpaque
	}
	if len(cfg.Users) == 0 {
		cfg.Users = []User{DefaultUser()}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	seed := cfg.Seed
	if seed == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		seed = binary.LittleEndian.Uint64(b[:])
	}
	s := &Server{
		cfg:       cfg,
		jwt:       strings.EqualFold(cfg.TokenFormat, FormatJWT),
		loginRate: cfg.LoginRate,
		users:     make(map[string]User, len(cfg.Users)),
		access:    make(map[string]*tokenEntry),
		refresh:   make(map[string]*tokenEntry),
		sessions:  make(map[*session]struct{}),
		limiter:   make(map[string][]time.Time),
		latency:   cfg.Latency,
		rng:       mathrand.New(mathrand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
	if s.loginRate == 0 {
		s.loginRate = DefaultLoginRate
	}
	// Any user may ask for JWTs, so a signing secret always exists.
	{
		s.secret = make([]byte, 32)
		_, _ = rand.Read(s.secret)
	}
	for i, u := range cfg.Users {
		if u.UserID == 0 {
			u.UserID = int64(10001 + i)
		}
		key := strings.ToLower(u.Email)
		if _, dup := s.users[key]; !dup {
			s.users[key] = u
		}
	}
	return s
}

// Now is the emulator's clock: Config.Now shifted by ShiftClock.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	off := s.offset
	s.mu.Unlock()
	return s.cfg.Now().Add(off)
}

// nowLocked is Now for callers holding s.mu.
func (s *Server) nowLocked() time.Time { return s.cfg.Now().Add(s.offset) }

// Users returns the accounts the emulator accepts (with their UserIDs).
func (s *Server) Users() []User {
	out := make([]User, 0, len(s.cfg.Users))
	for _, u := range s.cfg.Users {
		out = append(out, s.users[strings.ToLower(u.Email)])
	}
	return out
}

// route is one endpoint: its method and handler.
type route struct {
	method string
	handle func(s *Server, w http.ResponseWriter, r *http.Request, rl *reqLog, reqID string)
}

var routes = map[string]route{
	"/oauth/token":         {http.MethodPost, (*Server).handleLogin},
	"/oauth/refresh-token": {http.MethodPost, (*Server).handleRefresh},
	"/oauth/revoke-token":  {http.MethodPost, (*Server).handleRevoke},
	"/v3/auth/profile":     {http.MethodGet, (*Server).handleProfile},
	"/_emulator/stats":     {http.MethodGet, (*Server).handleStats},
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now() // real time: the log reports real durations
	reqID := newUUID()
	rl := &reqLog{}
	ip := clientIP(r)
	path := r.URL.Path
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		if sw.status != 0 && rl.status == 0 {
			rl.status = sw.status
		}
		s.writeLog(s.Now(), r.Method, path, ip, reqID, time.Since(start), rl)
	}()
	w = sw
	w.Header().Set("X-Request-Id", reqID)

	internal := strings.HasPrefix(path, "/_emulator/")
	if !internal {
		delay, failStatus := s.faultsFor()
		if delay > 0 {
			bufferBody(r)
		}
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				rl.note("canceled-during-latency")
				return
			}
		}
		if failStatus != 0 {
			rl.note("injected-fault")
			if failStatus == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "1")
			}
			s.writeError(w, r, reqID, failStatus, "injected fault")
			return
		}
	}

	rt, ok := routes[path]
	if !ok {
		s.writeError(w, r, reqID, http.StatusNotFound, fmt.Sprintf("Cannot %s %s", r.Method, sanitize(path)))
		return
	}
	if r.Method != rt.method {
		w.Header().Set("Allow", rt.method)
		s.writeError(w, r, reqID, http.StatusMethodNotAllowed, fmt.Sprintf("%s %s: use %s", r.Method, path, rt.method))
		return
	}
	rt.handle(s, w, r, rl, reqID)
}

// statusWriter remembers the status for the log and passes Hijack through.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection for Hijack.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// clientIP is the host of RemoteAddr; forwarding headers are not trusted.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// setDate stamps the Date header from the emulator's clock; net/http would
// otherwise use the real clock and hide ShiftClock from the client.
func (s *Server) setDate(w http.ResponseWriter) {
	w.Header().Set("Date", s.Now().UTC().Format(http.TimeFormat))
}

// writeJSON answers status with v as JSON.
func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil { // only plain structs and maps are passed in
		panic(fmt.Sprintf("emulator: encode response: %v", err))
	}
	s.writeBody(w, status, body)
}

// writeBody answers status with a JSON body already encoded.
func (s *Server) writeBody(w http.ResponseWriter, status int, body []byte) {
	s.setDate(w)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// errorBody is the documented error shape.
type errorBody struct {
	StatusCode int    `json:"statusCode"`
	Message    string `json:"message"`
	Error      string `json:"error"`
	Timestamp  string `json:"timestamp"`
	Path       string `json:"path"`
	RequestID  string `json:"requestId"`
}

// writeError answers status with the documented error body; detail says
// what was wrong and must never contain a secret.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, reqID string, status int, detail string) {
	s.writeJSON(w, status, errorBody{
		StatusCode: status,
		Message:    http.StatusText(status),
		Error:      detail,
		Timestamp:  isoTime(s.Now()),
		Path:       sanitize(r.URL.Path),
		RequestID:  reqID,
	})
}

// errBadRequest is wrapped by decodeJSON's errors (all answered 400).
var errBadRequest = errors.New("bad request")

// errTooLarge marks a body over maxBody (answered 413).
var errTooLarge = errors.New("request body too large")

// decodeJSON reads exactly one JSON object into v, insisting on the JSON
// content type. Unknown fields are ignored, wrong types are not.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return fmt.Errorf("%w: Content-Type must be application/json", errBadRequest)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fmt.Errorf("%w: more than %d bytes", errTooLarge, maxBody)
		}
		return fmt.Errorf("%w: reading the body: %v", errBadRequest, err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return fmt.Errorf("%w: field %q must be a %s", errBadRequest, te.Field, te.Type)
		}
		return fmt.Errorf("%w: the body is not a JSON object", errBadRequest)
	}
	return nil
}

// badBody answers a decodeJSON failure.
func (s *Server) badBody(w http.ResponseWriter, r *http.Request, reqID string, err error) {
	status := http.StatusBadRequest
	if errors.Is(err, errTooLarge) {
		status = http.StatusRequestEntityTooLarge
	}
	s.writeError(w, r, reqID, status, err.Error())
}

// bufferBody reads the request body (up to one byte past maxBody, so that
// decodeJSON still sees an oversized body) into memory. net/http only
// watches for the client hanging up, and cancels the request context, once
// the body has been read to its end; without this a request delayed by
// Latency would wait out its delay after its client had gone.
func bufferBody(r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody {
		return
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return // decodeJSON reports what is left
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
}
