package safetext

import "testing"

// A document with nothing to escape comes out as it went in (the fast path
// that spares a large list a token-by-token re-encoding); one escape that a
// decoder would turn into a control character sends it down the full path.
func TestJSONInertDocumentsPassThrough(t *testing.T) {
	for _, doc := range []string{
		`{"a":"plain","b":[1,2,{"c":"é ü ✓"}],"q":"say \"hi\" \\ /"}`,
		`[]`,
	} {
		got, err := JSON([]byte(doc), "")
		if err != nil || string(got) != doc {
			t.Fatalf("JSON(%s) = %s, %v; want it unchanged", doc, got, err)
		}
	}
	for _, doc := range []string{`{"a":"\u001b[2J"}`, `{"a":"line\nbreak"}`, "{\"a\":\"\u202e\"}", "{\"\u009b\":1}"} {
		got, err := JSON([]byte(doc), "")
		if err != nil || string(got) == doc || !inert(got) {
			t.Fatalf("JSON(%q) = %q, %v; want it escaped and inert", doc, got, err)
		}
	}
}
