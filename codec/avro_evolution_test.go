package codec

import (
	"reflect"
	"strings"
	"testing"
)

const (
	readerV1 = `{"type":"record","name":"Reading","namespace":"t","fields":[
		{"name":"id","type":"string"},
		{"name":"value","type":"double"},
		{"name":"unit","type":["null","string"],"default":null},
		{"name":"source","type":"string","default":"unknown"},
		{"name":"meta","type":{"type":"record","name":"Meta","fields":[
			{"name":"tags","type":{"type":"array","items":"string"}},
			{"name":"raw","type":"bytes"},
			{"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}}]},
			"default":{"tags":["a"],"raw":"\u00ff","at":1000}}]}`
	// writerV2 drops "unit", "source" and "meta", renames nothing, and adds
	// "extra" (a nested structure that must be skipped) and "note".
	writerV2 = `{"type":"record","name":"Reading","namespace":"t","fields":[
		{"name":"extra","type":{"type":"record","name":"X","fields":[
			{"name":"a","type":{"type":"array","items":["null","long",{"type":"map","values":"bytes"}]}},
			{"name":"f","type":{"type":"fixed","name":"F4","size":4}},
			{"name":"e","type":{"type":"enum","name":"E","symbols":["P","Q"]}},
			{"name":"d","type":"double"},{"name":"fl","type":"float"},{"name":"b","type":"boolean"}]}},
		{"name":"value","type":"float"},
		{"name":"id","type":"string"},
		{"name":"note","type":["null","string"],"default":null}]}`
)

func TestSchemaEvolution(t *testing.T) {
	w := mustParse(t, writerV2)
	r := mustParse(t, readerV1)
	in := map[string]any{
		"extra": map[string]any{
			"a": []any{nil, int64(5), map[string]any{"k": []byte("v")}},
			"f": []byte{1, 2, 3, 4}, "e": "Q", "d": 1.5, "fl": 2.5, "b": true,
		},
		"value": 21.5,
		"id":    "sensor-1",
		"note":  "added by v2",
	}
	payload := encodeAvro(t, w, in)
	want := map[string]any{
		"id": "sensor-1", "value": 21.5, "unit": nil, "source": "unknown",
		"meta": map[string]any{"tags": []any{"a"}, "raw": []byte{0xff}, "at": "1970-01-01T00:00:01.000Z"},
	}
	p := mustPlan(t, w, r)
	got, err := p.Decode(payload)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}

	// Defaults are fresh per decode: mutating one result must not leak.
	got.(map[string]any)["meta"].(map[string]any)["tags"].([]any)[0] = "mutated"
	got.(map[string]any)["meta"].(map[string]any)["raw"].([]byte)[0] = 0
	again, err := p.Decode(payload)
	if err != nil || !reflect.DeepEqual(again, want) {
		t.Fatalf("second decode: got %#v, %v", again, err)
	}

	// Generic mode keeps every writer field.
	got, err = mustPlan(t, w, nil).Decode(payload)
	if err != nil || !reflect.DeepEqual(got, in) {
		t.Fatalf("generic: got %#v, %v", got, err)
	}
}

func TestResolution(t *testing.T) {
	rec := func(fieldType string) string {
		return `{"type":"record","name":"R","fields":[{"name":"f","type":` + fieldType + `}]}`
	}
	tests := []struct {
		name           string
		writer, reader string // field types
		in, want       any
	}{
		{"int to long", `"int"`, `"long"`, int64(-5), int64(-5)},
		{"int to float", `"int"`, `"float"`, int64(3), 3.0},
		{"int to double", `"int"`, `"double"`, int64(3), 3.0},
		{"long to double", `"long"`, `"double"`, int64(1 << 40), float64(1 << 40)},
		{"long to float", `"long"`, `"float"`, int64(7), 7.0},
		{"float to double", `"float"`, `"double"`, 0.5, 0.5},
		{"string to bytes", `"string"`, `"bytes"`, "hi", []byte("hi")},
		{"bytes to string", `"bytes"`, `"string"`, []byte("hi"), "hi"},
		{"int to timestamp long", `"int"`, `{"type":"long","logicalType":"timestamp-millis"}`, int64(1000), "1970-01-01T00:00:01.000Z"},
		{"plain to reader union", `"long"`, `["null","string","long"]`, int64(9), int64(9)},
		{"promotion into reader union", `"int"`, `["null","double"]`, int64(9), 9.0},
		{"writer union to plain", `["null","long"]`, `["null","long"]`, int64(4), int64(4)},
		{"writer union to plain reader", `["int","long"]`, `"long"`, branch{0, int64(4)}, int64(4)},
		{"union reordered", `["long","string","null"]`, `["null","string","long"]`, "x", "x"},
		{"enum known symbol", `{"type":"enum","name":"E","symbols":["A","B","C"]}`, `{"type":"enum","name":"E","symbols":["C","B","A","Z"]}`, "B", "B"},
		{"enum unknown symbol uses default", `{"type":"enum","name":"E","symbols":["A","NEW"]}`, `{"type":"enum","name":"E","symbols":["A","UNKNOWN"],"default":"UNKNOWN"}`, "NEW", "UNKNOWN"},
		{"array items promoted", `{"type":"array","items":"int"}`, `{"type":"array","items":"long"}`, []any{int64(1)}, []any{int64(1)}},
		{"map values promoted", `{"type":"map","values":"float"}`, `{"type":"map","values":"double"}`, map[string]any{"k": 1.5}, map[string]any{"k": 1.5}},
		{"fixed decimal", `{"type":"fixed","name":"D","size":4,"logicalType":"decimal","precision":6,"scale":2}`,
			`{"type":"fixed","name":"D","size":4,"logicalType":"decimal","precision":6,"scale":2}`, "-12.34", "-12.34"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, r := mustParse(t, rec(tt.writer)), mustParse(t, rec(tt.reader))
			got, err := mustPlan(t, w, r).Decode(encodeAvro(t, w, map[string]any{"f": tt.in}))
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]any{"f": tt.want}; !reflect.DeepEqual(got, want) {
				t.Fatalf("got %#v, want %#v", got, want)
			}
		})
	}
}

