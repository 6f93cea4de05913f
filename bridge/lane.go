package bridge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"go.uber.org/zap"

	"github.com/telebridge/telebridge/bridge/profile"
	"github.com/telebridge/telebridge/codec"
	"github.com/telebridge/telebridge/schemas"
	"github.com/telebridge/telebridge/sinks"
)

// lane processes the records of one source partition in offset order:
// decode, normalise, assign identities, route to sinks. Deliveries run
// asynchronously in the sinks; the lane's offsetTracker gates commits. A
// lane blocked on the registry or on a full sink blocks only its
// partition.
type lane struct {
	src     *source
	key     tpKey
	tracker *offsetTracker

	mu      sync.Mutex
	queue   []*kafka.Message
	qhead   int
	stopped bool
	drop    bool
	wake    chan struct{}

	ctx    context.Context
	cancel context.CancelFunc
	exited chan struct{}

	objs []schemas.Object // reused by the lane goroutine only
	ids  []identity       // reused by the lane goroutine only
}

func newLane(s *source, k tpKey) *lane {
	ctx, cancel := context.WithCancel(context.Background())
	return &lane{
		src:     s,
		key:     k,
		tracker: newOffsetTracker(),
		wake:    make(chan struct{}, 1),
		ctx:     ctx,
		cancel:  cancel,
		exited:  make(chan struct{}),
	}
}

func (l *lane) String() string { return fmt.Sprintf("%s/%d", l.key.topic, l.key.partition) }

func (l *lane) tp() kafka.TopicPartition {
	t := l.key.topic
	return kafka.TopicPartition{Topic: &t, Partition: l.key.partition}
}

