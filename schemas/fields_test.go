package schemas

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

func TestFieldValue(t *testing.T) {
	when := time.Date(2024, 3, 20, 15, 30, 0, 500000000, time.FixedZone("CET", 3600))
	asset := &Asset{ID: "asset-1", Name: "n", OwnerID: "own", WhenCreated: when, WhenUpdated: when, Disabled: ptr(true), Tags: []string{"x"}}
	loc := &Location{ID: 12345, AssetID: "a", OwnerID: "o", WhenCreated: when, Latitude: 55.676098, Longitude: 1e21, Heading: ptr(90.0), Speed: ptr(math.NaN())}
	sensor := &SensorData{ID: 7, AssetID: "a", SensorID: "s1", Value: "", Type: ValueString, WhenReceived: ptr(int64(1710945000000))}
	gtoem := &GtoemData{ID: 9, AssetID: "a", PayloadType: -4, BoxID: ptr("box"), Data: map[string]any{
		"s": "text", "f": 4.0, "f32": float32(0.1), "i": -3, "u": uint64(math.MaxUint64), "b": false, "n": json.Number("1.50"),
		"nil": nil, "nan": math.NaN(), "t": when, "bytes": []byte("hi"), "arr": []any{1}, "strs": []string{"a"},
		"a":  map[string]any{"b": map[string]any{"c": "deep"}, "x": 1.5e-7},
		"ss": map[string]string{"k": "v"}, "st": fallbackStruct{A: 1}, "dur": time.Second, "ch": make(chan int),
		"txt": json.RawMessage(`"raw<"`),
	}}
	reefer := &ReeferData{ID: 1, ReeferClass: "CARRIER", Data: nil}
	genset := &GensetData{ID: 2, GensetType: "G", Data: map[string]any{"x": "y"}}
	tests := []struct {
		o      Object
		path   string
		want   string
		wantOK bool
	}{
		{asset, "id", "asset-1", true},
		{asset, "ownerId", "own", true},
		{asset, "name", "n", true},
		{asset, "whenCreated", "2024-03-20T14:30:00.5Z", true},
		{asset, "whenUpdated", "2024-03-20T14:30:00.5Z", true},
		{asset, "disabled", "true", true},
		{asset, "boxId", "", false},
		{asset, "note", "", false},
		{asset, "tags", "", false},
		{asset, "assetId", "asset-1", true}, // alias of id: keys an asset with its records
		{asset, "data.x", "", false},
		{loc, "id", "12345", true},
		{loc, "assetId", "a", true},
		{loc, "ownerId", "o", true},
		{loc, "whenCreated", "2024-03-20T14:30:00.5Z", true},
		{loc, "latitude", "55.676098", true},
		{loc, "longitude", "1e+21", true},
		{loc, "heading", "90", true},
		{loc, "speed", "", false},
		{loc, "altitude", "", false},
		{loc, "zoneId", "", false},
		{loc, "Latitude", "", false},
		{sensor, "sensorId", "s1", true},
		{sensor, "sensorType", "", true},
		{sensor, "value", "", true},
		{sensor, "type", "STRING", true},
		{sensor, "when_received", "1710945000000", true},
		{sensor, "ownerId", "", true},
		{sensor, "id", "7", true},
		{sensor, "assetId", "a", true},
		{sensor, "whenCreated", "0001-01-01T00:00:00Z", true},
		{gtoem, "payloadType", "-4", true},
		{gtoem, "boxId", "box", true},
		{gtoem, "when_received", "", false},
		{gtoem, "id", "9", true},
		{gtoem, "assetId", "a", true},
		{gtoem, "ownerId", "", true},
		{gtoem, "whenCreated", "0001-01-01T00:00:00Z", true},
		{gtoem, "data", "", false},
		{gtoem, "data.s", "text", true},
		{gtoem, "data.f", "4", true},
		{gtoem, "data.f32", "0.1", true},
		{gtoem, "data.i", "-3", true},
		{gtoem, "data.u", "18446744073709551615", true},
		{gtoem, "data.b", "false", true},
		{gtoem, "data.n", "1.50", true},
		{gtoem, "data.nil", "", false},
		{gtoem, "data.nan", "", false},
		{gtoem, "data.t", "2024-03-20T14:30:00.5Z", true},
		{gtoem, "data.bytes", "aGk=", true},
		{gtoem, "data.arr", "", false},
		{gtoem, "data.strs", "", false},
		{gtoem, "data.a", "", false},
		{gtoem, "data.a.b.c", "deep", true},
		{gtoem, "data.a.x", "1.5e-7", true},
		{gtoem, "data.a.missing", "", false},
		{gtoem, "data.a.b.c.d", "", false},
		{gtoem, "data.s.x", "", false},
		{gtoem, "data.ss.k", "v", true},
		{gtoem, "data.ss.k.z", "", false},
		{gtoem, "data.st", "", false},
		{gtoem, "data.dur", "1000000000", true},
		{gtoem, "data.ch", "", false},
		{gtoem, "data.txt", "raw<", true},
		{gtoem, "data.", "", false},
		{gtoem, "data.missing", "", false},
		{reefer, "reeferClass", "CARRIER", true},
		{reefer, "id", "1", true},
		{reefer, "assetId", "", true},
		{reefer, "ownerId", "", true},
		{reefer, "whenCreated", "0001-01-01T00:00:00Z", true},
		{reefer, "data.x", "", false},
		{genset, "gensetType", "G", true},
		{genset, "data.x", "y", true},
		{genset, "boxId", "", false},
		{genset, "id", "2", true},
		{genset, "assetId", "", true},
		{genset, "ownerId", "", true},
		{genset, "whenCreated", "0001-01-01T00:00:00Z", true},
		{nil, "id", "", false},
	}
	for _, tt := range tests {
		name := "nil"
		if tt.o != nil {
			name = string(tt.o.ObjectType())
		}
		got, ok := FieldValue(tt.o, tt.path)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("FieldValue(%s, %q) = %q, %v; want %q, %v", name, tt.path, got, ok, tt.want, tt.wantOK)
		}
	}
}

