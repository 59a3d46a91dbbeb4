package har_test

import (
	"bytes"
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/tokentop/tokentop/har"
	"github.com/tokentop/tokentop/har/hartest"
)

// leaks returns the secrets found in out, in any of the forms a HAR may
// hold them (as they are, JSON-escaped inside a body, URL-encoded).
func leaks(out []byte, secrets []string) []string {
	var found []string
	for _, s := range secrets {
		esc, _ := json.Marshal(s)
		for _, form := range []string{s, strings.Trim(string(esc), `"`), url.QueryEscape(s)} {
			if bytes.Contains(out, []byte(form)) {
				found = append(found, s[:min(4, len(s))]+"…")
				break
			}
		}
	}
	return found
}

func findingsWithout(rep *har.Report, kind string) []har.Finding {
	var out []har.Finding
	for _, f := range rep.Findings {
		if f.Kind != kind {
			out = append(out, f)
		}
	}
	return out
}

func TestSanitizeRemovesEverySecretAndKeepsTheStory(t *testing.T) {
	for _, format := range []string{"opaque", "jwt"} {
		for _, twoPass := range []bool{true, false} {
			name := format + "/stream"
			if twoPass {
				name = format + "/file"
			}
			t.Run(name, func(t *testing.T) {
				rec := hartest.Browse(t, format)
				before, err := har.Analyze(bytes.NewReader(rec.HAR))
				if err != nil {
					t.Fatal(err)
				}
				var known *har.Report
				if twoPass {
					known = before
				}
				var out bytes.Buffer
				replaced, err := har.Sanitize(bytes.NewReader(rec.HAR), &out, known)
				if err != nil {
					t.Fatal(err)
				}
				if l := leaks(out.Bytes(), rec.Secrets); len(l) > 0 {
					t.Errorf("sanitised file still holds %d secrets: %v", len(l), l)
				}
				if !json.Valid(out.Bytes()) {
					t.Fatal("sanitised file is not JSON")
				}
				var doc struct {
					Log struct {
						Version string            `json:"version"`
						Entries []json.RawMessage `json:"entries"`
					} `json:"log"`
				}
				if err := json.Unmarshal(out.Bytes(), &doc); err != nil || doc.Log.Version != "1.2" || len(doc.Log.Entries) != before.Entries {
					t.Fatalf("sanitised file: version %q, %d entries, want 1.2 and %d (%v)", doc.Log.Version, len(doc.Log.Entries), before.Entries, err)
				}
				for _, k := range []har.Kind{har.KindAccess, har.KindRefresh, har.KindFrontend, har.KindPassword, har.KindCookie} {
					if replaced[k] == 0 {
						t.Errorf("no %s replaced (replaced: %v)", k, replaced)
					}
				}

				after, err := har.Analyze(bytes.NewReader(out.Bytes()))
				if err != nil {
					t.Fatal(err)
				}
				if got, want := findingsWithout(after, har.FindSecretsInFile), findingsWithout(before, har.FindSecretsInFile); !reflect.DeepEqual(got, want) {
					t.Errorf("findings differ after sanitising:\n got %+v\nwant %+v", got, want)
				}
				if len(findingsWithout(after, har.FindSecretsInFile)) != len(after.Findings) {
					t.Errorf("the sanitised file still reports secrets: %+v", after.Secrets)
				}
				if !reflect.DeepEqual(after.Exchanges, before.Exchanges) {
					t.Errorf("exchanges differ after sanitising:\n got %+v\nwant %+v", after.Exchanges, before.Exchanges)
				}
				if len(after.Tokens) != len(before.Tokens) {
					t.Errorf("%d tokens after sanitising, %d before", len(after.Tokens), len(before.Tokens))
				}
				for _, tok := range after.Tokens {
					if after.Value(tok.Fingerprint) != "" || !tok.Sanitised {
						t.Errorf("token %s in the sanitised file has a value", tok.Fingerprint)
					}
				}
			})
		}
	}
}
