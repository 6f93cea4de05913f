package bridge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"go.uber.org/zap"

	"github.com/telebridge/telebridge/bridge/config"
	"github.com/telebridge/telebridge/bridge/profile"
	"github.com/telebridge/telebridge/sinks"
)

// Start positions of a source.
const (
	StartCommitted = "committed"
	StartEarliest  = "earliest"
	StartLatest    = "latest"
)

// decodeFunc decodes one record value. schemaID is -1 when the format has
// none. An error that wraps context.Canceled or DeadlineExceeded means
// "stopped", not poison.
type decodeFunc func(ctx context.Context, value []byte) (v any, schemaID int, err error)

// route is one sink a source's objects go to, with the types it accepts.
type route struct {
	sink     sinks.Sink
	counters *sinkCounters
	accepts  [numTypes]bool
}

// sourceSpec is everything a source needs, resolved from the config.
type sourceSpec struct {
	Name        string
	ClusterName string
	User        string
	Conn        map[string]string
	Topics      []string
	GroupID     string
	// InstanceID, when set, is the consumer's group.instance.id: static
	// membership, so a restart within session.timeout.ms gets the same
	// partitions back without a rebalance. "" means dynamic membership.
	InstanceID  string
	Start       string
	Profile     profile.Profile
	Decode      decodeFunc
	Routes      []*route
	MaxInFlight int
	// CommitInterval is how often finished offsets are committed.
	CommitInterval time.Duration
	// DrainTimeout bounds how long a revoke or shutdown waits for
	// in-flight deliveries before committing what finished.
	DrainTimeout time.Duration
	// StopOnIncompatibleSchema stops the source, instead of dead-lettering,
	// at a record whose writer schema the profile cannot read.
	StopOnIncompatibleSchema bool
	// counters, if set, are the source's counters (the decode function
	// may already count into them); else newSource makes them.
	counters *sourceCounters
	// Observer receives the bridge's own attempt records (dead-lettered).
	Observer sinks.Observer
}

type tpKey struct {
	topic     string
	partition int32
}

// source consumes one consumer group subscription and feeds per-partition
// lanes. Only its run goroutine touches the consumer.
type source struct {
	spec     sourceSpec
	log      *zap.Logger
	dlq      *deadLetterWriter
	counters *sourceCounters
	latency  *latencyHistogram
	health   *sourceHealth

	consumer *kafka.Consumer
	lanes    map[tpKey]*lane
	paused   map[tpKey]*lane
	started  map[tpKey]bool // partitions already positioned by Start
	fatal    error
	closing  bool
	lanesWG  sync.WaitGroup
	// poisonLog throttles poison-record logs per error class: each poison
	// record is counted, and logged at most once per class per second.
	poisonLog *sinks.LogLimiter
	// halted is set by a lane that must stop the source; the run loop turns
	// it into the fatal error.
	halted atomic.Pointer[error]
	// rebalanceWaitLogged is set once "waiting for group rebalance" was
	// logged, until partitions arrive.
	rebalanceWaitLogged bool
}

func newSource(spec sourceSpec, log *zap.Logger, dlq *deadLetterWriter, latency *latencyHistogram) *source {
	counters := spec.counters
	if counters == nil {
		counters = &sourceCounters{}
	}
	return &source{
		spec:      spec,
		log:       log.With(zap.String("source", spec.Name)),
		dlq:       dlq,
		counters:  counters,
		health:    newSourceHealth(time.Now()),
		latency:   latency,
		lanes:     make(map[tpKey]*lane),
		paused:    make(map[tpKey]*lane),
		started:   make(map[tpKey]bool),
		poisonLog: sinks.NewLogLimiter(time.Second, 64),
	}
}

