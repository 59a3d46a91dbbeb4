// Command gen writes a synthetic HAR of about the given size to stdout,
// shaped like a support case: a login, a refresh every so often, API calls
// with bearer tokens, and mostly large JSON response bodies (as the text
// member, escaped, as browsers save them). For bench/har/run.sh.
//
//	go run ./bench/har/gen -mb 500 > big.har
package main

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

func token() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func main() {
	mb := flag.Int("mb", 50, "approximate size in MB")
	body := flag.Int("body-kb", 256, "size of each API response body in KiB")
	flag.Parse()
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer w.Flush()
	target := int64(*mb) << 20

	// One API body, reused: a list of calls as JSON, escaped into a string.
	var sb strings.Builder
	sb.WriteString(`{"code":200,"data":[`)
	for i := 0; sb.Len() < *body<<10; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"call_id":%d,"caller":"+1555%07d","campaign":"Spring \"promo\" %d","duration":%d,"tags":["a","b"],"notes":"line1\nline2"}`, i, i, i%40, i%600)
	}
	sb.WriteString(`]}`)
	apiBody, _ := json.Marshal(sb.String())

	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	access, refresh, front := token(), token(), token()[:32]
	var written int64
	write := func(s string) { n, _ := w.WriteString(s); written += int64(n) }
	write(`{"log":{"version":"1.2","creator":{"name":"bench/har/gen","version":"1"},"pages":[],"entries":[`)
	pair := func() string {
		return fmt.Sprintf(`{"access_token":%q,"refresh_token":%q,"frontend_token":%q,"token_type":"Bearer","expires_in":"2026-03-09T09:00:00.000Z","refresh_expires_in":"2026-08-29T09:00:00.000Z","user":{"user_id":4453,"email":"customer@example.com","role_id":2,"org_unit_id":70035}}`, access, refresh, front)
	}
	entry := func(i int, method, url, reqHeaders, post, status, respText string) {
		if i > 0 {
			write(",")
		}
		t := start.Add(time.Duration(i) * 700 * time.Millisecond).Format("2006-01-02T15:04:05.000Z")
		q, _ := json.Marshal(post)
		postData := ""
		if post != "" {
			postData = fmt.Sprintf(`,"postData":{"mimeType":"application/json","text":%s}`, q)
		}
		write(fmt.Sprintf(`{"startedDateTime":%q,"time":85.2,"request":{"method":%q,"url":%q,"httpVersion":"HTTP/2","headers":[%s],"queryString":[],"cookies":[],"headersSize":-1,"bodySize":%d%s},"response":{"status":%s,"statusText":"","httpVersion":"HTTP/2","headers":[{"name":"date","value":%q},{"name":"content-type","value":"application/json"}],"cookies":[],"content":{"size":%d,"mimeType":"application/json","text":%s},"redirectURL":"","headersSize":-1,"bodySize":-1},"cache":{},"timings":{"send":0.1,"wait":80,"receive":5.1}}`,
			t, method, url, reqHeaders, len(post), postData, status, start.Add(time.Duration(i)*700*time.Millisecond).Format(time.RFC1123), len(respText), respText))
	}
	oauth, api := "https://platform-oauth.convirza.com", "https://platform-api.convirza.com/v3"
	p, _ := json.Marshal(pair())
	entry(0, "POST", oauth+"/oauth/token", `{"name":"content-type","value":"application/json"}`, `{"email":"customer@example.com","password":"hunter2-hunter2"}`, "200", string(p))
	for i := 1; written < target; i++ {
		if i%200 == 0 {
			old := refresh
			access, refresh, front = token(), token(), token()[:32]
			p, _ := json.Marshal(pair())
			entry(i, "POST", oauth+"/oauth/refresh-token", `{"name":"content-type","value":"application/json"}`, `{"refresh_token":"`+old+`"}`, "200", string(p))
			continue
		}
		hdr := fmt.Sprintf(`{"name":"authorization","value":"Bearer %s"},{"name":"cookie","value":"frontend_token=%s; sid=abcdef0123456789"}`, access, front)
		entry(i, "GET", fmt.Sprintf("%s/calls?page=%d", api, i), hdr, "", "200", string(apiBody))
	}
	write("]}}\n")
}