func TestResolutionAliases(t *testing.T) {
	w := mustParse(t, `{"type":"record","name":"Old","fields":[{"name":"speedKmh","type":"int"},{"name":"x","type":"int"}]}`)
	r := mustParse(t, `{"type":"record","name":"Old","fields":[{"name":"speed","aliases":["speedKmh"],"type":"long"},{"name":"x","type":"int"}]}`)
	got, err := mustPlan(t, w, r).Decode(encodeAvro(t, w, map[string]any{"speedKmh": int64(80), "x": int64(1)}))
	if want := map[string]any{"speed": int64(80), "x": int64(1)}; err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, %v; want %#v", got, err, want)
	}
}

func TestIncompatibleSchemas(t *testing.T) {
	tests := []struct {
		name, writer, reader, errText string
	}{
		{"missing field without default",
			`{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}`,
			`{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"int"}]}`,
			"reader field b is missing in writer schema and has no default"},
		{"type mismatch",
			`{"type":"record","name":"R","fields":[{"name":"a","type":"string"}]}`,
			`{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}`,
			"not compatible"},
		{"narrowing",
			`{"type":"record","name":"R","fields":[{"name":"a","type":"long"}]}`,
			`{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}`,
			"not compatible"},
		{"record name",
			`{"type":"record","name":"A","fields":[]}`,
			`{"type":"record","name":"B","fields":[]}`,
			"names do not match"},
		{"enum symbol without default",
			`{"type":"enum","name":"E","symbols":["A","B"]}`,
			`{"type":"enum","name":"E","symbols":["A"]}`,
			"missing symbol B"},
		{"writer union branch unknown",
			`["null","string"]`,
			`["null","long"]`,
			"reader union lacking writer schema string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewPlan(mustParse(t, tt.writer), mustParse(t, tt.reader))
			if err == nil || !strings.Contains(err.Error(), tt.errText) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.errText)
			}
		})
	}
}

// TestReaderDefaults checks the presentation of every kind of default a
// pinned reader can add.
func TestReaderDefaults(t *testing.T) {
	w := mustParse(t, `{"type":"record","name":"R","fields":[{"name":"id","type":"string"}]}`)
	tests := []struct {
		name, field string // field type and default, as JSON
		want        any
	}{
		{"int", `"type":"int","default":5`, int64(5)},
		{"long", `"type":"long","default":-7`, int64(-7)},
		{"float", `"type":"float","default":1.5`, 1.5},
		{"double", `"type":"double","default":2`, 2.0},
		{"boolean", `"type":"boolean","default":true`, true},
		{"string", `"type":"string","default":"s"`, "s"},
		{"bytes", `"type":"bytes","default":"\u0001\u00ff"`, []byte{1, 0xff}},
		{"fixed", `"type":{"type":"fixed","name":"F","size":2},"default":"ab"`, []byte("ab")},
		{"enum", `"type":{"type":"enum","name":"E","symbols":["A","B"]},"default":"B"`, "B"},
		{"null union", `"type":["null","string"],"default":null`, nil},
		{"value union", `"type":["long","null"],"default":3`, int64(3)},
		{"array", `"type":{"type":"array","items":"int"},"default":[1,2]`, []any{int64(1), int64(2)}},
		{"map", `"type":{"type":"map","values":"double"},"default":{"k":1}`, map[string]any{"k": 1.0}},
		{"record", `"type":{"type":"record","name":"In","fields":[{"name":"a","type":"int"},{"name":"b","type":"string","default":"x"}]},"default":{"a":1}`,
			map[string]any{"a": int64(1), "b": "x"}},
		{"date", `"type":{"type":"int","logicalType":"date"},"default":0`, "1970-01-01"},
		{"timestamp", `"type":{"type":"long","logicalType":"timestamp-micros"},"default":1`, "1970-01-01T00:00:00.000001Z"},
		{"decimal", `"type":{"type":"bytes","logicalType":"decimal","precision":5,"scale":2},"default":"\u00ff"`, "-0.01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustParse(t, `{"type":"record","name":"R","fields":[{"name":"id","type":"string"},{"name":"d",`+tt.field+`}]}`)
			got, err := mustPlan(t, w, r).Decode(encodeAvro(t, w, map[string]any{"id": "i"}))
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]any{"id": "i", "d": tt.want}; !reflect.DeepEqual(got, want) {
				t.Fatalf("got %#v, want %#v", got, want)
			}
		})
	}
}