func (s *source) consumerConfig() *kafka.ConfigMap {
	reset := "earliest"
	if s.spec.Start == StartLatest {
		reset = "latest"
	}
	overrides := map[string]kafka.ConfigValue{
		"group.id":                        s.spec.GroupID,
		"enable.auto.commit":              false,
		"enable.auto.offset.store":        false,
		"auto.offset.reset":               reset,
		"go.logs.channel.enable":          true,
		"queued.max.messages.kbytes":      16384,
		"enable.partition.eof":            false,
		"go.application.rebalance.enable": true,
		"statistics.interval.ms":          int(statsInterval / time.Millisecond),
	}
	if s.spec.InstanceID != "" {
		overrides["group.instance.id"] = s.spec.InstanceID
	}
	// Cooperative rebalancing moves only the partitions that change owner:
	// the others keep flowing while those drain and commit. A cluster's
	// properties may choose another strategy.
	if _, set := s.spec.Conn["partition.assignment.strategy"]; !set {
		overrides["partition.assignment.strategy"] = "cooperative-sticky"
	}
	return configMap(s.spec.Conn, overrides)
}

// run consumes until ctx ends or a fatal error (authentication refused,
// fatal client error) occurs, then drains in-flight work up to
// DrainTimeout, commits what finished and leaves the group. It returns the
// fatal error, or nil after a requested stop.
func (s *source) run(ctx context.Context) error {
	c, err := kafka.NewConsumer(s.consumerConfig())
	if err != nil {
		return fmt.Errorf("source %s: create consumer: %w", s.spec.Name, err)
	}
	s.consumer = c
	th := sinks.NewLogLimiter(30*time.Second, 1024)
	logsDone := make(chan struct{})
	go func() { defer close(logsDone); drainLogs(c.Logs(), s.log, th) }()
	defer func() {
		if err := c.Close(); err != nil {
			s.log.Warn("close consumer", zap.Error(err))
		}
		<-logsDone
	}()

	if err := c.SubscribeTopics(s.spec.Topics, s.rebalance); err != nil {
		return fmt.Errorf("source %s: subscribe %v: %w", s.spec.Name, s.spec.Topics, err)
	}
	s.log.Info("source started", zap.Strings("topics", s.spec.Topics), zap.String("group", s.spec.GroupID), zap.String("instance_id", s.spec.InstanceID), zap.String("start", s.spec.Start))

	commitTick := time.NewTicker(s.spec.CommitInterval)
	defer commitTick.Stop()
	for ctx.Err() == nil && s.fatal == nil {
		ev := c.Poll(50)
		switch e := ev.(type) {
		case *kafka.Message:
			s.onMessage(e)
		case kafka.Error:
			s.onError(e, th)
		case *kafka.Stats:
			s.health.onStats(e.String(), func(topic string, partition int32) bool {
				_, ok := s.lanes[tpKey{topic, partition}]
				return ok
			})
		}
		s.resumeDrained()
		if p := s.halted.Load(); p != nil {
			s.fatal = *p
			break
		}
		select {
		case <-commitTick.C:
			s.commit(s.allKeys())
			s.health.setInFlight(s.inFlight())
			s.logRebalanceWait()
		default:
		}
	}
	s.shutdown()
	return s.fatal
}

func (s *source) onMessage(m *kafka.Message) {
	if m.TopicPartition.Error != nil {
		s.log.Warn("consume error", zap.Error(m.TopicPartition.Error))
		return
	}
	k := tpKey{*m.TopicPartition.Topic, m.TopicPartition.Partition}
	l := s.lanes[k]
	if l == nil {
		return // not (or no longer) assigned: it will be redelivered to the owner
	}
	s.counters.consumed.Add(1)
	l.push(m)
	if _, p := s.paused[k]; !p && l.load() >= s.spec.MaxInFlight {
		if err := s.consumer.Pause([]kafka.TopicPartition{l.tp()}); err != nil {
			s.log.Warn("pause partition", zap.String("partition", l.String()), zap.Error(err))
			return
		}
		s.paused[k] = l
	}
}

