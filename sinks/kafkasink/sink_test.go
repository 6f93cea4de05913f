package kafkasink

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/telebridge/telebridge/internal/sinktest"
	"github.com/telebridge/telebridge/schemas"
	"github.com/telebridge/telebridge/sinks"
)

func typeTopics(prefix string) []string {
	var ts []string
	for _, t := range schemas.AllTypes() {
		ts = append(ts, prefix+string(t))
	}
	return ts
}

func TestDeliverRecordsPerType(t *testing.T) {
	topics := typeTopics("gt.events.")
	c := newCluster(t, kfake.SeedTopics(3, topics...))
	obs := sinktest.NewAttempts()
	cfg := baseConfig(c, "gt.events.{type}")
	cfg.KeyPath = "assetId"
	cfg.EventIDField = "eventId"
	cfg.Observer = obs
	s := newSink(t, cfg)
	ctx := testCtx(t)

	res := sinktest.NewResults()
	msgs := map[string]*sinks.Message{}
	i := 0
	for a := range 3 {
		for _, o := range sinktest.SampleObjects("asset-"+itoa(a), int64(100+a)) {
			m := sinktest.Message(o, i)
			if i%2 == 1 {
				m.Source.MessageID = "msg-" + itoa(i)
			}
			msgs[m.EventID] = m
			if err := s.Send(ctx, m, res.Done(m.EventID)); err != nil {
				t.Fatalf("Send: %v", err)
			}
			i++
		}
	}
	res.Wait(t, ctx, len(msgs))
	res.Check(t, len(msgs))

	recs := consume(t, ctx, c, len(msgs), topics)
	if len(recs) != len(msgs) {
		t.Fatalf("consumed %d records, want %d", len(recs), len(msgs))
	}
	for _, r := range recs {
		id, _ := header(r, HeaderEventID)
		m, ok := msgs[id]
		if !ok {
			t.Fatalf("record with unknown eventId header %q", id)
		}
		typ := m.Object.ObjectType()
		if want := "gt.events." + string(typ); r.Topic != want {
			t.Errorf("%s: topic %q, want %q", id, r.Topic, want)
		}
		if got, _ := header(r, HeaderObjectType); got != string(typ) {
			t.Errorf("%s: objectType header %q, want %q", id, got, typ)
		}
		if got, want := mustHeader(t, r, HeaderSource), formatSource(m.Source); got != want || !strings.HasPrefix(got, "src/") {
			t.Errorf("%s: source header %q, want %q", id, got, want)
		}
		if got, ok := header(r, HeaderSourceMessageID); got != m.Source.MessageID || ok != (m.Source.MessageID != "") {
			t.Errorf("%s: source message id header %q (present %v), want %q", id, got, ok, m.Source.MessageID)
		}
		if want := m.Object.AppendJSON(nil, "eventId", m.EventID); string(r.Value) != string(want) {
			t.Errorf("%s: value\n%s\nwant\n%s", id, r.Value, want)
		}
		var doc map[string]any
		if err := json.Unmarshal(r.Value, &doc); err != nil {
			t.Fatalf("%s: value is not JSON: %v", id, err)
		}
		if doc["eventId"] != m.EventID {
			t.Errorf("%s: injected eventId = %v", id, doc["eventId"])
		}
		// On an Asset, key path assetId resolves to its id, so every
		// type is keyed by its asset.
		if string(r.Key) != m.Object.AssetKey() {
			t.Errorf("%s: key %q, want %q", id, r.Key, m.Object.AssetKey())
		}
		got, _ := res.Get(id)
		if got.Outcome != sinks.Delivered || got.Attempts != 1 || got.Err != nil {
			t.Errorf("%s: result %+v", id, got)
		}
		if got.Topic != r.Topic || got.Partition != r.Partition || got.Offset != r.Offset {
			t.Errorf("%s: result at %s/%d@%d, record at %s/%d@%d", id, got.Topic, got.Partition, got.Offset, r.Topic, r.Partition, r.Offset)
		}
		if string(got.Payload) != string(r.Value) {
			t.Errorf("%s: result payload differs from record value", id)
		}
	}

	for id, as := range obs.ByEvent() {
		m := msgs[id]
		if len(as) != 1 {
			t.Fatalf("%s: %d attempts observed, want 1", id, len(as))
		}
		a := as[0]
		if a.Status != sinks.StatusDelivered || a.Number != 1 || a.Sink != "test" || a.Kind != "kafka" ||
			a.Type != m.Object.ObjectType() || a.AssetID != m.Object.AssetKey() || a.Source != m.Source ||
			a.Topic != "gt.events."+string(m.Object.ObjectType()) || a.Offset < 0 || a.Err != "" ||
			a.Time.IsZero() || a.Latency <= 0 || len(a.Payload) == 0 {
			t.Errorf("%s: attempt %+v", id, a)
		}
	}
}

