// Package kafkasink pushes object-sync objects to Kafka topics with the
// confluent-kafka-go (librdkafka) producer, at-least-once.
//
// Each object becomes one record: the value is the object's single-event
// JSON (optionally with the eventId injected), the key is the value at
// Config.KeyPath (none: even spread), and the headers are eventId,
// objectType, telebridge-source (source topic/partition@offset) and, when
// the source message has an id of its own, telebridge-source-message-id
// (sinks.SourceRef.MessageID). Keyed
// records are partitioned with murmur2, exactly like the Java client's
// default partitioner, so consumers can rely on key locality across
// producers.
//
// A message is acknowledged when librdkafka's delivery report succeeds at
// the configured acks. A failed attempt (librdkafka gave up within
// DeliveryTimeout, or the record was refused) is retried after the
// RetryPolicy's backoff until MaxAttempts (never with
// sinks.UnlimitedAttempts); then the message ends Failed and the caller
// dead-letters it. Every attempt is reported to the Observer.
//
// Attempts that fail because the cluster is unavailable do not count
// toward MaxAttempts: the message waits for the cluster (retried with the
// RetryPolicy's backoff, and at once when a broker connection comes back),
// holding its in-flight slot, so a long outage fills MaxInFlight and Send
// blocks, which pauses the sources. Unavailable means a broker error a
// retry can fix (transport failure, all brokers down, LEADER_NOT_AVAILABLE,
// NOT_LEADER_FOR_PARTITION, NOT_ENOUGH_REPLICAS[_AFTER_APPEND],
// REQUEST_TIMED_OUT, ...), or a delivery timeout during which librdkafka's
// statistics (every StatsInterval) or client errors showed no broker
// connection, a partition of the topic without a connected leader, or
// produce requests retransmitted after retriable errors. A timeout while
// an authentication or TLS failure is the latest client error counts (a
// retry cannot fix credentials), and so do refusals (message too large,
// topic authorization, invalid record, unknown topic) and timeouts while
// the cluster looked healthy throughout the attempt.
package kafkasink

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"go.uber.org/zap"

	"github.com/telebridge/telebridge/schemas"
	"github.com/telebridge/telebridge/sinks"
)

// Kind is the sink kind reported by Sink.Kind and in attempts.
const Kind = "kafka"

// Record header names.
const (
	HeaderEventID    = "eventId"
	HeaderObjectType = "objectType"
	HeaderSource     = "telebridge-source"
	// HeaderSourceMessageID carries sinks.SourceRef.MessageID; absent when
	// it is empty.
	HeaderSourceMessageID = "telebridge-source-message-id"
)

// ErrClosed is wrapped by the error Send returns once Close has started;
// done is not called then. It is sinks.ErrClosed.
var ErrClosed = sinks.ErrClosed

// errAborted is the Result.Err of messages aborted by Close.
var errAborted = errors.New("sink closed before the delivery was confirmed")

// queueFullPoll bounds the wait between Produce retries while librdkafka's
// local queue is full.
const (
	queueFullMinWait = time.Millisecond
	queueFullMaxWait = 50 * time.Millisecond
)

// purgeDrainTimeout bounds how long Close serves the delivery reports of
// purged messages after its deadline; messages not reported by then are
// aborted without a final attempt report.
const purgeDrainTimeout = time.Second

