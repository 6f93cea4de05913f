package mqttsink

import (
	"fmt"
	"testing"

	"github.com/telebridge/telebridge/internal/sinktest"
	"github.com/telebridge/telebridge/internal/testkit"
	"github.com/telebridge/telebridge/schemas"
	"github.com/telebridge/telebridge/sinks"
)

// TestOrderedDelivery publishes a few thousand messages with a high
// in-flight limit (many unacknowledged at once, up to the broker's receive
// maximum) across several topics, and checks that a subscriber receives
// them in exactly the order they were handed to Send, each once, at QoS 1,
// QoS 2 and with QoS 0/1/2 mixed by object type.
func TestOrderedDelivery(t *testing.T) {
	b := startBroker(t, testkit.MQTTOptions{})
	for _, tc := range []struct {
		name  string
		qos   byte
		byTyp map[schemas.Type]byte
	}{
		{name: "qos1", qos: 1},
		{name: "qos2", qos: 2},
		{name: "mixed", qos: 1, byTyp: map[schemas.Type]byte{schemas.TypeAsset: 0, schemas.TypeSensorData: 2, schemas.TypeGensetData: 0, schemas.TypeGtoemData: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			prefix := "order-" + tc.name + "/"
			col := collect(t, b, prefix+"#")
			cfg := baseConfig(b, prefix+"{assetId}/{type}")
			cfg.Name = "order-" + tc.name
			cfg.QoS = qosPtr(tc.qos)
			cfg.TypeQoS = tc.byTyp
			cfg.MaxInFlight = 5000
			obs := sinktest.NewAttempts()
			cfg.Observer = obs
			s := newSink(t, cfg)
			res := sinktest.NewResults()
			const n = 3000
			want := make([]string, 0, n)
			for i := range n {
				objs := sinktest.SampleObjects(fmt.Sprintf("asset-%d", i%7), int64(i+1))
				o := objs[i%len(objs)]
				if tc.byTyp == nil {
					o = objs[1+i%(len(objs)-1)] // no assets: every message at tc.qos
				}
				m := sinktest.Message(o, i)
				want = append(want, m.EventID)
				if err := s.Send(ctx, m, res.Done(m.EventID)); err != nil {
					t.Fatalf("Send %d: %v", i, err)
				}
			}
			res.Wait(t, ctx, n)
			res.Check(t, n)
			for i, id := range want {
				if r, _ := res.Get(id); r.Outcome != sinks.Delivered || r.Attempts != 1 {
					t.Fatalf("message %d: %s, want delivered at the first attempt", i, show(r))
				}
			}
			got, err := col.Wait(ctx, n)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != n {
				t.Fatalf("subscriber received %d messages, want %d", len(got), n)
			}
			for i, m := range got {
				if m.User[PropEventID] != want[i] {
					t.Fatalf("message %d received out of order: eventId %s, want %s (Send order)", i, m.User[PropEventID], want[i])
				}
			}
			if as := obs.ByEvent(); len(as) != n {
				t.Fatalf("attempts for %d eventIds, want %d", len(as), n)
			}
		})
	}
}
