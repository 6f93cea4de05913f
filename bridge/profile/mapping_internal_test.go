package profile

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// fastExprs are expressions of the fast-path shapes, compared with the VM.
var fastExprs = []string{
	`record.a`, `record.a.b`, `record["a"]`, `record.list[0]`, `key`, `value`, `index`,
	`value != nil && key != ""`, `key in ["a", "b", "vin"]`, `!(key in ["a"])`, `key not in ["a"]`,
	`hasPrefix(key, "basic_")`, `text(value)`, `valueType(value)`, `number(record.a)`, `tryNumber(value)`,
	`blank(record.a) ? nil : number(record.a)`, `record.a == record.b`, `record.a and record.b`,
	`record.a || false`, `upper(record.s)`, `len(record.list)`, `concat(record.list, [1, 2])`,
	`uuid5("x.example", record.a)`, `time(record.t, "ms")`, `tryTime(record.t)`, `mod(number(record.a), 360)`,
	`pairs(record, ["a", "b"])`, `default(record.a, "d")`, `joinText(" ", record.a, record.b)`,
}

func compileFast(t testing.TB) []*mexpr {
	t.Helper()
	c := &compiler{m: &Mapping{file: "f.yaml", format: FormatJSON, hs: helpers()}}
	var all []*mexpr
	for _, src := range fastExprs {
		e := c.expr(&yaml.Node{Kind: yaml.ScalarNode, Value: src, Line: 1, Column: 1}, "x", nil, true, anyKind)
		if e == nil {
			t.Fatalf("%s: %v", src, c.errs)
		}
		if e.fast == nil {
			t.Fatalf("%s: no fast path", src)
		}
		all = append(all, e)
	}
	return all
}

func quoteYAML(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// compareFastVM evaluates every expression on value through the fast path
// and the VM and requires the same outcome.
func compareFastVM(t *testing.T, exprs []*mexpr, value any) {
	st := newEvalState()
	st.roots[rootRecord] = value
	st.kafka["timestamp"] = time.UnixMilli(1700000000000).UTC()
	m, _ := value.(map[string]any)
	entries := []entry{{name: "", key: "", value: nil}}
	for k, v := range m {
		entries = append(entries, entry{name: k, key: k, value: v})
	}
	for i, en := range entries {
		st.setElem(en.key, en.value, i)
		for _, e := range exprs {
			fv, ferr := e.eval(st)
			fast := e.fast
			e.fast = nil
			vv, verr := e.eval(st)
			e.fast = fast
			if (ferr == nil) != (verr == nil) {
				t.Fatalf("%q on %v (key %q): fast err %v, VM err %v", e.src, value, en.name, ferr, verr)
			}
			if ferr == nil && !reflect.DeepEqual(fv, vv) {
				t.Fatalf("%q on %v (key %q): fast %#v, VM %#v", e.src, value, en.name, fv, vv)
			}
		}
	}
}

func decodeJSONAny(b []byte) (any, bool) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return nil, false
	}
	return v, true
}

func TestMappingFastPathMatchesVM(t *testing.T) {
	exprs := compileFast(t)
	for _, doc := range []string{
		`{"a":"1.5","b":"1.5","s":"x","list":[1,"a"],"t":1700000000000,"vin":"V"}`,
		`{"a":true,"b":false,"list":[],"t":"2024-01-01T00:00:00Z"}`,
		`{"a":null,"b":3,"basic_x":{"y":1},"t":"bad"}`,
		`{"a":{"b":2},"list":null}`,
		`[1,2,3]`, `"text"`, `null`,
	} {
		v, _ := decodeJSONAny([]byte(doc))
		compareFastVM(t, exprs, v)
	}
}

func TestMappingFastCoverage(t *testing.T) {
	for _, f := range []string{"mobito", "traccar", "reefer", "genset"} {
		m, err := LoadMapping("../../testdata/mappings/" + f + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range m.objects {
			for _, e := range []*mexpr{o.when, o.each} {
				if e != nil && e.fast == nil {
					t.Logf("%s: VM: %s %q", f, e.path, e.src)
				}
			}
			for _, fl := range o.fields {
				if fl.e.fast == nil {
					t.Logf("%s: VM: %s %q", f, fl.e.path, fl.e.src)
				}
			}
		}
	}
}

// FuzzMappingEval feeds random JSON to the shipped mappings (no panic,
// every emitted object valid or the record rejected with a MappingError)
// and compares the fast path with the VM on every fast-path expression.
func FuzzMappingEval(f *testing.F) {
	for _, s := range []string{"../../testdata/mobito/sample.json", "../../testdata/mappings/traccar.json", "../../testdata/mappings/reefer.json", "../../testdata/mappings/genset.json"} {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"a":"1","list":[{"x":1}],"vin":"v","fleet_id":"f","latitude":"x"}`))
	var profiles []*mappingProfile
	for _, name := range []string{"mobito", "traccar", "reefer", "genset"} {
		m, err := LoadMapping("../../testdata/mappings/" + name + ".yaml")
		if err != nil {
			f.Fatal(err)
		}
		profiles = append(profiles, NewMapping(m, Options{MaxAssets: 8}).(*mappingProfile))
	}
	exprs := compileFast(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		v, ok := decodeJSONAny(data)
		if !ok {
			return
		}
		for _, p := range profiles {
			objs, err := p.Normalize(&Input{Topic: "fuzz", Offset: 1, Timestamp: time.UnixMilli(1700000000000), Value: v}, nil)
			if err != nil {
				if _, ok := err.(*MappingError); !ok {
					t.Fatalf("%s: error %T %v", p.m.file, err, err)
				}
				if len(objs) != 0 {
					t.Fatalf("objects with an error")
				}
				continue
			}
			for _, o := range objs {
				_ = o.AppendJSON(nil, "eventId", "x")
			}
		}
		compareFastVM(t, exprs, v)
	})
}
