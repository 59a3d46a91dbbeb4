package har

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
)

// A captured download makes one HAR string hundreds of megabytes long. The
// source keeps strings up to maxBodyText in its buffer (the analysis parses
// nothing larger) and hands longer ones, chunk by chunk as they are read,
// to a spiller; in the buffer such a string becomes a short stub
// ("tokentop:spill:NONCE:ID") that the entry's decoding sees in its place.
// Memory then stays bounded by the entry without its large strings.

// spiller receives the content of a large string (the raw JSON bytes
// between its quotes) in chunks; final marks the last.
type spiller interface {
	spill(id int, p []byte, final bool) error
}

// spillChunk is the size of the reads while a large string streams by.
const spillChunk = 1 << 20

// strScan checks a JSON string's content as it streams by and finds its
// closing quote; esc carries an escape cut by a chunk's end (1 after a
// backslash, 2–5 inside \u's hex digits).
type strScan struct{ esc int }

// scan returns the offset just past the closing quote in p, or -1 when p
// ends inside the string.
func (sc *strScan) scan(p []byte) (int, error) {
	i := 0
	for i < len(p) {
		switch {
		case sc.esc == 1:
			switch p[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				sc.esc = 0
			case 'u':
				sc.esc = 2
			default:
				return i, fmt.Errorf("invalid escape %q in string", p[i])
			}
			i++
		case sc.esc >= 2:
			if !isHexDigit(p[i]) {
				return i, fmt.Errorf("invalid character %q in \\u escape", p[i])
			}
			if sc.esc++; sc.esc == 6 {
				sc.esc = 0
			}
			i++
		default:
			for i < len(p) && strPlain[p[i]] {
				i++
			}
			if i >= len(p) {
				return -1, nil
			}
			switch c := p[i]; c {
			case '"':
				return i + 1, nil
			case '\\':
				sc.esc = 1
				i++
			default:
				return i, fmt.Errorf("control character %#x in string", c)
			}
		}
	}
	return -1, nil
}

// lexState follows the value being read, in input offsets, so that
// successive fills resume where the last stopped.
type lexState struct {
	value   int64 // where the value being lexed starts; -1 none
	at      int64 // lexed up to here
	depth   int
	inStr   bool
	str     int64 // where the open string's quote is
	sc      strScan
	nonce   string
	next    int // the next spill id
	spilled int64
}

func (s *source) stub(id int) string {
	if s.lex.nonce == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		s.lex.nonce = hex.EncodeToString(b[:])
	}
	return spillPrefix + s.lex.nonce + ":" + strconv.Itoa(id)
}

// spillPrefix starts every stub. ':' is outside the token alphabet and
// "spill" is no kind, so a stub is never taken for a token or a
// placeholder.
const spillPrefix = "tokentop:spill:"

// stubMarker is what precedes a stub's id in this source's buffer; "" when
// nothing was spilled.
func (s *source) stubMarker() string {
	if s.lex.next == 0 {
		return ""
	}
	return spillPrefix + s.lex.nonce + ":"
}

// lexPending walks the pending value from where it last stopped, spilling
// every string longer than maxBodyText. It stops at the end of the value
// (what follows belongs to the next one) or of the buffer.
func (s *source) lexPending() error {
	l := &s.lex
	if l.value != s.base+int64(s.pos) {
		*l = lexState{value: s.base + int64(s.pos), at: s.base + int64(s.pos), nonce: l.nonce, next: l.next, spilled: l.spilled}
	}
	i := int(l.at - s.base)
	for i < len(s.buf) {
		if !l.inStr {
			c := s.buf[i]
			switch c {
			case '"':
				l.inStr, l.str, l.sc = true, s.base+int64(i), strScan{}
			case '{', '[':
				l.depth++
			case '}', ']':
				if l.depth--; l.depth <= 0 {
					l.at = s.base + int64(i+1)
					return nil
				}
			}
			i++
			if l.depth == 0 && !l.inStr && !isSpace(c) {
				// A scalar value: nothing to spill in it.
				l.at = s.base + int64(len(s.buf))
				return nil
			}
			continue
		}
		n, err := l.sc.scan(s.buf[i:])
		if err != nil {
			return &FormatError{Offset: s.base + int64(i+n) + l.spilled, Msg: err.Error()}
		}
		q := int(l.str - s.base)
		if n >= 0 {
			end := i + n
			l.inStr = false
			if end-q > maxBodyText {
				if i, err = s.replaceString(q, end); err != nil {
					return err
				}
				continue
			}
			i = end
			continue
		}
		i = len(s.buf)
		if i-q > maxBodyText {
			l.at = s.base + int64(i)
			return s.divert(q)
		}
	}
	l.at = s.base + int64(i)
	return nil
}

