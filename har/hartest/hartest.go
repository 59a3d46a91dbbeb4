// Package hartest records HAR files from real exchanges with the emulator,
// for tests of the har package and the har commands: a Recorder (an
// http.RoundTripper that writes what passes through it as HAR 1.2 entries)
// and Browse, a browser-like client that goes through the flows support
// engineers meet in customers' files.
package hartest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/tokentop/tokentop/har"
)

// Recorder is an http.RoundTripper that records every exchange as a HAR
// entry, timed by Now (the browser's clock).
type Recorder struct {
	Next http.RoundTripper
	Now  func() time.Time

	mu      sync.Mutex
	entries []entry
}

type nv = har.NameValue

type entry struct {
	started         time.Time
	StartedDateTime string  `json:"startedDateTime"`
	Time            float64 `json:"time"`
	Request         struct {
		Method      string `json:"method"`
		URL         string `json:"url"`
		HTTPVersion string `json:"httpVersion"`
		Headers     []nv   `json:"headers"`
		QueryString []nv   `json:"queryString"`
		Cookies     []nv   `json:"cookies"`
		HeadersSize int    `json:"headersSize"`
		BodySize    int    `json:"bodySize"`
		PostData    *struct {
			MimeType string `json:"mimeType"`
			Text     string `json:"text"`
		} `json:"postData,omitempty"`
	} `json:"request"`
	Response struct {
		Status      int    `json:"status"`
		StatusText  string `json:"statusText"`
		HTTPVersion string `json:"httpVersion"`
		Headers     []nv   `json:"headers"`
		Cookies     []nv   `json:"cookies"`
		Content     struct {
			Size     int    `json:"size"`
			MimeType string `json:"mimeType"`
			Text     string `json:"text"`
		} `json:"content"`
		RedirectURL string `json:"redirectURL"`
		HeadersSize int    `json:"headersSize"`
		BodySize    int    `json:"bodySize"`
	} `json:"response"`
	Cache   struct{}           `json:"cache"`
	Timings map[string]float64 `json:"timings"`
}

// RoundTrip sends req through Next and records the exchange.
func (r *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var e entry
	e.started = r.Now()
	e.StartedDateTime = e.started.Format("2006-01-02T15:04:05.000Z07:00")
	e.Request.Method, e.Request.URL, e.Request.HTTPVersion = req.Method, req.URL.String(), "HTTP/1.1"
	e.Request.Headers, e.Request.HeadersSize, e.Request.BodySize = har.HeaderList(req.Header), -1, 0
	e.Request.QueryString = []nv{}
	for k, vs := range req.URL.Query() {
		for _, v := range vs {
			e.Request.QueryString = append(e.Request.QueryString, nv{Name: k, Value: v})
		}
	}
	e.Request.Cookies = har.CookieList(req.Cookies())
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		e.Request.BodySize = len(b)
		e.Request.PostData = &struct {
			MimeType string `json:"mimeType"`
			Text     string `json:"text"`
		}{req.Header.Get("Content-Type"), string(b)}
	}
	resp, err := r.Next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	elapsed := r.Now().Sub(e.started)
	e.Time = float64(elapsed) / float64(time.Millisecond)
	e.Timings = map[string]float64{"send": 0, "wait": e.Time, "receive": 0}
	e.Response.Status, e.Response.StatusText, e.Response.HTTPVersion = resp.StatusCode, http.StatusText(resp.StatusCode), "HTTP/1.1"
	e.Response.Headers, e.Response.Cookies = har.HeaderList(resp.Header), har.CookieList(resp.Cookies())
	e.Response.Content.Size, e.Response.Content.MimeType, e.Response.Content.Text = len(body), resp.Header.Get("Content-Type"), string(body)
	e.Response.HeadersSize, e.Response.BodySize = -1, len(body)
	r.mu.Lock()
	r.entries = append(r.entries, e)
	r.mu.Unlock()
	return resp, nil
}

// HAR returns the recording as a HAR 1.2 document, entries in order of
// their start, as browsers write them.
func (r *Recorder) HAR() []byte {
	r.mu.Lock()
	es := append([]entry(nil), r.entries...)
	r.mu.Unlock()
	sort.SliceStable(es, func(i, j int) bool { return es[i].started.Before(es[j].started) })
	doc := map[string]any{"log": map[string]any{
		"version": "1.2",
		"creator": map[string]string{"name": "tokentop hartest", "version": "1"},
		"pages":   []any{},
		"entries": es,
	}}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic(err) // only our own types: cannot fail
	}
	return b
}
