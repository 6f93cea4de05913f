package fleet

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
)

func mustSchema(t testing.TB) avro.Schema {
	t.Helper()
	s, err := parseReaderSchema()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// decode decodes an Avro body generically and unwraps the union wrappers
// hamba puts around named types.
func decode(t testing.TB, s avro.Schema, body []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := avro.Unmarshal(s, body, &v); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return v
}

// unwrap returns the value of a single-branch union wrapper.
func unwrap(v any) map[string]any {
	m, _ := v.(map[string]any)
	for _, inner := range m {
		r, _ := inner.(map[string]any)
		return r
	}
	return nil
}

func TestDeterministic(t *testing.T) {
	gen := func(seed uint64) []byte {
		f := New(Config{Machines: 3, Vehicles: 2, Seed: seed})
		var out []byte
		for range 50 {
			b, err := f.NextTrackunitAvro(9)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b...)
			out = append(out, f.NextMobitoJSON()...)
		}
		return out
	}
	a, b, c := gen(1), gen(1), gen(2)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed, different output")
	}
	if bytes.Equal(a, c) {
		t.Fatal("different seeds, same output")
	}
}

func TestTrackunitMessages(t *testing.T) {
	s := mustSchema(t)
	start := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	f := New(Config{Machines: 5, Seed: 7, Start: start})
	ids := f.Machines()
	if len(ids) != 5 {
		t.Fatalf("Machines() = %v", ids)
	}
	lastHours := map[string]float64{}
	seen := map[string]bool{}
	for i := range 500 {
		b, err := f.NextTrackunitAvro(258)
		if err != nil {
			t.Fatal(err)
		}
		if b[0] != 0 || binary.BigEndian.Uint32(b[1:5]) != 258 {
			t.Fatalf("bad header % x", b[:5])
		}
		if want := start.Add(time.Duration(i+1) * Step); !f.Now().Equal(want) {
			t.Fatalf("Now() = %v, want %v", f.Now(), want)
		}
		v := decode(t, s, b[5:])
		meta := unwrap(v["Metadata"])
		id, _ := meta["MachineId"].(string)
		if id != ids[i%5] {
			t.Fatalf("message %d from %q, want round robin %q", i, id, ids[i%5])
		}
		seen[id] = true
		if h := unwrap(v["CumulativeOperatingHours"]); h != nil {
			hours := h["Hour"].(float64)
			if hours < lastHours[id] {
				t.Errorf("operating hours of %s fell from %v to %v", id, lastHours[id], hours)
			}
			lastHours[id] = hours
		}
		if fr := unwrap(v["FuelRemaining"]); fr != nil {
			if p := fr["Percent"].(float64); p < 0 || p > 100 {
				t.Errorf("fuel %v%%", p)
			}
		}
		if loc := unwrap(v["Location"]); loc != nil {
			lat, lon := loc["Latitude"].(float64), loc["Longitude"].(float64)
			if (lat != 0 || lon != 0) && !nearCity(lat, lon) {
				t.Errorf("location %v,%v is far from every city", lat, lon)
			}
			dt := time.UnixMilli(loc["datetime"].(int64))
			if dt.After(f.Now()) || f.Now().Sub(dt) > time.Hour {
				t.Errorf("location datetime %v vs now %v", dt, f.Now())
			}
		}
	}
	if len(seen) != 5 {
		t.Errorf("saw %d machines", len(seen))
	}
}

func nearCity(lat, lon float64) bool {
	for _, c := range cities {
		if math.Abs(lat-c.lat) < 0.3 && math.Abs(lon-c.lon) < 0.4 {
			return true
		}
	}
	return false
}

func TestNextTrackunitMarshalRoundTrip(t *testing.T) {
	s := mustSchema(t)
	f := New(Config{Machines: 2, Seed: 11})
	kinds := map[string]int{}
	for range 300 {
		native := f.NextTrackunit()
		b, err := avro.Marshal(s, native)
		if err != nil {
			t.Fatal(err)
		}
		v := decode(t, s, b)
		// Records and arrays come back as they went in.
		for _, k := range []string{"EquipmentHeader", "Metadata", "CANMessages", "FaultCodes", "AdvancedSensors", "FuelRemaining"} {
			in, out := native[k], v[k]
			if in == nil {
				if out != nil {
					t.Errorf("%s: absent field decoded as %v", k, out)
				}
				continue
			}
			kinds[k]++
			if k == "CANMessages" || k == "AdvancedSensors" || k == "FaultCodes" {
				if len(out.(map[string]any)["array"].([]any)) != len(in.([]any)) {
					t.Errorf("%s: length changed", k)
				}
				continue
			}
			if !reflect.DeepEqual(in, out) {
				t.Errorf("%s: %v != %v", k, in, out)
			}
		}
	}
	for _, k := range []string{"CANMessages", "FaultCodes", "AdvancedSensors"} {
		if kinds[k] == 0 {
			t.Errorf("no %s in 300 messages", k)
		}
	}
}