// replaceString hands the complete string at buf[q:end] to the spiller and
// puts its stub in its place; it returns where the stub ends.
func (s *source) replaceString(q, end int) (int, error) {
	id := s.lex.next
	s.lex.next++
	if err := s.spill.spill(id, s.buf[q+1:end-1], true); err != nil {
		return q, err
	}
	stub := `"` + s.stub(id) + `"`
	s.lex.spilled += int64(end-q) - int64(len(stub))
	n := copy(s.buf[q:], stub)
	m := copy(s.buf[q+n:], s.buf[end:])
	s.buf = s.buf[:q+n+m]
	return q + n, nil
}

// divert streams the open string at buf[q:] to the spiller until its
// closing quote, leaving its stub in the buffer, and goes on lexing what
// follows it.
func (s *source) divert(q int) error {
	l := &s.lex
	id := l.next
	l.next++
	if err := s.spill.spill(id, s.buf[q+1:], false); err != nil {
		return err
	}
	stub := `"` + s.stub(id)
	l.spilled += int64(len(s.buf)-q) - int64(len(stub))
	s.buf = append(s.buf[:q], stub...)
	if cap(s.spillBuf) == 0 {
		s.spillBuf = make([]byte, spillChunk)
	}
	for {
		if s.eof || s.err != nil {
			return s.endErr()
		}
		n, err := s.r.Read(s.spillBuf)
		if err == io.EOF {
			s.eof = true
		} else if err != nil {
			s.err = err
		}
		p := s.spillBuf[:n]
		end, serr := l.sc.scan(p)
		if serr != nil {
			return &FormatError{Offset: s.base + int64(len(s.buf)) + l.spilled + int64(end), Msg: serr.Error()}
		}
		if end < 0 {
			if err := s.spill.spill(id, p, false); err != nil {
				return err
			}
			l.spilled += int64(n)
			continue
		}
		if err := s.spill.spill(id, p[:end-1], true); err != nil {
			return err
		}
		l.spilled += int64(end - 1)
		l.inStr = false
		s.buf = append(s.buf, '"')
		l.at = s.base + int64(len(s.buf))
		s.buf = append(s.buf, p[end:]...)
		return s.lexPending()
	}
}

// chunker runs a scan over a text that comes in chunks, so that a match
// across two chunks is found whole: each window is what was kept of the
// last plus the new chunk, and matches are taken only up to a cut at least
// `overlap` bytes before the window's end (the longest match allowed),
// moved back to the start of a run of token characters; the rest is
// scanned again with the next chunk.
type chunker struct {
	w []byte
	// skipRun: the window starts inside a run of token characters longer
	// than any token (the cut could not move to its start): its tail is
	// no token.
	skipRun bool
}

// maxTokenRun is the longest token found in a large string. Tokens travel
// in HTTP headers, which servers cap at 8–16 KiB.
const maxTokenRun = 16 << 10

func (c *chunker) feed(p []byte, final bool, overlap int, find func([]byte) []span, emit func(w []byte, spans []span, upto int) error) error {
	c.w = append(c.w, p...)
	w := c.w
	cut, skipNext := len(w), false
	if !final {
		limit := len(w) - overlap
		if limit <= 0 {
			return nil
		}
		cut = limit
		for cut > 0 && cut > limit-overlap && tokenChar(w[cut-1]) && tokenChar(w[cut]) {
			cut--
		}
		if cut > 0 && tokenChar(w[cut-1]) && tokenChar(w[cut]) {
			cut, skipNext = limit, true
		}
		if cut == 0 {
			return nil
		}
	}
	lead := 0
	if c.skipRun {
		for lead < len(w) && tokenChar(w[lead]) {
			lead++
		}
	}
	spans := find(w)
	kept := spans[:0]
	for _, sp := range spans {
		if sp.start >= cut {
			break
		}
		if sp.end-sp.start > overlap || (c.skipRun && sp.start == 0 && sp.end <= lead) {
			continue
		}
		kept = append(kept, sp)
	}
	upto := cut
	if n := len(kept); n > 0 && kept[n-1].end > upto {
		upto, skipNext = kept[n-1].end, false
	}
	if err := emit(w, kept, upto); err != nil {
		return err
	}
	c.w = c.w[:copy(c.w, w[upto:])]
	c.skipRun = skipNext
	if final {
		c.w, c.skipRun = c.w[:0], false
	}
	return nil
}

// bigText is the spiller of Analyze and Sanitize. It records the tokens
// found in each large string, for the analysis to take when it meets the
// string's stub; when sanitising, it also keeps the string's copy with
// the secrets known so far replaced in a temporary file (removed at once:
// it has no name), for the writer to put in place of the stub.
type bigText struct {
	a     *analyzer
	s     *sanitizer // nil when analysing only
	ch    chunker
	cur   int
	found map[int][]span
	dedup map[string]bool

	tmp     *os.File
	tw      *bufio.Writer
	off     int64
	regions map[int]region
}

type region struct {
	off, n int64
	gen    int // the analyzer's knowledge when it was written
}

func newBigText(a *analyzer, s *sanitizer) *bigText {
	return &bigText{a: a, s: s, cur: -1, found: map[int][]span{}, regions: map[int]region{}}
}

