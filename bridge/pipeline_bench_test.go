package bridge

import (
	"testing"
	"time"

	"github.com/telebridge/telebridge/bridge/profile"
	"github.com/telebridge/telebridge/codec"
	"github.com/telebridge/telebridge/internal/fleet"
	"github.com/telebridge/telebridge/schemas"
)

// benchMessages returns n encoded fleet messages of the profile.
func benchMessages(b *testing.B, name string, n int) [][]byte {
	b.Helper()
	fl := fleet.New(fleet.Config{Machines: 20, Vehicles: 20, Seed: 3, Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)})
	out := make([][]byte, n)
	for i := range out {
		if name == profile.NameTrackunit {
			v, err := fl.NextTrackunitAvro(1)
			if err != nil {
				b.Fatal(err)
			}
			out[i] = v
		} else {
			out[i] = fl.NextMobitoJSON()
		}
	}
	return out
}

// BenchmarkDecodeNormalizeEncode measures the per-message CPU work of the
// pipeline without Kafka: decode (Avro with the writer schema resolved into
// the pinned reader schema, or JSON), normalise, assign identities,
// validate, and encode every object as it is sent.
func BenchmarkDecodeNormalizeEncode(b *testing.B) {
	for _, name := range profile.Names() {
		b.Run(name, func(b *testing.B) {
			msgs := benchMessages(b, name, 512)
			prof, err := profile.New(name, profile.Options{OwnerID: "owner"})
			if err != nil {
				b.Fatal(err)
			}
			var plan *codec.Plan
			if name == profile.NameTrackunit {
				s, err := codec.ParseSchema(profile.TrackunitReaderSchema())
				if err != nil {
					b.Fatal(err)
				}
				if plan, err = codec.NewPlan(s, s, profile.TrackunitDecodeOptions()...); err != nil {
					b.Fatal(err)
				}
			}
			var objs []schemas.Object
			buf := make([]byte, 0, 4096)
			objects := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				m := msgs[i%len(msgs)]
				var v any
				if plan != nil {
					_, payload, err := codec.ParseWire(m)
					if err != nil {
						b.Fatal(err)
					}
					if v, err = plan.Decode(payload); err != nil {
						b.Fatal(err)
					}
				} else if v, err = codec.DecodeJSON(m); err != nil {
					b.Fatal(err)
				}
				in := profile.Input{Topic: "in", Partition: 1, Offset: int64(i), Timestamp: time.Unix(1_790_000_000, 0), Value: v}
				objs, err = prof.Normalize(&in, objs[:0])
				if err != nil {
					b.Fatal(err)
				}
				for j, o := range objs {
					id := newIdentity("in", 1, int64(i), j)
					if rid, has := o.RecordID(); has && rid == 0 {
						o.SetRecordID(id.RecordID)
					}
					if err := o.Validate(); err != nil {
						b.Fatal(err)
					}
					buf = o.AppendJSON(buf[:0], "eventId", id.EventID)
				}
				objects += len(objs)
			}
			b.ReportMetric(float64(objects)/float64(b.N), "objects/msg")
		})
	}
}
