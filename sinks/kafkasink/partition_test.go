package kafkasink

import (
	"context"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/telebridge/telebridge/internal/sinktest"
	"github.com/telebridge/telebridge/sinks"
)

// javaMurmur2 is org.apache.kafka.common.utils.Utils.murmur2, transcribed
// from Java (int arithmetic wraps like uint32; >>> is an unsigned shift).
func javaMurmur2(data []byte) int32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	length := len(data)
	h := seed ^ uint32(length)
	length4 := length / 4
	for i := 0; i < length4; i++ {
		i4 := i * 4
		k := uint32(data[i4]) | uint32(data[i4+1])<<8 | uint32(data[i4+2])<<16 | uint32(data[i4+3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	tail := length &^ 3
	switch length % 4 {
	case 3:
		h ^= uint32(data[tail+2]) << 16
		fallthrough
	case 2:
		h ^= uint32(data[tail+1]) << 8
		fallthrough
	case 1:
		h ^= uint32(data[tail])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return int32(h)
}

// javaPartition is the Java client's default (and BuiltInPartitioner)
// choice for a keyed record: toPositive(murmur2(key)) % numPartitions.
func javaPartition(key []byte, numPartitions int32) int32 {
	return (javaMurmur2(key) & 0x7fffffff) % numPartitions
}

func TestJavaMurmur2Vectors(t *testing.T) {
	// Vectors from Kafka's UtilsTest.testMurmur2.
	for _, tc := range []struct {
		in   string
		want int32
	}{
		{"21", -973932308},
		{"foobar", -790332482},
		{"a-little-bit-long-string", -985981536},
		{"a-little-bit-longer-string", -1486304829},
		{"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
		{"abc", 479470107},
	} {
		if got := javaMurmur2([]byte(tc.in)); got != tc.want {
			t.Errorf("murmur2(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// TestKeyedRecordsUseJavaPartitioner checks that keyed records land on the
// partition the Java client's default partitioner picks, and that records
// without a key still spread over partitions.
func TestKeyedRecordsUseJavaPartitioner(t *testing.T) {
	const partitions = 7
	c := newCluster(t, kfake.SeedTopics(partitions, "keyed"))
	cfg := baseConfig(c, "keyed")
	cfg.KeyPath = "assetId"
	s := newSink(t, cfg)
	ctx := testCtx(t)
	res := sinktest.NewResults()
	const n = 300
	for i := range n {
		// Varied key lengths exercise every murmur2 tail case.
		key := "asset-" + itoa(i*7919) + "-" + string(rune('a'+i%26))
		m := sinktest.Message(sinktest.Location(key, int64(i)), i)
		if err := s.Send(ctx, m, res.Done(m.EventID)); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	res.Wait(t, ctx, n)
	res.Check(t, n)
	recs := consume(t, ctx, c, n, []string{"keyed"})
	used := map[int32]bool{}
	for _, r := range recs {
		if want := javaPartition(r.Key, partitions); r.Partition != want {
			t.Errorf("key %q on partition %d, Java partitioner picks %d", r.Key, r.Partition, want)
		}
		used[r.Partition] = true
	}
	if len(used) != partitions {
		t.Errorf("keys used %d of %d partitions", len(used), partitions)
	}
}

func BenchmarkKafkaSinkSend(b *testing.B) {
	c := newCluster(b, kfake.SeedTopics(6, "bench"))
	cfg := baseConfig(c, "bench")
	cfg.KeyPath = "assetId"
	cfg.EventIDField = "eventId"
	cfg.MaxInFlight = 10000
	cfg.Connection["linger.ms"] = "5"
	s := newSink(b, cfg)
	ctx := context.Background()
	msgs := make([]*sinks.Message, 1024)
	for i := range msgs {
		msgs[i] = sinktest.Message(sinktest.Location("asset-"+itoa(i%97), int64(i)), i)
	}
	var wg sync.WaitGroup
	var failed sync.Once
	done := func(r sinks.Result) {
		if r.Outcome != sinks.Delivered {
			failed.Do(func() { b.Errorf("result %v: %v", r.Outcome, r.Err) })
		}
		wg.Done()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		wg.Add(1)
		if err := s.Send(ctx, msgs[i%len(msgs)], done); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