func (b *bigText) overlap() int {
	n := max(maxTokenRun, 64)
	for _, v := range b.a.exact {
		n = max(n, len(v))
	}
	if b.s != nil {
		for _, set := range []map[string]bool{b.a.rep.passwords, b.a.rep.cookies} {
			for v := range set {
				n = max(n, 6*len(v)+2) // its longest form, escaped twice
			}
		}
	}
	return n
}

func (b *bigText) find(w []byte) []span {
	if b.s != nil {
		spans, _ := b.s.spans(w, "")
		return spans
	}
	return scan(w, b.a.known, b.a.exact)
}

func (b *bigText) spill(id int, p []byte, final bool) error {
	if id != b.cur {
		b.cur, b.dedup = id, map[string]bool{}
		b.ch = chunker{w: b.ch.w[:0]}
		if b.s != nil {
			if err := b.openTmp(); err != nil {
				return err
			}
			b.regions[id] = region{off: b.off, gen: b.a.gen}
		}
	}
	return b.ch.feed(p, final, b.overlap(), b.find, func(w []byte, spans []span, upto int) error {
		for _, sp := range spans {
			if sp.kind == KindPassword || sp.kind == KindCookie {
				continue
			}
			key := sp.value
			if key == "" {
				key = string(sp.kind) + ":" + sp.fp
			}
			if !b.dedup[key] {
				b.dedup[key] = true
				b.found[id] = append(b.found[id], sp)
			}
		}
		if b.s == nil {
			return nil
		}
		n, err := b.s.replace(b.tw, w[:upto], spans)
		b.off += n
		r := b.regions[id]
		r.n += n
		b.regions[id] = r
		return err
	})
}

func (b *bigText) openTmp() error {
	if b.tmp != nil {
		return nil
	}
	f, err := os.CreateTemp("", "tokentop-har-*")
	if err != nil {
		return fmt.Errorf("a body too large to hold in memory needs a temporary file: %w (set TMPDIR to a writable directory)", err)
	}
	// Unnamed from now on: nothing is left behind, whatever happens.
	_ = os.Remove(f.Name())
	b.tmp, b.tw = f, bufio.NewWriterSize(f, readBuffer)
	return nil
}

func (b *bigText) close() {
	if b.tmp != nil {
		b.tmp.Close()
	}
}

// take returns the tokens found in the large strings whose stubs are in
// text, forgetting them.
func (b *bigText) take(marker string, text []byte) []span {
	var out []span
	forEachStub(marker, text, func(_, _, id int) {
		out = append(out, b.found[id]...)
		delete(b.found, id)
	})
	return out
}

// forEachStub calls fn with the offsets and id of each stub in text.
func forEachStub(marker string, text []byte, fn func(start, end, id int)) {
	if marker == "" {
		return
	}
	m := []byte(marker)
	for off := 0; ; {
		k := bytes.Index(text[off:], m)
		if k < 0 {
			return
		}
		start := off + k
		end := start + len(m)
		for end < len(text) && text[end] >= '0' && text[end] <= '9' {
			end++
		}
		if id, err := strconv.Atoi(string(text[start+len(m) : end])); err == nil {
			fn(start, end, id)
		}
		off = end
	}
}

// write copies p to w with each stub replaced by its string's sanitised
// copy; what was learnt since the copy was made is replaced on the way.
func (b *bigText) write(w *bufio.Writer, marker string, p []byte) error {
	last := 0
	var err error
	forEachStub(marker, p, func(start, end, id int) {
		r, ok := b.regions[id]
		if !ok || err != nil {
			return
		}
		if _, err = w.Write(p[last:start]); err != nil {
			return
		}
		last = end
		delete(b.regions, id)
		err = b.copyRegion(w, r)
	})
	if err != nil {
		return err
	}
	if _, err = w.Write(p[last:]); err != nil {
		return err
	}
	if len(b.regions) == 0 && b.off > 0 {
		// Every copy is written out: the file's space is reused.
		if err := b.tw.Flush(); err != nil {
			return fmt.Errorf("temporary file: %w", err)
		}
		if _, err := b.tmp.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("temporary file: %w", err)
		}
		b.off = 0
	}
	return nil
}

func (b *bigText) copyRegion(w *bufio.Writer, r region) error {
	if err := b.tw.Flush(); err != nil {
		return fmt.Errorf("temporary file: %w", err)
	}
	src := io.NewSectionReader(b.tmp, r.off, r.n)
	if r.gen == b.a.gen {
		_, err := io.Copy(w, src)
		return err
	}
	var ch chunker
	buf := make([]byte, spillChunk)
	for {
		n, err := io.ReadFull(src, buf)
		final := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !final {
			return fmt.Errorf("temporary file: %w", err)
		}
		if ferr := ch.feed(buf[:n], final, b.overlap(), b.find, func(win []byte, spans []span, upto int) error {
			_, err := b.s.replace(w, win[:upto], spans)
			return err
		}); ferr != nil {
			return ferr
		}
		if final {
			return nil
		}
	}
}