// push queues m; called by the poll goroutine only.
func (l *lane) push(m *kafka.Message) {
	l.mu.Lock()
	l.queue = append(l.queue, m)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// load is the number of records queued or in flight on this partition.
func (l *lane) load() int {
	l.mu.Lock()
	n := len(l.queue) - l.qhead
	l.mu.Unlock()
	return n + l.tracker.inFlight()
}

// stop asks the lane to exit: after the queued records when drop is false,
// at once otherwise. Idempotent.
func (l *lane) stop(drop bool) {
	l.mu.Lock()
	l.stopped = true
	l.drop = l.drop || drop
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *lane) next() (*kafka.Message, bool) {
	for {
		l.mu.Lock()
		if l.drop || l.ctx.Err() != nil {
			l.mu.Unlock()
			return nil, false
		}
		if l.qhead < len(l.queue) {
			m := l.queue[l.qhead]
			l.queue[l.qhead] = nil
			l.qhead++
			if l.qhead == len(l.queue) {
				l.queue = l.queue[:0]
				l.qhead = 0
			}
			l.mu.Unlock()
			return m, true
		}
		stopped := l.stopped
		l.mu.Unlock()
		if stopped {
			return nil, false
		}
		select {
		case <-l.wake:
		case <-l.ctx.Done():
		}
	}
}

func (l *lane) run() {
	defer close(l.exited)
	defer l.cancel()
	for {
		m, ok := l.next()
		if !ok {
			return
		}
		l.process(m)
	}
}

// process handles one record. Every path either finishes the record
// (delivered or dead-lettered) or leaves it unfinished (aborted), so the
// commit point never passes a record that was not dealt with.
func (l *lane) process(m *kafka.Message) {
	s := l.src
	off := int64(m.TopicPartition.Offset)
	rec := l.tracker.add(off)
	received := time.Now()

	v, schemaID, err := s.spec.Decode(l.ctx, m.Value)
	if err != nil {
		if l.ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			l.tracker.release(rec, false)
			return
		}
		class := "decode"
		if c, ok := codec.ClassOf(err); ok {
			class = string(c)
		}
		var ise *IncompatibleSchemaError
		if errors.As(err, &ise) {
			class = ClassIncompatibleSchema
			if s.spec.StopOnIncompatibleSchema {
				// Unfinished, so never committed: after a fix the source
				// resumes at this record.
				l.tracker.release(rec, false)
				s.halt("incompatible writer schema", fmt.Errorf("source %s stopped at topic %s/%d@%d (on_incompatible_schema: stop): %w", s.spec.Name, l.key.topic, l.key.partition, off, err))
				return
			}
		}
		l.poison(rec, m, class, schemaID, fmt.Errorf("decode %s topic %s/%d@%d: %w", s.spec.Profile.Name(), l.key.topic, l.key.partition, off, err))
		return
	}

	in := profile.Input{Topic: l.key.topic, Partition: l.key.partition, Offset: off, Timestamp: m.Timestamp, Key: m.Key, Value: v}
	if hu, ok := s.spec.Profile.(profile.HeaderUser); ok && len(m.Headers) > 0 && hu.UsesHeaders() {
		in.Headers = make([]profile.Header, len(m.Headers))
		for i, h := range m.Headers {
			in.Headers[i] = profile.Header{Key: h.Key, Value: h.Value}
		}
	}
	objs, err := s.spec.Profile.Normalize(&in, l.objs[:0])
	l.objs = objs[:0]
	l.ids = l.ids[:0]
	if err == nil {
		// Assets are emitted only when first seen or changed, which depends
		// on this process's history; they get their own index space (-1,
		// -2, ...) so the other objects' identities do not shift when a
		// restarted bridge re-emits an asset.
		nAsset, nOther := 0, 0
		for i, o := range objs {
			idx := nOther
			if o.ObjectType() == schemas.TypeAsset {
				nAsset++
				idx = -nAsset
			} else {
				nOther++
			}
			id := newIdentity(l.key.topic, l.key.partition, off, idx)
			id.index = idx
			l.ids = append(l.ids, id)
			if rid, has := o.RecordID(); has && rid == 0 {
				o.SetRecordID(id.RecordID)
			}
			if verr := o.Validate(); verr != nil {
				err = fmt.Errorf("object %d: %w", i, verr)
				break
			}
		}
	}
	if err != nil {
		clear(objs)
		l.poison(rec, m, ClassMapping, schemaID, fmt.Errorf("map %s topic %s/%d@%d: %w", s.spec.Profile.Name(), l.key.topic, l.key.partition, off, err))
		return
	}
	s.counters.objects.Add(uint64(len(objs)))
	msgID := s.spec.Profile.MessageID(&in)

	for i, o := range objs {
		msg := &sinks.Message{
			Object:   o,
			EventID:  l.ids[i].EventID,
			Source:   sinks.SourceRef{Topic: l.key.topic, Partition: l.key.partition, Offset: off, Index: l.ids[i].index, MessageID: msgID},
			Received: received,
		}
		ti := typeIndex(o.ObjectType())
		routed := false
		for _, r := range s.spec.Routes {
			if !r.accepts[ti] {
				continue
			}
			routed = true
			l.tracker.hold(rec, 1)
			r := r
			err := r.sink.Send(l.ctx, msg, func(res sinks.Result) { l.onResult(rec, r, msg, res) })
			if err != nil {
				// Stopped before the sink took it: unfinished.
				if errors.Is(err, sinks.ErrFatal) {
					s.halt("a sink failed fatally", fmt.Errorf("source %s stopped at topic %s/%d@%d: %w", s.spec.Name, l.key.topic, l.key.partition, off, err))
				}
				l.tracker.release(rec, false)
				clear(objs)
				l.tracker.release(rec, true)
				return
			}
		}
		if !routed {
			l.unrouted(o, ti)
		}
	}
	clear(objs)
	l.tracker.release(rec, true) // the guard
}

