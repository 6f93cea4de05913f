package mqttsink

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/telebridge/telebridge/internal/sinktest"
	"github.com/telebridge/telebridge/internal/testkit"
	"github.com/telebridge/telebridge/sinks"
)

// BenchmarkPublish measures Send-to-acknowledgement throughput against the
// embedded broker at each QoS, 1000 messages in flight. One op is one
// message delivered (written for QoS 0, PUBACK for 1, PUBCOMP for 2).
func BenchmarkPublish(b *testing.B) {
	broker := startBroker(b, testkit.MQTTOptions{})
	for _, qos := range []byte{0, 1, 2} {
		b.Run(fmt.Sprintf("qos%d", qos), func(b *testing.B) {
			cfg := baseConfig(broker, "bench/{type}")
			cfg.Name = fmt.Sprintf("bench-%d-%d", qos, b.N)
			cfg.QoS = qosPtr(qos)
			cfg.EventIDField = "eventId"
			cfg.MaxInFlight = 1000
			s := newSink(b, cfg)
			ctx := context.Background()
			if err := s.AwaitConnection(ctx); err != nil {
				b.Fatal(err)
			}
			msgs := make([]*sinks.Message, 1024)
			for i := range msgs {
				msgs[i] = sinktest.Message(sinktest.Location("4562ee9b-6a56-4cb6-93e6-527c9737a642", int64(i+1)), i)
			}
			var wg sync.WaitGroup
			var failed sync.Once
			var failure error
			done := func(r sinks.Result) {
				if r.Outcome != sinks.Delivered {
					failed.Do(func() { failure = r.Err })
				}
				wg.Done()
			}
			b.ReportAllocs()
			b.ResetTimer()
			wg.Add(b.N)
			for i := 0; i < b.N; i++ {
				if err := s.Send(ctx, msgs[i%len(msgs)], done); err != nil {
					b.Fatal(err)
				}
			}
			wg.Wait()
			b.StopTimer()
			if failure != nil {
				b.Fatal(failure)
			}
		})
	}
}
