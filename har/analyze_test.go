package har_test

import (
	"bytes"
	"testing"

	"github.com/tokentop/tokentop/har"
	"github.com/tokentop/tokentop/har/hartest"
)

func kinds(rep *har.Report) map[string]int {
	m := map[string]int{}
	for _, f := range rep.Findings {
		m[f.Kind]++
	}
	return m
}

func TestAnalyzeFindsEveryKind(t *testing.T) {
	for _, format := range []string{"opaque", "jwt"} {
		t.Run(format, func(t *testing.T) {
			rec := hartest.Browse(t, format)
			rep, err := har.Analyze(bytes.NewReader(rec.HAR))
			if err != nil {
				t.Fatal(err)
			}
			got := kinds(rep)
			for _, k := range []string{har.FindRefreshReuse, har.FindConcurrentRefresh, har.FindExpiredAccessUsed,
				har.FindRejectedAfterRotation, har.FindClockSkew, har.FindLoginFailed, har.FindRateLimited,
				har.FindServerError, har.FindSecretsInFile} {
				if got[k] == 0 {
					t.Errorf("no %s finding; findings:", k)
				}
			}
			if t.Failed() {
				for _, f := range rep.Findings {
					t.Logf("  %s: %s %v", f.Kind, f.Summary, f.Entries)
				}
			}
		})
	}
}

func TestAnalyzeDump(t *testing.T) {
	rec := hartest.Browse(t, "opaque")
	rep, err := har.Analyze(bytes.NewReader(rec.HAR))
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range rep.Exchanges {
		t.Logf("%+v", x)
	}
	for _, x := range rep.Tokens {
		t.Logf("%+v", *x)
	}
	for _, f := range rep.Findings {
		t.Logf("  %s: %s %v", f.Kind, f.Summary, f.Entries)
	}
	t.Log(rep.Secrets, rep.OAuthURLs, rep.APIURLs, rep.Families)
}
