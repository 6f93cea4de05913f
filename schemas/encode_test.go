package schemas

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	cases := append([]string{}, testStrings...)
	for b := range 256 {
		cases = append(cases, string([]byte{byte(b)}), "x"+string([]byte{byte(b)})+"y")
	}
	cases = append(cases, "\u2028", "\u2029", "\U0010FFFF", "\xf4\x90\x80\x80", "\xc0\xaf", "end\xe2\x82")
	for _, s := range cases {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
}

func TestAppendFloatMatchesEncodingJSON(t *testing.T) {
	cases := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1e-6, 9.99999e-7, 1e-7, 1e20, 1e21, 999999999999999999999,
		123456789.123, math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, 5e-324, 1.5e-9, 55.676098, 12.568337}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		cases = append(cases, randFloat(r), math.Float64frombits(r.Uint64()))
	}
	for _, f := range cases {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		want, _ := json.Marshal(f)
		if got := appendFloat(nil, f, 64); !bytes.Equal(got, want) {
			t.Errorf("float64 %v: got %s, want %s", f, got, want)
		}
		f32 := float32(f)
		if math.IsInf(float64(f32), 0) {
			continue
		}
		want, _ = json.Marshal(f32)
		if got := appendFloat(nil, float64(f32), 32); !bytes.Equal(got, want) {
			t.Errorf("float32 %v: got %s, want %s", f32, got, want)
		}
	}
}

func TestAppendFloatNonFinite(t *testing.T) {
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if got := string(appendFloat(nil, f, 64)); got != "null" {
			t.Errorf("appendFloat(%v) = %s, want null", f, got)
		}
	}
}