func mustHeader(t *testing.T, r *kgo.Record, key string) string {
	t.Helper()
	v, ok := header(r, key)
	if !ok {
		t.Fatalf("record has no %s header", key)
	}
	return v
}

func TestAcksLevels(t *testing.T) {
	for _, acks := range []string{"0", "1", "all"} {
		t.Run("acks="+acks, func(t *testing.T) {
			c := newCluster(t, kfake.SeedTopics(2, "events"))
			cfg := baseConfig(c, "events")
			cfg.Acks = acks
			s := newSink(t, cfg)
			ctx := testCtx(t)
			res := sinktest.NewResults()
			const n = 20
			for i := range n {
				m := sinktest.Message(sinktest.Location("a"+itoa(i), int64(i)), i)
				if err := s.Send(ctx, m, res.Done(m.EventID)); err != nil {
					t.Fatalf("Send: %v", err)
				}
			}
			res.Wait(t, ctx, n)
			res.Check(t, n)
			for i := range n {
				m := sinktest.Message(sinktest.Location("a"+itoa(i), int64(i)), i)
				got, _ := res.Get(m.EventID)
				if got.Outcome != sinks.Delivered {
					t.Fatalf("%s: %+v", m.EventID, got)
				}
				if acks != "0" && got.Offset < 0 {
					t.Errorf("acks=%s: offset %d not reported", acks, got.Offset)
				}
			}
			recs := consume(t, ctx, c, n, []string{"events"})
			for _, r := range recs {
				// No injection without EventIDField; the header still carries it.
				id := mustHeader(t, r, HeaderEventID)
				if strings.Contains(string(r.Value), id) {
					t.Errorf("eventId injected without EventIDField: %s", r.Value)
				}
				if r.Key != nil {
					t.Errorf("key %q without KeyPath", r.Key)
				}
			}
		})
	}
}

func TestSASLMechanisms(t *testing.T) {
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		t.Run(mech, func(t *testing.T) {
			c := newCluster(t, kfake.SeedTopics(1, "secure"), kfake.EnableSASL(), kfake.Superuser(mech, "user", "pass-word"))
			cfg := baseConfig(c, "secure")
			cfg.Connection["security.protocol"] = "SASL_PLAINTEXT"
			cfg.Connection["sasl.mechanism"] = mech
			cfg.Connection["sasl.username"] = "user"
			cfg.Connection["sasl.password"] = "pass-word"
			s := newSink(t, cfg)
			ctx := testCtx(t)
			res := sinktest.NewResults()
			m := sinktest.Message(sinktest.Location("a", 1), 1)
			if err := s.Send(ctx, m, res.Done(m.EventID)); err != nil {
				t.Fatalf("Send: %v", err)
			}
			res.Wait(t, ctx, 1)
			if got, _ := res.Get(m.EventID); got.Outcome != sinks.Delivered {
				t.Fatalf("result %+v", got)
			}
			var auth kgo.Opt
			switch mech {
			case "PLAIN":
				auth = kgo.SASL(plain.Auth{User: "user", Pass: "pass-word"}.AsMechanism())
			case "SCRAM-SHA-256":
				auth = kgo.SASL(scram.Auth{User: "user", Pass: "pass-word"}.AsSha256Mechanism())
			default:
				auth = kgo.SASL(scram.Auth{User: "user", Pass: "pass-word"}.AsSha512Mechanism())
			}
			recs := consume(t, ctx, c, 1, []string{"secure"}, auth)
			if mustHeader(t, recs[0], HeaderEventID) != m.EventID {
				t.Fatalf("read back %+v", recs[0])
			}
		})
	}
}