func (s *source) resumeDrained() {
	for k, l := range s.paused {
		if l.load() > s.spec.MaxInFlight/2 {
			continue
		}
		if err := s.consumer.Resume([]kafka.TopicPartition{l.tp()}); err != nil {
			s.log.Warn("resume partition", zap.String("partition", l.String()), zap.Error(err))
			continue
		}
		delete(s.paused, k)
	}
}

func (s *source) onError(e kafka.Error, th *sinks.LogLimiter) {
	if isAuthError(e) {
		s.fatal = authError("source "+s.spec.Name, s.spec.ClusterName, s.spec.User, e)
		return
	}
	if e.Code() == kafka.ErrFencedInstanceID {
		s.fatal = fmt.Errorf("source %s: group %q: another process joined with this instance's instance_id %q and fenced it; every running instance needs its own instance_id (set instance_id or %s, e.g. to the pod name): %w", s.spec.Name, s.spec.GroupID, s.spec.InstanceID, config.InstanceIDEnv, e)
		return
	}
	if e.IsFatal() {
		s.fatal = fmt.Errorf("source %s: fatal consumer error: %w", s.spec.Name, e)
		return
	}
	if e.Code() == kafka.ErrAllBrokersDown {
		s.health.down(e.String())
	}
	if ok, n := th.Allow("err:"+e.Error(), time.Now()); ok {
		s.log.Warn("consumer error (retrying)", zap.String("cluster", s.spec.ClusterName), zap.String("error", e.String()), zap.Int("suppressed", n))
	}
}

// rebalance runs on the poll goroutine inside Poll.
func (s *source) rebalance(c *kafka.Consumer, ev kafka.Event) error {
	cooperative := c.GetRebalanceProtocol() == "COOPERATIVE"
	switch e := ev.(type) {
	case kafka.AssignedPartitions:
		parts := make([]kafka.TopicPartition, len(e.Partitions))
		copy(parts, e.Partitions)
		for i := range parts {
			k := tpKey{*parts[i].Topic, parts[i].Partition}
			if !s.started[k] {
				s.started[k] = true
				switch s.spec.Start {
				case StartEarliest:
					parts[i].Offset = kafka.OffsetBeginning
				case StartLatest:
					parts[i].Offset = kafka.OffsetEnd
				}
			}
			s.startLane(k)
		}
		s.health.setAssigned(len(s.lanes), time.Now())
		if s.rebalanceWaitLogged {
			s.rebalanceWaitLogged = false
			s.log.Info("partitions assigned after a long group rebalance; ready again", zap.Int("count", len(parts)))
		} else {
			s.log.Info("partitions assigned", zap.Int("count", len(parts)))
		}
		if cooperative {
			return c.IncrementalAssign(parts)
		}
		return c.Assign(parts)
	case kafka.RevokedPartitions:
		keys := make([]tpKey, 0, len(e.Partitions))
		for _, p := range e.Partitions {
			keys = append(keys, tpKey{*p.Topic, p.Partition})
		}
		lost := c.AssignmentLost()
		if !s.closing {
			s.stopLanes(keys, true)
			if !lost {
				s.commit(keys)
			}
		}
		for _, k := range keys {
			delete(s.lanes, k)
			delete(s.paused, k)
		}
		s.health.setAssigned(len(s.lanes), time.Now())
		s.log.Info("partitions revoked", zap.Int("count", len(keys)), zap.Bool("lost", lost))
		if cooperative {
			return c.IncrementalUnassign(e.Partitions)
		}
		return c.Unassign()
	}
	return nil
}

// logRebalanceWait logs once why the source is not ready while its group
// has not given it partitions for longer than assignmentGrace.
func (s *source) logRebalanceWait() {
	if s.rebalanceWaitLogged {
		return
	}
	if why := s.health.waiting(time.Now()); why != "" {
		s.rebalanceWaitLogged = true
		hint := "a member that died without leaving holds the rebalance until its session times out"
		if s.spec.InstanceID == "" {
			hint += "; set instance_id (static membership) so restarts do not rebalance"
		}
		s.log.Warn("not ready: "+why, zap.String("group", s.spec.GroupID), zap.String("hint", hint))
	}
}