func TestAppendTime(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2024, 3, 20, 14, 30, 0, 0, time.UTC), `"2024-03-20T14:30:00Z"`},
		{time.Date(2024, 3, 20, 15, 30, 0, 0, cet), `"2024-03-20T14:30:00Z"`},
		{time.Date(2024, 3, 20, 14, 30, 0, 120000000, time.UTC), `"2024-03-20T14:30:00.12Z"`},
		{time.Date(2024, 3, 20, 14, 30, 0, 1, time.UTC), `"2024-03-20T14:30:00.000000001Z"`},
	}
	for _, tt := range tests {
		if got := string(appendTime(nil, tt.in)); got != tt.want {
			t.Errorf("appendTime(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestAppendValue(t *testing.T) {
	cyclic := map[string]any{"a": 1}
	cyclic["self"] = cyclic
	deep := any("leaf")
	for range 3000 {
		deep = []any{deep}
	}
	tests := []struct {
		name string
		in   any
		want string // "" means: must equal json.Marshal
	}{
		{"nil", nil, ""},
		{"bools", []any{true, false}, ""},
		{"ints", []any{int8(-8), int16(-16), int32(-32), int64(math.MinInt64), -7}, ""},
		{"uints", []any{uint8(8), uint16(16), uint32(32), uint64(math.MaxUint64), uint(7), uintptr(9)}, ""},
		{"floats", []any{1.5, float32(0.1), 1e21, 1e-7}, ""},
		{"number", json.Number("-1.25e+10"), ""},
		{"empty number", json.Number(""), "0"},
		{"invalid number", json.Number("0x1F"), `"0x1F"`},
		{"bytes", []byte("hello\x00"), ""},
		{"nil bytes", []byte(nil), ""},
		{"time", time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC), ""},
		{"time non-UTC", time.Date(2024, 1, 2, 4, 4, 5, 0, time.FixedZone("X", 3600)), `"2024-01-02T03:04:05Z"`},
		{"nested", map[string]any{"b": []string{"x", "<y>"}, "a": map[string]any{"z": nil, "y": []any{}}}, ""},
		{"nil containers", []any{[]any(nil), []string(nil), map[string]any(nil)}, ""},
		{"fallback struct", fallbackStruct{A: 1, B: "b"}, ""},
		{"fallback map", map[string]int{"z": 1, "a": 2}, ""},
		{"raw message", json.RawMessage(`{ "x" : [1, 2] }`), ""},
		{"NaN", math.NaN(), "null"},
		{"Inf in array", []any{math.Inf(1), float32(math.Inf(-1))}, "[null,null]"},
		{"unmarshalable fallback", make(chan int), "null"},
		{"fallback with NaN", struct{ F float64 }{math.NaN()}, "null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := appendValue(nil, tt.in, 0)
			want := []byte(tt.want)
			if tt.want == "" {
				var err error
				if want, err = json.Marshal(tt.in); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(got, want) {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
	for name, v := range map[string]any{"cyclic": cyclic, "deep": deep} {
		if got := appendValue(nil, v, 0); !json.Valid(got) {
			t.Errorf("%s: output is not valid JSON: %.80s...", name, got)
		}
	}
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 7))
	for _, typ := range AllTypes() {
		for i := range 500 {
			o := genObject(r, typ, i%3)
			want, err := json.Marshal(o)
			if err != nil {
				t.Fatalf("%s: json.Marshal: %v", typ, err)
			}
			got := o.AppendJSON(nil, "", "")
			if !bytes.Equal(got, want) {
				t.Fatalf("%s #%d mismatch\n got: %s\nwant: %s", typ, i, got, want)
			}
			// Appending keeps what is already in dst.
			if got := o.AppendJSON([]byte("prefix"), "", ""); !bytes.Equal(got, append([]byte("prefix"), want...)) {
				t.Fatalf("%s: AppendJSON clobbered dst", typ)
			}
		}
	}
}

func TestAppendJSONExtraField(t *testing.T) {
	when := time.Date(2024, 3, 20, 14, 30, 0, 0, time.UTC)
	loc := &Location{ID: 12345, AssetID: "a", OwnerID: "o", WhenCreated: when, Latitude: 55.676098, Longitude: 12.568337,
		Altitude: ptr(10.5), Speed: ptr(0.0), Heading: ptr(90.0)}
	base := `{"id":12345,"assetId":"a","ownerId":"o","whenCreated":"2024-03-20T14:30:00Z","latitude":55.676098,"longitude":12.568337,"altitude":10.5,"speed":0,"heading":90`
	gen := &GensetData{ID: 1, AssetID: "a", OwnerID: "o", WhenCreated: when, GensetType: "g", Data: map[string]any{}}
	tests := []struct {
		name         string
		o            Object
		field, value string
		want         string
	}{
		{"none", loc, "", "ignored", base + `}`},
		{"eventId", loc, "eventId", "6ba7b810-9dad-11d1-80b4-00c04fd430c8", base + `,"eventId":"6ba7b810-9dad-11d1-80b4-00c04fd430c8"}`},
		{"escaped", loc, "ev\"<id>", "v\n", base + `,"ev\"\u003cid\u003e":"v\n"}`},
		{"collides with id", loc, "id", "x", base + `}`},
		{"collides with absent optional", loc, "zoneId", "x", base + `}`},
		{"case differs", loc, "ID", "x", base + `,"ID":"x"}`},
		{"data type boxId", gen, "boxId", "x", `{"id":1,"assetId":"a","ownerId":"o","whenCreated":"2024-03-20T14:30:00Z","gensetType":"g","data":{}}`},
		{"data type eventId", gen, "eventId", "e", `{"id":1,"assetId":"a","ownerId":"o","whenCreated":"2024-03-20T14:30:00Z","gensetType":"g","data":{},"eventId":"e"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(tt.o.AppendJSON(nil, tt.field, tt.value))
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("invalid JSON: %s", got)
			}
		})
	}
	// Every spec field name of every type is skipped.
	r := rand.New(rand.NewPCG(3, 4))
	for _, typ := range AllTypes() {
		o := genObject(r, typ, 2)
		plain := o.AppendJSON(nil, "", "")
		for _, name := range FieldNames(typ) {
			if got := o.AppendJSON(nil, name, "x"); !bytes.Equal(got, plain) {
				t.Errorf("%s: extra %q was not skipped: %s", typ, name, got)
			}
		}
	}
}

func TestAppendJSONNonFiniteAndNil(t *testing.T) {
	when := time.Date(2024, 3, 20, 14, 30, 0, 0, time.UTC)
	l := &Location{ID: 1, AssetID: "a", OwnerID: "o", WhenCreated: when, Latitude: math.NaN(), Longitude: math.Inf(1), Speed: ptr(math.Inf(-1))}
	got := l.AppendJSON(nil, "", "")
	if !json.Valid(got) || !strings.Contains(string(got), `"latitude":null,"longitude":null`) || !strings.Contains(string(got), `"speed":null`) {
		t.Errorf("non-finite floats: %s", got)
	}
	r := &ReeferData{ID: 1, Data: map[string]any{"t": math.NaN()}}
	if got := string(r.AppendJSON(nil, "", "")); !strings.Contains(got, `"data":{"t":null}`) {
		t.Errorf("NaN in data: %s", got)
	}
	if got := string((&GtoemData{}).AppendJSON(nil, "", "")); !strings.Contains(got, `"data":null`) {
		t.Errorf("nil data: %s", got)
	}
	nils := []Object{(*Asset)(nil), (*Location)(nil), (*SensorData)(nil), (*ReeferData)(nil), (*GensetData)(nil), (*GtoemData)(nil)}
	for _, o := range nils {
		if got := string(o.AppendJSON(nil, "eventId", "x")); got != "null" {
			t.Errorf("%s nil: got %s, want null", o.ObjectType(), got)
		}
		if o.AssetKey() != "" {
			t.Errorf("%s nil: AssetKey not empty", o.ObjectType())
		}
		o.SetRecordID(5) // must not panic
		if id, _ := o.RecordID(); id != 0 {
			t.Errorf("%s nil: RecordID = %d", o.ObjectType(), id)
		}
		if _, ok := FieldValue(o, "ownerId"); ok {
			t.Errorf("%s nil: FieldValue found ownerId", o.ObjectType())
		}
		if AvroRecord(o) != nil {
			t.Errorf("%s nil: AvroRecord not nil", o.ObjectType())
		}
	}
}

func TestObjectIdentity(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, typ := range AllTypes() {
		o := genObject(r, typ, 1)
		if o.ObjectType() != typ {
			t.Errorf("ObjectType = %s, want %s", o.ObjectType(), typ)
		}
		key, _ := FieldValue(o, "assetId")
		if typ == TypeAsset {
			key = o.(*Asset).ID
		}
		if o.AssetKey() != key {
			t.Errorf("%s: AssetKey = %q, want %q", typ, o.AssetKey(), key)
		}
		o.SetRecordID(77)
		id, ok := o.RecordID()
		if typ == TypeAsset {
			if ok || id != 0 {
				t.Errorf("asset RecordID = %d, %v", id, ok)
			}
			continue
		}
		if !ok || id != 77 {
			t.Errorf("%s: RecordID after SetRecordID(77) = %d, %v", typ, id, ok)
		}
	}
}

// TestHasField: HasField is true exactly for the FieldNames of a type,
// the names AppendJSON refuses as its extra member.
func TestHasField(t *testing.T) {
	for _, typ := range AllTypes() {
		for _, name := range FieldNames(typ) {
			if !HasField(typ, name) {
				t.Errorf("%s: HasField(%q) = false", typ, name)
			}
		}
		for _, name := range []string{"eventId", "evt", "Id", "data.x", ""} {
			if HasField(typ, name) {
				t.Errorf("%s: HasField(%q) = true", typ, name)
			}
		}
	}
	if HasField("nope", "id") {
		t.Error("unknown type has a field")
	}
}
