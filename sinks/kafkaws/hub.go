package kafkaws

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"go.uber.org/zap"

	"github.com/telebridge/telebridge/codec"
)

// Timings of a topic feed.
const (
	pollTimeoutMs     = 100
	defaultDiscover   = 5 * time.Second
	metadataTimeoutMs = 10_000
	avroDecodeTimeout = 30 * time.Second
)

var errHubClosed = errors.New("server is shutting down")

// hub owns one feed (shared Kafka consumer) per topic with subscribers.
type hub struct {
	ctx     context.Context // ends when the server stops
	conn    map[string]string
	reg     *codec.Registry
	avro    *codec.AvroDecoder
	log     *zap.Logger
	groupID string
	// discoverEvery is how often each feed looks for new partitions.
	discoverEvery time.Duration

	mu     sync.Mutex
	feeds  map[string]*feed
	closed bool
	wg     sync.WaitGroup
}

func newHub(ctx context.Context, conn map[string]string, reg *codec.Registry, log *zap.Logger) *hub {
	h := &hub{ctx: ctx, conn: conn, reg: reg, log: log, feeds: map[string]*feed{}, groupID: "telebridge-kafka-ws", discoverEvery: defaultDiscover}
	if reg != nil {
		h.avro = codec.NewAvroDecoder(reg, nil)
	}
	return h
}

// feed is the shared consumer of one topic and its subscribers, grouped by
// identical filters so that each message is filtered and encoded once per
// distinct (where, fields) pair.
type feed struct {
	h     *hub
	topic string
	ready chan struct{} // closed when started or failed
	err   error         // start failure, set before ready closes
	done  chan struct{} // closed when run returns
	stop  context.CancelFunc
	refs  int // guarded by h.mu

	mu     sync.RWMutex
	groups map[groupKey]*group

	received    atomic.Uint64
	undecodable atomic.Uint64
}

type groupKey struct{ where, fields string }

type group struct {
	where  *Where
	fields *Fields
	subs   map[*conn]struct{}
}

// subscribe attaches c to topic's feed, starting the feed when c is its
// first subscriber. It returns once the feed's consumer is positioned at
// the end of every partition, so every message produced afterwards reaches
// c. Release with release.
func (h *hub) subscribe(ctx context.Context, topic string, c *conn) (*feed, error) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, errHubClosed
	}
	f := h.feeds[topic]
	if f == nil {
		fctx, cancel := context.WithCancel(h.ctx)
		f = &feed{h: h, topic: topic, ready: make(chan struct{}), done: make(chan struct{}), stop: cancel, groups: map[groupKey]*group{}}
		h.feeds[topic] = f
		h.wg.Add(1)
		go f.run(fctx)
	}
	f.refs++
	h.mu.Unlock()
	select {
	case <-f.ready:
	case <-ctx.Done():
		h.release(f, nil)
		return nil, ctx.Err()
	}
	if f.err != nil {
		h.release(f, nil)
		return nil, f.err
	}
	f.add(c)
	return f, nil
}

// release detaches c (if not nil) and stops the feed after its last
// subscriber left.
func (h *hub) release(f *feed, c *conn) {
	if c != nil {
		f.remove(c)
	}
	h.mu.Lock()
	f.refs--
	if f.refs == 0 {
		if h.feeds[f.topic] == f {
			delete(h.feeds, f.topic)
		}
		f.stop()
	}
	h.mu.Unlock()
}

// close stops every feed and waits for their consumers to close.
func (h *hub) close() {
	h.mu.Lock()
	h.closed = true
	for _, f := range h.feeds {
		f.stop()
	}
	h.mu.Unlock()
	h.wg.Wait()
}

// detach removes f from the hub so that the next subscriber starts afresh.
func (h *hub) detach(f *feed) {
	h.mu.Lock()
	if h.feeds[f.topic] == f {
		delete(h.feeds, f.topic)
	}
	h.mu.Unlock()
}

func (f *feed) add(c *conn) {
	k := groupKey{c.whereText, c.fieldsText}
	f.mu.Lock()
	g := f.groups[k]
	if g == nil {
		g = &group{where: c.where, fields: c.fields, subs: map[*conn]struct{}{}}
		f.groups[k] = g
	}
	g.subs[c] = struct{}{}
	f.mu.Unlock()
}

