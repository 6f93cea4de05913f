package bridge

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"go.uber.org/zap"

	"github.com/telebridge/telebridge/sinks"
)

// Dead-letter header names. Poison input keeps its original key, value and
// headers and gains these; undeliverable output carries the encoded object
// as value and the same headers plus the sink's.
const (
	HeaderError           = "telebridge.error"
	HeaderErrorClass      = "telebridge.error.class"
	HeaderSource          = "telebridge.source"
	HeaderSourceTopic     = "telebridge.source.topic"
	HeaderSourcePartition = "telebridge.source.partition"
	HeaderSourceOffset    = "telebridge.source.offset"
	HeaderSchemaID        = "telebridge.schema.id"
	HeaderProfile         = "telebridge.profile"
	HeaderSink            = "telebridge.sink"
	HeaderSinkTopic       = "telebridge.sink.topic"
	HeaderAttempts        = "telebridge.attempts"
	HeaderEventID         = "eventId"
	HeaderObjectType      = "objectType"
	HeaderDeadLetteredAt  = "telebridge.dead-lettered-at"
	// HeaderSourceMessageID is the provider's id of the source message
	// (sinks.SourceRef.MessageID), on output dead letters that have one.
	HeaderSourceMessageID = "telebridge.source.message-id"
)

// Error classes of dead letters that do not come from the codec.
const (
	ClassMapping        = "mapping"
	ClassDeliveryFailed = "delivery-failed"
)

// deadLetter is one record for the dead-letter topic.
type deadLetter struct {
	key     []byte
	value   []byte
	headers []kafka.Header
}

// deadLetterWriter produces dead letters with acks=all and an idempotent
// producer, retrying with backoff until the record is acknowledged: a dead
// letter is never dropped, however long its cluster is unreachable (every
// attempt is bounded by deadLetterTimeout, and there is no attempt limit).
// Its done callbacks are the commit gate of the source records they stand
// for: done(true) only once the topic acknowledged the record, done(false)
// (the record stays unfinished, so its offset is never committed) only
// when the writer closes first. While its cluster is down the unfinished
// records hold their partitions' in-flight slots, so the sources pause.
type deadLetterWriter struct {
	producer *kafka.Producer
	topic    string
	log      *zap.Logger
	retry    sinks.RetryPolicy

	closing  atomic.Bool
	wg       sync.WaitGroup // pending retries
	mu       sync.Mutex
	timers   map[*dlqItem]*time.Timer
	events   chan struct{}
	count    atomic.Uint64
	throttle *sinks.LogLimiter
	// failing counts the dead letters that failed an attempt and are not
	// written yet; lastErr is the latest failure (for readiness).
	failing atomic.Int64
	lastErr atomic.Pointer[string]
}

// deadLetterTimeout bounds one attempt of a dead letter (librdkafka's
// message.timeout.ms); a timed-out attempt is retried after a backoff of
// at most deadLetterMaxBackoff.
const (
	deadLetterTimeout    = 30 * time.Second
	deadLetterMaxBackoff = 5 * time.Second
)

type dlqItem struct {
	rec     deadLetter
	attempt int
	done    func(ok bool)
	failed  atomic.Bool // an attempt failed (counted in failing)
}

// finish reports its outcome and leaves the failing count.
func (w *deadLetterWriter) finish(it *dlqItem, ok bool) {
	if it.failed.Swap(false) {
		w.failing.Add(-1)
	}
	it.done(ok)
}

// waiting reports how many dead letters failed an attempt and wait for a
// retry, with the latest error.
func (w *deadLetterWriter) waiting() (int64, string) {
	n := w.failing.Load()
	if n <= 0 {
		return 0, ""
	}
	why := ""
	if p := w.lastErr.Load(); p != nil {
		why = *p
	}
	return n, why
}

func newDeadLetterWriter(conn map[string]string, topic string, log *zap.Logger) (*deadLetterWriter, error) {
	return newDeadLetterWriterTimeout(conn, topic, log, deadLetterTimeout)
}

