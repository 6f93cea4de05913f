package schemas

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"
)

// fuzzObjects builds one object of every type from the fuzz inputs.
func fuzzObjects(s1, s2 string, f float64, i int64, b []byte) []Object {
	const minSec, maxSec = -62135596800, 253402300799 // years 0001..9999
	sec := int64(uint64(i)%uint64(maxSec-minSec)) + minSec
	when := time.Unix(sec, int64(uint64(i)%1e9)).UTC()
	finite := f
	if math.IsNaN(f) || math.IsInf(f, 0) {
		finite = 0
	}
	data := map[string]any{
		s1: f, s2: s1, "i": i, "b": b, "f32": float32(finite),
		"nested": map[string]any{s2: []any{s1, i, f, nil, true}, "strs": []string{s1, s2}},
		"num":    json.Number(s2), "t": when,
	}
	return []Object{
		&Asset{ID: s1, Name: s2, OwnerID: s1, WhenCreated: when, WhenUpdated: when, BoxID: &s2, Note: &s1, Tags: []string{s1, s2}, Disabled: ptr(i%2 == 0)},
		&Location{ID: i, AssetID: s1, OwnerID: s2, WhenCreated: when, Latitude: finite, Longitude: -finite, Altitude: &finite, ZoneID: &s2},
		&SensorData{ID: i, AssetID: s1, OwnerID: s2, SensorID: s1, SensorType: s2, WhenCreated: when, Value: s1, Type: s2, WhenReceived: &i},
		&ReeferData{ID: i, AssetID: s1, OwnerID: s2, WhenCreated: when, ReeferClass: s1, Data: data},
		&GensetData{ID: i, AssetID: s1, OwnerID: s2, WhenCreated: when, GensetType: s2, Data: data, BoxID: &s1},
		&GtoemData{ID: i, AssetID: s1, OwnerID: s2, WhenCreated: when, PayloadType: int32(i), Data: data, WhenReceived: &i},
	}
}

func decodeAny(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return v
}

// FuzzAppendJSON checks that AppendJSON always writes valid JSON (with and
// without the extra member), equals encoding/json whenever encoding/json
// succeeds, and round-trips through decoding into the same Go type.
func FuzzAppendJSON(f *testing.F) {
	f.Add("asset-1", "eventId", 55.676098, int64(12345), []byte("hi"))
	f.Add("", "id", math.NaN(), int64(-1), []byte(nil))
	f.Add("bad\xffutf8\u2028<&>", "1.5e10", math.Inf(1), int64(math.MaxInt64), []byte{0, 0xff})
	f.Add("\x00\x1f\"\\", "data.x", 1e-7, int64(math.MinInt64), []byte{})
	f.Add("data.\x00", "", 1e21, int64(1710945000000), []byte("x"))
	f.Fuzz(func(t *testing.T, s1, s2 string, fl float64, i int64, b []byte) {
		for _, o := range fuzzObjects(s1, s2, fl, i, b) {
			typ := o.ObjectType()
			withExtra := o.AppendJSON(nil, s2, s1)
			if !json.Valid(withExtra) {
				t.Fatalf("%s: invalid JSON with extra %q: %s", typ, s2, withExtra)
			}
			enc1 := o.AppendJSON(nil, "", "")
			if !json.Valid(enc1) {
				t.Fatalf("%s: invalid JSON: %s", typ, enc1)
			}
			if want, err := json.Marshal(o); err == nil && !bytes.Equal(enc1, want) {
				t.Fatalf("%s: differs from encoding/json\n got: %s\nwant: %s", typ, enc1, want)
			}
			// The extra member is skipped on a spec name; otherwise it
			// adds exactly one key and changes nothing else.
			if _, spec := fieldKindOf(typ, s2); s2 == "" || spec {
				if !bytes.Equal(withExtra, enc1) {
					t.Fatalf("%s: extra %q not skipped: %s", typ, s2, withExtra)
				}
			} else {
				m1 := decodeAny(t, enc1).(map[string]any)
				m2 := decodeAny(t, withExtra).(map[string]any)
				if len(m2) != len(m1)+1 {
					t.Fatalf("%s: extra %q not added exactly once: %s", typ, s2, withExtra)
				}
				for k, v := range m1 {
					if !reflect.DeepEqual(m2[k], v) {
						t.Fatalf("%s: extra %q changed member %q: %s", typ, s2, k, withExtra)
					}
				}
			}
			// Round trip into the Go type.
			back, _ := New(typ)
			d := json.NewDecoder(bytes.NewReader(enc1))
			d.UseNumber()
			if err := d.Decode(back); err != nil {
				t.Fatalf("%s: decode %s: %v", typ, enc1, err)
			}
			enc2 := back.AppendJSON(nil, "", "")
			if !reflect.DeepEqual(decodeAny(t, enc1), decodeAny(t, enc2)) {
				t.Fatalf("%s: round trip changed the value\n  1: %s\n  2: %s", typ, enc1, enc2)
			}
			// Other entry points must not panic on any input.
			_ = o.Validate()
			_, _ = FieldValue(o, s1)
			_, _ = FieldValue(o, "data."+s2)
			_ = ValidFieldPath(typ, s1)
			_ = AvroRecord(o)
		}
	})
}
