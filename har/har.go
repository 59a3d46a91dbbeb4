// Package har reads HAR 1.2 files (a browser's "Save all as HAR") as a
// stream and finds the Convirza exchanges in them: the tokens, the rotation
// chain, what went wrong (Analyze), and a copy with every secret replaced
// by a placeholder naming its fingerprint (Sanitize). It holds no terminal
// code; the commands in internal/cli/har and the TUI present its reports.
//
// Memory is bounded by the largest single entry, never by the file: the
// document is walked with encoding/json's token API and each entry is
// decoded, used and dropped before the next is read.
package har

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Entry is the part of a HAR entry the analysis reads. Bodies stay raw JSON
// string literals: most are large and of no interest, and unquoting them
// would cost more than the rest of the entry.
type Entry struct {
	StartedDateTime string   `json:"startedDateTime"`
	Time            float64  `json:"time"`
	Request         Request  `json:"request"`
	Response        Response `json:"response"`
}

// NameValue is a HAR header, cookie, query or form parameter.
type NameValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Request is an entry's request.
type Request struct {
	Method      string      `json:"method"`
	URL         string      `json:"url"`
	Headers     []NameValue `json:"headers"`
	Cookies     []NameValue `json:"cookies"`
	QueryString []NameValue `json:"queryString"`
	PostData    *PostData   `json:"postData"`
}

// PostData is a request body.
type PostData struct {
	MimeType string          `json:"mimeType"`
	Text     json.RawMessage `json:"text"`
	Params   []NameValue     `json:"params"`
}

// Response is an entry's response.
type Response struct {
	Status  int         `json:"status"`
	Headers []NameValue `json:"headers"`
	Cookies []NameValue `json:"cookies"`
	Content Content     `json:"content"`
}

// Content is a response body.
type Content struct {
	Size     int64           `json:"size"`
	MimeType string          `json:"mimeType"`
	Text     json.RawMessage `json:"text"`
	Encoding string          `json:"encoding"`
}

// Header returns the first header called name (any case), or "".
func Header(hs []NameValue, name string) string {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// Started parses startedDateTime; browsers write ISO 8601 with or without
// a zone, with any number of fraction digits.
func (e *Entry) Started() time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05.999999999Z0700"} {
		if t, err := time.Parse(layout, e.StartedDateTime); err == nil {
			return t
		}
	}
	return time.Time{}
}

// Duration is the entry's total time (HAR "time", milliseconds).
func (e *Entry) Duration() time.Duration {
	if e.Time <= 0 || e.Time > 1e9 {
		return 0
	}
	return time.Duration(e.Time * float64(time.Millisecond))
}

// maxBodyText bounds a body the analysis unquotes to read as JSON. Token
// responses are a few hundred bytes; anything far larger is not one.
const maxBodyText = 1 << 20

// text unquotes a raw JSON string of at most max bytes; ok is false for
// anything else (absent, null, too large, not a string).
func text(raw json.RawMessage, max int) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || len(raw) > max {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// FormatError says where a file stops being HAR.
type FormatError struct {
	Offset int64 // byte offset in the input
	Msg    string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("not a HAR file (at byte %d: %s); give the file saved with the browser's \"Save all as HAR\"", e.Offset, e.Msg)
}

// walker walks a HAR document: every member outside log.entries is handed
// to other (raw, for copying), every entry to entry.
type walker struct {
	dec   *json.Decoder
	other func(path, key string, raw json.RawMessage) error
	entry func(i int, raw json.RawMessage) error
	open  func(path string) error // an object at path begins ("" the document, "log")
	close func(path string) error // it ends
	array func(open bool) error   // log.entries begins or ends
}

func (w *walker) fail(msg string) error {
	return &FormatError{Offset: w.dec.InputOffset(), Msg: msg}
}

func (w *walker) delim(want json.Delim) error {
	t, err := w.dec.Token()
	if err != nil {
		return w.syntax(err)
	}
	if d, ok := t.(json.Delim); !ok || d != want {
		return w.fail(fmt.Sprintf("want %q, found %v", want, describe(t)))
	}
	return nil
}

func describe(t json.Token) string {
	switch v := t.(type) {
	case json.Delim:
		return fmt.Sprintf("%q", v)
	case string:
		return "a string"
	case nil:
		return "null"
	default:
		return fmt.Sprintf("%T", v)
	}
}

func (w *walker) syntax(err error) error {
	if errors.Is(err, io.EOF) {
		return w.fail("the file ends too early (truncated download?)")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &FormatError{Offset: se.Offset, Msg: se.Error()}
	}
	return err
}

// object walks one object at path, calling member for each key.
func (w *walker) object(path string, member func(key string) error) error {
	if err := w.delim('{'); err != nil {
		return err
	}
	if w.open != nil {
		if err := w.open(path); err != nil {
			return err
		}
	}
	for w.dec.More() {
		t, err := w.dec.Token()
		if err != nil {
			return w.syntax(err)
		}
		key, _ := t.(string)
		if err := member(key); err != nil {
			return err
		}
	}
	if err := w.delim('}'); err != nil {
		return err
	}
	if w.close != nil {
		return w.close(path)
	}
	return nil
}

func (w *walker) raw(path, key string) error {
	var raw json.RawMessage
	if err := w.dec.Decode(&raw); err != nil {
		return w.syntax(err)
	}
	if w.other != nil {
		return w.other(path, key, raw)
	}
	return nil
}

func (w *walker) run() error {
	sawLog, sawEntries := false, false
	err := w.object("", func(key string) error {
		if key != "log" {
			return w.raw("", key)
		}
		sawLog = true
		return w.object("log", func(key string) error {
			if key != "entries" {
				return w.raw("log", key)
			}
			sawEntries = true
			if err := w.delim('['); err != nil {
				return err
			}
			if w.array != nil {
				if err := w.array(true); err != nil {
					return err
				}
			}
			for i := 0; w.dec.More(); i++ {
				var raw json.RawMessage
				if err := w.dec.Decode(&raw); err != nil {
					return w.syntax(err)
				}
				if len(raw) == 0 || raw[0] != '{' {
					return w.fail(fmt.Sprintf("entry %d is not an object", i))
				}
				if err := w.entry(i, raw); err != nil {
					return err
				}
			}
			if err := w.delim(']'); err != nil {
				return err
			}
			if w.array != nil {
				return w.array(false)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	if !sawLog || !sawEntries {
		return w.fail("no log.entries")
	}
	if _, err := w.dec.Token(); !errors.Is(err, io.EOF) {
		return w.fail("more data after the HAR document")
	}
	return nil
}

// readBuffer is the read-ahead size: large reads keep the decoder's
// refills cheap on files of hundreds of megabytes.
const readBuffer = 1 << 20

// Each calls fn with every entry of the HAR read from r, in file order,
// decoded; raw is the entry's JSON as it was in the file.
func Each(r io.Reader, fn func(i int, e *Entry, raw json.RawMessage) error) error {
	w := &walker{dec: json.NewDecoder(bufio.NewReaderSize(r, readBuffer))}
	w.entry = func(i int, raw json.RawMessage) error {
		var e Entry
		if err := json.Unmarshal(raw, &e); err != nil {
			return fmt.Errorf("entry %d: %w", i, &FormatError{Offset: w.dec.InputOffset(), Msg: err.Error()})
		}
		return fn(i, &e, raw)
	}
	return w.run()
}
