package schemas

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"time"
)

// Deterministic generators of objects for the tests.

var testStrings = []string{
	"", "a", "asset-1", "550e8400-e29b-41d4-a716-446655440000", "Ünïcødé ✓ 日本語 🚚",
	"quote\" back\\slash", "tab\tnl\ncr\r\b\f", "\x00\x01\x1f\x7f", "<script>&amp;</script>",
	"line\u2028para\u2029", "bad\xffutf8\xc3", "\xed\xa0\x80 surrogate", "emoji 😀 mixed \x80",
}

type fallbackStruct struct {
	A int    `json:"a"`
	B string `json:"b,omitempty"`
}

func randString(r *rand.Rand) string {
	if r.IntN(3) == 0 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return string(b)
	}
	return testStrings[r.IntN(len(testStrings))]
}

func nonEmpty(r *rand.Rand) string {
	for {
		if s := randString(r); s != "" {
			return s
		}
	}
}

func randTime(r *rand.Rand) time.Time {
	sec := r.Int64N(4102444800-946684800) + 946684800 // 2000..2100
	var nsec int64
	switch r.IntN(4) {
	case 1:
		nsec = r.Int64N(1e9)
	case 2:
		nsec = r.Int64N(1000) * 1e6
	}
	return time.Unix(sec, nsec).UTC()
}

// randFloat returns finite floats across the magnitudes where encoding/json
// switches between 'f' and 'e' formats.
func randFloat(r *rand.Rand) float64 {
	switch r.IntN(8) {
	case 0:
		return 0
	case 1:
		return math.Copysign(0, -1)
	case 2:
		return float64(r.IntN(2000) - 1000)
	case 3:
		return (r.Float64() - 0.5) * math.Pow(10, float64(r.IntN(60)-30))
	case 4:
		return []float64{1e-6, 9.99999e-7, 1e21, 999999999999999999999, 1e20, 1e-7, math.MaxFloat64, math.SmallestNonzeroFloat64}[r.IntN(8)]
	default:
		return (r.Float64() - 0.5) * 1000
	}
}

func randInRange(r *rand.Rand, lo, hi float64) float64 {
	switch r.IntN(5) {
	case 0:
		return lo
	case 1:
		return hi
	}
	return lo + r.Float64()*(hi-lo)
}

func randValue(r *rand.Rand, depth int) any {
	n := 19
	if depth > 3 {
		n = 16 // no more containers
	}
	switch r.IntN(n) {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return randString(r)
	case 3:
		return randFloat(r)
	case 4:
		if f := float32(randFloat(r)); !math.IsInf(float64(f), 0) {
			return f
		}
		return float32(1e-7)
	case 5:
		return r.IntN(1<<20) - 1<<19
	case 6:
		return int8(r.IntN(256) - 128)
	case 7:
		return int16(r.IntN(1<<16) - 1<<15)
	case 8:
		return int32(r.Int32())
	case 9:
		return []int64{math.MinInt64, math.MaxInt64, r.Int64()}[r.IntN(3)]
	case 10:
		return []any{uint(r.Uint64()), uint8(r.Uint32()), uint16(r.Uint32()), r.Uint32(), r.Uint64(), uintptr(r.Uint32())}[r.IntN(6)]
	case 11:
		return json.Number([]string{"0", "-1.5e+10", "12345678901234567890", "3.14", "1E-7"}[r.IntN(5)])
	case 12:
		if r.IntN(4) == 0 {
			return []byte(nil)
		}
		return []byte(randString(r))
	case 13:
		return randTime(r)
	case 14:
		return fallbackStruct{A: r.IntN(100), B: randString(r)}
	case 15:
		return map[string]int{"z": 1, "a": r.IntN(9)}
	case 16:
		return randMap(r, depth+1)
	case 17:
		if r.IntN(5) == 0 {
			return []any(nil)
		}
		s := make([]any, r.IntN(4))
		for i := range s {
			s[i] = randValue(r, depth+1)
		}
		return s
	default:
		if r.IntN(5) == 0 {
			return []string(nil)
		}
		s := make([]string, r.IntN(4))
		for i := range s {
			s[i] = randString(r)
		}
		return s
	}
}

func randMap(r *rand.Rand, depth int) map[string]any {
	m := make(map[string]any)
	for range r.IntN(8) {
		m[randString(r)] = randValue(r, depth)
	}
	return m
}

func ptr[T any](v T) *T { return &v }

// genObject returns a valid object of type t; full sets every optional
// field, otherwise each is set at random (never, when minimal).
func genObject(r *rand.Rand, t Type, mode int) Object {
	const (
		minimal = 0
		random  = 1
		full    = 2
	)
	opt := func() bool { return mode == full || mode == random && r.IntN(2) == 0 }
	id := r.Int64N(math.MaxInt64) + 1
	switch t {
	case TypeAsset:
		a := &Asset{ID: nonEmpty(r), Name: nonEmpty(r), OwnerID: nonEmpty(r), WhenCreated: randTime(r), WhenUpdated: randTime(r)}
		if opt() {
			a.BoxID = ptr(randString(r))
		}
		if opt() {
			a.Disabled = ptr(r.IntN(2) == 0)
		}
		if opt() {
			a.Note = ptr(randString(r))
		}
		if opt() {
			a.Tags = []string{randString(r), randString(r)}
		} else if r.IntN(2) == 0 {
			a.Tags = []string{}
		}
		return a
	case TypeLocation:
		l := &Location{ID: id, AssetID: nonEmpty(r), OwnerID: nonEmpty(r), WhenCreated: randTime(r),
			Latitude: randInRange(r, -90, 90), Longitude: randInRange(r, -180, 180)}
		if opt() {
			l.Altitude = ptr(randFloat(r))
		}
		if opt() {
			l.Speed = ptr(randFloat(r))
		}
		if opt() {
			l.Heading = ptr(randInRange(r, 0, 360))
		}
		if opt() {
			l.ZoneID = ptr(randString(r))
		}
		return l
	case TypeSensorData:
		s := &SensorData{ID: id, AssetID: nonEmpty(r), OwnerID: nonEmpty(r), SensorID: nonEmpty(r), SensorType: nonEmpty(r),
			WhenCreated: randTime(r), Value: randString(r),
			Type: []string{ValueDecimal, ValueInteger, ValueBoolean, ValueString}[r.IntN(4)]}
		if opt() {
			s.WhenReceived = ptr(r.Int64() - r.Int64())
		}
		return s
	case TypeReeferData:
		return &ReeferData{ID: id, AssetID: nonEmpty(r), OwnerID: nonEmpty(r), WhenCreated: randTime(r),
			ReeferClass: nonEmpty(r), Data: randMap(r, 0)}
	case TypeGensetData:
		g := &GensetData{ID: id, AssetID: nonEmpty(r), OwnerID: nonEmpty(r), WhenCreated: randTime(r),
			GensetType: nonEmpty(r), Data: randMap(r, 0)}
		if opt() {
			g.BoxID = ptr(randString(r))
		}
		return g
	case TypeGtoemData:
		g := &GtoemData{ID: id, AssetID: nonEmpty(r), OwnerID: nonEmpty(r), WhenCreated: randTime(r),
			PayloadType: r.Int32() - r.Int32(), Data: randMap(r, 0)}
		if opt() {
			g.BoxID = ptr(randString(r))
		}
		if opt() {
			g.WhenReceived = ptr(r.Int64())
		}
		return g
	}
	return nil
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed)) }
