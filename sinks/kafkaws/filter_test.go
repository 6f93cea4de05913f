package kafkaws

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/telebridge/telebridge/codec"
)

func mustJSON(t testing.TB, s string) any {
	t.Helper()
	v, err := codec.DecodeJSON([]byte(s))
	if err != nil {
		t.Fatalf("test message %s: %v", s, err)
	}
	return v
}

func TestWhereMatch(t *testing.T) {
	msg := `{"rain":10,"temperature":30.0,"a":"foo","b":"bar","sensor":{"status":"failed","ok":false,"level":"12.5"},
		"tags":["x","y"],"readings":[{"v":1},{"v":5}],"nums":[1,2,3],"n":null,"big":9007199254740993,
		"time":"2024-05-01T10:00:00Z","on":true,"flag":1,"weird key":1}`
	v := mustJSON(t, msg)
	cases := []struct {
		where string
		keep  bool
	}{
		// The reference examples.
		{"rain=11;", false},
		{"rain=neq:11;", true},
		{"rain=gt:10;", false},
		{"rain=gte:10;", true},
		{"rain=lt:10;", false},
		{"rain=lte:10;", true},
		{"a=in:bar,baz;", false},
		{"a=nin:bar,baz;", true},
		{"sensor.status=in:failed,stopped;", true},
		{"temperature=gte:5.0;temperature=lt:10.0;", false},
		{"temperature=gte:5.0;temperature=lt:31;", true},
		// Numbers compare by value, not text.
		{"rain=10.0;", true},
		{"rain=1e1;", true},
		{"temperature=30;", true},
		{"rain=abc;", false},
		{"rain=neq:abc;", true},
		{"big=9007199254740993;", true},
		{"big=9007199254740992;", false},
		// Strings compare as text; ordering of decimal strings is numeric.
		{"a=foo;", true},
		{"a=Foo;", false},
		{"sensor.level=12.5;", true},
		{"sensor.level=12.50;", false},
		{"sensor.level=gt:9;", true},
		{"sensor.level=lt:100;", true},
		{"time=gte:2024-05-01T00:00:00Z;", true},
		{"time=lt:2024-05-01T00:00:00Z;", false},
		{"a=gt:5;", false},
		// Booleans and null.
		{"sensor.ok=false;", true},
		{"sensor.ok=bool:0;", true},
		{"sensor.ok=bool:true;", false},
		{"on=bool:1;", true},
		{"flag=bool:true;", true},
		{"a=bool:true;", false},
		{"n=null;", true},
		{"n=neq:null;", false},
		// Missing fields fail every condition, even neq and nin.
		{"missing=1;", false},
		{"missing=neq:1;", false},
		{"missing=nin:1;", false},
		{"sensor.missing.deeper=1;", false},
		{"a.b=1;", false},
		// Arrays: any element; numeric names index.
		{"tags=y;", true},
		{"tags=z;", false},
		{"tags=neq:y;", false},
		{"tags=nin:z,w;", true},
		{"nums=gt:2;", true},
		{"nums=gt:3;", false},
		{"readings.1.v=5;", true},
		{"readings.0.v=5;", false},
		{"readings.2.v=5;", false},
		{"readings.v=5;", false},
		{"nums.01=2;", false},
		// Objects never equal a value.
		{"sensor=failed;", false},
		{"sensor=neq:failed;", true},
		// Escapes.
		{"time=2024-05-01T10\\:00\\:00Z;", true},
		{"a=in:x\\,y,foo;", true},
		// Empty and several conditions.
		{"", true},
		{"rain=10;a=foo;sensor.status=failed;", true},
		{"rain=10;a=bar;", false},
	}
	for _, c := range cases {
		w, err := ParseWhere(c.where)
		if err != nil {
			t.Errorf("ParseWhere(%q): %v", c.where, err)
			continue
		}
		if got := w.Match(v); got != c.keep {
			t.Errorf("where %q: keep=%v, want %v", c.where, got, c.keep)
		}
	}
}

func TestWhereTypedAvroValues(t *testing.T) {
	// Avro decodes to int64, float64, bool, nil and nested maps.
	v := map[string]any{"id": int64(7), "speed": 12.5, "moving": true, "meta": map[string]any{"src": "tu", "n": nil}, "arr": []any{int64(1), int64(2)}}
	for where, keep := range map[string]bool{
		"id=7;": true, "id=7.0;": true, "id=gt:6;": true, "speed=lte:12.5;": true, "speed=gt:12.5;": false,
		"moving=true;": true, "moving=bool:1;": true, "meta.src=tu;": true, "meta.n=null;": true, "arr=2;": true, "arr=3;": false,
	} {
		w, err := ParseWhere(where)
		if err != nil {
			t.Fatalf("%q: %v", where, err)
		}
		if got := w.Match(v); got != keep {
			t.Errorf("where %q on Avro value: keep=%v, want %v", where, got, keep)
		}
	}
}

