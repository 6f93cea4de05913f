package codec

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/hamba/avro/v2"
)

func FuzzParseWire(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 0, 1})
	f.Add([]byte{0, 0, 0, 0, 1, 2, 3})
	f.Add([]byte{1, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		id, payload, err := ParseWire(b)
		if err != nil {
			if c, _ := ClassOf(err); c != ClassBadMagic {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if !bytes.Equal(AppendWire(nil, id, payload), b) {
			t.Fatalf("round trip of %x failed", b)
		}
	})
}

// kitchenSink exercises every type, recursion, blocks and logical types.
const kitchenSink = `{"type":"record","name":"K","namespace":"f","fields":[
	{"name":"b","type":"boolean"},
	{"name":"i","type":["null","int",{"type":"int","logicalType":"date"}]},
	{"name":"t","type":{"type":"int","logicalType":"time-millis"}},
	{"name":"f","type":"float"},
	{"name":"fx","type":{"type":"fixed","name":"FX","size":3}},
	{"name":"dec","type":{"type":"fixed","name":"DX","size":5,"logicalType":"decimal","precision":10,"scale":3}},
	{"name":"bd","type":{"type":"bytes","logicalType":"decimal","precision":20,"scale":5}},
	{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B","C"]}},
	{"name":"m","type":{"type":"map","values":["null","double",{"type":"array","items":"null"}]}},
	{"name":"children","type":{"type":"array","items":"K"}},
	{"name":"dur","type":["null",{"type":"fixed","name":"Dur","size":12,"logicalType":"duration"}]},
	{"name":"us","type":{"type":"long","logicalType":"timestamp-micros"}}]}`

// kitchenReader drops, adds and promotes fields of kitchenSink.
const kitchenReader = `{"type":"record","name":"K","namespace":"f","fields":[
	{"name":"f","type":"double"},
	{"name":"e","type":{"type":"enum","name":"E","symbols":["C","A","B"]}},
	{"name":"children","type":{"type":"array","items":"K"}},
	{"name":"added","type":{"type":"map","values":"long"},"default":{"x":1}},
	{"name":"us","type":["null","long"]}]}`

func FuzzAvroDecode(f *testing.F) {
	fake := newFake(f)
	seedAvro(fake, "machine-value", 1, 1, machineSchemaText(f))
	seedAvro(fake, "kitchen-value", 1, 2, kitchenSink)
	reg := newTestRegistry(f, fake.URL(), nil)
	decoders := []*AvroDecoder{
		NewAvroDecoder(reg, nil),
		NewAvroDecoder(reg, mustParse(f, machineSchemaText(f))),
		NewAvroDecoder(reg, mustParse(f, machineSchemaText(f)), KeepUnknownFields(), BranchNames()),
	}
	kitchen := []*AvroDecoder{NewAvroDecoder(reg, nil), NewAvroDecoder(reg, mustParse(f, kitchenReader)),
		NewAvroDecoder(reg, mustParse(f, kitchenReader), KeepUnknownFields(), BranchNames())}

	machine := encodeAvro(f, mustParse(f, machineSchemaText(f)), sampleMachine())
	f.Add(false, machine)
	f.Add(false, machine[:len(machine)/2])
	f.Add(false, []byte{})
	ks := mustParse(f, kitchenSink)
	root := kitchenValue()
	f.Add(true, encodeAvro(f, ks, root))
	f.Add(true, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13})

	f.Fuzz(func(t *testing.T, useKitchen bool, payload []byte) {
		id, decs := 1, decoders
		if useKitchen {
			id, decs = 2, kitchen
		}
		value := AppendWire(nil, id, payload)
		for _, d := range decs {
			v, gotID, err := d.Decode(context.Background(), value)
			if gotID != id {
				t.Fatalf("schema id %d, want %d", gotID, id)
			}
			if err != nil {
				if c, ok := ClassOf(err); !ok || c != ClassCorruptAvro {
					t.Fatalf("untyped or unexpected error: %v", err)
				}
				continue
			}
			if _, ok := v.(map[string]any); !ok {
				t.Fatalf("top level is %T, want a record map", v)
			}
		}
	})
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,2,{"b":null}],"c":"d"}`, `[1]`, `"x"`, ``, `{"a":`, `{"n":1e999}`, `{} x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := DecodeJSON(b)
		if err != nil {
			if c, _ := ClassOf(err); c != ClassInvalidJSON {
				t.Fatalf("unexpected error %v", err)
			}
			if trimmed := bytes.TrimSpace(b); json.Valid(b) && len(trimmed) > 0 && trimmed[0] == '{' {
				t.Fatalf("valid object rejected: %v", err)
			}
			return
		}
		if _, ok := v.(map[string]any); !ok || !json.Valid(b) {
			t.Fatalf("accepted %q as %T", b, v)
		}
	})
}

// kitchenValue is a kitchenSink value with two children.
func kitchenValue() map[string]any {
	child := func() map[string]any {
		return map[string]any{"b": true, "i": nil, "t": int64(1), "f": 1.0, "fx": []byte{1, 2, 3}, "dec": "-1.000", "bd": "12.34567",
			"e": "C", "m": map[string]any{}, "children": []any{}, "dur": nil, "us": int64(0)}
	}
	return map[string]any{"b": false, "i": branch{2, int64(19000)}, "t": int64(5), "f": 2.0, "fx": []byte{0, 0, 0}, "dec": "0.001", "bd": "-0.00001",
		"e": "A", "m": map[string]any{"k": 1.5, "n": nil, "a": []any{nil, nil}}, "children": []any{child(), child()},
		"dur": branch{1, map[string]any{"months": int64(1), "days": int64(2), "milliseconds": int64(3)}}, "us": int64(-1)}
}

// FuzzSchema feeds arbitrary schema documents, as a registry could return
// them, through parsing, plan compilation and decoding.
func FuzzSchema(f *testing.F) {
	for _, s := range []string{kitchenSink, kitchenReader, readerV1, writerV2, pointSchema, `"long"`, `["null","string"]`,
		`{"type":"fixed","name":"F","size":16,"logicalType":"decimal","precision":4,"scale":2}`,
		`{"type":"record","name":"L","fields":[{"name":"n","type":["null","L"]}]}`} {
		f.Add(s, []byte{2, 4, 6, 0, 1})
	}
	f.Fuzz(func(t *testing.T, text string, payload []byte) {
		s, err := ParseSchema(text)
		if err != nil {
			return
		}
		for _, reader := range []avro.Schema{nil, s} {
			for _, opts := range [][]DecodeOption{nil, {KeepUnknownFields(), BranchNames()}} {
				p, err := NewPlan(s, reader, opts...)
				if err != nil {
					continue
				}
				if _, err := p.Decode(payload); err != nil {
					if c, _ := ClassOf(err); c != ClassCorruptAvro {
						t.Fatalf("unexpected error %v", err)
					}
				}
			}
		}
	})
}
