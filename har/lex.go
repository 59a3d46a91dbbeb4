package har

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// A HAR is mostly a few huge JSON strings (response bodies). encoding/json
// scans every byte of a value several times (Decoder, then Unmarshal's
// validity check, then the decode itself); this file scans each byte once:
// skip finds where a value ends and checks its syntax, and the members of
// interest are then read from the byte ranges it found, the large strings
// kept as ranges (json.RawMessage) and never copied or unquoted.

// errShort says the data ended inside a value: the reader reads more and
// scans again; on a complete value it is a syntax error.
var errShort = errors.New("unexpected end of JSON input")

// maxDepth bounds nesting, as encoding/json does, so a hostile file cannot
// exhaust the stack.
const maxDepth = 10000

// strPlain marks the bytes that may stand for themselves inside a JSON
// string: everything but the quote, the backslash and control characters.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return
}()

// syntaxError is a syntax error at byte offset off of the scanned slice.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string { return e.msg }

func synErr(off int, format string, args ...any) error {
	return &syntaxError{off, fmt.Sprintf(format, args...)}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skip returns the end of the JSON value that starts at b[i] (after any
// space), checking its syntax.
func skip(b []byte, i int) (int, error) { return skipDepth(b, i, 0) }

func skipDepth(b []byte, i, depth int) (int, error) {
	i = skipSpace(b, i)
	if i >= len(b) {
		return i, errShort
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '{' || c == '[':
		if depth >= maxDepth {
			return i, synErr(i, "nested too deeply")
		}
		close := byte('}')
		if c == '[' {
			close = ']'
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == close {
			return i + 1, nil
		}
		for {
			var err error
			if close == '}' {
				i = skipSpace(b, i)
				if i >= len(b) {
					return i, errShort
				}
				if b[i] != '"' {
					return i, synErr(i, "invalid character %q looking for beginning of object key string", b[i])
				}
				if i, err = skipString(b, i); err != nil {
					return i, err
				}
				i = skipSpace(b, i)
				if i >= len(b) {
					return i, errShort
				}
				if b[i] != ':' {
					return i, synErr(i, "invalid character %q after object key", b[i])
				}
				i++
			}
			if i, err = skipDepth(b, i, depth+1); err != nil {
				return i, err
			}
			i = skipSpace(b, i)
			if i >= len(b) {
				return i, errShort
			}
			switch b[i] {
			case ',':
				i++
			case close:
				return i + 1, nil
			default:
				return i, synErr(i, "invalid character %q after a value (want ',' or %q)", b[i], close)
			}
		}
	case c == '-' || c >= '0' && c <= '9':
		return skipNumber(b, i)
	case c == 't':
		return skipLiteral(b, i, "true")
	case c == 'f':
		return skipLiteral(b, i, "false")
	case c == 'n':
		return skipLiteral(b, i, "null")
	default:
		return i, synErr(i, "invalid character %q looking for beginning of value", c)
	}
}

func skipLiteral(b []byte, i int, lit string) (int, error) {
	for k := 0; k < len(lit); k++ {
		if i+k >= len(b) {
			return i + k, errShort
		}
		if b[i+k] != lit[k] {
			return i + k, synErr(i+k, "invalid character %q in literal %s", b[i+k], lit)
		}
	}
	return i + len(lit), nil
}

func skipString(b []byte, i int) (int, error) {
	i++ // the opening quote
	for {
		for i < len(b) && strPlain[b[i]] {
			i++
		}
		if i >= len(b) {
			return i, errShort
		}
		switch c := b[i]; c {
		case '"':
			return i + 1, nil
		case '\\':
			if i+1 >= len(b) {
				return i + 1, errShort
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				for k := 2; k < 6; k++ {
					if i+k >= len(b) {
						return i + k, errShort
					}
					if !isHexDigit(b[i+k]) {
						return i + k, synErr(i+k, "invalid character %q in \\u escape", b[i+k])
					}
				}
				i += 6
			default:
				return i + 1, synErr(i+1, "invalid escape %q in string", b[i+1])
			}
		default:
			return i, synErr(i, "control character %#x in string", c)
		}
	}
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func skipNumber(b []byte, i int) (int, error) {
	start := i
	digits := func() (int, error) {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		if n == 0 {
			if i >= len(b) {
				return i, errShort
			}
			return i, synErr(i, "invalid character %q in number", b[i])
		}
		return i, nil
	}
	var err error
	if b[i] == '-' {
		i++
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if i, err = digits(); err != nil {
		return i, err
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i, err = digits(); err != nil {
			return i, err
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i, err = digits(); err != nil {
			return i, err
		}
	}
	// A number at the very end of the data may go on in the next read.
	if i >= len(b) && i > start {
		return i, errShort
	}
	return i, nil
}

// members calls fn with each member of the complete object in raw: its
// key (unquoted) and its value's bytes (a subslice of raw).
func members(raw []byte, fn func(key string, val []byte) error) error {
	_, err := fields(raw, 0, func(key string, vs int) (int, error) {
		ve, err := skip(raw, vs)
		if err != nil {
			return ve, err
		}
		return ve, fn(key, raw[vs:ve])
	})
	return err
}

// elements calls fn with each element of the complete array in raw.
func elements(raw []byte, fn func(val []byte) error) error {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '[' {
		return fmt.Errorf("not an array")
	}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == ']' {
		return nil
	}
	for {
		vs := skipSpace(raw, i)
		ve, err := skip(raw, vs)
		if err != nil {
			return complete(err, nil)
		}
		if err := fn(raw[vs:ve]); err != nil {
			return err
		}
		i = skipSpace(raw, ve)
		if i >= len(raw) {
			return errShort
		}
		switch raw[i] {
		case ',':
			i++
		case ']':
			return nil
		default:
			return fmt.Errorf("invalid array at byte %d: want ',' or ']'", i)
		}
	}
}

// complete turns the errors of a scan over a complete value into plain
// errors: a short read there is the value's end, not the data's.
func complete(err, otherwise error) error {
	if err == nil {
		return otherwise
	}
	if errors.Is(err, errShort) {
		return errShort
	}
	return err
}

// unquote returns the string of the JSON string literal q (already
// checked by skipString).
func unquote(q []byte) string {
	if len(q) < 2 || q[0] != '"' {
		return ""
	}
	if bytes.IndexByte(q, '\\') < 0 {
		return string(q[1 : len(q)-1])
	}
	var s string
	_ = json.Unmarshal(q, &s)
	return s
}

// fields walks the complete object at raw[i:], calling fn with each key
// and the offset of its value; fn returns where the value ends (having
// skipped or read it), so each byte is scanned once however deep the
// object. It returns the object's end.
func fields(raw []byte, i int, fn func(key string, vs int) (int, error)) (int, error) {
	i = skipSpace(raw, i)
	if i >= len(raw) || raw[i] != '{' {
		return i, fmt.Errorf("want an object at byte %d", i)
	}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		return i + 1, nil
	}
	for {
		i = skipSpace(raw, i)
		if i >= len(raw) || raw[i] != '"' {
			return i, fmt.Errorf("invalid object key at byte %d", i)
		}
		ke, err := skipString(raw, i)
		if err != nil {
			return i, complete(err, nil)
		}
		key := unquote(raw[i:ke])
		i = skipSpace(raw, ke)
		if i >= len(raw) || raw[i] != ':' {
			return i, fmt.Errorf("invalid object at byte %d: want ':'", i)
		}
		if i, err = fn(key, skipSpace(raw, i+1)); err != nil {
			return i, complete(err, nil)
		}
		i = skipSpace(raw, i)
		if i >= len(raw) {
			return i, errShort
		}
		switch raw[i] {
		case ',':
			i++
		case '}':
			return i + 1, nil
		default:
			return i, fmt.Errorf("invalid object at byte %d: want ',' or '}'", i)
		}
	}
}

// leaf skips the value at raw[vs:] and decodes it into dst with
// encoding/json's rules.
func leaf(raw []byte, vs int, dst any) (int, error) {
	ve, err := skip(raw, vs)
	if err != nil {
		return ve, err
	}
	return ve, json.Unmarshal(raw[vs:ve], dst)
}

// rawValue skips the value at raw[vs:] and keeps it as it is.
func rawValue(raw []byte, vs int, dst *json.RawMessage) (int, error) {
	ve, err := skip(raw, vs)
	*dst = raw[vs:ve]
	return ve, err
}

func isNullAt(raw []byte, vs int) bool { return bytes.HasPrefix(raw[vs:], []byte("null")) }

// decodeEntry fills e from the entry object raw. Small members are decoded
// by encoding/json with its usual rules (a key matches its field in any
// case); the bodies (postData.text, content.text) stay ranges of raw, and
// e remembers where its request and response are, for the sanitiser.
func decodeEntry(raw []byte, e *Entry) error {
	_, err := fields(raw, 0, func(key string, vs int) (int, error) {
		switch {
		case strings.EqualFold(key, "startedDateTime"):
			return leaf(raw, vs, &e.StartedDateTime)
		case strings.EqualFold(key, "time"):
			return leaf(raw, vs, &e.Time)
		case strings.EqualFold(key, "request"):
			ve, err := decodeRequest(raw, vs, &e.Request)
			e.reqAt = [2]int{vs, ve}
			return ve, err
		case strings.EqualFold(key, "response"):
			ve, err := decodeResponse(raw, vs, &e.Response)
			e.respAt = [2]int{vs, ve}
			return ve, err
		}
		return skip(raw, vs)
	})
	return err
}

func decodeRequest(raw []byte, vs int, r *Request) (int, error) {
	if isNullAt(raw, vs) {
		return skip(raw, vs)
	}
	return fields(raw, vs, func(key string, vs int) (int, error) {
		switch {
		case strings.EqualFold(key, "method"):
			return leaf(raw, vs, &r.Method)
		case strings.EqualFold(key, "url"):
			return leaf(raw, vs, &r.URL)
		case strings.EqualFold(key, "headers"):
			return leaf(raw, vs, &r.Headers)
		case strings.EqualFold(key, "cookies"):
			return leaf(raw, vs, &r.Cookies)
		case strings.EqualFold(key, "queryString"):
			return leaf(raw, vs, &r.QueryString)
		case strings.EqualFold(key, "postData"):
			if isNullAt(raw, vs) {
				r.PostData = nil
				return skip(raw, vs)
			}
			pd := &PostData{}
			r.PostData = pd
			return fields(raw, vs, func(key string, vs int) (int, error) {
				switch {
				case strings.EqualFold(key, "mimeType"):
					return leaf(raw, vs, &pd.MimeType)
				case strings.EqualFold(key, "text"):
					return rawValue(raw, vs, &pd.Text)
				case strings.EqualFold(key, "params"):
					return leaf(raw, vs, &pd.Params)
				}
				return skip(raw, vs)
			})
		}
		return skip(raw, vs)
	})
}

func decodeResponse(raw []byte, vs int, r *Response) (int, error) {
	if isNullAt(raw, vs) {
		return skip(raw, vs)
	}
	return fields(raw, vs, func(key string, vs int) (int, error) {
		switch {
		case strings.EqualFold(key, "status"):
			return leaf(raw, vs, &r.Status)
		case strings.EqualFold(key, "headers"):
			return leaf(raw, vs, &r.Headers)
		case strings.EqualFold(key, "cookies"):
			return leaf(raw, vs, &r.Cookies)
		case strings.EqualFold(key, "content"):
			if isNullAt(raw, vs) {
				return skip(raw, vs)
			}
			c := &r.Content
			return fields(raw, vs, func(key string, vs int) (int, error) {
				switch {
				case strings.EqualFold(key, "size"):
					return leaf(raw, vs, &c.Size)
				case strings.EqualFold(key, "mimeType"):
					return leaf(raw, vs, &c.MimeType)
				case strings.EqualFold(key, "text"):
					return rawValue(raw, vs, &c.Text)
				case strings.EqualFold(key, "encoding"):
					return leaf(raw, vs, &c.Encoding)
				}
				return skip(raw, vs)
			})
		}
		return skip(raw, vs)
	})
}

// source reads a document in chunks and hands out whole values as slices
// of its buffer, valid until the next read: memory is bounded by the
// largest value read at once (one entry), never by the file.
type source struct {
	r    io.Reader
	buf  []byte
	pos  int   // next unread byte in buf
	base int64 // offset in the input of buf[0]
	eof  bool
	err  error

	// spill, when set, receives the strings longer than maxBodyText (see
	// spill.go); lex follows the value being read to find them.
	spill    spiller
	lex      lexState
	spillBuf []byte
}

func newSource(r io.Reader) *source {
	return &source{r: r, buf: make([]byte, 0, readBuffer), lex: lexState{value: -1}}
}

// fill reads more input, keeping buf[pos:]; false when there is no more.
func (s *source) fill() bool {
	if s.eof || s.err != nil {
		return false
	}
	if s.pos > 0 {
		n := copy(s.buf, s.buf[s.pos:])
		s.buf = s.buf[:n]
		s.base += int64(s.pos)
		s.pos = 0
	}
	if len(s.buf) == cap(s.buf) {
		// A value larger than the buffer: grow it (one entry's worth).
		nb := make([]byte, len(s.buf), 2*cap(s.buf))
		copy(nb, s.buf)
		s.buf = nb
	}
	n, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
	s.buf = s.buf[:len(s.buf)+n]
	if err == io.EOF {
		s.eof = true
	} else if err != nil {
		s.err = err
	}
	return n > 0 || (!s.eof && s.err == nil)
}

// offset is where the reader is in the input (0 for no reader: the
// proxy's Writer sanitises entries it made itself).
func (s *source) offset() int64 {
	if s == nil {
		return 0
	}
	return s.base + int64(s.pos)
}

// peek skips space and returns the next byte; ok is false at the end.
func (s *source) peek() (byte, bool) {
	for {
		s.pos = skipSpace(s.buf, s.pos)
		if s.pos < len(s.buf) {
			return s.buf[s.pos], true
		}
		if !s.fill() {
			return 0, false
		}
	}
}

// value returns the next whole value.
func (s *source) value() ([]byte, error) {
	if _, ok := s.peek(); !ok {
		return nil, s.endErr()
	}
	for {
		end, err := skip(s.buf, s.pos)
		if err == nil {
			v := s.buf[s.pos:end]
			s.pos = end
			return v, nil
		}
		if !errors.Is(err, errShort) {
			var se *syntaxError
			if errors.As(err, &se) {
				return nil, &FormatError{Offset: s.base + int64(se.off), Msg: se.msg}
			}
			return nil, err
		}
		if !s.fill() {
			if s.eof && end >= len(s.buf) && len(s.buf) > s.pos && isNumberByte(s.buf[len(s.buf)-1]) {
				// A number that ends the input is complete.
				v := s.buf[s.pos:end]
				s.pos = end
				return v, nil
			}
			return nil, s.endErr()
		}
		if s.spill != nil && len(s.buf)-s.pos > maxBodyText {
			if err := s.lexPending(); err != nil {
				return nil, err
			}
		}
	}
}

func isNumberByte(c byte) bool { return c >= '0' && c <= '9' }

func (s *source) endErr() error {
	if s.err != nil {
		return s.err
	}
	return &FormatError{Offset: s.offset(), Msg: "the file ends too early (truncated download?)"}
}