// Sink is a Kafka push sink. It implements sinks.Sink and is safe for
// concurrent use. The done callbacks and the Observer run on the sink's
// goroutines (usually the delivery-report goroutine, which also frees
// in-flight slots): they must not block for long and must not call Send or
// Close.
type Sink struct {
	cfg      *settings
	producer *kafka.Producer
	topics   map[schemas.Type]topicInfo

	sem     chan struct{} // in-flight slots; a slot is held until done
	closing chan struct{} // closed when Close starts
	wake    chan struct{} // nudges the retry scheduler (buffer 1)
	idle    chan struct{} // closed when closing and nothing is in flight
	logs    chan kafka.LogEvent
	loops   sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	idleDone bool
	inflight map[*record]struct{} // accepted, without a done call yet
	retries  retryHeap
	// verdicts holds timed-out attempts awaiting the next statistics
	// (see unavailable).
	verdicts []*record

	// prodMu guards producer use against Close destroying it.
	prodMu   sync.RWMutex
	prodDown bool

	// lastClientErr is the latest client-level error (broker down,
	// authentication, ...) since the last successful delivery; it explains
	// delivery timeouts.
	lastClientErr atomic.Pointer[kafka.Error]
	// health is the broker connection state from librdkafka's statistics
	// (see Connected).
	health brokerHealth
	// fatal is set by a fatal client error: the producer cannot deliver
	// anything any more, so Send refuses and held messages end Aborted
	// with it (wrapping sinks.ErrFatal).
	fatal atomic.Pointer[error]
	// waiting counts the accepted records whose last attempt failed
	// because the cluster was unavailable (record.unavail), and lastWhy
	// is the latest such reason; Connected reports them.
	waiting atomic.Int64
	lastWhy atomic.Pointer[string]
	// seq numbers accepted records, so retries due at the same time go
	// in Send order.
	seq       atomic.Uint64
	outageLog *sinks.LogLimiter

	closeOnce sync.Once
	closeErr  error
}

var _ sinks.Sink = (*Sink)(nil)

type topicInfo struct {
	name       string
	typeHeader []byte
}

// record is one accepted message and its delivery state. Its fields after
// the first block are written by whichever goroutine owns the record at the
// time (Send, the event loop, the retry scheduler); ownership passes
// through librdkafka (Produce -> delivery report) or s.mu (retry heap).
type record struct {
	msg     *sinks.Message
	done    func(sinks.Result)
	topic   string
	key     []byte
	payload []byte
	headers []kafka.Header
	assetID string

	seq     uint64
	attempt int       // attempts started
	counted int       // attempts counted toward MaxAttempts
	waits   int       // attempts that failed because the cluster was unavailable
	start   time.Time // start of the current attempt
	lastErr error
	due     time.Time // retry time while in the retry heap
	// outage is set while rec is in the retry heap waiting for the
	// cluster; guarded by Sink.mu.
	outage bool
	// unavail is set while rec's last attempt failed because the cluster
	// was unavailable (counted in Sink.waiting); guarded by Sink.mu.
	unavail bool
	// The failed attempt whose verdict waits for the next statistics.
	pendErr       error
	pendPartition int32
	pendOffset    int64
}

// New validates cfg, creates the producer and starts the sink's two
// goroutines (delivery reports and retries). The producer connects lazily;
// connection and authentication problems surface as failed attempts and
// rate-limited log entries, not as an error here.
func New(cfg Config) (*Sink, error) {
	st, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	logs := make(chan kafka.LogEvent, 64)
	cm, err := st.configMap(cfg.Connection, logs)
	if err != nil {
		return nil, err
	}
	p, err := kafka.NewProducer(cm)
	if err != nil {
		return nil, fmt.Errorf("kafka sink %q: create producer: %s", st.name, st.redactString(err.Error()))
	}
	s := &Sink{
		cfg:      st,
		producer: p,
		topics:   make(map[schemas.Type]topicInfo, len(schemas.AllTypes())),
		sem:      make(chan struct{}, st.maxInFlight),
		closing:  make(chan struct{}),
		wake:     make(chan struct{}, 1),
		idle:     make(chan struct{}),
		logs:     logs,
		inflight: make(map[*record]struct{}, st.maxInFlight),

		outageLog: sinks.NewLogLimiter(30*time.Second, 16),
	}
	for _, t := range schemas.AllTypes() {
		s.topics[t] = s.topicFor(t)
	}
	s.loops.Add(2)
	go s.eventLoop(p.Events())
	go s.retryLoop()
	return s, nil
}

func (s *Sink) topicFor(t schemas.Type) topicInfo {
	return topicInfo{
		name:       strings.ReplaceAll(s.cfg.topic, TypePlaceholder, string(t)),
		typeHeader: []byte(t),
	}
}

// Name returns the configured sink name.
func (s *Sink) Name() string { return s.cfg.name }

// Kind returns "kafka".
func (s *Sink) Kind() string { return Kind }

