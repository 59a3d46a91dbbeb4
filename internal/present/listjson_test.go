package present

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/tokentop/tokentop/auth"
)

// referenceListJSON is `list --json` as WriteJSON writes any report.
func referenceListJSON(t *testing.T, backend, configDir string, sessions []auth.Session, now time.Time) string {
	t.Helper()
	out := ListJSON{Storage: backend, ConfigDir: configDir, Sessions: []SessionJSON{}}
	for _, s := range withBackends(sessions, backend) {
		out.Sessions = append(out.Sessions, NewSessionJSON(s, now))
	}
	var b bytes.Buffer
	if err := WriteJSON(&b, out); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestListJSONFastPathAgrees(t *testing.T) {
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
	hostile.LastError = "server said \x1b[31mno\x1b[0m <b>&</b>"
	odd := sample(now)
	odd.ClockSkew = 1 // 1e-9 s: an exponent
	accented := sample(now)
	accented.User.Email = "zoë@example.com"
	for _, c := range []struct {
		name      string
		configDir string
		sessions  []auth.Session
		fast      bool
	}{
		{"none", "/cfg", nil, false},
		{"one", "/cfg", []auth.Session{sample(now)}, true},
		{"many, on every worker", "/home/me/.config/tokentop", many, true},
		{"hostile text", "/cfg", append([]auth.Session{sample(now)}, hostile), true},
		{"skew with an exponent", "/cfg", []auth.Session{odd}, true},
		{"non-ASCII email", "/cfg", []auth.Session{accented}, true},
		{"hostile ones among many", "/cfg", append(append(append([]auth.Session{}, many[:300]...), hostile, accented), many[300:]...), true},
		{"config dir with a quote", `/tmp/a"b`, []auth.Session{sample(now)}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var fast bytes.Buffer
			err := writeListJSONFast(&fast, "file", c.configDir, withBackends(c.sessions, "file"), now)
			if (err == nil) != c.fast {
				t.Fatalf("fast path: %v, want taken = %v", err, c.fast)
			}
			if err == nil && fast.String() != referenceListJSON(t, "file", c.configDir, c.sessions, now) {
				t.Fatalf("fast path:\n%s\nreference:\n%s", fast.String(), referenceListJSON(t, "file", c.configDir, c.sessions, now))
			}
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
