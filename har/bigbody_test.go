package har_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/har"
)

const (
	bigAccess   = "AAAAbbbbCCCCddddEEEEffffGGGGhhhhIIIIjjjjKKK"
	bigRefresh  = "RRRRbbbbCCCCddddEEEEffffGGGGhhhhIIIIjjjjKKK"
	bigPassword = "hunter2-hunter2"
)

// bigJWT is a JWT-shaped token that appears only inside the large body.
var bigJWT = func() string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc([]byte(`{"sub":"42","exp":1900000000}`)) + "." + enc([]byte("signature-of-the-big-body"))
}()

// bigBody produces, without holding it, the escaped JSON text of a response
// body of about size bytes with the secrets planted every `every` bytes
// (give a step that drifts against any read size, so that some of them
// straddle every kind of boundary the reader has).
type bigBody struct {
	size, every, n int
	planted        int
	pending        []byte
}

var bigFiller = []byte(`{\"call_id\":123456,\"caller\":\"+15550001234\",\"notes\":\"line1\\nline2 lorem ipsum\"},`)

func (b *bigBody) Read(p []byte) (int, error) {
	if len(b.pending) == 0 {
		if b.n >= b.size {
			return 0, io.EOF
		}
		var chunk bytes.Buffer
		for chunk.Len() < b.every {
			chunk.Write(bigFiller)
		}
		chunk.Truncate(b.every)
		secrets := []string{bigJWT, bigAccess, bigPassword, bigRefresh}
		chunk.WriteString(" " + secrets[b.planted%len(secrets)] + " ")
		b.planted++
		b.pending = chunk.Bytes()
		b.n += len(b.pending)
	}
	n := copy(p, b.pending)
	b.pending = b.pending[n:]
	return n, nil
}

// oddReader hands out at most n bytes a read.
type oddReader struct {
	r io.Reader
	n int
}

func (o oddReader) Read(p []byte) (int, error) {
	if len(p) > o.n {
		p = p[:o.n]
	}
	return o.r.Read(p)
}

// bigHAR is a login (which reveals the access and refresh tokens and the
// password), then one API call whose response body is body.
func bigHAR(body io.Reader) io.Reader {
	head := fmt.Sprintf(`{"log":{"version":"1.2","creator":{"name":"t","version":"1"},"entries":[`+
		`{"startedDateTime":"2026-03-02T09:00:00.000Z","time":85,"request":{"method":"POST","url":"https://platform-oauth.convirza.com/oauth/token","headers":[],"cookies":[],"queryString":[],"postData":{"mimeType":"application/json","text":"{\"email\":\"a@example.com\",\"password\":\"%s\"}"}},"response":{"status":200,"headers":[],"cookies":[],"content":{"size":1,"mimeType":"application/json","text":"{\"access_token\":\"%s\",\"refresh_token\":\"%s\",\"expires_in\":\"2026-03-09T09:00:00.000Z\"}"}}},`+
		`{"startedDateTime":"2026-03-02T09:00:01.000Z","time":85,"request":{"method":"GET","url":"https://platform-api.convirza.com/v3/export","headers":[{"name":"authorization","value":"Bearer %s"}],"cookies":[],"queryString":[]},"response":{"status":200,"headers":[],"cookies":[],"content":{"size":1,"mimeType":"application/json","text":"[`,
		bigPassword, bigAccess, bigRefresh, bigAccess)
	tail := `]"}},"cache":{},"timings":{"wait":80}}]}}` + "\n"
	return io.MultiReader(strings.NewReader(head), body, strings.NewReader(tail))
}

// peakHeap samples the heap in use while fn runs and returns the largest
// value seen above the heap in use before it.
func peakHeap(t *testing.T, fn func()) uint64 {
	t.Helper()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var (
		mu   sync.Mutex
		peak uint64
	)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			mu.Lock()
			peak = max(peak, ms.HeapInuse)
			mu.Unlock()
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	fn()
	close(done)
	wg.Wait()
	if peak < base {
		return 0
	}
	return peak - base
}

// secretWatch is a writer that remembers whether any of its secrets went
// through it, across write boundaries, without keeping what it saw.
type secretWatch struct {
	secrets []string
	tail    []byte
	found   map[string]int
	n       int64
	places  map[string]int
}

func newSecretWatch(secrets ...string) *secretWatch {
	return &secretWatch{secrets: secrets, found: map[string]int{}, places: map[string]int{}}
}

func (w *secretWatch) Write(p []byte) (int, error) {
	buf := append(w.tail, p...)
	for _, s := range w.secrets {
		// Count occurrences that end in the new bytes only.
		for off := 0; ; {
			k := bytes.Index(buf[off:], []byte(s))
			if k < 0 {
				break
			}
			if off+k+len(s) > len(w.tail) {
				w.found[s]++
			}
			off += k + 1
		}
	}
	for _, k := range []har.Kind{har.KindAccess, har.KindRefresh, har.KindToken, har.KindPassword} {
		ph := []byte("tokentop:" + string(k) + ":")
		for off := 0; ; {
			i := bytes.Index(buf[off:], ph)
			if i < 0 {
				break
			}
			if off+i+len(ph) > len(w.tail) {
				w.places[string(k)]++
			}
			off += i + 1
		}
	}
	keep := min(len(buf), 256)
	w.tail = append(w.tail[:0], buf[len(buf)-keep:]...)
	w.n += int64(len(p))
	return len(p), nil
}

