package har_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokentop/tokentop/har"
)

func TestWriterRecordsSanitisedValidHAR(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.har")
	var failed []error
	w, err := har.Create(path, "tokentop", "test", func(err error) { failed = append(failed, err) })
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v; want 0600", fi.Mode(), err)
	}
	jwt := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0NDUzIiwiZXhwIjoxOTAwMDAwMDAwfQ.c2lnbmF0dXJlc2lnbmF0dXJlc2ln"
	refresh := "Rr0123456789abcdefghijklmnopqrstuvwxyzAB"
	sid := "sid-0123456789abcdef"
	secrets := []string{jwt, refresh, sid}
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 3; i++ {
		req, _ := http.NewRequest("GET", "https://platform-api.convirza.com/v3/calls?page=1&refresh_token="+refresh, nil)
		req.Header.Set("Cookie", "sid="+sid)
		req.Header.Set("X-Debug", "token "+jwt)
		resp := &http.Response{StatusCode: 200, Proto: "HTTP/1.1", ContentLength: 42, Header: http.Header{
			"Content-Type": {"application/json"}, "Set-Cookie": {"sid=" + sid + "; Path=/; HttpOnly"},
			"Date": {t0.Format(http.TimeFormat)},
		}}
		w.Record(req, resp, t0.Add(time.Duration(i)*time.Second), 80*time.Millisecond)

		// The file is a whole HAR after every entry, before Close.
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Log struct {
				Entries []json.RawMessage `json:"entries"`
			} `json:"log"`
		}
		if err := json.Unmarshal(b, &doc); err != nil || len(doc.Log.Entries) != i+1 {
			t.Fatalf("after %d entries: %d entries, %v", i+1, len(doc.Log.Entries), err)
		}
	}
	if err := w.Close(); err != nil || len(failed) > 0 {
		t.Fatal(err, failed)
	}
	b, _ := os.ReadFile(path)
	if l := leaks(b, secrets); len(l) > 0 {
		t.Errorf("the recording holds %d secrets: %v\n%s", len(l), l, b)
	}
	if !strings.Contains(string(b), "tokentop:refresh:sha256:") || !strings.Contains(string(b), "tokentop:cookie:sha256:") {
		t.Errorf("no placeholders in the recording:\n%s", b)
	}
	rep, err := har.Analyze(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Entries != 3 || len(rep.Tokens) == 0 {
		t.Errorf("analyze: %d entries, %d tokens; want 3 and the placeholders' tokens", rep.Entries, len(rep.Tokens))
	}
	if _, err := har.Create(path, "tokentop", "test", nil); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("an existing recording was not refused: %v", err)
	}
}