// newDeadLetterWriterTimeout is newDeadLetterWriter with another attempt
// timeout (tests).
func newDeadLetterWriterTimeout(conn map[string]string, topic string, log *zap.Logger, timeout time.Duration) (*deadLetterWriter, error) {
	p, err := kafka.NewProducer(configMap(conn, map[string]kafka.ConfigValue{
		"acks":                      "all",
		"enable.idempotence":        true,
		"linger.ms":                 5,
		"message.timeout.ms":        int(timeout / time.Millisecond),
		"go.logs.channel.enable":    true,
		"go.delivery.report.fields": "key,headers",
	}))
	if err != nil {
		return nil, fmt.Errorf("dead-letter producer: %w", err)
	}
	w := &deadLetterWriter{
		producer: p,
		topic:    topic,
		log:      log,
		retry:    sinks.RetryPolicy{MaxAttempts: sinks.UnlimitedAttempts, InitialBackoff: 500 * time.Millisecond, MaxBackoff: deadLetterMaxBackoff}.WithDefaults(),
		timers:   make(map[*dlqItem]*time.Timer),
		events:   make(chan struct{}),
		throttle: sinks.NewLogLimiter(30*time.Second, 1024),
	}
	go drainLogs(p.Logs(), log, w.throttle)
	go w.run()
	return w, nil
}

// send produces rec; done(true) is called once it is acknowledged, or
// done(false) when the writer is closed first.
func (w *deadLetterWriter) send(rec deadLetter, done func(ok bool)) {
	w.produce(&dlqItem{rec: rec, done: done})
}

func (w *deadLetterWriter) produce(it *dlqItem) {
	if w.closing.Load() {
		w.finish(it, false)
		return
	}
	it.attempt++
	rec := it.rec
	for {
		err := w.producer.Produce(&kafka.Message{
			TopicPartition: kafka.TopicPartition{Topic: &w.topic, Partition: kafka.PartitionAny},
			Key:            rec.key,
			Value:          rec.value,
			Headers:        rec.headers,
			Opaque:         it,
		}, nil)
		if err == nil {
			return
		}
		var kerr kafka.Error
		if errors.As(err, &kerr) && kerr.Code() == kafka.ErrQueueFull {
			if w.closing.Load() {
				w.finish(it, false)
				return
			}
			time.Sleep(5 * time.Millisecond)
			continue
		}
		w.scheduleRetry(it, err)
		return
	}
}

func (w *deadLetterWriter) scheduleRetry(it *dlqItem, err error) {
	if !it.failed.Swap(true) {
		w.failing.Add(1)
	}
	text := err.Error()
	w.lastErr.Store(&text)
	if ok, n := w.throttle.Allow("dlq:"+err.Error(), time.Now()); ok {
		w.log.Warn("dead-letter write failed, retrying", zap.String("topic", w.topic), zap.Int("attempt", it.attempt), zap.Error(err), zap.Int("suppressed", n))
	}
	w.mu.Lock()
	if w.closing.Load() {
		w.mu.Unlock()
		w.finish(it, false)
		return
	}
	defer w.mu.Unlock()
	w.wg.Add(1)
	w.timers[it] = time.AfterFunc(w.retry.Backoff(it.attempt, rand.Float64), func() {
		w.mu.Lock()
		delete(w.timers, it)
		w.mu.Unlock()
		defer w.wg.Done()
		w.produce(it)
	})
}

// run drains delivery reports and client errors until the producer's
// events channel is closed.
func (w *deadLetterWriter) run() {
	defer close(w.events)
	for ev := range w.producer.Events() {
		switch e := ev.(type) {
		case *kafka.Message:
			it, ok := e.Opaque.(*dlqItem)
			if !ok {
				continue
			}
			if e.TopicPartition.Error != nil {
				w.scheduleRetry(it, e.TopicPartition.Error)
				continue
			}
			w.count.Add(1)
			w.finish(it, true)
		case kafka.Error:
			if ok, n := w.throttle.Allow("dlqerr:"+e.Error(), time.Now()); ok {
				w.log.Warn("dead-letter producer error", zap.String("topic", w.topic), zap.String("error", e.String()), zap.Int("suppressed", n))
			}
		}
	}
}

