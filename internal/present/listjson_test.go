package present

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
)

// referenceListJSON is `list --json` as WriteJSON writes any report.
func referenceListJSON(t *testing.T, backend, configDir string, sessions []auth.Session, now time.Time) string {
	t.Helper()
	out := ListJSON{Storage: backend, ConfigDir: configDir, Sessions: []SessionJSON{}}
	for _, s := range sessions {
		s.SecretsBackend = secretsBackend(&s, backend)
		out.Sessions = append(out.Sessions, NewSessionJSON(s, now))
	}
	var b bytes.Buffer
	if err := WriteJSON(&b, out); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// list --json is the bytes WriteJSON writes for the whole document,
// whatever is in the sessions and the config dir's name.
func TestListJSONAgrees(t *testing.T) {
	now := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	many := make([]auth.Session, 0, 700)
	for i := range 700 {
		s := sample(now)
		s.Name = fmt.Sprintf("s%04d", i)
		s.ClockSkew = time.Duration(i-350) * 1234567 * time.Microsecond
		s.LastRefresh = now.Add(-time.Duration(i) * time.Second)
		s.Paused = i%3 == 0
		many = append(many, s)
	}
	hostile := sample(now)
	hostile.Name = "x-hostile" // after "work"
	hostile.LastError = "server said \x1b[31mno\x1b[0m <b>&</b>"
	odd := sample(now)
	odd.ClockSkew = 1 // 1e-9 s: an exponent
	accented := sample(now)
	accented.Name = "x-zoe"
	accented.User.Email = "zoë@example.com"
	long := sample(now)
	long.Name = "s0005-long" // after s0005
	long.LastError = strings.Repeat("the server said no. ", 1000)
	longish := sample(now)
	longish.Name = "s0006-longish" // a value over 255 bytes: kept whole
	longish.LastError = strings.Repeat("x", 300)
	// Sorted by name, as the writer writes them.
	for _, c := range []struct {
		name      string
		configDir string
		sessions  []auth.Session
	}{
		{"none", "/cfg", nil},
		{"one", "/cfg", []auth.Session{sample(now)}},
		{"many", "/home/me/.config/tokentop", many},
		{"hostile text", "/cfg", append([]auth.Session{sample(now)}, hostile)},
		{"skew with an exponent", "/cfg", []auth.Session{odd}},
		{"non-ASCII email", "/cfg", []auth.Session{accented}},
		{"hostile ones among many", "/cfg", append(append([]auth.Session{}, many...), sample(now), hostile, accented)},
		{"config dir with a quote", `/tmp/a"b`, []auth.Session{sample(now)}},
		{"a session longer than a row's room, among others", "/cfg", append(append(append([]auth.Session{}, many[:6]...), long), many[6:]...)},
		{"a value too long for its length byte, among others", "/cfg", append(append(append([]auth.Session{}, many[:7]...), longish), many[7:]...)},
		{"config dir with an escape and non-ASCII", "/home/zoë/\x1b[31m<&>", many[:3]},
		{"none, in a config dir with a quote", `/tmp/a"b`, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got bytes.Buffer
			if err := WriteListJSON(&got, "file", c.configDir, c.sessions, now); err != nil {
				t.Fatal(err)
			}
			if want := referenceListJSON(t, "file", c.configDir, c.sessions, now); got.String() != want {
				t.Fatalf("WriteListJSON:\n%s\nreference:\n%s", got.String(), want)
			}
		})
	}
}

// Every field of SessionJSON, set by reflection, comes out of
// appendSessionJSON as encoding/json and WriteJSON's indentation write it:
// a field added to SessionJSON and not to appendSessionJSON fails here.
func TestAppendSessionJSONHasEveryField(t *testing.T) {
	var sj SessionJSON
	n := 0
	var fill func(v reflect.Value)
	fill = func(v reflect.Value) {
		n++
		switch v.Kind() {
		case reflect.String:
			v.SetString(fmt.Sprintf("v%d x", n))
		case reflect.Int, reflect.Int64:
			v.SetInt(int64(n * 1001))
		case reflect.Bool:
			v.SetBool(true)
		case reflect.Float64:
			v.SetFloat(float64(n) + 0.25)
		case reflect.Struct:
			for i := range v.NumField() {
				fill(v.Field(i))
			}
		case reflect.Pointer:
			if v.Type() != reflect.TypeOf(&time.Time{}) {
				t.Fatalf("SessionJSON has a %s: teach appendSessionJSON about it", v.Type())
			}
			tm := time.Date(2026, 4, 10, 12, n, 0, n*1000, time.UTC)
			v.Set(reflect.ValueOf(&tm))
		default:
			t.Fatalf("SessionJSON has a field of kind %s: teach appendSessionJSON about it", v.Kind())
		}
	}
	fill(reflect.ValueOf(&sj).Elem())
	got, ok := appendSessionJSON(nil, &sj)
	if !ok {
		t.Fatal("appendSessionJSON refused a plain session")
	}
	raw, err := json.Marshal(sj)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	want.WriteString("    ")
	if err := json.Indent(&want, raw, "    ", "  "); err != nil {
		t.Fatal(err)
	}
	if string(got) != want.String() {
		t.Fatalf("appendSessionJSON:\n%s\nencoding/json:\n%s", got, want.String())
	}
	// The value-only form a ListJSONWriter keeps expands to the same.
	l := NewListJSONWriter("file", "/cfg", time.Now())
	compact, ok := appendSessionJSONAs([]byte{compactMark}, &sj, plainJSON{ok: true, compact: true, slot: -1})
	if !ok || len(compact) >= len(got)/2 {
		t.Fatalf("value-only form: %q (ok %v), want less than half of %d bytes", compact, ok, len(got))
	}
	if expanded := expandSessionJSON(nil, compact, l.literals); string(expanded) != string(got) {
		t.Fatalf("the value-only form expands to:\n%s\nwant:\n%s", expanded, got)
	}
}