func TestMobitoMessages(t *testing.T) {
	sampleJSON, err := os.ReadFile("../../testdata/mobito/sample.json")
	if err != nil {
		t.Fatal(err)
	}
	var sample map[string]any
	if err := json.Unmarshal(sampleJSON, &sample); err != nil {
		t.Fatal(err)
	}
	f := New(Config{Vehicles: 3, Seed: 5})
	vins := f.Vehicles()
	for i := range 100 {
		b := f.NextMobitoJSON()
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("message %d: %v: %s", i, err, b)
		}
		if len(m) != len(sample) {
			t.Errorf("%d members, sample has %d", len(m), len(sample))
		}
		for k, sv := range sample {
			if reflect.TypeOf(m[k]) != reflect.TypeOf(sv) {
				t.Errorf("%s: %T, sample has %T", k, m[k], sv)
			}
		}
		if m["vin"] != vins[i%3] || len(vins[i%3]) != 17 {
			t.Errorf("vin %v, want %s", m["vin"], vins[i%3])
		}
		for _, k := range []string{"latitude", "longitude", "battery_voltage", "heading", "mileage"} {
			var x float64
			if err := json.Unmarshal([]byte(m[k].(string)), &x); err != nil {
				t.Errorf("%s = %q is not numeric text", k, m[k])
			}
			if k == "heading" && (x < 0 || x >= 360) {
				t.Errorf("heading %v", x)
			}
		}
	}
}

func TestEmptyFleet(t *testing.T) {
	f := New(Config{Machines: -1})
	if f.NextTrackunit() != nil || f.NextMobitoJSON() != nil {
		t.Error("empty fleet produced a message")
	}
	if _, err := f.NextTrackunitAvro(1); err == nil {
		t.Error("NextTrackunitAvro without machines: want error")
	}
	g := New(Config{Machines: 1})
	for _, id := range []int{-1, math.MaxUint32 + 1} {
		if _, err := g.NextTrackunitAvro(id); err == nil {
			t.Errorf("schema id %d: want error", id)
		}
	}
}

func TestPoison(t *testing.T) {
	s := mustSchema(t)
	const known = 17
	for _, kind := range TrackunitPoisonKinds() {
		b := PoisonTrackunit(kind, known)
		if len(b) < 5 {
			t.Fatalf("%s: %x", kind, b)
		}
		id := binary.BigEndian.Uint32(b[1:5])
		var v map[string]any
		err := avro.Unmarshal(s, b[5:], &v)
		switch kind {
		case PoisonBadMagic:
			if b[0] == 0 {
				t.Errorf("%s: magic byte 0", kind)
			}
		case PoisonUnknownSchemaID:
			if b[0] != 0 || id == known || err != nil {
				t.Errorf("%s: magic %d id %d err %v", kind, b[0], id, err)
			}
		case PoisonCorruptAvro:
			if b[0] != 0 || id != known || err == nil {
				t.Errorf("%s: magic %d id %d err %v", kind, b[0], id, err)
			}
		case PoisonMapping:
			if b[0] != 0 || id != known || err != nil || v["Metadata"] != nil {
				t.Errorf("%s: magic %d id %d err %v value %v", kind, b[0], id, err, v)
			}
		}
	}
	if b := PoisonTrackunit(PoisonUnknownSchemaID, math.MaxInt32); binary.BigEndian.Uint32(b[1:5]) == math.MaxInt32 {
		t.Error("unknown id equals the known one")
	}
	if PoisonTrackunit("nope", 1) != nil || PoisonTrackunit(PoisonMapping, -1) != nil || PoisonMobito("nope") != nil {
		t.Error("unknown kind or bad id: want nil")
	}
	if b := PoisonMobito(PoisonInvalidJSON); json.Valid(b) {
		t.Errorf("invalid-json is valid: %s", b)
	}
	var m map[string]any
	if err := json.Unmarshal(PoisonMobito(PoisonMapping), &m); err != nil || m["vin"] != nil || m["fleet_id"] == nil {
		t.Errorf("mapping poison = %v, %v", m, err)
	}
	if !slices.Equal(MobitoPoisonKinds(), []string{"invalid-json", "mapping"}) {
		t.Errorf("MobitoPoisonKinds = %v", MobitoPoisonKinds())
	}
}

func BenchmarkNextTrackunitAvro(b *testing.B) {
	f := New(Config{Machines: 100, Seed: 1})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.NextTrackunitAvro(1); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNextMobitoJSON(b *testing.B) {
	f := New(Config{Vehicles: 100, Seed: 1})
	b.ReportAllocs()
	for b.Loop() {
		f.NextMobitoJSON()
	}
}