// close flushes what is in flight until ctx ends, aborts pending retries
// (their done(false) runs), and closes the producer.
func (w *deadLetterWriter) close(ctx context.Context) {
	for w.producer.Len() > 0 && ctx.Err() == nil {
		w.producer.Flush(100)
	}
	w.closing.Store(true)
	w.mu.Lock()
	for it, t := range w.timers {
		if t.Stop() {
			delete(w.timers, it)
			w.wg.Done()
			w.finish(it, false)
		}
	}
	w.mu.Unlock()
	w.wg.Wait()
	// Unflushed messages are purged; their reports arrive as errors and
	// the closing flag turns them into done(false).
	_ = w.producer.Purge(kafka.PurgeQueue | kafka.PurgeInFlight)
	w.producer.Flush(1000)
	w.producer.Close()
	<-w.events
}

// poisonLetter builds the dead letter for a source record that could not
// be decoded or mapped.
func poisonLetter(src, profile string, m *kafka.Message, class string, schemaID int, cause error, now time.Time) deadLetter {
	h := make([]kafka.Header, 0, len(m.Headers)+9)
	h = append(h, m.Headers...)
	h = append(h,
		kafka.Header{Key: HeaderError, Value: []byte(cause.Error())},
		kafka.Header{Key: HeaderErrorClass, Value: []byte(class)},
		kafka.Header{Key: HeaderSource, Value: []byte(src)},
		kafka.Header{Key: HeaderProfile, Value: []byte(profile)},
		kafka.Header{Key: HeaderSourceTopic, Value: []byte(*m.TopicPartition.Topic)},
		kafka.Header{Key: HeaderSourcePartition, Value: strconv.AppendInt(nil, int64(m.TopicPartition.Partition), 10)},
		kafka.Header{Key: HeaderSourceOffset, Value: strconv.AppendInt(nil, int64(m.TopicPartition.Offset), 10)},
		kafka.Header{Key: HeaderDeadLetteredAt, Value: []byte(now.UTC().Format(time.RFC3339Nano))},
	)
	if schemaID >= 0 {
		h = append(h, kafka.Header{Key: HeaderSchemaID, Value: strconv.AppendInt(nil, int64(schemaID), 10)})
	}
	return deadLetter{key: m.Key, value: m.Value, headers: h}
}

// outputLetter builds the dead letter for an object a sink could not
// deliver after all attempts.
func outputLetter(src string, sinkName string, msg *sinks.Message, res sinks.Result, now time.Time) deadLetter {
	errText := "delivery failed"
	if res.Err != nil {
		errText = res.Err.Error()
	}
	h := []kafka.Header{
		{Key: HeaderError, Value: []byte(errText)},
		{Key: HeaderErrorClass, Value: []byte(ClassDeliveryFailed)},
		{Key: HeaderSource, Value: []byte(src)},
		{Key: HeaderSourceTopic, Value: []byte(msg.Source.Topic)},
		{Key: HeaderSourcePartition, Value: strconv.AppendInt(nil, int64(msg.Source.Partition), 10)},
		{Key: HeaderSourceOffset, Value: strconv.AppendInt(nil, msg.Source.Offset, 10)},
		{Key: HeaderSink, Value: []byte(sinkName)},
		{Key: HeaderSinkTopic, Value: []byte(res.Topic)},
		{Key: HeaderAttempts, Value: strconv.AppendInt(nil, int64(res.Attempts), 10)},
		{Key: HeaderEventID, Value: []byte(msg.EventID)},
		{Key: HeaderObjectType, Value: []byte(msg.Object.ObjectType())},
		{Key: HeaderDeadLetteredAt, Value: []byte(now.UTC().Format(time.RFC3339Nano))},
	}
	if id := msg.Source.MessageID; id != "" {
		h = append(h, kafka.Header{Key: HeaderSourceMessageID, Value: []byte(id)})
	}
	value := res.Payload
	if value == nil {
		value = msg.Object.AppendJSON(nil, "", "")
	}
	return deadLetter{key: []byte(msg.Object.AssetKey()), value: value, headers: h}
}
