package safetext

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// JSON re-encodes one JSON document with every string in it, object keys
// included, passed through Escape, keeping the order of keys and elements
// and indenting by indent (none when empty). It is the last step of every
// --json output: whatever field a report grows, the document cannot carry a
// control or bidi character, not even as a \u001b escape that `jq -r` would
// turn back into the real thing.
//
// Two keys of one object that differ only in what Escape replaced would
// come out equal; the later ones get " (2)", " (3)"... so that no value is
// lost to a duplicate key.
func JSON(doc []byte, indent string) ([]byte, error) {
	if inert(doc) && json.Valid(doc) {
		// The common case: nothing to escape, and decoding every token
		// of a large document (a list of 10,000 sessions) costs seconds.
		if indent == "" {
			return doc, nil
		}
		var ind bytes.Buffer
		if err := json.Indent(&ind, doc, "", indent); err != nil {
			return nil, fmt.Errorf("re-encode JSON: %w", err)
		}
		return ind.Bytes(), nil
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var out bytes.Buffer
	if err := copyValue(&out, dec); err != nil {
		return nil, fmt.Errorf("re-encode JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("re-encode JSON: trailing data after the document")
	}
	if indent == "" {
		return out.Bytes(), nil
	}
	var ind bytes.Buffer
	if err := json.Indent(&ind, out.Bytes(), "", indent); err != nil {
		return nil, fmt.Errorf("re-encode JSON: %w", err)
	}
	return ind.Bytes(), nil
}

// copyValue copies the next value of dec to out, escaping strings.
func copyValue(out *bytes.Buffer, dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			out.WriteByte('{')
			seen := map[string]bool{}
			for first := true; dec.More(); first = false {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				key, _ := kt.(string)
				key = Escape(key)
				if seen[key] {
					for n := 2; ; n++ {
						if k := fmt.Sprintf("%s (%d)", key, n); !seen[k] {
							key = k
							break
						}
					}
				}
				seen[key] = true
				if !first {
					out.WriteByte(',')
				}
				writeString(out, key)
				out.WriteByte(':')
				if err := copyValue(out, dec); err != nil {
					return err
				}
			}
			out.WriteByte('}')
		case '[':
			out.WriteByte('[')
			for first := true; dec.More(); first = false {
				if !first {
					out.WriteByte(',')
				}
				if err := copyValue(out, dec); err != nil {
					return err
				}
			}
			out.WriteByte(']')
		default:
			return fmt.Errorf("unexpected %v", t)
		}
		// The closing delimiter.
		_, err := dec.Token()
		return err
	case string:
		writeString(out, Escape(t))
	case json.Number:
		out.WriteString(t.String())
	case bool:
		if t {
			out.WriteString("true")
		} else {
			out.WriteString("false")
		}
	case nil:
		out.WriteString("null")
	default:
		return fmt.Errorf("unexpected token %T", tok)
	}
	return nil
}

func writeString(out *bytes.Buffer, s string) {
	b, _ := json.Marshal(s) // a string always encodes
	out.Write(b)
}

// inert reports whether doc, as it stands, holds nothing JSON would need to
// change: no rune Escape replaces, and no backslash escape that a decoder
// would turn into one (\n, \t, \u001b…; only \" \\ and \/ pass).
func inert(doc []byte) bool {
	for i := 0; i < len(doc); {
		c := doc[i]
		switch {
		case c == '\\':
			if i+1 >= len(doc) {
				return false
			}
			switch doc[i+1] {
			case '"', '\\', '/':
				i += 2
				continue
			}
			return false
		case c < utf8.RuneSelf:
			if c < 0x20 || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(doc[i:])
		if r == utf8.RuneError && n == 1 || unsafeRune(r) {
			return false
		}
		i += n
	}
	return true
}
