package har

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"
)

// Writer records HTTP exchanges as a HAR 1.2 file, sanitising each entry
// as it is written, by the rules of Sanitize read from a stream (a token is
// replaced once the traffic has shown what it is, a JWT-shaped value
// always). Bodies are not recorded: the proxy streams them.
//
// The file is a valid HAR after every entry: each write puts the entry and
// the document's closing brackets after the last entry, so a process
// stopped at any point between two writes leaves a complete file.
type Writer struct {
	mu      sync.Mutex
	f       *os.File
	end     int64 // where the closing brackets start
	n       int
	san     *sanitizer
	err     error
	closed  bool
	onError func(error)
}

// trailer closes the entries array, log and document.
const trailer = "]}}\n"

// Create starts a HAR file at path, mode 0600, refusing to replace one that
// exists (a recording is evidence). creator names the program in the HAR's
// log.creator; onError, when not nil, is told of the first failed write
// (Record has no one to return it to).
func Create(path, creator, version string, onError func(error)) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("record to %s: the file exists; give a new file name (a recording is never overwritten)", path)
		}
		return nil, fmt.Errorf("record to %s: %w", path, err)
	}
	head, _ := json.Marshal(map[string]any{"name": creator, "version": version})
	doc := `{"log":{"version":"1.2","creator":` + string(head) + `,"pages":[],"entries":[`
	if _, err := f.WriteString(doc + trailer); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("record to %s: %w", path, err)
	}
	a := newAnalyzer()
	return &Writer{f: f, end: int64(len(doc)), san: &sanitizer{a: a, out: Replaced{}}, onError: onError}, nil
}

type harEntry struct {
	StartedDateTime string  `json:"startedDateTime"`
	Time            float64 `json:"time"`
	Request         struct {
		Method      string      `json:"method"`
		URL         string      `json:"url"`
		HTTPVersion string      `json:"httpVersion"`
		Cookies     []NameValue `json:"cookies"`
		Headers     []NameValue `json:"headers"`
		QueryString []NameValue `json:"queryString"`
		HeadersSize int         `json:"headersSize"`
		BodySize    int64       `json:"bodySize"`
	} `json:"request"`
	Response struct {
		Status      int         `json:"status"`
		StatusText  string      `json:"statusText"`
		HTTPVersion string      `json:"httpVersion"`
		Cookies     []NameValue `json:"cookies"`
		Headers     []NameValue `json:"headers"`
		Content     struct {
			Size     int64  `json:"size"`
			MimeType string `json:"mimeType"`
			Comment  string `json:"comment"`
		} `json:"content"`
		RedirectURL string `json:"redirectURL"`
		HeadersSize int    `json:"headersSize"`
		BodySize    int64  `json:"bodySize"`
	} `json:"response"`
	Cache   struct{} `json:"cache"`
	Timings struct {
		Send    float64 `json:"send"`
		Wait    float64 `json:"wait"`
		Receive float64 `json:"receive"`
	} `json:"timings"`
}

// HeaderList is h as HAR headers, sorted by name.
func HeaderList(h http.Header) []NameValue {
	out := []NameValue{}
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			out = append(out, NameValue{Name: k, Value: v})
		}
	}
	return out
}

// CookieList is cs as HAR cookies.
func CookieList(cs []*http.Cookie) []NameValue {
	out := []NameValue{}
	for _, c := range cs {
		out = append(out, NameValue{Name: c.Name, Value: c.Value})
	}
	return out
}

func bodySize(n int64) int64 {
	if n < 0 {
		return -1
	}
	return n
}

// Record writes one exchange: req as sent upstream (without the token the
// proxy added), resp's status and headers, started and the time to the
// response's headers. Safe for concurrent use.
func (w *Writer) Record(req *http.Request, resp *http.Response, started time.Time, wait time.Duration) {
	var e harEntry
	e.StartedDateTime = started.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	ms := float64(wait) / float64(time.Millisecond)
	e.Time, e.Timings.Wait, e.Timings.Send, e.Timings.Receive = ms, ms, 0, 0
	e.Request.Method, e.Request.URL, e.Request.HTTPVersion = req.Method, req.URL.String(), req.Proto
	e.Request.Cookies, e.Request.Headers = CookieList(req.Cookies()), HeaderList(req.Header)
	e.Request.QueryString = []NameValue{}
	q := req.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range q[k] {
			e.Request.QueryString = append(e.Request.QueryString, NameValue{Name: k, Value: v})
		}
	}
	e.Request.HeadersSize, e.Request.BodySize = -1, bodySize(req.ContentLength)
	e.Response.Status, e.Response.StatusText, e.Response.HTTPVersion = resp.StatusCode, http.StatusText(resp.StatusCode), resp.Proto
	e.Response.Cookies, e.Response.Headers = CookieList(resp.Cookies()), HeaderList(resp.Header)
	e.Response.Content.Size = max(resp.ContentLength, 0)
	e.Response.Content.MimeType = resp.Header.Get("Content-Type")
	e.Response.Content.Comment = "body not recorded: tokentop proxy streams bodies"
	e.Response.HeadersSize, e.Response.BodySize = -1, bodySize(resp.ContentLength)
	raw, err := json.Marshal(&e)

	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || w.err != nil {
		return
	}
	if err == nil {
		var clean []byte
		if clean, err = w.san.entry(w.n, raw); err == nil {
			buf := make([]byte, 0, len(clean)+len(trailer)+1)
			if w.n > 0 {
				buf = append(buf, ',')
			}
			buf = append(append(buf, clean...), trailer...)
			if _, err = w.f.WriteAt(buf, w.end); err == nil {
				w.end += int64(len(buf) - len(trailer))
				w.n++
			}
		}
	}
	if err != nil {
		w.err = fmt.Errorf("record to %s: entry %d: %w", w.f.Name(), w.n, err)
		if w.onError != nil {
			w.onError(w.err)
		}
	}
}

// Entries is how many exchanges were written.
func (w *Writer) Entries() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// Close flushes the file to disk and closes it; the document is already
// complete. It returns the first error met while recording.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return w.err
	}
	w.closed = true
	err := w.f.Sync()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if w.err != nil {
		return w.err
	}
	return err
}
