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
	payload := []byte(`{"assetId":"5dec1dde-0c84-4b16-b150-b9891a9e2297","recordId":123456789,"time":"2026-11-22T06:00:00Z","latitude":55.1234,"longitude":12.5678,"eventId":"f64dc232-a314-5377-ada8-19e8cda28a44"}`)
	out := make([]Record, n)
	for i := range out {
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
