package storage

import (
	"encoding/binary"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"

	"github.com/tokentop/tokentop/auth"
)

// filledSession sets every field of an auth.Session, found by reflection,
// to a distinct value that is not its zero: a field added to Session shows
// up in the record, and decodeRecordFast must know it.
func filledSession(t testing.TB) auth.Session {
	t.Helper()
	var se auth.Session
	n := 0
	var fill func(v reflect.Value)
	fill = func(v reflect.Value) {
		n++
		switch v.Interface().(type) {
		case time.Time:
			v.Set(reflect.ValueOf(time.Date(2026, 12, 1, 6, n, n, n*1000+7, time.UTC)))
			return
		case time.Duration:
			v.SetInt(int64(-n) * int64(time.Millisecond))
			return
		}
		switch v.Kind() {
		case reflect.String:
			v.SetString("v" + string(rune('a'+n%26)) + "é" + string(rune('0'+n%10)))
		case reflect.Int, reflect.Int64:
			v.SetInt(int64(n * 1001))
		case reflect.Bool:
			v.SetBool(true)
		case reflect.Struct:
			for i := range v.NumField() {
				fill(v.Field(i))
			}
		default:
			t.Fatalf("auth.Session has a field of kind %s: teach filledSession and decodeRecordFast about it", v.Kind())
		}
	}
	fill(reflect.ValueOf(&se).Elem())
	return se
}

// fast is decodeRecordFast as a recordDoc.
func fast(data []byte) (recordDoc, bool) {
	var se auth.Session
	v, has, ok := decodeRecordFast(data, &se, newInterner())
	doc := recordDoc{Version: v}
	if has {
		doc.Session = &se
	}
	return doc, ok
}

// reference decodes data as the records reader always did.
func reference(data []byte) (recordDoc, error) {
	var doc recordDoc
	err := jsonv2.Unmarshal(data, &doc, jsonv1.DefaultOptionsV1())
	return doc, err
}

// recordBytes is a record as the store writes it.
func recordBytes(t testing.TB, se auth.Session) []byte {
	t.Helper()
	body, err := json.Marshal(se)
	if err != nil {
		t.Fatal(err)
	}
	return append(append([]byte(`{"version": 2, "session": `), body...), '}')
}

func TestDecodeRecordFastAgrees(t *testing.T) {
	full := filledSession(t)
	zero := auth.Session{Name: "z"}
	local := full
	local.AccessExpiry = local.AccessExpiry.In(time.FixedZone("", 2*3600))
	for _, c := range []struct {
		name string
		data []byte
		fast bool // the fast path must take it
	}{
		{"every field set", recordBytes(t, full), true},
		{"zero fields", recordBytes(t, zero), true},
		{"a time with an offset", recordBytes(t, local), true},
		{"indented", []byte("{\n  \"session\": {\"name\": \"x\", \"refreshes\": -3},\n  \"version\": 1\n}\n"), true},
		{"escaped string", []byte(`{"version":2,"session":{"name":"a\u0041"}}`), false},
		{"unknown key", []byte(`{"version":2,"session":{"name":"a","new_field":1}}`), false},
		{"key in another case", []byte(`{"Version":2,"session":{"Name":"a"}}`), false},
		{"null session", []byte(`{"version":2,"session":null}`), false},
		{"fraction", []byte(`{"version":2.0,"session":{"name":"a"}}`), false},
		{"huge number", []byte(`{"version":99999999999999999999,"session":{"name":"a"}}`), false},
		{"invalid UTF-8", []byte("{\"version\":2,\"session\":{\"name\":\"a\xff\"}}"), false},
		{"trailing bytes", []byte(`{"version":2,"session":{"name":"a"}} x`), false},
		{"truncated", recordBytes(t, full)[:200], false},
		{"duplicate key", []byte(`{"version":2,"session":{"name":"a","name":"b"}}`), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := fast(c.data)
			if ok != c.fast {
				t.Fatalf("fast path took it = %v, want %v", ok, c.fast)
			}
			if !ok {
				return
			}
			want, err := reference(c.data)
			if err != nil {
				t.Fatalf("the fast path took what the reference refuses: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("fast path = %+v\nreference = %+v", got.Session, want.Session)
			}
		})
	}
}

