// Package har reads HAR 1.2 files (a browser's "Save all as HAR") as a
// stream and finds the Convirza exchanges in them: the tokens, the rotation
// chain, what went wrong (Analyze), and a copy with every secret replaced
// by a placeholder naming its fingerprint (Sanitize). It holds no terminal
// code; the commands in internal/cli/har and the TUI present its reports.
//
// Memory is bounded whatever the file's size: each entry is read, used and
// dropped before the next, and an entry's strings longer than 1 MiB (a
// captured download's body) are handled in chunks as they stream by.
package har

import (
	"encoding/json"
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

	// Where request and response are in the entry's raw JSON; zero when
	// absent.
	reqAt, respAt [2]int
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
// to other (raw, for copying), every entry to entry. The raw values are
// slices of the read buffer, valid only during the call.
type walker struct {
	src   *source
	other func(path, key string, raw json.RawMessage) error
	entry func(i int, raw json.RawMessage) error
	open  func(path string) error // an object at path begins ("" the document, "log")
	close func(path string) error // it ends
	array func(open bool) error   // log.entries begins or ends
}

func (w *walker) fail(msg string) error {
	return &FormatError{Offset: w.src.offset(), Msg: msg}
}

// delim consumes the next byte, which must be want.
func (w *walker) delim(want byte) error {
	c, ok := w.src.peek()
	if !ok {
		return w.src.endErr()
	}
	if c != want {
		return w.fail(fmt.Sprintf("want %q, found %s", want, describe(c)))
	}
	w.src.pos++
	return nil
}

func describe(c byte) string {
	switch {
	case c == '"':
		return "a string"
	case c == 'n':
		return "null"
	case c == '{' || c == '[' || c == '}' || c == ']' || c == ',' || c == ':':
		return fmt.Sprintf("%q", c)
	case c == '-' || c >= '0' && c <= '9':
		return "a number"
	case c == 't' || c == 'f':
		return "a boolean"
	}
	return fmt.Sprintf("%q", c)
}

// next consumes the ',' between members or elements, or the closing
// delimiter; more says which.
func (w *walker) next(closing byte) (more bool, err error) {
	c, ok := w.src.peek()
	if !ok {
		return false, w.src.endErr()
	}
	switch c {
	case ',':
		w.src.pos++
		return true, nil
	case closing:
		w.src.pos++
		return false, nil
	}
	return false, w.fail(fmt.Sprintf("want ',' or %q, found %s", closing, describe(c)))
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
	c, ok := w.src.peek()
	if !ok {
		return w.src.endErr()
	}
	if c == '}' {
		w.src.pos++
	} else {
		for more := true; more; {
			if c, ok := w.src.peek(); ok && c != '"' {
				return w.fail(fmt.Sprintf("want a member name, found %s", describe(c)))
			}
			k, err := w.src.value()
			if err != nil {
				return err
			}
			key := unquote(k)
			if err := w.delim(':'); err != nil {
				return err
			}
			if err := member(key); err != nil {
				return err
			}
			if more, err = w.next('}'); err != nil {
				return err
			}
		}
	}
	if w.close != nil {
		return w.close(path)
	}
	return nil
}

func (w *walker) raw(path, key string) error {
	raw, err := w.src.value()
	if err != nil {
		return err
	}
	if w.other != nil {
		return w.other(path, key, raw)
	}
	return nil
}

func (w *walker) entries() error {
	if err := w.delim('['); err != nil {
		return err
	}
	if w.array != nil {
		if err := w.array(true); err != nil {
			return err
		}
	}
	c, ok := w.src.peek()
	if !ok {
		return w.src.endErr()
	}
	if c == ']' {
		w.src.pos++
	} else {
		for i, more := 0, true; more; i++ {
			raw, err := w.src.value()
			if err != nil {
				return err
			}
			if raw[0] != '{' {
				return &FormatError{Offset: w.src.offset() - int64(len(raw)), Msg: fmt.Sprintf("entry %d is not an object", i)}
			}
			if err := w.entry(i, raw); err != nil {
				return err
			}
			if more, err = w.next(']'); err != nil {
				return err
			}
		}
	}
	if w.array != nil {
		return w.array(false)
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
			return w.entries()
		})
	})
	if err != nil {
		return err
	}
	if !sawLog || !sawEntries {
		return w.fail("no log.entries")
	}
	if _, ok := w.src.peek(); ok {
		return w.fail("more data after the HAR document")
	}
	return w.src.err
}

// readBuffer is the read-ahead size: large reads keep the reader's
// refills cheap on files of hundreds of megabytes.
const readBuffer = 1 << 20

// Each calls fn with every entry of the HAR read from r, in file order,
// decoded; raw is the entry's JSON as it was in the file. The entry's
// bodies and raw are valid only during the call: they share the read
// buffer.
//
// Each holds every entry whole; Analyze and Sanitize do not.
func Each(r io.Reader, fn func(i int, e *Entry, raw json.RawMessage) error) error {
	return each(newSource(r), fn)
}

func each(src *source, fn func(i int, e *Entry, raw json.RawMessage) error) error {
	w := &walker{src: src}
	w.entry = func(i int, raw json.RawMessage) error {
		var e Entry
		if err := decodeEntry(raw, &e); err != nil {
			return fmt.Errorf("entry %d: %w", i, &FormatError{Offset: w.src.offset(), Msg: err.Error()})
		}
		return fn(i, &e, raw)
	}
	return w.run()
}
