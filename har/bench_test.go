package har_test

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/tokentop/tokentop/har"
)

// benchHAR is shaped like bench/har/gen's output: a login, then API calls
// with bearer tokens and large escaped JSON response bodies.
func benchHAR(entries, bodyKB int) []byte {
	var body strings.Builder
	for i := 0; body.Len() < bodyKB<<10; i++ {
		fmt.Fprintf(&body, `{\"call_id\":%d,\"caller\":\"+1555%07d\",\"notes\":\"line1\\nline2\"},`, i, i)
	}
	access := "AAAAbbbbCCCCddddEEEEffffGGGGhhhhIIIIjjjjKKK"
	var b bytes.Buffer
	b.WriteString(`{"log":{"version":"1.2","creator":{"name":"bench","version":"1"},"entries":[`)
	fmt.Fprintf(&b, `{"startedDateTime":"2026-03-02T09:00:00.000Z","time":85,"request":{"method":"POST","url":"https://platform-oauth.convirza.com/oauth/token","headers":[],"cookies":[],"queryString":[],"postData":{"mimeType":"application/json","text":"{\"email\":\"a@example.com\",\"password\":\"hunter2-hunter2\"}"}},"response":{"status":200,"headers":[],"cookies":[],"content":{"size":1,"mimeType":"application/json","text":"{\"access_token\":\"%s\",\"refresh_token\":\"RRRRbbbbCCCCddddEEEEffffGGGGhhhhIIIIjjjjKKK\",\"expires_in\":\"2026-03-09T09:00:00.000Z\"}"}}}`, access)
	for i := 1; i < entries; i++ {
		fmt.Fprintf(&b, `,{"startedDateTime":"2026-03-02T09:00:01.000Z","time":85,"request":{"method":"GET","url":"https://platform-api.convirza.com/v3/calls?page=%d","headers":[{"name":"authorization","value":"Bearer %s"},{"name":"cookie","value":"sid=abcdef0123456789"}],"cookies":[],"queryString":[]},"response":{"status":200,"headers":[{"name":"date","value":"Mon, 02 Mar 2026 09:00:01 GMT"}],"cookies":[],"content":{"size":1,"mimeType":"application/json","text":"[%s]"}},"cache":{},"timings":{"wait":80}}`, i, access, body.String())
	}
	b.WriteString("]}}\n")
	return b.Bytes()
}

func BenchmarkAnalyze(b *testing.B) {
	in := benchHAR(40, 256)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := har.Analyze(bytes.NewReader(in)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSanitize(b *testing.B) {
	in := benchHAR(40, 256)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := har.Sanitize(bytes.NewReader(in), io.Discard, nil); err != nil {
			b.Fatal(err)
		}
	}
}