// For any input the fast path takes, it gives what the reference gives.
func FuzzDecodeRecordFast(f *testing.F) {
	f.Add(recordBytes(f, filledSession(f)))
	f.Add(recordBytes(f, auth.Session{Name: "z"}))
	f.Add([]byte(`{"version":2,"session":{"name":"a","refreshes":-0,"paused":false}}`))
	f.Add([]byte(`{"version":2,"session":{"name":"a","issued_at":"2024-02-29T23:59:59.5Z","created_at":"2026-12-01T06:25:44+02:00"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok := fast(data)
		if !ok {
			return
		}
		want, err := reference(data)
		if err != nil {
			t.Fatalf("the fast path took %q, which the reference refuses: %v", data, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: fast path = %+v, reference = %+v", data, got.Session, want.Session)
		}
	})
}

func BenchmarkDecodeRecord(b *testing.B) {
	data := recordBytes(b, filledSession(b))
	// A record as a listing meets it: a typical session, and the interner
	// a listing worker keeps from record to record.
	b.Run("typical", func(b *testing.B) {
		data := recordBytes(b, testSession("session-01234", testSecrets("x", 1), testNow))
		in := newInterner()
		b.ReportAllocs()
		for b.Loop() {
			var se auth.Session
			if _, _, ok := decodeRecordFast(data, &se, in); !ok {
				b.Fatal("not taken")
			}
		}
	})
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var se auth.Session
			if _, _, ok := decodeRecordFast(data, &se, newInterner()); !ok {
				b.Fatal("not taken")
			}
		}
	})
	b.Run("reference", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := reference(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// utcTime parses what it takes as time's own RFC 3339 parser does.
func TestUTCTimeAgrees(t *testing.T) {
	for _, s := range []string{
		"2026-12-01T06:25:44Z", "2026-12-01T06:25:44.3Z", "2026-12-01T06:25:44.343424252Z", "0001-01-01T00:00:00Z",
		"2024-02-29T23:59:59.999999999Z", "2023-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-12-01T24:00:00Z",
		"2026-12-01T06:60:00Z", "2026-12-01T06:25:60Z", "2026-12-01T06:25:44.Z", "2026-12-01T06:25:44.1234567891Z",
		"2026-12-01T06:25:44+02:00", "2026-12-01 06:25:44Z", "2026-12-01T06:25:4xZ", "2026-04-31T00:00:00Z",
		"0000-01-01T00:00:00Z", "0000-02-29T12:00:00Z", "0000-03-01T00:00:00.5Z", "1969-12-31T23:59:59.999Z", "1900-02-29T00:00:00Z", "2000-02-29T00:00:00Z",
	} {
		var want time.Time
		werr := want.UnmarshalText([]byte(s))
		got, ok := utcTime([]byte(s))
		if ok && (werr != nil || !reflect.DeepEqual(got, want)) {
			t.Errorf("utcTime(%q) = %v; time parses it as %v, %v", s, got, want, werr)
		}
	}
	// Instants across four centuries and both ends of the range, as
	// encoding/json writes them: every one taken, equal to time's own.
	for i := range 200000 {
		tm := time.Unix(int64(i)*63018038201%(10000*365*86400)-62135596800, int64(i)*7919%1e9).UTC()
		if i%2 == 0 {
			tm = tm.Truncate(time.Second)
		}
		s, _ := tm.MarshalText()
		got, ok := utcTime(s)
		if !ok || !reflect.DeepEqual(got, tm) {
			t.Fatalf("utcTime(%s) = %v, %v; want %v", s, got, ok, tm)
		}
	}
}

// specialWord finds every word holding a byte raw must stop at, and no other.
func TestSpecialWord(t *testing.T) {
	special := func(c byte) bool { return c == '"' || c == '\\' || c < 0x20 || c >= 0x80 }
	word := make([]byte, 8)
	for c := range 256 {
		for at := range 8 {
			for i := range word {
				word[i] = 'a'
			}
			word[at] = byte(c)
			if got := specialWord(binary.LittleEndian.Uint64(word)); got != special(byte(c)) {
				t.Fatalf("byte %#x at %d: specialWord = %v", c, at, got)
			}
		}
	}
	for i := range 100000 { // pairs of bytes, both plain or not
		a, b := byte(i*7919), byte(i*104729>>8)
		for i := range word {
			word[i] = ' '
		}
		word[i%8], word[(i/8)%8] = a, b
		want := special(b) || i%8 != (i/8)%8 && special(a)
		if got := specialWord(binary.LittleEndian.Uint64(word)); got != want {
			t.Fatalf("%q: specialWord = %v, want %v", word, got, want)
		}
	}
}