func (f *feed) remove(c *conn) {
	k := groupKey{c.whereText, c.fieldsText}
	f.mu.Lock()
	if g := f.groups[k]; g != nil {
		delete(g.subs, c)
		if len(g.subs) == 0 {
			delete(f.groups, k)
		}
	}
	f.mu.Unlock()
}

// failAll closes every subscriber with 4999 after a fatal consumer error.
func (f *feed) failAll(err error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	for _, g := range f.groups {
		for c := range g.subs {
			c.kill(CodeInternal, "Kafka consumer failed")
		}
	}
	f.h.log.Error("kafka-ws topic consumer failed; its subscribers were closed with 4999", zap.String("topic", f.topic), zap.Error(err))
}

func (f *feed) consumerConfig() *kafka.ConfigMap {
	cm := kafka.ConfigMap{}
	for k, v := range f.h.conn {
		cm[k] = v
	}
	// Partitions are assigned explicitly: the group is never joined and
	// nothing is committed; librdkafka only insists on a group.id.
	cm["group.id"] = f.h.groupID
	cm["enable.auto.commit"] = false
	cm["enable.auto.offset.store"] = false
	cm["enable.partition.eof"] = false
	cm["go.logs.channel.enable"] = true
	cm["queued.max.messages.kbytes"] = 8192
	cm["allow.auto.create.topics"] = false
	return &cm
}

// run starts the consumer, positions it at the end of every partition,
// then polls and dispatches until ctx ends or a fatal error.
func (f *feed) run(ctx context.Context) {
	defer f.h.wg.Done()
	defer close(f.done)
	c, err := kafka.NewConsumer(f.consumerConfig())
	if err != nil {
		f.err = fmt.Errorf("topic %s: create consumer: %w", f.topic, err)
		f.h.detach(f)
		close(f.ready)
		return
	}
	logsDone := make(chan struct{})
	go func() { defer close(logsDone); f.drainLogs(c.Logs()) }()
	defer func() {
		_ = c.Close()
		<-logsDone
	}()
	assigned := map[int32]bool{}
	if err := f.discover(c, assigned, kafka.OffsetEnd); err != nil {
		f.err = err
		f.h.detach(f)
		close(f.ready)
		return
	}
	close(f.ready)
	f.h.log.Debug("kafka-ws topic consumer started", zap.String("topic", f.topic), zap.Int("partitions", len(assigned)))
	next := time.Now().Add(f.h.discoverEvery)
	for ctx.Err() == nil {
		switch e := c.Poll(pollTimeoutMs).(type) {
		case *kafka.Message:
			if e.TopicPartition.Error == nil {
				f.dispatch(ctx, e.Value)
			}
		case kafka.Error:
			if e.IsFatal() {
				f.h.detach(f)
				f.failAll(e)
				return
			}
		}
		if now := time.Now(); now.After(next) {
			next = now.Add(f.h.discoverEvery)
			// Partitions (or the topic) that appear after the first
			// subscription are read from their beginning, so nothing
			// produced after a subscriber connected is missed.
			if err := f.discover(c, assigned, kafka.OffsetBeginning); err != nil {
				f.h.log.Debug("kafka-ws partition discovery", zap.String("topic", f.topic), zap.Error(err))
			}
		}
	}
}

// discover assigns the topic's partitions that are not yet assigned. At
// kafka.OffsetEnd the current high watermark is fetched first so that the
// position is fixed before subscribers are told they are attached.
func (f *feed) discover(c *kafka.Consumer, assigned map[int32]bool, start kafka.Offset) error {
	topic := f.topic
	md, err := c.GetMetadata(&topic, false, metadataTimeoutMs)
	if err != nil {
		return fmt.Errorf("topic %s: metadata: %w", topic, err)
	}
	tm, ok := md.Topics[topic]
	if !ok || tm.Error.Code() == kafka.ErrUnknownTopicOrPart || tm.Error.Code() == kafka.ErrUnknownTopic {
		return nil // not created yet: found by a later discovery
	}
	if tm.Error.Code() != kafka.ErrNoError {
		return fmt.Errorf("topic %s: metadata: %w", topic, tm.Error)
	}
	var add []kafka.TopicPartition
	for _, p := range tm.Partitions {
		if assigned[p.ID] {
			continue
		}
		off := start
		if start == kafka.OffsetEnd {
			_, high, err := c.QueryWatermarkOffsets(topic, p.ID, metadataTimeoutMs)
			if err != nil {
				return fmt.Errorf("topic %s/%d: end offset: %w", topic, p.ID, err)
			}
			off = kafka.Offset(high)
		}
		add = append(add, kafka.TopicPartition{Topic: &topic, Partition: p.ID, Offset: off})
	}
	if len(add) == 0 {
		return nil
	}
	if err := c.IncrementalAssign(add); err != nil {
		return fmt.Errorf("topic %s: assign: %w", topic, err)
	}
	for _, tp := range add {
		assigned[tp.Partition] = true
	}
	return nil
}

