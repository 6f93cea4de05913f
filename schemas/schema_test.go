package schemas

import (
	"bytes"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/santhosh-tekuri/jsonschema/v5"
)

// structOf returns the Go struct type of t.
func structOf(t *testing.T, typ Type) reflect.Type {
	t.Helper()
	o, err := New(typ)
	if err != nil {
		t.Fatal(err)
	}
	return reflect.TypeOf(o).Elem()
}

func compileJSONSchema(t *testing.T, typ Type) *jsonschema.Schema {
	t.Helper()
	doc := JSONSchema(typ)
	if doc == nil {
		t.Fatalf("no JSON Schema for %s", typ)
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	url := "mem://" + string(typ) + ".json"
	if err := c.AddResource(url, bytes.NewReader(doc)); err != nil {
		t.Fatalf("%s: %v", typ, err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatalf("%s: compile JSON Schema: %v", typ, err)
	}
	return sch
}

// decodeJSON decodes b keeping numbers exact, as the validator needs.
func decodeJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return m
}

type jsonSchemaDoc struct {
	Properties map[string]json.RawMessage `json:"properties"`
	Required   []string                   `json:"required"`
}

func TestEncodedObjectsMatchJSONSchema(t *testing.T) {
	r := newRand(21)
	for _, typ := range AllTypes() {
		sch := compileJSONSchema(t, typ)
		for i := range 200 {
			o := genObject(r, typ, i%3)
			b := o.AppendJSON(nil, "eventId", "e-1")
			if err := sch.Validate(decodeJSON(t, b)); err != nil {
				t.Fatalf("%s: %s\nfails its JSON Schema: %v", typ, b, err)
			}
		}
		// Removing any required member, or emptying a required non-empty
		// string, makes the document invalid.
		o := genObject(r, typ, 2)
		for _, field := range RequiredFieldNames(typ) {
			m := decodeJSON(t, o.AppendJSON(nil, "", ""))
			delete(m, field)
			if err := sch.Validate(m); err == nil {
				t.Errorf("%s without %q passes the JSON Schema", typ, field)
			} else if !strings.Contains(err.Error(), field) {
				t.Errorf("%s without %q: error does not name it: %v", typ, field, err)
			}
			if k, _ := fieldKindOf(typ, field); k == kindTime {
				// The zero time encodes as a valid date-time
				// (0001-01-01T00:00:00Z); only Validate rejects it.
				continue
			}
			zeroField(t, o, field)
			if o.Validate() != nil {
				// Validate rejects the zero value; so must the schema.
				if err := sch.Validate(decodeJSON(t, o.AppendJSON(nil, "", ""))); err == nil {
					t.Errorf("%s with zero %q passes the JSON Schema", typ, field)
				}
			}
			o = genObject(r, typ, 2)
		}
	}
}

func TestJSONSchemaRejectsBadValues(t *testing.T) {
	tests := []struct {
		typ Type
		doc string
	}{
		{TypeLocation, `{"id":1,"assetId":"a","ownerId":"o","whenCreated":"2024-03-20T14:30:00Z","latitude":91,"longitude":0}`},
		{TypeLocation, `{"id":1,"assetId":"a","ownerId":"o","whenCreated":"2024-03-20T14:30:00Z","latitude":0,"longitude":0,"heading":361}`},
		{TypeLocation, `{"id":1,"assetId":"a","ownerId":"o","whenCreated":"yesterday","latitude":0,"longitude":0}`},
		{TypeLocation, `{"id":"1","assetId":"a","ownerId":"o","whenCreated":"2024-03-20T14:30:00Z","latitude":0,"longitude":0}`},
		{TypeLocation, `{"id":9223372036854775808,"assetId":"a","ownerId":"o","whenCreated":"2024-03-20T14:30:00Z","latitude":0,"longitude":0}`},
		{TypeSensorData, `{"id":1,"assetId":"a","ownerId":"o","sensorId":"s","sensorType":"t","whenCreated":"2024-03-20T14:30:00Z","value":"1","type":"FLOAT"}`},
		{TypeGtoemData, `{"id":1,"assetId":"a","ownerId":"o","whenCreated":"2024-03-20T14:30:00Z","payloadType":2147483648,"data":{}}`},
		{TypeGtoemData, `{"id":1,"assetId":"a","ownerId":"o","whenCreated":"2024-03-20T14:30:00Z","payloadType":1,"data":[]}`},
		{TypeAsset, `{"id":"a","name":"n","ownerId":"o","whenCreated":"2024-03-20T14:30:00Z","whenUpdated":"2024-03-20T14:30:00Z","tags":[1]}`},
	}
	for _, tt := range tests {
		if err := compileJSONSchema(t, tt.typ).Validate(decodeJSON(t, []byte(tt.doc))); err == nil {
			t.Errorf("%s accepted %s", tt.typ, tt.doc)
		}
	}
	// The specification's own examples are valid.
	for typ, doc := range map[Type]string{
		TypeLocation:   `{ "id": 12345, "assetId": "550e8400-e29b-41d4-a716-446655440000", "ownerId": "660e8400-e29b-41d4-a716-446655440001", "whenCreated": "2024-03-20T14:30:00Z", "latitude": 55.676098, "longitude": 12.568337, "altitude": 10.5, "speed": 0, "heading": 90}`,
		TypeReeferData: `{ "id": 12345, "assetId": "550e8400-e29b-41d4-a716-446655440000", "ownerId": "660e8400-e29b-41d4-a716-446655440001", "whenCreated": "2024-03-20T14:30:00Z", "reeferClass": "CARRIER", "data": { "temperature": 4.5, "humidity": 60, "setpoint": 4.0 }}`,
	} {
		if err := compileJSONSchema(t, typ).Validate(decodeJSON(t, []byte(doc))); err != nil {
			t.Errorf("%s rejects the spec example: %v", typ, err)
		}
	}
}

// TestSchemasAgree checks that the JSON Schema, the Avro schema and the Go
// struct tags list the same fields in the same order with the same
// required-ness, and that the Go helpers agree with them.
func TestSchemasAgree(t *testing.T) {
	for _, typ := range AllTypes() {
		var js jsonSchemaDoc
		if err := json.Unmarshal(JSONSchema(typ), &js); err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		// Property order from the document itself.
		var jsOrder []string
		dec := json.NewDecoder(bytes.NewReader(JSONSchema(typ)))
		var raw struct {
			Properties orderedKeys `json:"properties"`
		}
		if err := dec.Decode(&raw); err != nil {
			t.Fatal(err)
		}
		jsOrder = raw.Properties

		st := structOf(t, typ)
		var goNames, goRequired []string
		for i := range st.NumField() {
			name, omit := jsonName(st.Field(i))
			goNames = append(goNames, name)
			if !omit {
				goRequired = append(goRequired, name)
			}
		}

		sch, err := avro.ParseWithCache(AvroSchema(typ), "", &avro.SchemaCache{})
		if err != nil {
			t.Fatalf("%s: parse Avro schema: %v", typ, err)
		}
		rec, ok := sch.(*avro.RecordSchema)
		if !ok {
			t.Fatalf("%s: Avro schema is %T, want record", typ, sch)
		}
		if rec.FullName() != "io.telebridge.objectsync."+typ.Title() {
			t.Errorf("%s: Avro name %q", typ, rec.FullName())
		}
		var avNames, avRequired []string
		for _, f := range rec.Fields() {
			avNames = append(avNames, f.Name())
			u, isUnion := f.Type().(*avro.UnionSchema)
			switch {
			case !isUnion:
				avRequired = append(avRequired, f.Name())
			case !u.Nullable() || !f.HasDefault() || f.Default() != nil || u.Types()[0].Type() != avro.Null:
				t.Errorf("%s.%s: optional Avro field must be [\"null\", T] with default null", typ, f.Name())
			}
		}

		slices.Sort(js.Required)
		for name, lists := range map[string][2][]string{
			"names":    {goNames, jsOrder},
			"avro":     {goNames, avNames},
			"helper":   {goNames, FieldNames(typ)},
			"required": {sorted(goRequired), js.Required},
			"avro req": {goRequired, avRequired},
			"req help": {goRequired, RequiredFieldNames(typ)},
		} {
			if !slices.Equal(lists[0], lists[1]) {
				t.Errorf("%s %s differ:\n go: %v\ndoc: %v", typ, name, lists[0], lists[1])
			}
		}
		if got := slices.Sorted(maps.Keys(js.Properties)); !slices.Equal(got, sorted(goNames)) {
			t.Errorf("%s: JSON Schema properties %v", typ, got)
		}
		for _, name := range goNames {
			if _, ok := fieldKindOf(typ, name); !ok {
				t.Errorf("%s: fieldKindOf misses %q", typ, name)
			}
		}
	}
	if JSONSchema("nope") != nil || AvroSchema("nope") != "" {
		t.Error("schema for unknown type")
	}
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

// orderedKeys decodes a JSON object's keys in document order.
type orderedKeys []string

func (k *orderedKeys) UnmarshalJSON(b []byte) error {
	d := json.NewDecoder(bytes.NewReader(b))
	if _, err := d.Token(); err != nil {
		return err
	}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		*k = append(*k, tok.(string))
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			return err
		}
	}
	return nil
}