// unrouted counts an object that none of the source's sinks accepts and
// logs the first of each type: it is dropped by configuration, never
// silently.
func (l *lane) unrouted(o schemas.Object, ti int) {
	c := l.src.counters
	c.unrouted[ti].Add(1)
	if c.unroutedLogged[ti].CompareAndSwap(false, true) {
		names := make([]string, len(l.src.spec.Routes))
		for i, r := range l.src.spec.Routes {
			names[i] = r.sink.Name()
		}
		l.src.log.Warn("object type accepted by none of the source's sinks; its objects are dropped and counted in telebridge_objects_unrouted_total (logged once per type)",
			zap.String("type", string(o.ObjectType())), zap.Strings("sinks", names))
	}
}

func (l *lane) onResult(rec *trackedRecord, r *route, msg *sinks.Message, res sinks.Result) {
	switch res.Outcome {
	case sinks.Delivered:
		r.counters.delivered[typeIndex(msg.Object.ObjectType())].Add(1)
		l.src.latency.observe(time.Since(msg.Received))
		l.tracker.release(rec, true)
	case sinks.Failed:
		l.src.log.Error("delivery failed after all attempts; dead-lettering",
			zap.String("sink", r.sink.Name()), zap.String("event_id", msg.EventID),
			zap.String("type", string(msg.Object.ObjectType())), zap.Int("attempts", res.Attempts), zap.Error(res.Err))
		start := time.Now()
		l.src.dlq.send(outputLetter(l.src.spec.Name, r.sink.Name(), msg, res, start), func(ok bool) {
			if ok {
				r.counters.deadLettered.Add(1)
				l.observeDeadLetter(r, msg, res, start)
			}
			l.tracker.release(rec, ok)
		})
	default:
		r.counters.aborted.Add(1)
		if errors.Is(res.Err, sinks.ErrFatal) {
			l.src.halt("a sink failed fatally", fmt.Errorf("source %s stopped at topic %s/%d@%d: %w", l.src.spec.Name, l.key.topic, l.key.partition, msg.Source.Offset, res.Err))
		}
		l.tracker.release(rec, false)
	}
}

// poison dead-letters the source record and finishes it once the
// dead-letter topic acknowledged it.
func (l *lane) poison(rec *trackedRecord, m *kafka.Message, class string, schemaID int, err error) {
	s := l.src
	s.counters.poison.Add(1)
	if ok, n := s.poisonLog.Allow(class, time.Now()); ok {
		s.log.Warn("poison record dead-lettered", zap.String("class", class), zap.Error(err), zap.Int("suppressed_since_last", n))
	}
	letter := poisonLetter(s.spec.Name, s.spec.Profile.Name(), m, class, schemaID, err, time.Now())
	var ise *IncompatibleSchemaError
	if errors.As(err, &ise) {
		letter.headers = append(letter.headers, kafka.Header{Key: HeaderSchemaIncompatibilities, Value: ise.headerValue()})
	}
	s.dlq.send(letter, func(ok bool) {
		l.tracker.release(rec, ok)
	})
}

// observeDeadLetter reports the final attempt record of an object that was
// dead-lettered after its sink used every attempt: status dead-lettered,
// topic the dead-letter topic, the sink's last error.
func (l *lane) observeDeadLetter(r *route, msg *sinks.Message, res sinks.Result, start time.Time) {
	obs := l.src.spec.Observer
	if obs == nil {
		return
	}
	a := &sinks.Attempt{
		Time:      start,
		Sink:      r.sink.Name(),
		Kind:      r.sink.Kind(),
		Topic:     l.src.dlq.topic,
		Partition: -1,
		Offset:    -1,
		Status:    sinks.StatusDeadLettered,
		Number:    res.Attempts,
		Latency:   time.Since(start),
		EventID:   msg.EventID,
		Type:      msg.Object.ObjectType(),
		AssetID:   msg.Object.AssetKey(),
		Source:    msg.Source,
		Payload:   res.Payload,
	}
	if res.Err != nil {
		a.Err = res.Err.Error()
	}
	obs.ObserveAttempt(a)
}