func TestWhereErrors(t *testing.T) {
	cases := []struct {
		where string
		code  websocket.StatusCode
		off   int
		msg   string
	}{
		{"rain=10", CodeInvalidSyntax, 7, "must end with ';'"},
		{"rain", CodeInvalidSyntax, 4, "has no '='"},
		{"=10;", CodeInvalidSyntax, 0, "empty field name"},
		{"a..b=1;", CodeInvalidSyntax, 2, "empty field name"},
		{"a b=1;", CodeInvalidSyntax, 1, "unexpected"},
		{"a=1=2;", CodeInvalidSyntax, 3, "unescaped '='"},
		{"a=1;;", CodeInvalidSyntax, 4, "unexpected"},
		{"a=foo:1;", CodeInvalidOperator, 2, `unknown operator "foo"`},
		{"a=GT:1;", CodeInvalidOperator, 2, "unknown operator"},
		{"a=:1;", CodeInvalidOperator, 2, "empty operator"},
		{"a=x\\y;", CodeInvalidEscape, 3, "unsupported escape"},
		{"a=x\\", CodeInvalidEscape, 3, "at the end"},
		{"a=1,2;", CodeInvalidArity, 2, "equality takes exactly 1 value, got 2"},
		{"a=gt:1,2;", CodeInvalidArity, 5, "gt takes exactly 1 value"},
		{"a=neq:1,2;", CodeInvalidArity, 6, "neq takes exactly 1"},
		{"a=bool:yes;", CodeInvalidValue, 7, "bool takes true, false, 1 or 0"},
		{"a=gte:;", CodeInvalidValue, 6, "empty value"},
		{strings.Repeat("a=1;", 65), CodeInvalidSyntax, 256, "more than 64 conditions"},
	}
	for _, c := range cases {
		_, err := ParseWhere(c.where)
		var fe *FilterError
		if !errors.As(err, &fe) {
			t.Errorf("ParseWhere(%q) = %v, want a *FilterError", c.where, err)
			continue
		}
		if fe.Code != c.code || fe.Offset != c.off || !strings.Contains(fe.Msg, c.msg) {
			t.Errorf("ParseWhere(%q) = %d at %d %q; want %d at %d containing %q", c.where, fe.Code, fe.Offset, fe.Msg, c.code, c.off, c.msg)
		}
		if r := fe.CloseReason(); len(r) > maxReason || !strings.HasPrefix(r, CodeName(c.code)+": where at ") {
			t.Errorf("close reason %q: too long or badly prefixed", r)
		}
	}
}

func TestFields(t *testing.T) {
	ref := `{"attrs":{"temperature":20,"rain":10.5},"metadata":{"tenant":"admin"}}`
	cases := []struct {
		msg, fields, want string
	}{
		// The reference examples.
		{ref, "attrs,metadata", ref},
		{ref, "metadata/tenant", `{"metadata":{"tenant":"admin"}}`},
		{ref, "attrs(temperature,rain)", `{"attrs":{"rain":10.5,"temperature":20}}`},
		{ref, "attrs/*", `{"attrs":{"rain":10.5,"temperature":20}}`},
		{ref, "attrs/humidity", `{"attrs":{}}`},
		// Missing top-level selections give an empty object.
		{ref, "nothing", `{}`},
		{ref, "nothing/deeper", `{}`},
		// Scalars where a selection goes deeper give nothing.
		{ref, "attrs/temperature/x", `{"attrs":{}}`},
		// Merging and precedence.
		{ref, "attrs/rain,attrs/temperature", `{"attrs":{"rain":10.5,"temperature":20}}`},
		{ref, "attrs/rain,attrs", `{"attrs":{"rain":10.5,"temperature":20}}`},
		{ref, "*/tenant", `{"attrs":{},"metadata":{"tenant":"admin"}}`},
		{ref, "*", ref},
		// The API page example.
		{`{"sensor":{"status":"failed","id":3},"temperature":35,"x":1}`, "sensor/status,temperature", `{"sensor":{"status":"failed"},"temperature":35}`},
		// Arrays apply the selection to each element.
		{`{"data":[{"v":1,"x":2},{"v":3},{"x":4},5]}`, "data/v", `{"data":[{"v":1},{"v":3},{}]}`},
		{`{"a":{"b":{"c":1,"d":2},"e":{"c":3}}}`, "a/*/c", `{"a":{"b":{"c":1},"e":{"c":3}}}`},
		{`{"a":{"b":{"c":1,"d":2},"e":{"c":3}}}`, "a(b/d,*/c)", `{"a":{"b":{"c":1,"d":2},"e":{"c":3}}}`},
		// Escapes select names with special characters.
		{`{"a,b":1,"c/d":2,"e*":3}`, `a\,b,c\/d,e\*`, `{"a,b":1,"c/d":2,"e*":3}`},
	}
	for _, c := range cases {
		f, err := ParseFields(c.fields)
		if err != nil {
			t.Errorf("ParseFields(%q): %v", c.fields, err)
			continue
		}
		got, _ := json.Marshal(f.Apply(mustJSON(t, c.msg)))
		want, _ := json.Marshal(mustJSON(t, c.want))
		if string(got) != string(want) {
			t.Errorf("fields %q on %s = %s, want %s", c.fields, c.msg, got, want)
		}
	}
	if f, err := ParseFields(""); f != nil || err != nil {
		t.Errorf("ParseFields(\"\") = %v, %v; want nil, nil", f, err)
	}
}