// Send encodes m and hands it to the producer. It blocks while MaxInFlight
// messages await an outcome, and while librdkafka's local queue is full,
// returning ctx.Err() if ctx ends first (done is not called then). After
// Close has started it returns an error wrapping ErrClosed, without calling
// done. Otherwise it returns nil and done is called exactly once, from any
// goroutine, with Delivered, Failed (attempts exhausted: dead-letter it) or
// Aborted (Close ended the delivery; do not commit). A refused Produce
// (e.g. message too large) is a failed attempt, reported through done.
// After a fatal client error Send returns that error (wrapping
// sinks.ErrFatal) without taking the message.
func (s *Sink) Send(ctx context.Context, m *sinks.Message, done func(sinks.Result)) error {
	if f := s.fatal.Load(); f != nil {
		return *f
	}
	if err := sinks.Admit(ctx, Kind, s.cfg.name, m, done, s.sem, s.closing); err != nil {
		return err
	}
	rec := s.newRecord(m, done)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		<-s.sem
		return fmt.Errorf("kafka sink %q: send: %w", s.cfg.name, ErrClosed)
	}
	s.inflight[rec] = struct{}{}
	s.mu.Unlock()

	var timer *time.Timer
	wait := queueFullMinWait
	for {
		err := s.produce(rec)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, errProducerDown):
			if s.withdraw(rec) {
				return fmt.Errorf("kafka sink %q: send: %w", s.cfg.name, ErrClosed)
			}
			return nil // Close already reported it Aborted
		case !isQueueFull(err):
			s.attemptFailed(rec, err, kafka.PartitionAny, -1)
			return nil
		}
		// librdkafka's local queue is full: wait for deliveries to drain it.
		if timer == nil {
			timer = time.NewTimer(wait)
			defer timer.Stop()
		} else {
			timer.Reset(wait)
		}
		select {
		case <-timer.C:
			wait = min(2*wait, queueFullMaxWait)
		case <-ctx.Done():
			if s.withdraw(rec) {
				return ctx.Err()
			}
			return nil
		case <-s.closing:
			if s.withdraw(rec) {
				return fmt.Errorf("kafka sink %q: send: %w", s.cfg.name, ErrClosed)
			}
			return nil
		}
	}
}

func (s *Sink) newRecord(m *sinks.Message, done func(sinks.Result)) *record {
	t := m.Object.ObjectType()
	ti, ok := s.topics[t]
	if !ok {
		ti = s.topicFor(t)
	}
	rec := &record{
		seq:     s.seq.Add(1),
		msg:     m,
		done:    done,
		topic:   ti.name,
		assetID: m.Object.AssetKey(),
	}
	if s.cfg.keyPath != "" {
		if k, ok := schemas.FieldValue(m.Object, s.cfg.keyPath); ok {
			rec.key = []byte(k)
		}
	}
	rec.payload = m.Object.AppendJSON(make([]byte, 0, 512), s.cfg.eventIDField, m.EventID)
	rec.headers = []kafka.Header{
		{Key: HeaderEventID, Value: []byte(m.EventID)},
		{Key: HeaderObjectType, Value: ti.typeHeader},
		{Key: HeaderSource, Value: []byte(formatSource(m.Source))},
	}
	if id := m.Source.MessageID; id != "" {
		rec.headers = append(rec.headers, kafka.Header{Key: HeaderSourceMessageID, Value: []byte(id)})
	}
	return rec
}

// errProducerDown reports a Produce attempted after Close destroyed the
// producer.
var errProducerDown = errors.New("producer closed")

// produce starts the next attempt of rec. A queue-full refusal does not
// count as an attempt.
func (s *Sink) produce(rec *record) error {
	s.prodMu.RLock()
	defer s.prodMu.RUnlock()
	if s.prodDown {
		return errProducerDown
	}
	// Set before Produce: the delivery report may be handled before
	// Produce returns.
	rec.attempt++
	rec.start = time.Now()
	err := s.producer.Produce(&kafka.Message{
		TopicPartition: kafka.TopicPartition{Topic: &rec.topic, Partition: kafka.PartitionAny},
		Key:            rec.key,
		Value:          rec.payload,
		Headers:        rec.headers,
		Opaque:         rec,
	}, nil)
	if err != nil && isQueueFull(err) {
		rec.attempt--
	}
	return err
}

