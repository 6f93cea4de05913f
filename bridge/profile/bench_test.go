package profile_test

import (
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/telebridge/telebridge/bridge/profile"
	"github.com/telebridge/telebridge/internal/fleet"
	"github.com/telebridge/telebridge/schemas"
)

// benchN is the number of distinct pre-decoded messages a benchmark cycles
// through: few enough to stay in cache, as a message the codec has just
// decoded is, and enough to vary content.
const benchN = 16

// benchInputs returns n pre-decoded inputs of each feed from a 50+50 unit
// fleet.
func benchInputs(b *testing.B, n int) (tu, mo []*profile.Input) {
	s := readerSchema(b)
	f := fleet.New(fleet.Config{Machines: 50, Vehicles: 50, Seed: 1})
	for i := range n {
		in := trackunitInput(roundTrip(b, s, s, f.NextTrackunit()))
		in.Offset = int64(i)
		in.Timestamp = f.Now()
		tu = append(tu, in)
		m := mobitoInput(decodeJSON(b, f.NextMobitoJSON()))
		m.Offset = int64(i)
		m.Timestamp = f.Now()
		mo = append(mo, m)
	}
	return tu, mo
}

func benchNormalize(b *testing.B, p profile.Profile, inputs []*profile.Input) {
	var dst []schemas.Object
	objects := 0
	// Warm the asset cache so the steady state is measured.
	for _, in := range inputs {
		dst, _ = p.Normalize(in, dst[:0])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		var err error
		dst, err = p.Normalize(inputs[i%len(inputs)], dst[:0])
		if err != nil {
			b.Fatal(err)
		}
		objects += len(dst)
	}
	b.ReportMetric(float64(objects)/float64(b.N), "objects/op")
}

func BenchmarkNormalizeTrackunit(b *testing.B) {
	tu, _ := benchInputs(b, benchN)
	benchNormalize(b, newProfile(b, profile.NameTrackunit, profile.Options{}), tu)
}

func BenchmarkNormalizeMobito(b *testing.B) {
	_, mo := benchInputs(b, benchN)
	benchNormalize(b, newProfile(b, profile.NameMobito, profile.Options{}), mo)
}

// BenchmarkDecodeNormalizeEncodeTrackunit approximates the per-message
// pipeline work: hamba generic decode of the Avro body, normalisation and
// JSON encoding of every object. (The codec's decoder is not hamba's
// generic one; this is an upper bound of the same order.)
func BenchmarkDecodeNormalizeEncodeTrackunit(b *testing.B) {
	s := readerSchema(b)
	f := fleet.New(fleet.Config{Machines: 50, Seed: 1})
	var bodies [][]byte
	for range 256 {
		body, err := f.NextTrackunitAvro(1)
		if err != nil {
			b.Fatal(err)
		}
		bodies = append(bodies, body[5:])
	}
	p := newProfile(b, profile.NameTrackunit, profile.Options{})
	var dst []schemas.Object
	var buf []byte
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		var generic any
		if err := avro.Unmarshal(s, bodies[i%len(bodies)], &generic); err != nil {
			b.Fatal(err)
		}
		in := trackunitInput(codecValue(s, generic).(map[string]any))
		var err error
		if dst, err = p.Normalize(in, dst[:0]); err != nil {
			b.Fatal(err)
		}
		for j, o := range dst {
			o.SetRecordID(int64(j + 1))
			buf = o.AppendJSON(buf[:0], "eventId", "00000000-0000-0000-0000-000000000000")
		}
	}
}
