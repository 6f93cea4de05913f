package profile_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/telebridge/telebridge/bridge/profile"
	"github.com/telebridge/telebridge/schemas"
)

// parseSchema parses an Avro schema with a private name cache, so reader
// and writer versions with the same type names do not collide.
func parseSchema(t testing.TB, text string) avro.Schema {
	t.Helper()
	s, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		t.Fatalf("parse schema: %v", err)
	}
	return s
}

func readerSchema(t testing.TB) avro.Schema {
	return parseSchema(t, profile.TrackunitReaderSchema())
}

// codecValue converts hamba's generic decoding (unions as
// {"type name": value}) of a value of schema s into the plain values the
// codec package hands to profiles: unions unwrapped, int and long as int64,
// float as float64, fixed as []byte.
func codecValue(s avro.Schema, v any) any {
	switch s := s.(type) {
	case *avro.RefSchema:
		return codecValue(s.Schema(), v)
	case *avro.UnionSchema:
		if v == nil {
			return nil
		}
		// hamba wraps a non-null branch as {"type name": value}, except
		// for nullable unions of one type, which it decodes unwrapped.
		if m, ok := v.(map[string]any); ok && len(m) == 1 {
			for name, inner := range m {
				if branch, _ := s.Types().Get(name); branch != nil {
					return codecValue(branch, inner)
				}
			}
		}
		if _, typ := s.Indices(); s.Nullable() && len(s.Types()) == 2 {
			return codecValue(s.Types()[typ], v)
		}
		return codecValue(nil, v)
	case *avro.RecordSchema:
		in := v.(map[string]any)
		out := make(map[string]any, len(in))
		for _, f := range s.Fields() {
			out[f.Name()] = codecValue(f.Type(), in[f.Name()])
		}
		return out
	case *avro.ArraySchema:
		in := v.([]any)
		out := make([]any, len(in))
		for i, e := range in {
			out[i] = codecValue(s.Items(), e)
		}
		return out
	case *avro.MapSchema:
		in := v.(map[string]any)
		out := make(map[string]any, len(in))
		for k, e := range in {
			out[k] = codecValue(s.Values(), e)
		}
		return out
	}
	switch x := v.(type) {
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case float32:
		return float64(x)
	}
	return v
}

// roundTrip encodes native (a fleet-style value) with writer, decodes it
// generically with decodeWith (the writer itself, or a resolved reader) and
// returns the codec-style plain value.
func roundTrip(t testing.TB, writer, decodeWith avro.Schema, native any) map[string]any {
	t.Helper()
	b, err := avro.Marshal(writer, native)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var generic any
	if err := avro.Unmarshal(decodeWith, b, &generic); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return codecValue(decodeWith, generic).(map[string]any)
}

// decodeJSONFile reads a JSON object with numbers as json.Number, as the
// codec's JSON decoder does.
func decodeJSONFile(t testing.TB, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return decodeJSON(t, b)
}

func decodeJSON(t testing.TB, b []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("decode JSON: %v", err)
	}
	return m
}

func newProfile(t testing.TB, name string, opts profile.Options) profile.Profile {
	t.Helper()
	p, err := profile.New(name, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// checkObjects assigns ids as the pipeline does and checks that every
// object validates and encodes as valid JSON.
func checkObjects(t testing.TB, objs []schemas.Object) {
	t.Helper()
	for i, o := range objs {
		o.SetRecordID(int64(i + 1))
		if err := o.Validate(); err != nil {
			t.Errorf("object %d (%s): %v", i, o.ObjectType(), err)
		}
		if b := o.AppendJSON(nil, "eventId", "x"); !json.Valid(b) {
			t.Errorf("object %d (%s): invalid JSON %s", i, o.ObjectType(), b)
		}
	}
}

// mappingError asserts err is a *profile.MappingError for field.
func mappingError(t testing.TB, err error, field string) {
	t.Helper()
	var me *profile.MappingError
	if !errors.As(err, &me) {
		t.Fatalf("error %v (%T) is not a *MappingError", err, err)
	}
	if me.Field != field {
		t.Fatalf("MappingError field = %q, want %q (%v)", me.Field, field, err)
	}
}

func sensors(objs []schemas.Object) map[string]*schemas.SensorData {
	out := make(map[string]*schemas.SensorData)
	for _, o := range objs {
		if sd, ok := o.(*schemas.SensorData); ok {
			out[sd.SensorID] = sd
		}
	}
	return out
}

func ofType[T schemas.Object](objs []schemas.Object) []T {
	var out []T
	for _, o := range objs {
		if x, ok := o.(T); ok {
			out = append(out, x)
		}
	}
	return out
}

var ts = time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// avroNative converts a plain JSON rendering (json.Number numbers, bytes as
// hex text) of a value of schema s into the native form hamba's generic
// encoder takes: non-null union branches of named types wrapped as
// {"full.name": value}.
func avroNative(t testing.TB, s avro.Schema, v any) any {
	t.Helper()
	switch s := s.(type) {
	case *avro.RefSchema:
		return avroNative(t, s.Schema(), v)
	case *avro.UnionSchema:
		if v == nil {
			return nil
		}
		for _, branch := range s.Types() {
			if !branchMatches(branch, v) {
				continue
			}
			native := avroNative(t, branch, v)
			if named, ok := branch.(avro.NamedSchema); ok {
				return map[string]any{named.FullName(): native}
			}
			if ref, ok := branch.(*avro.RefSchema); ok {
				return map[string]any{ref.Schema().FullName(): native}
			}
			return native
		}
		t.Fatalf("no branch of %s matches %v (%T)", s, v, v)
	case *avro.RecordSchema:
		in, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("record %s: got %T", s.FullName(), v)
		}
		out := make(map[string]any, len(in))
		for _, f := range s.Fields() {
			if fv, ok := in[f.Name()]; ok && fv != nil {
				out[f.Name()] = avroNative(t, f.Type(), fv)
			}
		}
		return out
	case *avro.ArraySchema:
		in := v.([]any)
		out := make([]any, len(in))
		for i, e := range in {
			out[i] = avroNative(t, s.Items(), e)
		}
		return out
	case *avro.PrimitiveSchema:
		switch s.Type() {
		case avro.Double, avro.Float:
			f, err := v.(json.Number).Float64()
			if err != nil {
				t.Fatal(err)
			}
			if s.Type() == avro.Float {
				return float32(f)
			}
			return f
		case avro.Long, avro.Int:
			i, err := v.(json.Number).Int64()
			if err != nil {
				t.Fatal(err)
			}
			if s.Type() == avro.Int {
				return int(i)
			}
			return i
		case avro.Bytes:
			b, err := hex.DecodeString(v.(string))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	return v
}

// branchMatches reports whether plain value v can be an instance of s.
func branchMatches(s avro.Schema, v any) bool {
	if ref, ok := s.(*avro.RefSchema); ok {
		s = ref.Schema()
	}
	switch s.Type() {
	case avro.Record:
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		for k := range m {
			found := false
			for _, f := range s.(*avro.RecordSchema).Fields() {
				found = found || f.Name() == k
			}
			if !found {
				return false
			}
		}
		return true
	case avro.Array:
		_, ok := v.([]any)
		return ok
	case avro.String, avro.Enum, avro.Bytes:
		_, ok := v.(string)
		return ok
	case avro.Double, avro.Float:
		_, ok := v.(json.Number)
		return ok
	case avro.Long, avro.Int:
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		_, err := n.Int64()
		return err == nil
	case avro.Boolean:
		_, ok := v.(bool)
		return ok
	}
	return false
}

func nan() float64 { zero := 0.0; return zero / zero }