// fatalErr returns the sink's fatal error when it has one or err is
// librdkafka's fatal error code, else nil.
func (s *Sink) fatalErr(err error) error {
	if f := s.fatal.Load(); f != nil {
		return *f
	}
	var kerr kafka.Error
	if errors.As(err, &kerr) && (kerr.IsFatal() || kerr.Code() == kafka.ErrFatal) {
		return s.setFatal(s.cfg.redactString(kerr.Error()))
	}
	return nil
}

func isQueueFull(err error) bool {
	var kerr kafka.Error
	return errors.As(err, &kerr) && kerr.Code() == kafka.ErrQueueFull
}

func isPurged(err error) bool {
	var kerr kafka.Error
	return errors.As(err, &kerr) && (kerr.Code() == kafka.ErrPurgeQueue || kerr.Code() == kafka.ErrPurgeInflight)
}

// delivered handles a successful delivery report.
func (s *Sink) delivered(rec *record, tp kafka.TopicPartition) {
	s.lastClientErr.Store(nil)
	if s.health.onDelivered(time.Now()) {
		s.resumeWaiting()
	}
	a := s.attempt(rec, sinks.StatusDelivered, nil, tp.Partition, int64(tp.Offset))
	s.observe(a)
	s.finish(rec, sinks.Result{
		Outcome:   sinks.Delivered,
		Attempts:  rec.attempt,
		Payload:   rec.payload,
		Topic:     rec.topic,
		Partition: tp.Partition,
		Offset:    int64(tp.Offset),
	})
}

// attemptFailed handles a failed attempt: schedule a retry, or end the
// message Failed (attempts exhausted) or Aborted (closing or purged).
func (s *Sink) attemptFailed(rec *record, err error, partition int32, offset int64) {
	err = s.explain(err)
	rec.lastErr = err
	if f := s.fatalErr(err); f != nil {
		// Not the message's fault and not finished: redelivered after the
		// restart the fatal error asks for, never dead-lettered for it.
		s.observe(s.attempt(rec, sinks.StatusRetrying, err, partition, offset))
		s.finish(rec, sinks.Result{
			Outcome:   sinks.Aborted,
			Attempts:  rec.attempt,
			Err:       fmt.Errorf("%w (attempt %d: %w)", f, rec.attempt, err),
			Payload:   rec.payload,
			Topic:     rec.topic,
			Partition: -1,
			Offset:    -1,
		})
		return
	}
	purged := isPurged(err)
	unavailable, why := false, ""
	if !purged {
		var decided bool
		unavailable, why, decided = s.unavailable(rec, err)
		if !decided {
			s.deferVerdict(rec, err, partition, offset)
			return
		}
	}
	s.conclude(rec, err, partition, offset, purged, unavailable, why)
}

// deferVerdict holds a timed-out attempt that looked healthy until the
// next statistics, which describe the end of the attempt.
func (s *Sink) deferVerdict(rec *record, err error, partition int32, offset int64) {
	rec.pendErr, rec.pendPartition, rec.pendOffset = err, partition, offset
	s.mu.Lock()
	s.verdicts = append(s.verdicts, rec)
	s.mu.Unlock()
}

// reviewDeferred concludes the deferred attempts with the statistics just
// applied.
func (s *Sink) reviewDeferred() {
	s.mu.Lock()
	recs := s.verdicts
	s.verdicts = nil
	s.mu.Unlock()
	for _, rec := range recs {
		unavailable, why := s.health.unavailableSince(rec.topic, rec.start)
		err := rec.pendErr
		rec.pendErr = nil
		s.conclude(rec, err, rec.pendPartition, rec.pendOffset, false, unavailable, why)
	}
}

