package codec

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"
)

// TestDecodePoisonClasses runs every poison class through the public entry
// points and checks class, schema id and message.
func TestDecodePoisonClasses(t *testing.T) {
	fake := newFake(t)
	seedAvro(fake, "reading-value", 1, 1, writerV2)
	seedAvro(fake, "reading-value", 2, 2, strings.Replace(readerV1, `"name":"id","type":"string"`, `"name":"id","type":"int"`, 1))
	fake.SeedSchema("json-value", 1, 3, sr.Schema{Schema: `{"type":"object"}`, Type: sr.TypeJSON})
	reg := newTestRegistry(t, fake.URL(), func(c *RegistryConfig) { c.NotFoundAttempts = 1 })
	dec := NewAvroDecoder(reg, mustParse(t, readerV1))

	w := mustParse(t, writerV2)
	valid := encodeAvro(t, w, map[string]any{
		"extra": map[string]any{"a": []any{}, "f": []byte{1, 2, 3, 4}, "e": "P", "d": 0.0, "fl": 0.0, "b": false},
		"value": 1.0, "id": "x", "note": nil,
	})
	tests := []struct {
		name    string
		value   []byte
		class   Class
		id      int
		errText string
	}{
		{"bad magic", []byte{1, 0, 0, 0, 1, 0}, ClassBadMagic, 0, "magic byte is 0x01"},
		{"too short", []byte{0, 0, 1}, ClassBadMagic, 0, "shorter than the 5-byte"},
		{"json instead of avro", []byte(`{"id":"x"}`), ClassBadMagic, 0, "magic byte is 0x7b"},
		{"unknown schema id", AppendWire(nil, 404, valid), ClassUnknownSchema, 404, "no schema id 404"},
		{"truncated payload", AppendWire(nil, 1, valid[:len(valid)-3]), ClassCorruptAvro, 1, "truncated"},
		{"trailing bytes", AppendWire(nil, 1, append(append([]byte{}, valid...), 0, 0)), ClassCorruptAvro, 1, "2 trailing bytes"},
		{"garbage payload", AppendWire(nil, 1, []byte{0xff, 0xff, 0xff}), ClassCorruptAvro, 1, "corrupt-avro (schema id 1)"},
		{"incompatible writer", AppendWire(nil, 2, valid), ClassUnsupportedSchema, 2,
			"writer schema id 2 is incompatible with the pinned reader schema: writer schema t.Reading cannot be read as t.Reading: reader schema string not compatible with writer schema int"},
		{"non-avro schema", AppendWire(nil, 3, valid), ClassUnsupportedSchema, 3, "is of type JSON, not AVRO"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, id, err := dec.Decode(context.Background(), tt.value)
			var e *Error
			if !errors.As(err, &e) || e.Class != tt.class || e.SchemaID != tt.id || id != tt.id {
				t.Fatalf("got %v, id %d, err %v; want class %s, id %d", v, id, err, tt.class, tt.id)
			}
			if !strings.Contains(err.Error(), tt.errText) {
				t.Fatalf("err = %q, want it to contain %q", err, tt.errText)
			}
		})
	}
	t.Run("invalid json", func(t *testing.T) {
		_, err := DecodeJSON([]byte{0, 0, 0, 0, 1})
		if c, _ := ClassOf(err); c != ClassInvalidJSON {
			t.Fatalf("err = %v", err)
		}
	})
	if _, _, err := dec.Decode(context.Background(), AppendWire(nil, 1, valid)); err != nil {
		t.Fatalf("valid value after poison: %v", err)
	}
}

// TestDecodeEvolutionViaRegistry decodes two writer versions into one pinned
// reader through srfake.
func TestDecodeEvolutionViaRegistry(t *testing.T) {
	const user, pass = "reader", "p@ss:word"
	fake := newFake(t, basicAuth(user, pass))
	seedAvro(fake, "reading-value", 1, 10, readerV1)
	seedAvro(fake, "reading-value", 2, 11, writerV2)
	reg := newTestRegistry(t, fake.URL(), func(c *RegistryConfig) { c.Username, c.Password = user, pass })
	r := mustParse(t, readerV1)
	dec := NewAvroDecoder(reg, r)

	v1 := map[string]any{"id": "a", "value": 1.5, "unit": "C", "source": "probe",
		"meta": map[string]any{"tags": []any{}, "raw": []byte{}, "at": "2024-01-01T00:00:00.000Z"}}
	got, id, err := dec.Decode(context.Background(), AppendWire(nil, 10, encodeAvro(t, r, v1)))
	if err != nil || id != 10 || !reflect.DeepEqual(got, v1) {
		t.Fatalf("v1: got %#v (id %d), %v", got, id, err)
	}

	w := mustParse(t, writerV2)
	v2 := map[string]any{
		"extra": map[string]any{"a": []any{int64(1)}, "f": []byte{0, 0, 0, 0}, "e": "P", "d": 0.0, "fl": 0.0, "b": false},
		"value": 2.5, "id": "b", "note": "new in v2",
	}
	got, id, err = dec.Decode(context.Background(), AppendWire(nil, 11, encodeAvro(t, w, v2)))
	if err != nil || id != 11 {
		t.Fatalf("v2: %v (id %d)", err, id)
	}
	m := got.(map[string]any)
	if m["id"] != "b" || m["value"] != 2.5 || m["unit"] != nil || m["source"] != "unknown" || m["note"] != nil || m["extra"] != nil {
		t.Fatalf("v2 resolved into v1 reader: %#v", m)
	}
	if _, ok := m["note"]; ok {
		t.Fatal("writer-only field leaked into the pinned reader's value")
	}
	if plan, err := dec.Plan(context.Background(), 11); err != nil || plan == nil {
		t.Fatalf("Plan: %v", err)
	}
}