// TestFieldValueMatchesJSON checks every scalar top-level field against the
// value AppendJSON writes for it.
func TestFieldValueMatchesJSON(t *testing.T) {
	r := newRand(11)
	for _, typ := range AllTypes() {
		for range 50 {
			o := genObject(r, typ, 2)
			var m map[string]json.RawMessage
			if err := json.Unmarshal(o.AppendJSON(nil, "", ""), &m); err != nil {
				t.Fatal(err)
			}
			for _, name := range FieldNames(typ) {
				raw, present := m[name]
				got, ok := FieldValue(o, name)
				if k, _ := fieldKindOf(typ, name); k == kindObject || k == kindStringArray {
					if ok {
						t.Errorf("%s.%s: non-scalar resolved to %q", typ, name, got)
					}
					continue
				}
				if ok != present {
					t.Fatalf("%s.%s: ok=%v, present=%v", typ, name, ok, present)
				}
				if !ok {
					continue
				}
				// Strings are returned as-is; their JSON encoding is what
				// AppendJSON wrote.
				enc := got
				if raw[0] == '"' {
					enc = string(appendString(nil, got))
				}
				if enc != string(raw) {
					t.Errorf("%s.%s = %q, JSON has %s", typ, name, got, raw)
				}
			}
		}
	}
}

func TestValidFieldPath(t *testing.T) {
	tests := []struct {
		typ     Type
		path    string
		wantErr string
	}{
		{TypeAsset, "id", ""},
		{TypeAsset, "ownerId", ""},
		{TypeAsset, "disabled", ""},
		{TypeAsset, "tags", "is an array"},
		{TypeAsset, "assetId", `asset has no field "assetId"`},
		{TypeAsset, "data.x", `asset has no field "data.x"`},
		{TypeLocation, "assetId", ""},
		{TypeLocation, "latitude", ""},
		{TypeLocation, "name", "want one of id, assetId, ownerId, whenCreated, latitude"},
		{TypeSensorData, "sensorId", ""},
		{TypeSensorData, "when_received", ""},
		{TypeSensorData, "whenReceived", "has no field"},
		{TypeReeferData, "data.temperature", ""},
		{TypeReeferData, "data.a.b", ""},
		{TypeReeferData, "data", "is an object"},
		{TypeReeferData, "data.", "empty key segment"},
		{TypeReeferData, "data.a..b", "empty key segment"},
		{TypeReeferData, "", "has no field"},
		{TypeGensetData, "boxId", ""},
		{TypeGtoemData, "payloadType", ""},
		{TypeGtoemData, "Data.x", "data.<key>"},
		{"bogus", "id", `unknown object type "bogus"`},
	}
	for _, tt := range tests {
		err := ValidFieldPath(tt.typ, tt.path)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("ValidFieldPath(%s, %q) = %v", tt.typ, tt.path, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("ValidFieldPath(%s, %q) = %v, want error containing %q", tt.typ, tt.path, err, tt.wantErr)
		}
	}
	// Every valid top-level path is resolvable by FieldValue on a full object.
	r := newRand(12)
	for _, typ := range AllTypes() {
		o := genObject(r, typ, 2)
		for _, name := range FieldNames(typ) {
			_, ok := FieldValue(o, name)
			if valid := ValidFieldPath(typ, name) == nil; valid != ok {
				t.Errorf("%s.%s: ValidFieldPath ok=%v but FieldValue ok=%v", typ, name, valid, ok)
			}
		}
	}
}

func TestParseTypeAndTitle(t *testing.T) {
	titles := map[Type]string{TypeAsset: "Asset", TypeLocation: "Location", TypeSensorData: "SensorData",
		TypeReeferData: "ReeferData", TypeGensetData: "GensetData", TypeGtoemData: "GtoemData"}
	for _, typ := range AllTypes() {
		if typ.Title() != titles[typ] {
			t.Errorf("%s.Title() = %q", typ, typ.Title())
		}
		for _, s := range []string{string(typ), typ.Title(), strings.ToUpper(string(typ))} {
			got, err := ParseType(s)
			if err != nil || got != typ {
				t.Errorf("ParseType(%q) = %q, %v", s, got, err)
			}
		}
		if !typ.Valid() {
			t.Errorf("%s not Valid", typ)
		}
		o, err := New(typ)
		if err != nil || o.ObjectType() != typ {
			t.Errorf("New(%s) = %v, %v", typ, o, err)
		}
		_, hasData := fieldKindOf(typ, "data")
		if typ.HasData() != hasData {
			t.Errorf("%s.HasData() = %v", typ, typ.HasData())
		}
	}
	for _, bad := range []string{"", "sensor", "sensor_data", " asset"} {
		_, err := ParseType(bad)
		if err == nil || !strings.Contains(err.Error(), "asset, location, sensordata, reeferdata, gensetdata, gtoemdata") {
			t.Errorf("ParseType(%q) error = %v", bad, err)
		}
	}
	if Type("x").Title() != "x" || Type("x").Valid() {
		t.Error("unknown type Title/Valid")
	}
	if _, err := New("x"); err == nil {
		t.Error("New(x) did not fail")
	}
	if FieldNames("x") != nil || RequiredFieldNames("x") != nil {
		t.Error("field names of unknown type")
	}
}
