package proxycmd

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/internal/present"
	"github.com/tokentop/tokentop/internal/proxy"
	"github.com/tokentop/tokentop/internal/safetext"
)

// logger writes the proxy's log: requests, keeper events and notes, one
// line each, from many goroutines.
//
// Request lines are buffered and written at most flushEvery later (or when
// the buffer fills): a write to stderr per request cost the busy proxy
// more than the rest of its logging. Anything else (a note, a keeper
// event) is written at once, after the request lines before it, and close
// writes whatever is left.
type logger struct {
	mu      sync.Mutex
	w       io.Writer
	buf     *bufio.Writer
	pending *time.Timer // a flush is scheduled
	json    bool
	quiet   bool
	now     func() time.Time
}

// flushEvery bounds how late a request's log line appears.
const flushEvery = 50 * time.Millisecond

func newLogger(w io.Writer, asJSON, quiet bool, now func() time.Time) *logger {
	return &logger{w: w, buf: bufio.NewWriterSize(w, 64<<10), json: asJSON, quiet: quiet, now: now}
}

// requestJSON is one request in --json; it holds no secret.
type requestJSON struct {
	Time       time.Time `json:"time"`
	Type       string    `json:"type"` // "request"
	Method     string    `json:"method"`
	Path       string    `json:"path"`
	Status     int       `json:"status"`
	UpstreamMS float64   `json:"upstream_ms"`
	TotalMS    float64   `json:"total_ms"`
	AccessFP   string    `json:"access_fingerprint,omitempty"`
	Replayed   bool      `json:"replayed,omitempty"`
	ReplayFP   string    `json:"replay_fingerprint,omitempty"`
	Refreshed  bool      `json:"refreshed,omitempty"`
	Note       string    `json:"note,omitempty"`
	Error      string    `json:"error,omitempty"`
}

// eventJSON is one keeper event or note in --json.
type eventJSON struct {
	Time    time.Time `json:"time"`
	Type    string    `json:"type"` // "event" or "note"
	Session string    `json:"session,omitempty"`
	Event   string    `json:"event,omitempty"`
	Message string    `json:"message"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (l *logger) request(e proxy.Entry) {
	if l.quiet && e.Error == "" && e.Note == "" {
		return
	}
	if l.json {
		l.writeJSON(false, requestJSON{Time: e.Time.UTC(), Type: "request", Method: e.Method, Path: e.Path, Status: e.Status,
			UpstreamMS: ms(e.Upstream), TotalMS: ms(e.Total), AccessFP: e.AccessFP, Replayed: e.Replayed, ReplayFP: e.ReplayFP,
			Refreshed: e.Refreshed, Note: e.Note, Error: e.Error})
		return
	}
	// Appended, not formatted: this runs for every request, and fmt cost
	// the busy proxy more than the rest of the line's writing.
	b := make([]byte, 0, 160)
	b = e.Time.UTC().AppendFormat(b, present.StampLayout)
	b = append(append(b, ' '), safetext.Escape(e.Method)...)
	b = append(append(b, ' '), safetext.Escape(e.Path)...)
	b = strconv.AppendInt(append(b, ' '), int64(e.Status), 10)
	b = appendDuration(append(b, " upstream "...), e.Upstream)
	b = append(append(b, ' '), present.OrDash(e.AccessFP)...)
	if e.Replayed {
		b = append(append(b, " replayed with "...), e.ReplayFP...)
	}
	if e.Refreshed {
		b = append(b, " (refreshed)"...)
	}
	if e.Error != "" {
		b = append(append(b, ": "...), present.OneLine(e.Error)...)
	} else if e.Note != "" {
		b = append(append(b, ": "...), present.OneLine(e.Note)...)
	}
	l.writeBytes(false, b)
}

// appendDuration appends d as "-" (none), "123us" or "1.5ms".
func appendDuration(b []byte, d time.Duration) []byte {
	switch {
	case d == 0:
		return append(b, '-')
	case d < time.Millisecond:
		return append(strconv.AppendInt(b, d.Microseconds(), 10), "us"...)
	default:
		return append(strconv.AppendFloat(b, float64(d.Microseconds())/1000, 'f', 1, 64), "ms"...)
	}
}

// events logs keeper events (refreshes, adoptions, failures) until ctx
// ends, then whatever is left in the channel.
func (l *logger) events(ctx context.Context, ch <-chan auth.Event) {
	for {
		select {
		case e := <-ch:
			l.event(e)
		case <-ctx.Done():
			for {
				select {
				case e := <-ch:
					l.event(e)
				default:
					return
				}
			}
		}
	}
}

func (l *logger) event(e auth.Event) {
	now := l.now()
	if l.json {
		t := e.Time
		if t.IsZero() {
			t = now
		}
		l.writeJSON(true, eventJSON{Time: t.UTC(), Type: "event", Session: e.Session, Event: string(e.Kind), Message: present.EventDetail(e, now)})
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	present.WriteEvent(l.buf, e, now)
	_ = l.buf.Flush()
}

// note logs something the proxy itself says (starting, stopping).
func (l *logger) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if l.json {
		l.writeJSON(true, eventJSON{Time: l.now().UTC(), Type: "note", Message: msg})
		return
	}
	l.write(true, present.Stamp(l.now())+" "+present.OneLine(msg))
}

func (l *logger) started(name, target, addr string, secret bool) {
	l.note("proxying session %s to %s on http://%s; stop with Ctrl-C", name, target, addr)
	if l.json {
		return
	}
	hdr := ""
	if secret {
		hdr = " -H \"" + proxy.SecretHeader + ": $(cat secret)\""
	}
	l.write(true, fmt.Sprintf("  try: curl -sS%s http://%s/auth/profile", hdr, addr))
}

// write logs one line, now or within flushEvery.
func (l *logger) write(now bool, s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.buf.WriteString(s)
	l.endLineLocked(now)
}

func (l *logger) writeBytes(now bool, b []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.buf.Write(b)
	l.endLineLocked(now)
}

// endLineLocked ends the line written; l.mu is held.
func (l *logger) endLineLocked(now bool) {
	_ = l.buf.WriteByte('\n')
	switch {
	case now:
		_ = l.buf.Flush()
	case l.pending == nil && l.buf.Buffered() > 0:
		l.pending = time.AfterFunc(flushEvery, l.flush)
	}
}

// flush writes the buffered lines.
func (l *logger) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = nil
	_ = l.buf.Flush()
}

// close writes what is buffered, when the proxy stops.
func (l *logger) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pending != nil {
		l.pending.Stop()
		l.pending = nil
	}
	_ = l.buf.Flush()
}

func (l *logger) writeJSON(now bool, v any) {
	raw, err := json.Marshal(v)
	if err == nil {
		raw, err = safetext.JSON(raw, "")
	}
	if err != nil {
		l.write(true, fmt.Sprintf(`{"type":"note","message":"log entry not encoded: %s"}`, strings.ReplaceAll(err.Error(), `"`, `'`)))
		return
	}
	l.write(now, string(raw))
}