func lengths(m map[string]int) map[int]int {
	out := map[int]int{}
	for k, v := range m {
		out[len(k)] += v
	}
	return out
}

// TestLargeBodyStraddlingSecrets plants secrets densely in a body larger
// than what is kept in memory and reads it in odd-sized pieces, so that
// secrets fall across read and scan boundaries: every one is found and
// replaced, and the copy analyses the same.
func TestLargeBodyStraddlingSecrets(t *testing.T) {
	newBody := func() io.Reader { return &bigBody{size: 6 << 20, every: 997} }
	var in bytes.Buffer
	if _, err := io.Copy(&in, bigHAR(newBody())); err != nil {
		t.Fatal(err)
	}
	for _, known := range []bool{false, true} {
		t.Run(fmt.Sprintf("known=%v", known), func(t *testing.T) {
			var rep *har.Report
			if known {
				var err error
				if rep, err = har.Analyze(oddReader{bytes.NewReader(in.Bytes()), 4093}); err != nil {
					t.Fatal(err)
				}
			}
			var out bytes.Buffer
			if _, err := har.Sanitize(oddReader{bytes.NewReader(in.Bytes()), 4093}, &out, rep); err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{bigJWT, bigAccess, bigRefresh, bigPassword} {
				if n := bytes.Count(out.Bytes(), []byte(s)); n > 0 {
					t.Errorf("a %d-byte secret is left %d times in the copy", len(s), n)
				}
			}
			want := bytes.Count(in.Bytes(), []byte(bigJWT))
			if got := bytes.Count(out.Bytes(), []byte(har.Placeholder(har.KindToken, bigJWT))); got != want {
				t.Errorf("JWT placeholders: got %d, want %d", got, want)
			}
			want = bytes.Count(in.Bytes(), []byte(bigAccess))
			if got := bytes.Count(out.Bytes(), []byte(har.Placeholder(har.KindAccess, bigAccess))); got != want {
				t.Errorf("access placeholders: got %d, want %d", got, want)
			}
			again, err := har.Analyze(bytes.NewReader(out.Bytes()))
			if err != nil {
				t.Fatalf("analyze the sanitised copy: %v", err)
			}
			if tk := again.Token(auth.Fingerprint(bigJWT)); tk == nil || tk.Last.Index != 1 {
				t.Errorf("the sanitised copy: the JWT's placeholder not found in entry 1: %+v", tk)
			}
		})
	}
}

// TestLargeBodyLearntInSameEntry: a token and a cookie first met in the
// headers of the very entry whose large body echoes them are replaced in
// that body too, even reading the HAR once (no first pass).
func TestLargeBodyLearntInSameEntry(t *testing.T) {
	const opaque = "OOOOpaqueTokenSeenOnlyHere0123456789abcdefXYZ"
	const cookie = "cookieValueSeenOnlyHere42"
	var body strings.Builder
	for body.Len() < 3<<20 {
		body.Write(bigFiller)
		if body.Len()%7 == 0 {
			body.WriteString(" " + opaque + " " + cookie + " ")
		}
	}
	body.WriteString(" " + opaque + " " + cookie + " ")
	in := `{"log":{"version":"1.2","creator":{"name":"t","version":"1"},"entries":[` +
		`{"startedDateTime":"2026-03-02T09:00:01.000Z","time":85,"request":{"method":"GET","url":"https://platform-api.convirza.com/v3/export","headers":[{"name":"authorization","value":"Bearer ` + opaque + `"},{"name":"cookie","value":"sid=` + cookie + `"}],"cookies":[],"queryString":[]},"response":{"status":200,"headers":[],"cookies":[],"content":{"size":1,"mimeType":"text/plain","text":"` + body.String() + `"}},"cache":{},"timings":{"wait":80}}]}}`
	var out bytes.Buffer
	if _, err := har.Sanitize(oddReader{strings.NewReader(in), 65536}, &out, nil); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{opaque, cookie} {
		if n := bytes.Count(out.Bytes(), []byte(s)); n > 0 {
			t.Errorf("a %d-byte secret is left %d times in the copy", len(s), n)
		}
	}
	if want, got := strings.Count(in, opaque), bytes.Count(out.Bytes(), []byte(har.Placeholder(har.KindAccess, opaque))); got != want {
		t.Errorf("access placeholders: got %d, want %d", got, want)
	}
	if _, err := har.Analyze(bytes.NewReader(out.Bytes())); err != nil {
		t.Errorf("the copy is not HAR: %v", err)
	}
}

// TestLargeBodyBroken: a large string's syntax is checked as it streams
// by, and a file that ends inside it says so.
func TestLargeBodyBroken(t *testing.T) {
	big := strings.Repeat("x", 3<<20)
	for name, in := range map[string]string{
		"control":   `{"log":{"entries":[{"response":{"content":{"text":"` + big + "\x01" + big + `"}}}]}}`,
		"escape":    `{"log":{"entries":[{"response":{"content":{"text":"` + big + `\q"}}}]}}`,
		"truncated": `{"log":{"entries":[{"response":{"content":{"text":"` + big,
	} {
		_, err := har.Analyze(strings.NewReader(in))
		var fe *har.FormatError
		if !errors.As(err, &fe) {
			t.Errorf("%s: got %v, want a FormatError", name, err)
		}
		if _, err := har.Sanitize(strings.NewReader(in), io.Discard, nil); !errors.As(err, &fe) {
			t.Errorf("%s: sanitize: got %v, want a FormatError", name, err)
		}
	}
}
