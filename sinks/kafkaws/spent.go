package kafkaws

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"go.uber.org/zap"
)

// The spent-ticket topic makes tickets single use across a fleet of
// instances sharing the ticket secret, with nothing but Kafka.
//
// Every record is keyed by a ticket ID (16 hex characters: the ticket's
// MAC, from which the ticket cannot be rebuilt) and holds a JSON
// spentRecord. All records go to partition 0, whatever the topic's
// partition count, so that one log orders every redemption. Each instance
// consumes partition 0 from its beginning at start (learning the tickets
// spent before it started) and then follows it.
//
// Redeeming a ticket that this instance does not already know as spent:
// produce a record (acks=all) with a fresh redemption ID, then wait until
// the consumer has read the log up to that record's offset. The first
// well-formed record for the ticket ID in the log wins: if it is ours, the
// ticket is accepted; otherwise it is refused exactly like a replayed
// ticket (401 "ticket was already used"). Every instance reads the same
// log, so a race between instances admits at most one. Tombstones and
// malformed records never win, and a record for an expired ticket is not
// remembered (the ticket's own expiry refuses it).
//
// Fail closed: when the record cannot be written and read back within the
// bound (Config.SpentWait, default 2s), the ticket is refused with 503 and
// stays spent on this instance; the client must get a new ticket.
//
// The topic is created when absent: one partition, the broker's default
// replication factor, cleanup.policy=compact,delete, retention.ms =
// max(1h, 2×TTL) and min.compaction.lag.ms = TTL (compaction never removes
// a first record while its ticket can still be redeemed).

// DefaultSpentWait bounds writing and reading back a spent-ticket record.
const DefaultSpentWait = 2 * time.Second

const (
	spentPartition = 0
	spentSetupWait = 15 * time.Second
	spentGroupID   = "telebridge-kafka-ws-spent"
)

// errTicketUnchecked refuses a ticket whose single use could not be
// confirmed through the spent-ticket topic in time (HTTP 503).
var errTicketUnchecked = errors.New("cannot confirm the ticket is unused (the spent-ticket topic did not answer in time); get a new ticket and retry")

// spentRecord is the value of a spent-ticket record.
type spentRecord struct {
	Redemption string `json:"redemption"` // 32 hex: unique per redemption attempt
	Instance   string `json:"instance,omitempty"`
	Expires    int64  `json:"expires"` // ticket expiry, Unix seconds
	At         string `json:"at"`      // redemption time, RFC 3339
}

// spentLog produces to and follows the spent-ticket topic.
type spentLog struct {
	topic     string
	wait      time.Duration
	instance  string
	tk        *tickets
	log       *zap.Logger
	prod      *kafka.Producer
	cons      *kafka.Consumer
	cancel    context.CancelFunc
	wg        sync.WaitGroup // log and event drains
	followed  chan struct{}  // closed when follow returns
	closeOnce sync.Once

	mu    sync.Mutex
	pos   int64         // every offset below pos has been read
	moved chan struct{} // closed and replaced when pos advances
	read  uint64        // records read
}