func TestWrongPasswordFailsWithAuthErrorLoggedOnce(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(1, "secure"), kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "user", "right-secret"))
	core, logs := observer.New(zapcore.DebugLevel)
	obs := sinktest.NewAttempts()
	cfg := baseConfig(c, "secure")
	cfg.Connection["security.protocol"] = "SASL_PLAINTEXT"
	cfg.Connection["sasl.mechanism"] = "SCRAM-SHA-256"
	cfg.Connection["sasl.username"] = "user"
	cfg.Connection["sasl.password"] = "wrong-secret"
	cfg.DeliveryTimeout = time.Second
	cfg.Retry.MaxAttempts = 2
	cfg.Logger = zap.New(core)
	cfg.Observer = obs
	s := newSink(t, cfg)
	ctx := testCtx(t)
	res := sinktest.NewResults()
	const n = 5
	for i := range n {
		m := sinktest.Message(sinktest.Location("a", int64(i)), i)
		if err := s.Send(ctx, m, res.Done(m.EventID)); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	res.Wait(t, ctx, n)
	res.Check(t, n)
	for i := range n {
		m := sinktest.Message(sinktest.Location("a", int64(i)), i)
		got, _ := res.Get(m.EventID)
		if got.Outcome != sinks.Failed || got.Attempts != 2 || len(got.Payload) == 0 {
			t.Fatalf("%s: result %+v", m.EventID, got)
		}
		// kfake drops the connection on bad credentials (Kafka answers
		// SASL_AUTHENTICATION_FAILED); librdkafka reports both as a "SASL
		// authentication error", which the timed-out delivery carries.
		if !strings.Contains(got.Err.Error(), "SASL authentication error") {
			t.Errorf("%s: error %q does not carry the authentication failure", m.EventID, got.Err)
		}
		if i == 0 {
			t.Logf("result error: %v", got.Err)
		}
		if strings.Contains(got.Err.Error(), "wrong-secret") {
			t.Errorf("error leaks the password: %v", got.Err)
		}
		as := obs.ByEvent()[m.EventID]
		if len(as) != 2 || as[0].Status != sinks.StatusRetrying || as[1].Status != sinks.StatusFailed ||
			as[0].Number != 1 || as[1].Number != 2 || as[1].Err == "" {
			t.Errorf("%s: attempts %+v", m.EventID, as)
		}
	}
	authLogs := 0
	for _, e := range logs.All() {
		for _, f := range e.Context {
			if strings.Contains(f.String, "wrong-secret") {
				t.Errorf("log entry leaks the password: %+v", e)
			}
		}
		if e.Message == "kafka client error" && e.ContextMap()["auth"] == true {
			authLogs++
			if e.Level != zapcore.ErrorLevel {
				t.Errorf("authentication failure logged at %v", e.Level)
			}
		}
	}
	if authLogs != 1 {
		t.Errorf("authentication failure logged %d times, want once per window; logs: %+v", authLogs, logs.FilterMessage("kafka client error").All())
	}
}

func TestUnknownTopicRetriesThenFails(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(1, "exists"))
	obs := sinktest.NewAttempts()
	cfg := baseConfig(c, "does-not-exist")
	cfg.DeliveryTimeout = time.Second
	cfg.Retry.MaxAttempts = 2
	cfg.Observer = obs
	s := newSink(t, cfg)
	ctx := testCtx(t)
	res := sinktest.NewResults()
	const n = 3
	for i := range n {
		m := sinktest.Message(sinktest.Location("a", int64(i)), i)
		if err := s.Send(ctx, m, res.Done(m.EventID)); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	res.Wait(t, ctx, n)
	res.Check(t, n)
	for i := range n {
		m := sinktest.Message(sinktest.Location("a", int64(i)), i)
		got, _ := res.Get(m.EventID)
		if got.Outcome != sinks.Failed || got.Attempts != 2 || got.Err == nil || got.Topic != "does-not-exist" {
			t.Fatalf("%s: result %+v", m.EventID, got)
		}
		if i == 0 {
			t.Logf("result error: %v", got.Err)
		}
		if !strings.Contains(got.Err.Error(), "does-not-exist") {
			t.Errorf("error %q does not name the topic", got.Err)
		}
		if as := obs.ByEvent()[m.EventID]; len(as) != 2 {
			t.Errorf("%s: %d attempts observed, want 2", m.EventID, len(as))
		}
	}
}