func TestFieldsErrors(t *testing.T) {
	cases := []struct {
		fields string
		code   websocket.StatusCode
		off    int
	}{
		{",a", CodeInvalidSyntax, 0},
		{"a,", CodeInvalidSyntax, 2},
		{"a//b", CodeInvalidSyntax, 2},
		{"a(b", CodeInvalidSyntax, 1},
		{"a)", CodeInvalidSyntax, 1},
		{"a()", CodeInvalidSyntax, 2},
		{"te*mp", CodeInvalidSyntax, 2},
		{"*x", CodeInvalidSyntax, 0},
		{`a\b`, CodeInvalidEscape, 1},
		{`a\`, CodeInvalidEscape, 1},
		{strings.Repeat("a/", 40) + "a", CodeInvalidSyntax, 66},
	}
	for _, c := range cases {
		_, err := ParseFields(c.fields)
		var fe *FilterError
		if !errors.As(err, &fe) {
			t.Errorf("ParseFields(%q) = %v, want a *FilterError", c.fields, err)
			continue
		}
		if fe.Code != c.code || fe.Offset != c.off || fe.Param != "fields" {
			t.Errorf("ParseFields(%q) = %d at %d (%s); want %d at %d", c.fields, fe.Code, fe.Offset, fe.Msg, c.code, c.off)
		}
	}
}

func closeCodes() []websocket.StatusCode {
	return []websocket.StatusCode{CodeInvalidSyntax, CodeInvalidOperator, CodeInvalidEscape, CodeInvalidArity, CodeInvalidValue}
}

func checkFilterErr(t *testing.T, in string, err error) {
	if err == nil {
		return
	}
	var fe *FilterError
	if !errors.As(err, &fe) {
		t.Fatalf("%q: error %v is not a *FilterError", in, err)
	}
	ok := false
	for _, c := range closeCodes() {
		ok = ok || c == fe.Code
	}
	if !ok {
		t.Fatalf("%q: code %d is not a filter close code", in, fe.Code)
	}
	if len(fe.CloseReason()) > maxReason {
		t.Fatalf("%q: close reason longer than %d bytes", in, maxReason)
	}
}

func FuzzParseWhere(f *testing.F) {
	for _, s := range []string{"sensor.status=in:failed,stopped;", "temperature=gte:5.0;temperature=lt:10.0;", "a=x\\,y;", "a=bool:1;", "a.0.b=neq:;", "a=in:;", "x=\\", "é=1;"} {
		f.Add(s)
	}
	msg := mustJSON(f, `{"a":[1,"x",{"b":true}],"sensor":{"status":"failed"},"temperature":7,"x":null}`)
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseWhere(s)
		checkFilterErr(t, s, err)
		if err == nil {
			w.Match(msg)
		}
	})
}

func FuzzParseFields(f *testing.F) {
	for _, s := range []string{"a,b", "a/b/c", "a(b,c)", "a/*/c", "*", `a\,b`, "a(b(c/d),e)", "a("} {
		f.Add(s)
	}
	msg := mustJSON(f, `{"a":{"b":{"c":1},"x":[{"c":2},3]},"c":"d"}`)
	f.Fuzz(func(t *testing.T, s string) {
		fl, err := ParseFields(s)
		checkFilterErr(t, s, err)
		if err == nil {
			if _, err := json.Marshal(fl.Apply(msg)); err != nil {
				t.Fatalf("%q: result does not encode: %v", s, err)
			}
		}
	})
}
