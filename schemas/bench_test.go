package schemas

import (
	"encoding/json"
	"testing"
	"time"
)

// benchObjects are realistic objects of every type, all optional fields set.
func benchObjects() []Object {
	when := time.Date(2024, 3, 20, 14, 30, 0, 123000000, time.UTC)
	const asset, owner = "550e8400-e29b-41d4-a716-446655440000", "660e8400-e29b-41d4-a716-446655440001"
	data := map[string]any{"temperature": 4.5, "humidity": 60, "setpoint": 4.0, "mode": "CHILL", "alarms": []any{"A1", "B7"}, "door": false}
	return []Object{
		&Asset{ID: asset, Name: "TRU-123456", OwnerID: owner, WhenCreated: when, WhenUpdated: when, BoxID: ptr("box-9"), Disabled: ptr(false), Note: ptr("rear unit"), Tags: []string{"reefer", "north"}},
		&Location{ID: 12345, AssetID: asset, OwnerID: owner, WhenCreated: when, Latitude: 55.676098, Longitude: 12.568337, Altitude: ptr(10.5), Speed: ptr(0.0), Heading: ptr(90.0), ZoneID: ptr("dk-cph")},
		&SensorData{ID: 12345, AssetID: asset, OwnerID: owner, SensorID: "engine.hours", SensorType: "operatingHours", WhenCreated: when, Value: "1234.5", Type: ValueDecimal, WhenReceived: ptr(int64(1710945000123))},
		&ReeferData{ID: 12345, AssetID: asset, OwnerID: owner, WhenCreated: when, ReeferClass: "CARRIER", Data: data},
		&GensetData{ID: 12345, AssetID: asset, OwnerID: owner, WhenCreated: when, GensetType: "SG-3000", Data: data, BoxID: ptr("box-9")},
		&GtoemData{ID: 12345, AssetID: asset, OwnerID: owner, WhenCreated: when, PayloadType: 7, Data: data, BoxID: ptr("box-9"), WhenReceived: ptr(int64(1710945000123))},
	}
}

// BenchmarkAppendJSON encodes each type into a reused buffer, with the
// eventId member injected.
func BenchmarkAppendJSON(b *testing.B) {
	for _, o := range benchObjects() {
		b.Run(o.ObjectType().Title(), func(b *testing.B) {
			buf := o.AppendJSON(nil, "eventId", "6ba7b810-9dad-11d1-80b4-00c04fd430c8")
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				buf = o.AppendJSON(buf[:0], "eventId", "6ba7b810-9dad-11d1-80b4-00c04fd430c8")
			}
		})
	}
}

// BenchmarkJSONMarshal is the encoding/json baseline for BenchmarkAppendJSON.
func BenchmarkJSONMarshal(b *testing.B) {
	for _, o := range benchObjects() {
		b.Run(o.ObjectType().Title(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := json.Marshal(o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkFieldValue(b *testing.B) {
	objs := benchObjects()
	for _, c := range []struct {
		o    Object
		path string
	}{{objs[1], "assetId"}, {objs[1], "id"}, {objs[3], "data.mode"}} {
		b.Run(c.o.ObjectType().Title()+"/"+c.path, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := FieldValue(c.o, c.path); !ok {
					b.Fatal("not found")
				}
			}
		})
	}
}

func BenchmarkValidate(b *testing.B) {
	for _, o := range benchObjects() {
		b.Run(o.ObjectType().Title(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := o.Validate(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