func TestProduceRefusedIsFailedAttempt(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(1, "events"))
	obs := sinktest.NewAttempts()
	cfg := baseConfig(c, "events")
	cfg.Connection["message.max.bytes"] = "1000"
	cfg.Observer = obs
	s := newSink(t, cfg)
	ctx := testCtx(t)
	res := sinktest.NewResults()
	big := &schemas.ReeferData{ID: 1, AssetID: "a", OwnerID: "o", WhenCreated: sinktest.BaseTime(), ReeferClass: "C",
		Data: map[string]any{"blob": strings.Repeat("x", 5000)}}
	m := sinktest.Message(big, 1)
	if err := s.Send(ctx, m, res.Done(m.EventID)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	res.Wait(t, ctx, 1)
	got, _ := res.Get(m.EventID)
	var kerr kafka.Error
	if got.Outcome != sinks.Failed || got.Attempts != 3 || !errors.As(got.Err, &kerr) || kerr.Code() != kafka.ErrMsgSizeTooLarge {
		t.Fatalf("result %+v", got)
	}
	as := obs.ByEvent()[m.EventID]
	if len(as) != 3 || as[2].Status != sinks.StatusFailed || as[0].Status != sinks.StatusRetrying {
		t.Fatalf("attempts %+v", as)
	}
}

func TestCloseAbortsPendingRetries(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(1, "exists"))
	obs := sinktest.NewAttempts()
	cfg := baseConfig(c, "does-not-exist")
	cfg.DeliveryTimeout = 500 * time.Millisecond
	cfg.Retry = sinks.RetryPolicy{MaxAttempts: 5, InitialBackoff: 1 << 62, MaxBackoff: 1 << 62}
	cfg.Observer = obs
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	res := sinktest.NewResults()
	const n = 4
	for i := range n {
		m := sinktest.Message(sinktest.Location("a", int64(i)), i)
		if err := s.Send(ctx, m, res.Done(m.EventID)); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	obs.WaitStatus(t, ctx, sinks.StatusRetrying, n)
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	res.Check(t, n)
	for i := range n {
		m := sinktest.Message(sinktest.Location("a", int64(i)), i)
		got, _ := res.Get(m.EventID)
		if got.Outcome != sinks.Aborted || got.Attempts != 1 || !errors.Is(got.Err, errAborted) || len(got.Payload) == 0 {
			t.Fatalf("%s: result %+v", m.EventID, got)
		}
	}
	// Closed: Send refuses without calling done.
	m := sinktest.Message(sinktest.Location("a", 99), 99)
	if err := s.Send(ctx, m, res.Done(m.EventID)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send after Close: %v, want ErrClosed", err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	res.Check(t, n)
}

// holdProduce makes the cluster hold every produce request until the
// returned release function is called.
func holdProduce(c *kfake.Cluster) (release func()) {
	ch := make(chan struct{})
	var once sync.Once
	var released atomic.Bool
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		if !released.Load() {
			c.SleepControl(func() { <-ch })
		}
		return nil, nil, false
	})
	return func() {
		once.Do(func() {
			released.Store(true)
			close(ch)
		})
	}
}

