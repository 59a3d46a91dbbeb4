package har

import (
	"bytes"
	"encoding/json"
)

// object is a JSON object that keeps its members' order and raw values, so
// that rewriting one member leaves the rest of the document as it was.
type object []member

type member struct {
	key string
	val json.RawMessage
}

func parseObject(raw []byte) (object, error) {
	var o object
	err := members(raw, func(key string, val []byte) error {
		o = append(o, member{key, val})
		return nil
	})
	return o, err
}

func (o object) get(key string) json.RawMessage {
	for _, m := range o {
		if m.key == key {
			return m.val
		}
	}
	return nil
}

func (o object) set(key string, v json.RawMessage) {
	for i := range o {
		if o[i].key == key {
			o[i].val = v
			return
		}
	}
}

func (o object) encode() []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.key)
		b.Write(k)
		b.WriteByte(':')
		b.Write(m.val)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// str is a JSON string literal.
func str(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// rewriteArray applies fn to each object of the array at o[key] and writes
// the array back when fn changed any.
func (o object) rewriteArray(key string, fn func(el object) bool) error {
	raw := o.get(key)
	if len(raw) == 0 || raw[0] != '[' {
		return nil
	}
	var els []json.RawMessage
	if err := elements(raw, func(val []byte) error {
		els = append(els, val)
		return nil
	}); err != nil {
		return err
	}
	changed := false
	for i, el := range els {
		if len(el) == 0 || el[0] != '{' {
			continue
		}
		eo, err := parseObject(el)
		if err != nil {
			return err
		}
		if fn(eo) {
			els[i] = eo.encode()
			changed = true
		}
	}
	if changed {
		var b bytes.Buffer
		b.WriteByte('[')
		for i, el := range els {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(el)
		}
		b.WriteByte(']')
		o.set(key, b.Bytes())
	}
	return nil
}

// stringOf unquotes a raw JSON string; "" for anything else.
func stringOf(raw json.RawMessage) string {
	var s string
	if len(raw) > 0 && raw[0] == '"' {
		_ = json.Unmarshal(raw, &s)
	}
	return s
}