// conclude applies a failed attempt's verdict: end Aborted (purged or
// closing), end Failed (counted attempts used), or schedule a retry.
func (s *Sink) conclude(rec *record, err error, partition int32, offset int64, purged, unavailable bool, why string) {
	now := time.Now()
	if unavailable {
		rec.waits++
		if ok, n := s.outageLog.Allow(why, now); ok {
			s.cfg.log.Warn("kafka cluster unavailable; messages wait for it (not counted toward max_attempts)",
				zap.String("reason", s.cfg.redactString(why)), zap.String("topic", rec.topic), zap.Int("suppressed", n))
		}
		err = fmt.Errorf("%w (cluster unavailable: %s; not counted toward max_attempts)", err, why)
		rec.lastErr = err
		w := s.cfg.redactString(why)
		s.lastWhy.Store(&w)
	} else {
		rec.counted++
	}

	s.mu.Lock()
	if unavailable != rec.unavail {
		rec.unavail = unavailable
		if unavailable {
			s.waiting.Add(1)
		} else {
			s.waiting.Add(-1)
		}
	}
	switch {
	case purged || (s.closed && !s.cfg.retry.Exhausted(rec.counted)):
		s.mu.Unlock()
		// Not finished: the message is redelivered after a restart.
		s.observe(s.attempt(rec, sinks.StatusRetrying, err, partition, offset))
		s.finish(rec, sinks.Result{
			Outcome:   sinks.Aborted,
			Attempts:  rec.attempt,
			Err:       fmt.Errorf("kafka sink %q: %w (attempt %d: %w)", s.cfg.name, errAborted, rec.attempt, err),
			Payload:   rec.payload,
			Topic:     rec.topic,
			Partition: -1,
			Offset:    -1,
		})
	case !unavailable && s.cfg.retry.Exhausted(rec.counted):
		s.mu.Unlock()
		s.observe(s.attempt(rec, sinks.StatusFailed, err, partition, offset))
		waited := ""
		if rec.waits > 0 {
			waited = fmt.Sprintf(" (and %d while the cluster was unavailable, not counted)", rec.waits)
		}
		s.finish(rec, sinks.Result{
			Outcome:  sinks.Failed,
			Attempts: rec.attempt,
			Err: fmt.Errorf("kafka sink %q: deliver eventId %s (%s) to topic %s: giving up after %d attempts%s: %w",
				s.cfg.name, rec.msg.EventID, rec.msg.Object.ObjectType(), rec.topic, rec.counted, waited, err),
			Payload:   rec.payload,
			Topic:     rec.topic,
			Partition: -1,
			Offset:    -1,
		})
	default:
		// Build the attempt before the record is visible to the scheduler.
		a := s.attempt(rec, sinks.StatusRetrying, err, partition, offset)
		if unavailable {
			rec.due = now.Add(s.cfg.retry.Backoff(rec.waits, nil))
			rec.outage = true
		} else {
			rec.due = now.Add(s.cfg.retry.Backoff(rec.counted, nil))
		}
		heap.Push(&s.retries, rec)
		s.mu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default:
		}
		s.observe(a)
	}
}

// unavailable reports whether a failed attempt is explained by the cluster
// being unavailable rather than by the record or the configuration (see
// the package documentation), with the reason. decided is false for a
// timeout during which the cluster looked healthy so far: the statistics
// covering the end of the attempt are still to come.
func (s *Sink) unavailable(rec *record, err error) (unavailable bool, why string, decided bool) {
	var kerr kafka.Error
	if !errors.As(err, &kerr) {
		return false, "", true
	}
	switch kerr.Code() {
	case kafka.ErrTransport, kafka.ErrAllBrokersDown, kafka.ErrTimedOut, kafka.ErrResolve,
		kafka.ErrLeaderNotAvailable, kafka.ErrNotLeaderForPartition, kafka.ErrBrokerNotAvailable,
		kafka.ErrNotEnoughReplicas, kafka.ErrNotEnoughReplicasAfterAppend, kafka.ErrNetworkException,
		kafka.ErrRequestTimedOut, kafka.ErrKafkaStorageError:
		return true, kerr.Error(), true
	case kafka.ErrMsgTimedOut:
		if last := s.lastClientErr.Load(); last != nil && (isAuthError(*last) || last.Code() == kafka.ErrSsl) {
			return false, "", true // credentials or certificates: a retry cannot fix them
		}
		if s.cfg.statsOff {
			// No statistics to wait for: judge by the client errors and
			// deliveries seen so far.
			ok, why := s.health.unavailableSince(rec.topic, rec.start)
			return ok, why, true
		}
		if !s.health.isKnown() {
			return false, "", false // the first statistics tell
		}
		if ok, why := s.health.unavailableSince(rec.topic, rec.start); ok {
			return true, why, true
		}
		return false, "", false
	}
	return false, "", true
}