func TestMaxInFlightBackPressure(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(1, "events"))
	release := holdProduce(c)
	t.Cleanup(release)
	cfg := baseConfig(c, "events")
	cfg.MaxInFlight = 2
	cfg.DeliveryTimeout = testWait
	s := newSink(t, cfg)
	ctx := testCtx(t)
	res := sinktest.NewResults()
	for i := range 2 {
		m := sinktest.Message(sinktest.Location("a", int64(i)), i)
		if err := s.Send(ctx, m, res.Done(m.EventID)); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	// Full: a cancelled context makes Send give up without calling done.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	m3 := sinktest.Message(sinktest.Location("a", 3), 3)
	if err := s.Send(cancelled, m3, res.Done(m3.EventID)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Send on a full sink with a cancelled ctx: %v, want context.Canceled", err)
	}
	// A blocking Send completes once the held deliveries are acknowledged.
	m4 := sinktest.Message(sinktest.Location("a", 4), 4)
	sent := make(chan error, 1)
	go func() { sent <- s.Send(ctx, m4, res.Done(m4.EventID)) }()
	select {
	case err := <-sent:
		t.Fatalf("Send returned %v while the sink was full", err)
	default:
	}
	release()
	if err := <-sent; err != nil {
		t.Fatalf("blocked Send: %v", err)
	}
	res.Wait(t, ctx, 3)
	res.Check(t, 3)
	if _, ok := res.Get(m3.EventID); ok {
		t.Fatal("done called for a message Send refused")
	}
	for _, i := range []int{0, 1, 4} {
		m := sinktest.Message(sinktest.Location("a", int64(i)), i)
		if got, _ := res.Get(m.EventID); got.Outcome != sinks.Delivered {
			t.Fatalf("%s: result %+v", m.EventID, got)
		}
	}
}

func TestCloseDeadlineAbortsUnflushed(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(1, "events"))
	release := holdProduce(c)
	t.Cleanup(release)
	obs := sinktest.NewAttempts()
	cfg := baseConfig(c, "events")
	cfg.DeliveryTimeout = testWait
	cfg.Observer = obs
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	res := sinktest.NewResults()
	const n = 5
	for i := range n {
		m := sinktest.Message(sinktest.Location("a", int64(i)), i)
		if err := s.Send(ctx, m, res.Done(m.EventID)); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	expired, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Close(expired); !errors.Is(err, context.Canceled) {
		t.Fatalf("Close with an expired context: %v, want context.Canceled", err)
	}
	res.Check(t, n)
	for i := range n {
		m := sinktest.Message(sinktest.Location("a", int64(i)), i)
		got, _ := res.Get(m.EventID)
		if got.Outcome != sinks.Aborted || got.Err == nil || !errors.Is(got.Err, errAborted) {
			t.Fatalf("%s: result %+v", m.EventID, got)
		}
		if i == 0 {
			t.Logf("result error: %v", got.Err)
		}
	}
	for _, as := range obs.ByEvent() {
		for _, a := range as {
			if a.Status == sinks.StatusDelivered || a.Status == sinks.StatusFailed {
				t.Errorf("aborted message has attempt %+v", a)
			}
		}
	}
}

func TestLocalQueueFullWaits(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(2, "events"))
	cfg := baseConfig(c, "events")
	cfg.Connection["queue.buffering.max.messages"] = "1"
	cfg.MaxInFlight = 16
	s := newSink(t, cfg)
	ctx := testCtx(t)
	res := sinktest.NewResults()
	const n = 100
	for i := range n {
		m := sinktest.Message(sinktest.Location("a"+itoa(i), int64(i)), i)
		if err := s.Send(ctx, m, res.Done(m.EventID)); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	res.Wait(t, ctx, n)
	res.Check(t, n)
	for i := range n {
		m := sinktest.Message(sinktest.Location("a"+itoa(i), int64(i)), i)
		if got, _ := res.Get(m.EventID); got.Outcome != sinks.Delivered || got.Attempts != 1 {
			t.Fatalf("%s: result %+v", m.EventID, got)
		}
	}
	consume(t, ctx, c, n, []string{"events"})
}

