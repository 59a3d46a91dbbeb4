package har_test

import (
	"io"
	"testing"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/har"
)

func TestLargeBodyBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 400 MB")
	}
	const size = 200 << 20
	const limit = 48 << 20 // well under the body's 200 MB
	newBody := func() io.Reader { return &bigBody{size: size, every: 1<<20 + 4099} }

	var rep *har.Report
	var err error
	peak := peakHeap(t, func() { rep, err = har.Analyze(bigHAR(newBody())) })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("analyze: peak heap %d MiB over the start", peak>>20)
	if peak > limit {
		t.Errorf("analyze of a HAR with one %d MB body: heap grew by %d MiB, want under %d MiB", size>>20, peak>>20, limit>>20)
	}
	jwt := rep.Token(auth.Fingerprint(bigJWT))
	if jwt == nil || jwt.Last.Where != "response body" || jwt.Last.Index != 1 {
		t.Errorf("the JWT in the large body: got %+v, want it seen in entry 1's response body", jwt)
	}
	if tk := rep.Token(auth.Fingerprint(bigAccess)); tk == nil || tk.Entries != 2 {
		t.Errorf("the access token: got %+v, want it seen in 2 entries", tk)
	}

	watch := newSecretWatch(bigJWT, bigAccess, bigRefresh, bigPassword)
	var replaced har.Replaced
	peak = peakHeap(t, func() { replaced, err = har.Sanitize(bigHAR(newBody()), watch, rep) })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sanitize: peak heap %d MiB over the start, wrote %d bytes, replaced %v", peak>>20, watch.n, replaced)
	if peak > limit {
		t.Errorf("sanitize of a HAR with one %d MB body: heap grew by %d MiB, want under %d MiB", size>>20, peak>>20, limit>>20)
	}
	if len(watch.found) > 0 {
		t.Errorf("secrets left in the sanitised copy (occurrences by value length): %v", lengths(watch.found))
	}
	plants := size / (1<<20 + 4099)
	if watch.places["token"] < plants/4 || watch.places["access"] < plants/4 || watch.places["password"] < plants/4 {
		t.Errorf("placeholders written: %v, want about %d of each planted kind", watch.places, plants/4)
	}
}
