package har_test

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/tokentop/tokentop/har"
	"github.com/tokentop/tokentop/har/hartest"
)

// The reader refills its buffer in the middle of values; reading one byte
// at a time must give the same report and the same sanitised bytes as
// reading the whole file at once.
func TestReadingInPiecesChangesNothing(t *testing.T) {
	rec := hartest.Browse(t, "jwt")
	whole, err := har.Analyze(bytes.NewReader(rec.HAR))
	if err != nil {
		t.Fatal(err)
	}
	pieces, err := har.Analyze(iotest.OneByteReader(bytes.NewReader(rec.HAR)))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(whole.Findings, pieces.Findings) || !reflect.DeepEqual(whole.Exchanges, pieces.Exchanges) || len(whole.Tokens) != len(pieces.Tokens) {
		t.Errorf("reading one byte at a time changed the report")
	}
	var a, b bytes.Buffer
	if _, err := har.Sanitize(bytes.NewReader(rec.HAR), &a, whole); err != nil {
		t.Fatal(err)
	}
	if _, err := har.Sanitize(iotest.HalfReader(bytes.NewReader(rec.HAR)), &b, whole); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("reading in pieces changed the sanitised copy")
	}
}

func TestMalformedHARSaysWhere(t *testing.T) {
	for _, c := range []struct{ name, doc, want string }{
		{"truncated", `{"log":{"entries":[{"request":{"url":"https://x/`, "ends too early"},
		{"trailing data", `{"log":{"entries":[]}} {}`, "more data after"},
		{"no entries", `{"log":{"version":"1.2"}}`, "no log.entries"},
		{"bad escape", `{"log":{"entries":[{"request":{"url":"\q"}}]}}`, "invalid escape"},
		{"control character", "{\"log\":{\"entries\":[{\"request\":{\"url\":\"a\x01b\"}}]}}", "control character"},
		{"trailing comma", `{"log":{"entries":[{},]}}`, "looking for beginning of value"},
		{"entry not an object", `{"log":{"entries":[1]}}`, "entry 0 is not an object"},
		{"bad number", `{"log":{"entries":[{"time":1.}]}}`, "in number"},
		{"bad literal", `{"log":{"entries":[{"time":nul}]}}`, "in literal"},
		{"wrong type", `{"log":{"entries":[{"response":{"status":"200"}}]}}`, "entry 0"},
		{"not JSON", `<html>`, "want '{'"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, read := range []func(string) io.Reader{
				func(s string) io.Reader { return strings.NewReader(s) },
				func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) },
			} {
				_, err := har.Analyze(read(c.doc))
				var fe *har.FormatError
				if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("got %v, want a FormatError saying %q", err, c.want)
				}
				if _, err := har.Sanitize(read(c.doc), io.Discard, nil); !errors.As(err, &fe) {
					t.Fatalf("sanitize: got %v, want a FormatError", err)
				}
			}
		})
	}
}

// Sanitize copies each large body once (into the entry it writes), not
// once per scan of it: bytes allocated stay within a small multiple of the
// input. encoding/json's Decoder, Unmarshal and a re-parse of each entry
// allocated several copies of every body.
func TestSanitizeCopiesBodiesOnce(t *testing.T) {
	in := benchHAR(24, 256)
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	if _, err := har.Sanitize(bytes.NewReader(in), io.Discard, nil); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&ms1)
	if got, limit := ms1.TotalAlloc-ms0.TotalAlloc, uint64(len(in))*3/2+4<<20; got > limit {
		t.Errorf("sanitising %d bytes allocated %d bytes, want at most %d", len(in), got, limit)
	}
}