// resumeWaiting makes the records that wait for the cluster due now (a
// broker connection came back), keeping their Send order.
func (s *Sink) resumeWaiting() {
	now := time.Now()
	s.mu.Lock()
	changed := false
	for _, rec := range s.retries {
		if rec.outage && rec.due.After(now) {
			rec.due = now
			changed = true
		}
	}
	if changed {
		heap.Init(&s.retries)
	}
	s.mu.Unlock()
	if changed {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// explain adds the latest client-level error (e.g. an authentication
// failure) to a delivery timeout, which otherwise hides the cause.
func (s *Sink) explain(err error) error {
	var kerr kafka.Error
	if !errors.As(err, &kerr) || kerr.Code() != kafka.ErrMsgTimedOut {
		return err
	}
	if last := s.lastClientErr.Load(); last != nil {
		return fmt.Errorf("%w (last client error: %w)", err, redactedError{*last, s.cfg.redactString(last.Error())})
	}
	return err
}

// redactedError is a kafka.Error whose text has secrets removed.
type redactedError struct {
	kerr kafka.Error
	text string
}

func (e redactedError) Error() string { return e.text }

// As lets errors.As find the underlying kafka.Error.
func (e redactedError) As(target any) bool {
	if p, ok := target.(*kafka.Error); ok {
		*p = e.kerr
		return true
	}
	return false
}

func (s *Sink) attempt(rec *record, status sinks.AttemptStatus, err error, partition int32, offset int64) *sinks.Attempt {
	if s.cfg.observer == nil {
		return nil
	}
	a := &sinks.Attempt{
		Time:      rec.start,
		Sink:      s.cfg.name,
		Kind:      Kind,
		Topic:     rec.topic,
		Partition: partition,
		Offset:    offset,
		Status:    status,
		Number:    rec.attempt,
		Latency:   time.Since(rec.start),
		EventID:   rec.msg.EventID,
		Type:      rec.msg.Object.ObjectType(),
		AssetID:   rec.assetID,
		Source:    rec.msg.Source,
		Payload:   rec.payload,
	}
	if err != nil {
		a.Err = s.cfg.redactString(err.Error())
	}
	return a
}

func (s *Sink) observe(a *sinks.Attempt) {
	if a != nil {
		s.cfg.observer.ObserveAttempt(a)
	}
}

// finish reports rec's result unless it was already reported, and frees
// its in-flight slot.
func (s *Sink) finish(rec *record, res sinks.Result) {
	if !s.remove(rec) {
		return
	}
	<-s.sem
	rec.done(res)
}

// withdraw takes back a record that Send could not hand to the producer,
// without calling done. It reports false if Close already finished it.
func (s *Sink) withdraw(rec *record) bool {
	if !s.remove(rec) {
		return false
	}
	<-s.sem
	return true
}

func (s *Sink) remove(rec *record) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.inflight[rec]; !ok {
		return false
	}
	delete(s.inflight, rec)
	if rec.unavail {
		rec.unavail = false
		s.waiting.Add(-1)
	}
	s.signalIdleLocked()
	return true
}

func (s *Sink) signalIdleLocked() {
	if s.closed && !s.idleDone && len(s.inflight) == 0 {
		s.idleDone = true
		close(s.idle)
	}
}

// eventLoop serves delivery reports, client errors and librdkafka logs
// until the producer closes its events channel.
func (s *Sink) eventLoop(events chan kafka.Event) {
	defer s.loops.Done()
	lim := sinks.NewLogLimiter(30*time.Second, 256)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return
			}
			s.handleEvent(ev, lim)
		case le := <-s.logs:
			if ce := s.cfg.log.Check(zap.DebugLevel, "librdkafka"); ce != nil {
				ce.Write(zap.String("tag", le.Tag), zap.Int("level", le.Level),
					zap.String("message", s.cfg.redactString(le.Message)))
			}
		}
	}
}

