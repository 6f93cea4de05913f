package history

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/telebridge/telebridge/sinks"
)

func benchRecords(n int) []Record {
	out := make([]Record, n)
	for i := range out {
		// Distinct payloads, like real positions and ids.
		payload := fmt.Appendf(nil, `{"id":%d,"assetId":"5dec1dde-0c84-4b16-b150-%012d","ownerId":"fleet-01","whenCreated":"2026-11-22T06:%02d:%02d.%03dZ","latitude":%.14f,"longitude":%.14f,"altitude":%d,"heading":%d}`,
			uint64(i)*2654435761%(1<<62), i%97, i%60, (i/60)%60, i%1000, 52+float64(i%1000)/997, 21+float64(i%7919)/7919, i%300, i%360)
		out[i] = FromAttempt(&sinks.Attempt{Time: time.Now(), Sink: "globe-tracker", Kind: "kafka", Topic: "globe-tracker.events.location",
			Partition: 2, Offset: int64(i), Status: sinks.StatusDelivered, Number: 1, Latency: time.Millisecond,
			EventID: fmt.Sprintf("f64dc232-a314-5377-ada8-%012d", i), Type: "location", AssetID: "5dec1dde-0c84-4b16-b150-b9891a9e2297",
			Source: sinks.SourceRef{Topic: "tu.insights", Partition: 1, Offset: int64(i)}, Payload: payload}, 4096)
	}
	return out
}

// BenchmarkInsert measures the writer's cost per record (batches of 2000).
func BenchmarkInsert(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "h.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	recs := benchRecords(2000)
	b.ResetTimer()
	for i := 0; i < b.N; i += len(recs) {
		if err := s.Insert(context.Background(), recs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkObserveAttempt measures the cost on the sink's goroutine: build
// the record and queue it (a goroutine drains the queue).
func BenchmarkObserveAttempt(b *testing.B) {
	r := NewRecorder(nil, RecorderOptions{MaxPayload: 4096})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range r.queue {
		}
	}()
	a := &sinks.Attempt{Time: time.Now(), Sink: "globe-tracker", Kind: "kafka", Topic: "globe-tracker.events.location",
		Status: sinks.StatusDelivered, Number: 1, EventID: "f64dc232-a314-5377-ada8-19e8cda28a44", Type: "location",
		AssetID: "5dec1dde-0c84-4b16-b150-b9891a9e2297", Payload: make([]byte, 250)}
	b.ResetTimer()
	for range b.N {
		r.ObserveAttempt(a)
	}
	b.StopTimer()
	close(r.queue)
	<-done
}
