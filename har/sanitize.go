package har

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
)

// Replaced counts the secrets Sanitize replaced, by kind (occurrences).
type Replaced map[Kind]int

// Sanitize copies the HAR read from r to w with every secret replaced by
// its placeholder (Placeholder): tokens wherever they appear, passwords,
// cookie values and Authorization headers. Everything else is kept as it
// was, member order included, so Analyze on the copy reports the same
// chain and findings by fingerprint.
//
// known, when not nil, is the report of a first pass over the same file:
// with it, a token is replaced even where it appears before the entry that
// reveals what it is. Without it (a stream read once), tokens are learnt
// entry by entry.
func Sanitize(r io.Reader, w io.Writer, known *Report) (Replaced, error) {
	a := newAnalyzer()
	if known != nil {
		for fp, v := range known.values {
			a.rep.values[fp] = v
			k := KindToken
			if t := known.Token(fp); t != nil {
				k = t.Kind
			}
			a.known[v] = k
			if strings.ContainsAny(v, "+/=") {
				a.exact = append(a.exact, v)
			}
		}
		for p := range known.passwords {
			a.rep.passwords[p] = true
		}
		for c := range known.cookies {
			a.rep.cookies[c] = true
		}
	}
	s := &sanitizer{a: a, out: Replaced{}}
	bw := bufio.NewWriterSize(w, readBuffer)
	ww := &walker{src: newSource(r)}
	s.src = ww.src
	// Strings too large to hold are copied through a temporary file,
	// their secrets replaced (spill.go).
	big := newBigText(a, s)
	defer big.close()
	a.src, a.big, ww.src.spill = ww.src, big, big
	write := func(p []byte) error { return big.write(bw, s.marker(), p) }
	first := map[string]bool{}
	sep := func(path string) {
		if first[path] {
			first[path] = false
		} else {
			bw.WriteByte(',')
		}
	}
	ww.open = func(path string) error {
		if path == "log" {
			sep("")
			bw.WriteString(`"log":`)
		}
		first[path] = true
		bw.WriteByte('{')
		return nil
	}
	ww.close = func(string) error { bw.WriteByte('}'); return nil }
	ww.other = func(path, key string, raw json.RawMessage) error {
		sep(path)
		if err := write(str(key)); err != nil {
			return err
		}
		bw.WriteByte(':')
		return write(raw)
	}
	ww.array = func(open bool) error {
		if open {
			sep("log")
			bw.WriteString(`"entries":[`)
		} else {
			bw.WriteByte(']')
		}
		return nil
	}
	ww.entry = func(i int, raw json.RawMessage) error {
		out, err := s.entry(i, raw)
		if err != nil {
			return fmt.Errorf("entry %d: %w", i, err)
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		return write(out)
	}
	if err := ww.run(); err != nil {
		return s.out, err
	}
	bw.WriteByte('\n')
	return s.out, bw.Flush()
}

type sanitizer struct {
	a   *analyzer
	out Replaced
	src *source // for the offset of an entry that is not HAR

	// Reused from entry to entry: an entry's copy is written out before
	// the next is read, so memory stays at the largest entry.
	buf, spliced, chunk []byte
}

// minLooseSecret is the shortest password or cookie value also searched for
// outside the places it belongs (an echo in a body, a URL): shorter ones
// would match ordinary text.
const minLooseSecret = 8

func (s *sanitizer) entry(i int, raw json.RawMessage) ([]byte, error) {
	var e Entry
	if err := decodeEntry(raw, &e); err != nil {
		return nil, &FormatError{Offset: s.src.offset(), Msg: err.Error()}
	}
	// Learn this entry's secrets first: what it reveals is replaced in it.
	s.a.entry(i, &e)

	// The request and, when it sets cookies, the response are rewritten;
	// every other byte of the entry is copied as it was, in one pass.
	req := raw[e.reqAt[0]:e.reqAt[1]]
	if len(req) > 0 && req[0] == '{' {
		ro, err := parseObject(req)
		if err != nil {
			return nil, err
		}
		if err := s.request(ro); err != nil {
			return nil, err
		}
		req = ro.encode()
	}
	resp := raw[e.respAt[0]:e.respAt[1]]
	if len(resp) > 0 && resp[0] == '{' && needsResponseRewrite(&e) {
		ro, err := parseObject(resp)
		if err != nil {
			return nil, err
		}
		if err := s.response(ro); err != nil {
			return nil, err
		}
		resp = ro.encode()
	}
	b := s.spliced[:0]
	if e.reqAt[0] < e.respAt[0] || e.respAt[1] == 0 {
		b = splice(b, raw, e.reqAt, req, e.respAt, resp)
	} else {
		b = splice(b, raw, e.respAt, resp, e.reqAt, req)
	}
	spans, loose := s.spans(b, s.marker())
	out := s.appendReplaced(s.buf[:0], b, spans)
	s.buf, s.spliced = out, b
	if loose && !validJSON(out) {
		return nil, fmt.Errorf("a secret could not be replaced without breaking the entry's JSON; nothing was written for it")
	}
	return out, nil
}

// spans finds the secrets in b: tokens wherever they are (URL, other
// headers, bodies), then passwords and cookie values echoed elsewhere. A
// loose secret that overlaps a token, a placeholder or a large string's
// stub (marker) already found is left to it. loose says whether any was
// found.
func (s *sanitizer) spans(b []byte, marker string) (spans []span, loose bool) {
	spans = scan(b, s.a.known, s.a.exact)
	forEachStub(marker, b, func(start, end, _ int) {
		spans = insertSpan(spans, span{start: start, end: end})
	})
	for _, set := range []struct {
		k  Kind
		vs map[string]bool
	}{{KindPassword, s.a.rep.passwords}, {KindCookie, s.a.rep.cookies}} {
		for _, v := range longestFirst(set.vs) {
			for _, form := range forms(v) {
				for off := 0; ; {
					k := bytes.Index(b[off:], []byte(form))
					if k < 0 {
						break
					}
					sp := span{start: off + k, end: off + k + len(form), kind: set.k, value: v}
					// insertSpan may shift the spans in place: call it once
					// and keep what it returns.
					n := len(spans)
					if spans = insertSpan(spans, sp); len(spans) > n {
						loose = true
					}
					off = sp.end
				}
			}
		}
	}
	return spans, loose
}

// appendReplaced appends b to out with each span's secret replaced by its
// placeholder (spans without a value, placeholders and stubs, are kept).
func (s *sanitizer) appendReplaced(out, b []byte, spans []span) []byte {
	return replaceSpans(out, b, spans, func(k Kind) { s.out[k]++ })
}

// replaceSpans appends b to out with each span's secret replaced by its
// placeholder, calling replaced (when set) for each.
func replaceSpans(out, b []byte, spans []span, replaced func(Kind)) []byte {
	last := 0
	for _, sp := range spans {
		if sp.value == "" {
			continue
		}
		out = append(out, b[last:sp.start]...)
		out = append(out, Placeholder(sp.kind, sp.value)...)
		if replaced != nil {
			replaced(sp.kind)
		}
		last = sp.end
	}
	return append(out, b[last:]...)
}

// replace writes b to w with the spans' secrets replaced; n is the bytes
// written.
func (s *sanitizer) replace(w io.Writer, b []byte, spans []span) (int64, error) {
	s.chunk = s.appendReplaced(s.chunk[:0], b, spans)
	n, err := w.Write(s.chunk)
	return int64(n), err
}

func (s *sanitizer) marker() string {
	if s.src == nil {
		return ""
	}
	return s.src.stubMarker()
}

// longestFirst is the loose secrets to search for, in a fixed order: the
// longest first, so one that contains another is replaced whole.
func longestFirst(set map[string]bool) []string {
	var vs []string
	for v := range set {
		if len(v) >= minLooseSecret {
			vs = append(vs, v)
		}
	}
	sort.Slice(vs, func(i, j int) bool {
		if len(vs[i]) != len(vs[j]) {
			return len(vs[i]) > len(vs[j])
		}
		return vs[i] < vs[j]
	})
	return vs
}

func validJSON(b []byte) bool {
	end, err := skip(b, 0)
	return err == nil && skipSpace(b, end) == len(b)
}

// splice writes raw with the range at1 replaced by v1 and at2 by v2 (at1
// before at2; a zero range is absent).
func splice(b, raw []byte, at1 [2]int, v1 []byte, at2 [2]int, v2 []byte) []byte {
	last := 0
	for _, r := range []struct {
		at [2]int
		v  []byte
	}{{at1, v1}, {at2, v2}} {
		if r.at[1] == 0 {
			continue
		}
		b = append(b, raw[last:r.at[0]]...)
		b = append(b, r.v...)
		last = r.at[1]
	}
	return append(b, raw[last:]...)
}

// forms are the ways v may be written inside a HAR's JSON: escaped once (a
// header, a query value), twice (a JSON body inside the text member), and
// URL-encoded.
func forms(v string) []string {
	once := strings.Trim(string(str(v)), `"`)
	twice := strings.Trim(string(str(once)), `"`)
	out := []string{once}
	if twice != once {
		out = append(out, twice)
	}
	if q := url.QueryEscape(v); q != v {
		out = append(out, q)
	}
	return out
}

func needsResponseRewrite(e *Entry) bool {
	if len(e.Response.Cookies) > 0 {
		return true
	}
	for _, h := range e.Response.Headers {
		if strings.EqualFold(h.Name, "Set-Cookie") {
			return true
		}
	}
	return false
}

// secretValue is the placeholder for a value found under name: a known
// token keeps its kind, anything else is a cookie value.
func (s *sanitizer) placeholderFor(value string, fallback Kind) string {
	if _, _, ph := identify(value); ph || value == "" {
		return value
	}
	k, ok := s.a.known[value]
	if !ok {
		k = fallback
	}
	s.out[k]++
	return Placeholder(k, value)
}

func (s *sanitizer) cookieHeader(h string, set bool) string {
	rest := ""
	if set {
		if i := strings.IndexByte(h, ';'); i >= 0 {
			h, rest = h[:i], h[i:]
		}
	}
	parts := strings.Split(h, ";")
	for i, p := range parts {
		lead := p[:len(p)-len(strings.TrimLeft(p, " "))]
		name, value, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok {
			continue
		}
		k := kindByName(name)
		if k == "" {
			k = KindCookie
		}
		parts[i] = lead + name + "=" + s.placeholderFor(value, k)
	}
	return strings.Join(parts, ";") + rest
}

func (s *sanitizer) nameValues(o object, key string, rewrite func(name, value string) (string, bool)) error {
	return o.rewriteArray(key, func(el object) bool {
		v, ok := rewrite(stringOf(el.get("name")), stringOf(el.get("value")))
		if ok {
			el.set("value", str(v))
		}
		return ok
	})
}

func (s *sanitizer) header(name, value string) (string, bool) {
	switch {
	case strings.EqualFold(name, "Authorization"):
		scheme, tok, ok := strings.Cut(strings.TrimSpace(value), " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return scheme + " " + s.placeholderFor(strings.TrimSpace(tok), KindAccess), true
		}
		return s.placeholderFor(value, KindToken), true
	case strings.EqualFold(name, "Cookie"):
		return s.cookieHeader(value, false), true
	case strings.EqualFold(name, "Set-Cookie"):
		return s.cookieHeader(value, true), true
	}
	return "", false
}

func (s *sanitizer) cookie(name, value string) (string, bool) {
	k := kindByName(name)
	if k == "" {
		k = KindCookie
	}
	return s.placeholderFor(value, k), value != ""
}

func (s *sanitizer) param(name, value string) (string, bool) {
	if strings.EqualFold(name, "password") {
		return s.placeholderFor(value, KindPassword), value != ""
	}
	if k := kindByName(name); k != "" {
		return s.placeholderFor(value, k), value != ""
	}
	return "", false
}

func (s *sanitizer) request(o object) error {
	if err := s.nameValues(o, "headers", s.header); err != nil {
		return err
	}
	if err := s.nameValues(o, "cookies", s.cookie); err != nil {
		return err
	}
	if err := s.nameValues(o, "queryString", s.param); err != nil {
		return err
	}
	pd := o.get("postData")
	if len(pd) == 0 || pd[0] != '{' {
		return nil
	}
	po, err := parseObject(pd)
	if err != nil {
		return err
	}
	if err := s.nameValues(po, "params", s.param); err != nil {
		return err
	}
	// A JSON body's password, however short: replaced inside the text.
	if t, ok := text(po.get("text"), maxBodyText); ok {
		var body map[string]any
		if json.Unmarshal([]byte(t), &body) == nil {
			if pw, _ := body["password"].(string); pw != "" {
				if _, _, ph := identify(pw); !ph {
					esc := strings.Trim(string(str(pw)), `"`)
					field := regexpSafeField(esc)
					if n := strings.Count(t, field); n > 0 {
						t = strings.ReplaceAll(t, field, `"`+Placeholder(KindPassword, pw)+`"`)
						s.out[KindPassword] += n
						po.set("text", str(t))
					}
				}
			}
		}
	}
	o.set("postData", po.encode())
	return nil
}

// regexpSafeField is the password as a whole JSON string in a body: quoted,
// so a short password cannot match inside another word.
func regexpSafeField(esc string) string { return `"` + esc + `"` }

func (s *sanitizer) response(o object) error {
	if err := s.nameValues(o, "headers", s.header); err != nil {
		return err
	}
	return s.nameValues(o, "cookies", s.cookie)
}