// setFatal records a fatal client error once.
func (s *Sink) setFatal(text string) error {
	err := fmt.Errorf("kafka sink %q: %w: %s; restart the bridge (unfinished records are redelivered)", s.cfg.name, sinks.ErrFatal, text)
	if s.fatal.CompareAndSwap(nil, &err) {
		return err
	}
	return *s.fatal.Load()
}

func (s *Sink) handleEvent(ev kafka.Event, lim *sinks.LogLimiter) {
	switch e := ev.(type) {
	case *kafka.Message:
		rec, ok := e.Opaque.(*record)
		if !ok {
			return
		}
		if err := e.TopicPartition.Error; err != nil {
			s.attemptFailed(rec, err, e.TopicPartition.Partition, int64(e.TopicPartition.Offset))
			return
		}
		s.delivered(rec, e.TopicPartition)
	case kafka.Error:
		if e.IsFatal() {
			s.setFatal(s.cfg.redactString(e.Error()))
		}
		s.lastClientErr.Store(&e)
		s.health.onError(e, s.cfg.redactString(e.Error()))
		s.logClientError(e, lim)
	case *kafka.Stats:
		if s.health.onStats(e.String(), time.Now()) {
			s.resumeWaiting()
		}
		s.reviewDeferred()
	}
}

// logClientError logs a client-level error once per distinct error per
// errLogWindow, with the number of repeats suppressed since.
func (s *Sink) logClientError(e kafka.Error, lim *sinks.LogLimiter) {
	text := s.cfg.redactString(e.Error())
	ok, suppressed := lim.Allow(e.Code().String()+"|"+text, time.Now())
	if !ok {
		return
	}
	auth := isAuthError(e)
	level := zap.WarnLevel
	if e.IsFatal() || auth {
		level = zap.ErrorLevel
	}
	if ce := s.cfg.log.Check(level, "kafka client error"); ce != nil {
		ce.Write(zap.String("code", e.Code().String()), zap.String("error", text),
			zap.Bool("fatal", e.IsFatal()), zap.Bool("auth", auth), zap.Int("suppressed", suppressed))
	}
}

// isAuthError reports whether a client error is an authentication failure.
// Besides the authentication error codes, librdkafka reports a broker that
// drops the connection during SASL as a transport failure whose text starts
// with "SASL authentication error".
func isAuthError(e kafka.Error) bool {
	switch e.Code() {
	case kafka.ErrAuthentication, kafka.ErrSaslAuthenticationFailed:
		return true
	}
	return strings.Contains(e.Error(), "SASL authentication error")
}