// openSpentLog checks (or creates) topic and starts following it. It fails
// when the cluster cannot be reached within spentSetupWait, the topic
// cannot be created, or its retention is shorter than the ticket TTL.
func openSpentLog(conn map[string]string, topic string, wait time.Duration, instance string, tk *tickets, log *zap.Logger) (*spentLog, error) {
	if wait <= 0 {
		wait = DefaultSpentWait
	}
	if err := ensureSpentTopic(conn, topic, tk.ttl, log); err != nil {
		return nil, fmt.Errorf("spent-ticket topic %s: %w", topic, err)
	}
	pcfg := kafka.ConfigMap{}
	ccfg := kafka.ConfigMap{}
	for k, v := range conn {
		pcfg[k], ccfg[k] = v, v
	}
	pcfg["acks"] = "all"
	pcfg["linger.ms"] = 0
	pcfg["message.timeout.ms"] = int(max(wait.Milliseconds(), 1))
	pcfg["go.logs.channel.enable"] = true
	ccfg["group.id"] = spentGroupID
	ccfg["enable.auto.commit"] = false
	ccfg["enable.auto.offset.store"] = false
	ccfg["enable.partition.eof"] = true
	ccfg["auto.offset.reset"] = "earliest"
	ccfg["fetch.wait.max.ms"] = 100
	ccfg["go.logs.channel.enable"] = true
	prod, err := kafka.NewProducer(&pcfg)
	if err != nil {
		return nil, fmt.Errorf("spent-ticket topic %s: producer: %w", topic, err)
	}
	cons, err := kafka.NewConsumer(&ccfg)
	if err != nil {
		prod.Close()
		return nil, fmt.Errorf("spent-ticket topic %s: consumer: %w", topic, err)
	}
	t := topic
	if err := cons.Assign([]kafka.TopicPartition{{Topic: &t, Partition: spentPartition, Offset: kafka.OffsetBeginning}}); err != nil {
		prod.Close()
		_ = cons.Close()
		return nil, fmt.Errorf("spent-ticket topic %s: assign: %w", topic, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &spentLog{topic: topic, wait: wait, instance: instance, tk: tk, log: log, prod: prod, cons: cons, cancel: cancel, moved: make(chan struct{}), followed: make(chan struct{})}
	l.wg.Add(3)
	go func() { defer l.wg.Done(); l.drainLogs(prod.Logs()) }()
	go func() { defer l.wg.Done(); l.drainLogs(cons.Logs()) }()
	go func() {
		defer l.wg.Done()
		for ev := range prod.Events() { // errors; deliveries use their own channel
			if e, ok := ev.(kafka.Error); ok {
				l.log.Debug("kafka-ws spent-ticket producer", zap.String("topic", topic), zap.Error(e))
			}
		}
	}()
	go func() { defer close(l.followed); l.follow(ctx) }()
	return l, nil
}

// ensureSpentTopic creates topic when absent and checks that an existing
// one keeps records at least ttl.
func ensureSpentTopic(conn map[string]string, topic string, ttl time.Duration, log *zap.Logger) error {
	cm := kafka.ConfigMap{}
	for k, v := range conn {
		cm[k] = v
	}
	ad, err := kafka.NewAdminClient(&cm)
	if err != nil {
		return fmt.Errorf("admin client: %w", err)
	}
	defer ad.Close()
	ctx, cancel := context.WithTimeout(context.Background(), spentSetupWait)
	defer cancel()
	retention := max(time.Hour, 2*ttl)
	res, err := ad.CreateTopics(ctx, []kafka.TopicSpecification{{
		Topic: topic, NumPartitions: 1, ReplicationFactor: -1,
		Config: map[string]string{
			"cleanup.policy":        "compact,delete",
			"retention.ms":          strconv.FormatInt(retention.Milliseconds(), 10),
			"min.compaction.lag.ms": strconv.FormatInt(ttl.Milliseconds(), 10),
		},
	}}, kafka.SetAdminOperationTimeout(spentSetupWait))
	if err != nil {
		return fmt.Errorf("create (is the cluster reachable?): %w", err)
	}
	switch code := res[0].Error.Code(); code {
	case kafka.ErrNoError:
		log.Info("kafka-ws created the spent-ticket topic", zap.String("topic", topic), zap.Duration("retention", retention))
		return nil
	case kafka.ErrTopicAlreadyExists:
	default:
		return fmt.Errorf("create: %w (create it yourself: 1 partition, cleanup.policy=compact,delete, retention.ms >= %d)", res[0].Error, ttl.Milliseconds())
	}
	cr, err := ad.DescribeConfigs(ctx, []kafka.ConfigResource{{Type: kafka.ResourceTopic, Name: topic}})
	if err != nil {
		return fmt.Errorf("describe configs: %w", err)
	}
	if len(cr) != 1 || cr[0].Error.Code() != kafka.ErrNoError {
		return fmt.Errorf("describe configs: %v", cr)
	}
	policy := cr[0].Config["cleanup.policy"].Value
	if strings.Contains(policy, "delete") {
		if ms, err := strconv.ParseInt(cr[0].Config["retention.ms"].Value, 10, 64); err == nil && ms >= 0 && ms < ttl.Milliseconds() {
			return fmt.Errorf("retention.ms=%d is shorter than the ticket TTL (%s): a spent ticket could be forgotten while it is valid; raise retention.ms to at least %d", ms, ttl, ttl.Milliseconds())
		}
	}
	if !strings.Contains(policy, "compact") {
		log.Warn("kafka-ws spent-ticket topic is not compacted; it works, but cleanup.policy=compact,delete keeps it small", zap.String("topic", topic), zap.String("cleanup.policy", policy))
	}
	return nil
}

// follow reads partition 0 until ctx ends, teaching tk every record.
func (l *spentLog) follow(ctx context.Context) {
	sweep := time.NewTicker(l.tk.ttl)
	defer sweep.Stop()
	for ctx.Err() == nil {
		select {
		case <-sweep.C:
			l.tk.sweep()
		default:
		}
		switch e := l.cons.Poll(pollTimeoutMs).(type) {
		case *kafka.Message:
			if e.TopicPartition.Error != nil || e.TopicPartition.Partition != spentPartition {
				continue
			}
			l.learn(e.Key, e.Value)
			l.advance(int64(e.TopicPartition.Offset) + 1)
		case kafka.PartitionEOF:
			if e.Partition == spentPartition && e.Offset >= 0 {
				l.advance(int64(e.Offset))
			}
		case kafka.Error:
			l.log.Debug("kafka-ws spent-ticket consumer", zap.String("topic", l.topic), zap.Error(e))
		}
	}
}

// learn applies one record; tombstones and malformed records are skipped.
func (l *spentLog) learn(key, value []byte) {
	if value == nil {
		return
	}
	var id [8]byte
	var rec spentRecord
	var owner [16]byte
	if len(key) != 16 || func() error { _, err := hex.Decode(id[:], key); return err }() != nil ||
		json.Unmarshal(value, &rec) != nil || len(rec.Redemption) != 32 ||
		func() error { _, err := hex.Decode(owner[:], []byte(rec.Redemption)); return err }() != nil || owner == [16]byte{} {
		l.log.Debug("kafka-ws skipped a malformed spent-ticket record", zap.String("topic", l.topic))
		return
	}
	l.mu.Lock()
	l.read++
	l.mu.Unlock()
	l.tk.learn(id, rec.Expires, owner)
}

func (l *spentLog) advance(pos int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if pos > l.pos {
		l.pos = pos
		close(l.moved)
		l.moved = make(chan struct{})
	}
}

// claim decides a redemption of r through the log: nil when this
// redemption's record is the first for the ticket, errTicketUsed when
// another one is, errTicketUnchecked (wrapping the cause) when the record
// could not be written and read back within the wait bound.
func (l *spentLog) claim(ctx context.Context, r redeemed) error {
	ctx, cancel := context.WithTimeout(ctx, l.wait)
	defer cancel()
	var me [16]byte
	if _, err := rand.Read(me[:]); err != nil {
		return fmt.Errorf("%w: redemption id: %v", errTicketUnchecked, err)
	}
	val, err := json.Marshal(spentRecord{Redemption: hex.EncodeToString(me[:]), Instance: l.instance, Expires: r.exp, At: time.Now().UTC().Format(time.RFC3339Nano)})
	if err != nil {
		return fmt.Errorf("%w: %v", errTicketUnchecked, err)
	}
	topic := l.topic
	dr := make(chan kafka.Event, 1)
	if err := l.prod.Produce(&kafka.Message{
		TopicPartition: kafka.TopicPartition{Topic: &topic, Partition: spentPartition},
		Key:            []byte(hex.EncodeToString(r.id[:])),
		Value:          val,
	}, dr); err != nil {
		return fmt.Errorf("%w: produce: %v", errTicketUnchecked, err)
	}
	var off int64
	select {
	case ev := <-dr:
		m, ok := ev.(*kafka.Message)
		if !ok {
			return fmt.Errorf("%w: unexpected delivery event %v", errTicketUnchecked, ev)
		}
		if m.TopicPartition.Error != nil {
			return fmt.Errorf("%w: produce: %v", errTicketUnchecked, m.TopicPartition.Error)
		}
		off = int64(m.TopicPartition.Offset)
	case <-ctx.Done():
		return fmt.Errorf("%w: produce: no delivery report within %s", errTicketUnchecked, l.wait)
	}
	for {
		l.mu.Lock()
		pos, moved := l.pos, l.moved
		l.mu.Unlock()
		if pos > off {
			break
		}
		select {
		case <-moved:
		case <-ctx.Done():
			return fmt.Errorf("%w: read back: offset %d not read within %s (read up to %d)", errTicketUnchecked, off, l.wait, pos)
		}
	}
	owner, ok := l.tk.owner(r.id)
	switch {
	case !ok:
		return errTicketExpired // expired and forgotten while waiting
	case owner != me:
		return errTicketUsed
	}
	return nil
}

// records returns how many well-formed records were read.
func (l *spentLog) records() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.read
}

func (l *spentLog) drainLogs(logs <-chan kafka.LogEvent) {
	var last time.Time
	for ev := range logs {
		if ev.Level <= 4 && time.Since(last) > 30*time.Second {
			last = time.Now()
			l.log.Warn("librdkafka", zap.String("topic", l.topic), zap.String("tag", ev.Tag), zap.String("msg", ev.Message))
			continue
		}
		l.log.Debug("librdkafka", zap.String("topic", l.topic), zap.String("tag", ev.Tag), zap.String("msg", ev.Message))
	}
}

// close stops following, closes both clients and waits for their
// goroutines. Records still queued are dropped (their redemptions have
// already been refused by their wait bound or the server is stopping).
func (l *spentLog) close() { l.closeOnce.Do(l.closeClients) }

func (l *spentLog) closeClients() {
	l.cancel()
	<-l.followed
	_ = l.cons.Close()
	l.prod.Close()
	l.wg.Wait()
}