// TestAvroRecordRoundTrip encodes AvroRecord with each Avro schema and
// checks the decoded record against the JSON encoding.
func TestAvroRecordRoundTrip(t *testing.T) {
	r := newRand(31)
	for _, typ := range AllTypes() {
		sch, err := avro.ParseWithCache(AvroSchema(typ), "", &avro.SchemaCache{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 50 {
			o := genObject(r, typ, i%3)
			b, err := avro.Marshal(sch, AvroRecord(o))
			if err != nil {
				t.Fatalf("%s: avro.Marshal: %v", typ, err)
			}
			var got map[string]any
			if err := avro.Unmarshal(sch, b, &got); err != nil {
				t.Fatalf("%s: avro.Unmarshal: %v", typ, err)
			}
			want := decodeJSON(t, o.AppendJSON(nil, "", ""))
			if len(got) != len(FieldNames(typ)) {
				t.Fatalf("%s: Avro record has %d fields, want %d", typ, len(got), len(FieldNames(typ)))
			}
			for name, v := range got {
				if v == nil {
					if _, present := want[name]; present {
						t.Errorf("%s.%s: Avro null but JSON has %v", typ, name, want[name])
					}
					continue
				}
				// Unions decode as map[type]value.
				if u, ok := v.(map[string]any); ok && len(u) == 1 {
					for _, inner := range u {
						v = inner
					}
				}
				if name == "data" {
					v = decodeJSON(t, []byte(v.(string)))
				}
				if !jsonEqual(t, v, want[name]) {
					t.Errorf("%s.%s: Avro %#v, JSON %#v", typ, name, v, want[name])
				}
			}
		}
	}
}

// jsonEqual compares a and b by their JSON encoding, with numbers compared
// as float64 text so int64/int32/json.Number agree.
func jsonEqual(t *testing.T, a, b any) bool {
	t.Helper()
	norm := func(v any) string {
		ab, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var x any
		if err := json.Unmarshal(ab, &x); err != nil {
			t.Fatal(err)
		}
		out, _ := json.Marshal(x)
		return string(out)
	}
	return norm(a) == norm(b)
}

// TestStructTagsAreSpec guards the exported structs' tags: every optional
// field is a pointer or slice and every required one is not.
func TestStructTagsAreSpec(t *testing.T) {
	for _, typ := range AllTypes() {
		st := structOf(t, typ)
		for i := range st.NumField() {
			f := st.Field(i)
			_, omit := jsonName(f)
			optionalKind := f.Type.Kind() == reflect.Pointer || f.Type.Kind() == reflect.Slice
			if omit != optionalKind {
				t.Errorf("%s.%s: omitempty=%v but kind %s", typ, f.Name, omit, f.Type.Kind())
			}
		}
	}
}