func (s *source) startLane(k tpKey) {
	if _, ok := s.lanes[k]; ok {
		return
	}
	l := newLane(s, k)
	s.lanes[k] = l
	s.lanesWG.Add(1)
	go func() {
		defer s.lanesWG.Done()
		l.run()
	}()
}

// inFlight counts the records queued or in flight on every lane.
func (s *source) inFlight() int {
	n := 0
	for _, l := range s.lanes {
		n += l.load()
	}
	return n
}

func (s *source) allKeys() []tpKey {
	keys := make([]tpKey, 0, len(s.lanes))
	for k := range s.lanes {
		keys = append(keys, k)
	}
	return keys
}

// stopLanes stops the lanes of keys and waits for their in-flight
// deliveries up to DrainTimeout. With drop, queued records not yet started
// are dropped (the next owner re-reads them); without, the lanes first
// process what they hold.
func (s *source) stopLanes(keys []tpKey, drop bool) {
	deadline := time.NewTimer(s.spec.DrainTimeout)
	defer deadline.Stop()
	var ls []*lane
	for _, k := range keys {
		if l := s.lanes[k]; l != nil {
			l.stop(drop)
			ls = append(ls, l)
		}
	}
	expired := false // the deadline's single tick was consumed
	for _, l := range ls {
		if expired {
			<-l.exited
			continue
		}
		select {
		case <-l.exited:
		case <-deadline.C:
			expired = true
			for _, l := range ls {
				l.cancel()
			}
			<-l.exited
		}
	}
	for _, l := range ls {
		if ch := l.tracker.waitDrained(); ch != nil {
			if !expired {
				select {
				case <-ch:
					continue
				case <-deadline.C:
				}
			}
			s.log.Warn("drain timed out; unfinished records will be redelivered", zap.String("partition", l.String()), zap.Int("in_flight", l.tracker.inFlight()))
			return
		}
	}
}

// commit commits the finished prefix of each partition in keys.
func (s *source) commit(keys []tpKey) {
	var offs []kafka.TopicPartition
	for _, k := range keys {
		l := s.lanes[k]
		if l == nil {
			continue
		}
		if off, ok := l.tracker.toCommit(); ok {
			tp := l.tp()
			tp.Offset = kafka.Offset(off)
			offs = append(offs, tp)
		}
	}
	if len(offs) == 0 {
		return
	}
	if _, err := s.consumer.CommitOffsets(offs); err != nil {
		var kerr kafka.Error
		if errors.As(err, &kerr) && kerr.Code() == kafka.ErrNoOffset {
			return
		}
		s.log.Warn("commit offsets failed; will retry", zap.Error(err))
		for _, tp := range offs {
			if l := s.lanes[tpKey{*tp.Topic, tp.Partition}]; l != nil {
				l.tracker.uncommit(int64(tp.Offset))
			}
		}
	}
}

// shutdown processes what the lanes hold, waits for deliveries up to
// DrainTimeout, and commits.
func (s *source) shutdown() {
	s.closing = true
	keys := s.allKeys()
	s.stopLanes(keys, s.fatal != nil)
	s.commit(keys)
	s.lanesWG.Wait()
	s.log.Info("source stopped", zap.Uint64("consumed", s.counters.consumed.Load()))
}

// halt makes the source stop with err (the first halt wins; it is logged
// once with why). Records left unfinished are never committed, so after a
// restart the source resumes at them.
func (s *source) halt(why string, err error) {
	if s.halted.CompareAndSwap(nil, &err) {
		s.log.Error("stopping the source: "+why, zap.Error(err))
	}
}
