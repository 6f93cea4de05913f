package kafkasink

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"

	"github.com/telebridge/telebridge/sinks"
)

// testWait bounds every wait in these tests; it is a safety net against
// hangs, never an assertion about speed.
const testWait = 45 * time.Second

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	t.Cleanup(cancel)
	return ctx
}

func newCluster(t testing.TB, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatalf("kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// fastConn returns librdkafka properties that make a local kfake cluster
// quick to talk to.
func fastConn(c *kfake.Cluster) map[string]string {
	return map[string]string{
		"bootstrap.servers":                  c.ListenAddrs()[0],
		"broker.address.family":              "v4",
		"linger.ms":                          "1",
		"socket.timeout.ms":                  "2000",
		"reconnect.backoff.ms":               "10",
		"reconnect.backoff.max.ms":           "100",
		"retry.backoff.ms":                   "10",
		"retry.backoff.max.ms":               "100",
		"topic.metadata.refresh.interval.ms": "500",
		"topic.metadata.propagation.max.ms":  "100",
	}
}

func baseConfig(c *kfake.Cluster, topic string) Config {
	return Config{
		Name:            "test",
		Connection:      fastConn(c),
		Topic:           topic,
		DeliveryTimeout: 2 * time.Second,
		Retry:           sinks.RetryPolicy{MaxAttempts: 3, InitialBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond},
	}
}

func newSink(t testing.TB, cfg Config) *Sink {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testWait)
		defer cancel()
		_ = s.Close(ctx)
	})
	return s
}

// consume reads n records from topics from the start, with extra client
// options (e.g. SASL).
func consume(t testing.TB, ctx context.Context, c *kfake.Cluster, n int, topics []string, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(c.ListenAddrs()...),
		kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(100 * time.Millisecond),
	}, opts...)...)
	if err != nil {
		t.Fatalf("kgo: %v", err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for len(recs) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records: %v", len(recs), n, err)
		}
		fs.EachError(func(topic string, p int32, err error) {
			t.Logf("fetch %s/%d: %v", topic, p, err)
		})
		recs = append(recs, fs.Records()...)
	}
	return recs
}

func header(r *kgo.Record, key string) (string, bool) {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value), true
		}
	}
	return "", false
}

func nopLogger() *zap.Logger { return zap.NewNop() }

func itoa(i int) string { return strconv.Itoa(i) }