// retryLoop produces records whose retry backoff has elapsed, until Close.
func (s *Sink) retryLoop() {
	defer s.loops.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var due []*record
	for {
		due = due[:0]
		now := time.Now()
		var next time.Time
		s.mu.Lock()
		for len(s.retries) > 0 && !s.retries[0].due.After(now) {
			rec := heap.Pop(&s.retries).(*record)
			s.unwait(rec)
			due = append(due, rec)
		}
		if len(s.retries) > 0 {
			next = s.retries[0].due
		}
		s.mu.Unlock()
		if len(due) > 0 {
			for i, rec := range due {
				s.retry(rec)
				due[i] = nil
			}
			continue
		}
		if !next.IsZero() {
			timer.Reset(next.Sub(now))
		}
		select {
		case <-s.closing:
			return
		case <-s.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// retry starts the next attempt of a record taken from the retry heap.
func (s *Sink) retry(rec *record) {
	err := s.produce(rec)
	switch {
	case err == nil:
	case errors.Is(err, errProducerDown):
		s.abort(rec)
	case isQueueFull(err):
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			s.abort(rec)
			return
		}
		rec.due = time.Now().Add(queueFullMaxWait)
		heap.Push(&s.retries, rec)
		s.mu.Unlock()
	default:
		s.attemptFailed(rec, err, kafka.PartitionAny, -1)
	}
}

// abort ends rec Aborted (Close stopped it before an outcome was known).
func (s *Sink) abort(rec *record) {
	err := fmt.Errorf("kafka sink %q: %w", s.cfg.name, errAborted)
	if rec.lastErr != nil {
		err = fmt.Errorf("kafka sink %q: %w (after %d attempts, last error: %w)", s.cfg.name, errAborted, rec.attempt, rec.lastErr)
	}
	s.finish(rec, sinks.Result{
		Outcome:   sinks.Aborted,
		Attempts:  rec.attempt,
		Err:       err,
		Payload:   rec.payload,
		Topic:     rec.topic,
		Partition: -1,
		Offset:    -1,
	})
}

// Close stops accepting messages, aborts messages waiting for a retry,
// waits up to ctx's deadline for the messages handed to librdkafka, then
// purges the rest and reports them Aborted, closes the producer and stops
// the sink's goroutines. Each accepted message gets exactly one done call
// by the time Close returns (a done call made by a Send racing with Close
// may still be running). Attempts that fail while closing end Aborted, or Failed
// if they were the last attempt. Close returns an error wrapping ctx.Err()
// when the deadline cut the wait short. Later calls return the first
// call's result.
func (s *Sink) Close(ctx context.Context) error {
	s.closeOnce.Do(func() { s.closeErr = s.close(ctx) })
	return s.closeErr
}

func (s *Sink) close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	pending := make([]*record, 0, len(s.retries))
	for len(s.retries) > 0 {
		rec := heap.Pop(&s.retries).(*record)
		s.unwait(rec)
		pending = append(pending, rec)
	}
	s.signalIdleLocked()
	s.mu.Unlock()
	close(s.closing)
	for _, rec := range pending {
		s.abort(rec)
	}

	var err error
	select {
	case <-s.idle:
	default:
		err = s.awaitIdle(ctx)
	}

	s.prodMu.Lock()
	s.prodDown = true
	s.prodMu.Unlock()
	s.producer.Close() // closes the events channel, ending eventLoop
	s.loops.Wait()

	// Whatever librdkafka did not report (e.g. reports dropped while the
	// producer closed) is aborted here.
	s.mu.Lock()
	rest := make([]*record, 0, len(s.inflight))
	for rec := range s.inflight {
		rest = append(rest, rec)
	}
	s.mu.Unlock()
	for _, rec := range rest {
		s.abort(rec)
	}
	return err
}

// awaitIdle waits until every message handed to librdkafka has an outcome
// or ctx ends; then it purges librdkafka's queues so that the remaining
// messages are reported (Aborted) promptly.
func (s *Sink) awaitIdle(ctx context.Context) error {
	select {
	case <-s.idle:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	n := len(s.inflight)
	s.mu.Unlock()
	// Purged messages get delivery reports with ErrPurge*, which the event
	// loop turns into Aborted results.
	if perr := s.producer.Purge(kafka.PurgeQueue | kafka.PurgeInFlight); perr != nil {
		s.cfg.log.Warn("purge producer queues", zap.Error(perr))
	}
	s.producer.Flush(int(purgeDrainTimeout / time.Millisecond))
	return fmt.Errorf("kafka sink %q: close: aborted %d messages unconfirmed at the deadline: %w", s.cfg.name, n, ctx.Err())
}

// unwait clears rec's outage mark as it leaves the retry heap; s.mu is
// held.
func (s *Sink) unwait(rec *record) { rec.outage = false }

// retryHeap orders records by retry time, then Send order.
type retryHeap []*record

func (h retryHeap) Len() int { return len(h) }
func (h retryHeap) Less(i, j int) bool {
	if h[i].due.Equal(h[j].due) {
		return h[i].seq < h[j].seq
	}
	return h[i].due.Before(h[j].due)
}
func (h retryHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *retryHeap) Push(x any)   { *h = append(*h, x.(*record)) }

func (h *retryHeap) Pop() any {
	old := *h
	n := len(old)
	rec := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	return rec
}
