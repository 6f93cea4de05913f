package codec

import (
	"context"
	"testing"

	"github.com/hamba/avro/v2"
)

// BenchmarkAvroDecode decodes the Trackunit-like MachineInsight (21 nested
// optional records, arrays, a map, unions, decimal and timestamps) through
// AvroDecoder.Decode with the schema cached, as in steady state.
func BenchmarkAvroDecode(b *testing.B) {
	text := machineSchemaText(b)
	fake := newFake(b)
	seedAvro(fake, "machine-value", 1, 1, text)
	reg := newTestRegistry(b, fake.URL(), nil)
	schema := mustParse(b, text)
	value := AppendWire(nil, 1, encodeAvro(b, schema, sampleMachine()))

	for _, bm := range []struct {
		name   string
		reader avro.Schema
	}{
		{"generic", nil},
		{"pinned-reader", mustParse(b, text)},
	} {
		b.Run(bm.name, func(b *testing.B) {
			dec := NewAvroDecoder(reg, bm.reader)
			ctx := context.Background()
			if _, _, err := dec.Decode(ctx, value); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(value)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := dec.Decode(ctx, value); err != nil {
					b.Fatal(err)
				}
			}
		})
	}

	// The floor: only rebuilding the decoded value's maps and slices (no
	// parsing, boxed leaves reused). Decoding cannot be cheaper than this
	// with map[string]any output.
	b.Run("output-maps-floor", func(b *testing.B) {
		v, _, err := NewAvroDecoder(reg, nil).Decode(context.Background(), value)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			_ = cloneContainers(v)
		}
	})

	// For comparison: hamba's own generic decoding of the same payload,
	// which yields library types (time.Time, *big.Rat, union wrappers) that
	// would still need converting.
	b.Run("hamba-generic-reference", func(b *testing.B) {
		payload := value[WireHeaderSize:]
		b.SetBytes(int64(len(value)))
		b.ReportAllocs()
		for b.Loop() {
			var v any
			if err := avro.Unmarshal(schema, payload, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDecodeJSON(b *testing.B) {
	// Shaped like a MOBITO push message: numbers as strings, nested objects.
	msg := []byte(`{"vin":"WDB9634031L123456","timestamp":"2024-05-06T07:08:09Z","position":{"latitude":"55.676098",
		"longitude":"12.568337","heading":"270","speed":"13.9"},"odometer":"98765.5","fuelLevel":"61.25",
		"engine":{"hours":"12034.5","running":true},"tpms":[{"axle":1,"pressure":"8.1"},{"axle":2,"pressure":"8.0"}]}`)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeJSON(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// cloneContainers copies maps and slices but shares leaves.
func cloneContainers(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = cloneContainers(e)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = cloneContainers(e)
		}
		return s
	}
	return v
}