// The skew's decimal form is encoding/json's wherever the fast path takes it.
func TestAppendSessionJSONFloats(t *testing.T) {
	for _, f := range []float64{0, 1, -1, 0.5, 1e-6, -1e-6, 123456.789, 1e20, 9.999e20, 1e21, 1e-7, math.MaxFloat64, math.SmallestNonzeroFloat64, math.Inf(1), math.NaN()} {
		e := plainJSON{ok: true}
		got := e.float(nil, f)
		raw, err := json.Marshal(f)
		if !e.ok {
			continue
		}
		if err != nil {
			t.Fatalf("%v: the fast path took what encoding/json refuses", f)
		}
		if string(got) != string(raw) {
			t.Errorf("%v: fast path %s, encoding/json %s", f, got, raw)
		}
	}
}

// addConcurrently hands sessions, in reverse, to adders on 4 goroutines,
// each a stride of them, as Store.Scan does.
func addConcurrently(t *testing.T, sessions []auth.Session, adder func() func(*auth.Session) error) {
	t.Helper()
	var wg sync.WaitGroup
	for k := range 4 {
		add := adder()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := len(sessions) - 1 - k; i >= 0; i -= 4 {
				if err := add(&sessions[i]); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
}

// Sessions added in any order, by several goroutines, come out sorted by
// name, in the same bytes as the sorted list written by one.
func TestListWritersAnyOrder(t *testing.T) {
	now := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	var many []auth.Session
	for i := range 1000 {
		s := sample(now)
		s.Name = fmt.Sprintf("s%04d", i)
		s.AccessExpiry = now.Add(time.Duration(i) * time.Minute)
		if i%7 == 0 {
			s.SecretsBackend = "file"
		}
		many = append(many, s)
	}

	l := NewListJSONWriter("keyring", "/cfg", now)
	addConcurrently(t, slices.Clone(many), l.Adder)
	var got bytes.Buffer
	if err := l.Write(&got); err != nil {
		t.Fatal(err)
	}
	if want := referenceListJSON(t, "keyring", "/cfg", many, now); got.String() != want {
		t.Fatalf("list --json from 4 goroutines differs from the sorted list (%d vs %d bytes)", got.Len(), len(want))
	}
	if l.Len() != len(many) {
		t.Fatalf("Len = %d, want %d", l.Len(), len(many))
	}

	tbl := NewListTable("keyring", now)
	addConcurrently(t, slices.Clone(many), tbl.Adder)
	var gotTable, wantTable strings.Builder
	tbl.Write(&gotTable, 100)
	WriteListTable(&wantTable, "keyring", many, now, 100)
	if gotTable.String() != wantTable.String() {
		t.Fatalf("the table from 4 goroutines:\n%.400s\nwant:\n%.400s", gotTable.String(), wantTable.String())
	}
	lines := strings.Split(wantTable.String(), "\n")
	if len(lines) != len(many)+3 || !strings.Contains(lines[1], "STORAGE") || !strings.HasPrefix(lines[2], "s0000 ") || !strings.HasPrefix(lines[len(lines)-2], "s0999 ") {
		t.Fatalf("the table is not %d sorted rows under a STORAGE title:\n%.300s", len(many), wantTable.String())
	}
}

// Rows come out in strings.Compare order whatever their names share:
// prefixes longer than the 8 bytes compared as one number, names that are
// prefixes of others, non-ASCII bytes.
func TestRowSetsSorted(t *testing.T) {
	var rss rowSets
	parts := []*rowSet{rss.add(1), rss.add(1), rss.add(1)}
	var want []string
	for i := range 3000 {
		name := fmt.Sprintf("%s%d", []string{"customer-", "customer-long-prefix-", "c", "zoë-", "", "customer"}[i%6], i*7919%3001)
		want = append(want, name)
		rs := parts[i%3]
		rs.beginRow()
		rs.addCell(name)
		rs.endRow(name)
	}
	slices.Sort(want)
	var got []string
	for _, r := range rss.sorted() {
		got = append(got, rss.parts[r.part].names[r.row])
	}
	if !slices.Equal(got, want) {
		t.Fatalf("sorted rows differ from slices.Sort (first 5: %q, want %q)", got[:5], want[:5])
	}
}

// appendPlainString takes exactly the strings of printable ASCII without
// '"', '\\', '<', '>' and '&', with any byte at any place in an 8-byte word.
func TestAppendPlainStringEveryByte(t *testing.T) {
	for c := range 256 {
		want := c >= 0x20 && c < 0x7f && !strings.ContainsRune(`"\<>&`, rune(c))
		for n := 1; n <= 19; n++ {
			for at := range n {
				s := []byte(strings.Repeat("a", n))
				s[at] = byte(c)
				got, ok := appendPlainString([]byte("x"), string(s))
				if ok != want || ok && string(got) != `x"`+string(s)+`"` || !ok && string(got) != "x" {
					t.Fatalf("appendPlainString(%q) = %q, %v; want taken = %v", s, got, ok, want)
				}
			}
		}
	}
}
