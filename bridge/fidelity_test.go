package bridge_test

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/telebridge/telebridge/internal/fidelity"
	"github.com/telebridge/telebridge/schemas"
)

// TestFidelityEveryInputFieldArrives bridges, in the default decode:
// pinned mode, a Trackunit message with every documented section (written
// with a newer writer schema, registered in srfake, that adds an insight
// field and an address member the reader schema lacks), an altitude-only
// Trackunit message and the MOBITO documentation sample with fault codes.
// It reads the output topics back and checks, field by field, that every
// input field arrives (internal/fidelity).
func TestFidelityEveryInputFieldArrives(t *testing.T) {
	e := newEnv(t)
	in := fidelity.NewInputs(t)
	writerID, _, err := e.reg.RegisterSchema(tuTopic+"-value", sr.Schema{Schema: in.WriterSchema, Type: sr.TypeAvro})
	if err != nil {
		t.Fatal(err)
	}
	e.produce(t,
		// One key: one partition, offsets 0 and 1.
		&kgo.Record{Topic: tuTopic, Key: []byte("m"), Value: in.EncodeTrackunit(t, writerID, in.Full)},
		&kgo.Record{Topic: tuTopic, Key: []byte("m"), Value: in.EncodeTrackunit(t, writerID, in.AltitudeOnly)},
		&kgo.Record{Topic: moTopic, Value: in.MobitoRaw},
	)

	r := start(t, e.config(t, cfgOpts{}), nil)
	waitFor(t, 60*time.Second, "all records bridged", func() bool {
		st := r.b.Stats()
		return st.Sources["trackunit"].Consumed >= 2 && st.Sources["mobito"].Consumed >= 1 &&
			st.Delivered+st.DeadLetters >= totalObjects(st)+totalPoison(st)
	})
	r.shutdown(t)
	st := r.b.Stats()
	if totalPoison(st) != 0 || st.DeadLetters != 0 {
		t.Fatalf("poison %d, dead letters %d: want none", totalPoison(st), st.DeadLetters)
	}

	var out []*fidelity.Object
	for _, ty := range schemas.AllTypes() {
		n := int(st.Sinks["out"].Delivered[ty])
		if n == 0 {
			continue
		}
		for _, rec := range readAll(t, e, "out."+string(ty), n) {
			h := map[string]string{}
			for _, x := range rec.Headers {
				h[x.Key] = string(x.Value)
			}
			out = append(out, fidelity.ParseObject(t, ty, rec.Value, h))
		}
	}
	fidelity.Check(t, in, out, tuTopic, moTopic)
}