func (f *feed) drainLogs(logs <-chan kafka.LogEvent) {
	var last time.Time
	for ev := range logs {
		if ev.Level <= 4 && time.Since(last) > 30*time.Second {
			last = time.Now()
			f.h.log.Warn("librdkafka", zap.String("topic", f.topic), zap.String("tag", ev.Tag), zap.String("msg", ev.Message))
			continue
		}
		f.h.log.Debug("librdkafka", zap.String("topic", f.topic), zap.String("tag", ev.Tag), zap.String("msg", ev.Message))
	}
}

// decode turns a record value into a JSON-shaped value, and the value's
// own bytes when they can be sent as they are (valid UTF-8 JSON).
// Confluent wire-format Avro (magic byte 0) is decoded through the
// registry when one is configured; everything else must be a JSON object or
// array.
func (h *hub) decode(ctx context.Context, value []byte) (v any, raw []byte, err error) {
	if len(value) > 0 && value[0] == 0 {
		if h.avro == nil {
			return nil, nil, errors.New("value starts with the Confluent Avro magic byte, but kafka_ws has no registry to decode it")
		}
		dctx, cancel := context.WithTimeout(ctx, avroDecodeTimeout)
		defer cancel()
		v, _, err = h.avro.Decode(dctx, value)
		return v, nil, err
	}
	if t := bytes.TrimLeft(value, " \t\r\n"); len(t) > 0 && t[0] == '[' {
		// dojot JSON.parse()s any value; a top-level array is a message too.
		dec := json.NewDecoder(bytes.NewReader(value))
		dec.UseNumber()
		var arr []any
		if err := dec.Decode(&arr); err != nil {
			return nil, nil, fmt.Errorf("invalid JSON array: %w", err)
		}
		if len(bytes.TrimLeft(value[dec.InputOffset():], " \t\r\n")) != 0 {
			return nil, nil, errors.New("invalid JSON: trailing data after the array")
		}
		v = arr
	} else if v, err = codec.DecodeJSON(value); err != nil {
		return nil, nil, err
	}
	if utf8.Valid(value) {
		raw = value
	}
	return v, raw, nil
}

// dispatch decodes one message once and hands each subscriber group its
// filtered encoding. Undecodable messages are counted and skipped.
func (f *feed) dispatch(ctx context.Context, value []byte) {
	f.received.Add(1)
	v, raw, err := f.h.decode(ctx, value)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		f.undecodable.Add(1)
		f.h.log.Debug("kafka-ws skipped an undecodable message", zap.String("topic", f.topic), zap.Error(err))
		return
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	var whole []byte // encoding of the unfiltered message, made at most once
	for _, g := range f.groups {
		var out []byte
		switch {
		case g.where.Len() == 0 && g.fields == nil:
			if isEmptyValue(v) {
				continue // dojot sends no empty object
			}
			if raw != nil {
				out = raw
				break
			}
			if whole == nil {
				if whole, err = json.Marshal(v); err != nil {
					f.undecodable.Add(1)
					return
				}
			}
			out = whole
		default:
			r, send := filterMessage(g.where, g.fields, v)
			if !send {
				continue
			}
			if out, err = json.Marshal(r); err != nil {
				continue
			}
		}
		for c := range g.subs {
			c.enqueue(out)
		}
	}
}

// subscribers counts the connections attached to the feed.
func (f *feed) subscribers() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	n := 0
	for _, g := range f.groups {
		n += len(g.subs)
	}
	return n
}