// TestExactlyOneDoneUnderConcurrentClose races senders against Close and
// checks every accepted message got exactly one done call.
func TestExactlyOneDoneUnderConcurrentClose(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(3, "events"))
	cfg := baseConfig(c, "events")
	cfg.MaxInFlight = 8
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	var accepted, doneCalls, dupes atomic.Int64
	someDone := make(chan struct{})
	var someDoneOnce sync.Once
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var once atomic.Bool
				m := sinktest.Message(sinktest.Location("a", int64(i)), g*1_000_000+i)
				err := s.Send(ctx, m, func(sinks.Result) {
					if once.Swap(true) {
						dupes.Add(1)
					}
					if doneCalls.Add(1) == 50 {
						someDoneOnce.Do(func() { close(someDone) })
					}
				})
				if err != nil {
					if !errors.Is(err, ErrClosed) {
						t.Errorf("Send: %v", err)
					}
					return
				}
				accepted.Add(1)
			}
		}()
	}
	// Let some messages through, then close while senders are running.
	select {
	case <-someDone:
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	close(stop)
	wg.Wait()
	if dupes.Load() != 0 {
		t.Fatalf("%d duplicate done calls", dupes.Load())
	}
	if a, d := accepted.Load(), doneCalls.Load(); a != d {
		t.Fatalf("accepted %d messages, %d done calls", a, d)
	}
}

func TestNewValidation(t *testing.T) {
	ok := func() Config {
		return Config{Name: "k", Topic: "t.{type}", Connection: map[string]string{"bootstrap.servers": "127.0.0.1:1"}}
	}
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"no name", func(c *Config) { c.Name = "" }, "name is required"},
		{"no topic", func(c *Config) { c.Topic = "" }, "topic is required"},
		{"bad topic", func(c *Config) { c.Topic = "bad topic/{type}" }, `topic "bad topic/{type}"`},
		{"no bootstrap", func(c *Config) { delete(c.Connection, "bootstrap.servers") }, "bootstrap.servers is required"},
		{"bad acks", func(c *Config) { c.Acks = "2" }, `acks: invalid value "2"`},
		{"bad compression", func(c *Config) { c.Compression = "brotli" }, `compression: invalid value "brotli"`},
		{"reserved acks", func(c *Config) { c.Connection["acks"] = "1" }, `property "acks" is controlled by Acks`},
		{"reserved partitioner", func(c *Config) { c.Connection["partitioner"] = "random" }, `property "partitioner"`},
		{"reserved go key", func(c *Config) { c.Connection["go.events.channel.size"] = "1" }, `property "go.events.channel.size"`},
		{"bad key path", func(c *Config) { c.KeyPath = "nope" }, `key path "nope"`},
		{"negative timeout", func(c *Config) { c.DeliveryTimeout = -1 }, "delivery timeout"},
		{"negative in flight", func(c *Config) { c.MaxInFlight = -1 }, "max in flight"},
		{"librdkafka rejects property", func(c *Config) { c.Connection["no.such.property"] = "x" }, "no.such.property"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok()
			tt.mutate(&cfg)
			s, err := New(cfg)
			if err == nil {
				_ = s.Close(context.Background())
				t.Fatalf("New succeeded, want error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New error %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
	t.Run("valid data key path and defaults", func(t *testing.T) {
		cfg := ok()
		cfg.KeyPath = "data.vin"
		cfg.Acks = "-1"
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close(context.Background())
		if s.Name() != "k" || s.Kind() != "kafka" || s.cfg.acks != "all" || s.cfg.maxInFlight != DefaultMaxInFlight ||
			s.cfg.deliveryTimeout != DefaultDeliveryTimeout || s.topics[schemas.TypeGtoemData].name != "t.gtoemdata" {
			t.Fatalf("settings %+v", s.cfg)
		}
	})
}

func TestSendRejectsBadInput(t *testing.T) {
	s, err := New(Config{Name: "k", Topic: "t", Connection: map[string]string{"bootstrap.servers": "127.0.0.1:1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	if err := s.Send(context.Background(), &sinks.Message{}, func(sinks.Result) {}); err == nil {
		t.Fatal("Send without object succeeded")
	}
	if err := s.Send(context.Background(), sinktest.Message(sinktest.Location("a", 1), 1), nil); err == nil {
		t.Fatal("Send without done succeeded")
	}
}

func TestRedaction(t *testing.T) {
	st, err := (&Config{Name: "k", Topic: "t", Connection: map[string]string{
		"bootstrap.servers": "x:1", "sasl.password": "hunter22", "ssl.key.password": "abc",
	}}).validate()
	if err != nil {
		t.Fatal(err)
	}
	if got := st.redactString("auth hunter22 failed abc"); got != "auth [redacted] failed abc" {
		t.Fatalf("redactString = %q", got)
	}
}
