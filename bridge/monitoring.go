package bridge

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/telebridge/telebridge/schemas"
	"github.com/telebridge/telebridge/sinks"
	"github.com/telebridge/telebridge/sinks/kafkasink"
)

// statsInterval is how often librdkafka reports consumer statistics
// (broker states, group state, consumer lag), which feed Ready and the
// lag in Stats.
const statsInterval = 2 * time.Second

// Attempt status indexes for the per-sink attempt counters.
const (
	attDelivered = iota
	attRetrying
	attFailed
	attDeadLettered
	numAttemptStatuses
)

func attemptIndex(s sinks.AttemptStatus) int {
	switch s {
	case sinks.StatusDelivered:
		return attDelivered
	case sinks.StatusRetrying:
		return attRetrying
	case sinks.StatusFailed:
		return attFailed
	case sinks.StatusDeadLettered:
		return attDeadLettered
	}
	return -1
}

// attemptCounter counts every delivery attempt by sink, status and object
// type, then passes it on to the configured Observer (if any). Its map is
// built before any sink exists and never changes, so lookups need no lock.
type attemptCounter struct {
	bySink map[string]*[numAttemptStatuses][numTypes]atomic.Uint64
	next   sinks.Observer
}

func (c *attemptCounter) ObserveAttempt(a *sinks.Attempt) {
	if m := c.bySink[a.Sink]; m != nil {
		if i := attemptIndex(a.Status); i >= 0 {
			m[i][typeIndex(a.Type)].Add(1)
		}
	}
	if c.next != nil {
		c.next.ObserveAttempt(a)
	}
}

// counts returns the counters of one status by type.
func (c *attemptCounter) counts(sink string, status int) map[schemas.Type]uint64 {
	out := make(map[schemas.Type]uint64, numTypes)
	m := c.bySink[sink]
	for _, t := range schemas.AllTypes() {
		if m != nil {
			out[t] = m[status][typeIndex(t)].Load()
		} else {
			out[t] = 0
		}
	}
	return out
}

// PartitionLag is the consumer lag of one assigned source partition.
type PartitionLag struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	// Lag is the high watermark minus the committed offset (or, before
	// the first commit, minus the log start); -1 when not known yet.
	Lag           int64 `json:"lag"`
	HighWatermark int64 `json:"highWatermark"`
	Committed     int64 `json:"committed"`
}

// sourceHealth is what a source's librdkafka statistics say: whether it is
// connected and in its consumer group, and its lag per partition. Written
// by the source's poll goroutine, read by Stats.
type sourceHealth struct {
	mu       sync.Mutex
	known    bool
	up       bool
	reason   string
	lags     []PartitionLag
	inFlight int

	// assigned is the number of partitions the group gave this consumer;
	// unassignedSince is when it last became 0 (or the source started).
	assigned        int
	unassignedSince time.Time
	// joinState is librdkafka's cgrp join_state ("steady" once the
	// group's assignment is applied, even an empty one).
	joinState string
}

// assignmentGrace is how long a source may have no partitions while its
// consumer group is still rebalancing before it reports not ready. A
// static member that restarts gets its partitions back in well under a
// second; a dynamic rebalance that waits for dead members can take up to
// max.poll.interval.ms.
const assignmentGrace = 30 * time.Second

func newSourceHealth(now time.Time) *sourceHealth {
	return &sourceHealth{unassignedSince: now}
}

func (h *sourceHealth) snapshot() (up bool, reason string, lags []PartitionLag, inFlight int) {
	return h.snapshotAt(time.Now())
}

func (h *sourceHealth) snapshotAt(now time.Time) (up bool, reason string, lags []PartitionLag, inFlight int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	lags = append([]PartitionLag(nil), h.lags...)
	if !h.known {
		return false, "waiting for the first consumer statistics", lags, h.inFlight
	}
	if h.up {
		if why := h.waitingLocked(now); why != "" {
			return false, why, lags, h.inFlight
		}
	}
	return h.up, h.reason, lags, h.inFlight
}

// waiting reports, at now, why the source counts as stuck in a group
// rebalance ("" if it is not): no partitions for longer than
// assignmentGrace while the group has not settled. A consumer the settled
// group gave no partitions (more instances than partitions) is an idle
// standby, not stuck.
func (h *sourceHealth) waiting(now time.Time) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.waitingLocked(now)
}

func (h *sourceHealth) waitingLocked(now time.Time) string {
	if h.assigned > 0 || h.joinState == "steady" || now.Sub(h.unassignedSince) <= assignmentGrace {
		return ""
	}
	state := h.joinState
	if state == "" {
		state = "unknown"
	}
	return fmt.Sprintf("waiting for group rebalance since %s (%s without partitions, join state %s)", h.unassignedSince.UTC().Format(time.RFC3339), now.Sub(h.unassignedSince).Round(time.Second), state)
}

// setAssigned records the size of the consumer's assignment at now.
func (h *sourceHealth) setAssigned(n int, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if n == 0 && h.assigned > 0 {
		h.unassignedSince = now
	}
	h.assigned = n
}

func (h *sourceHealth) setInFlight(n int) {
	h.mu.Lock()
	h.inFlight = n
	h.mu.Unlock()
}

func (h *sourceHealth) down(reason string) {
	h.mu.Lock()
	h.known, h.up, h.reason = true, false, reason
	h.mu.Unlock()
}

// onStats reads a consumer statistics document: broker states, the group
// state and the lag of the partitions in assigned.
func (h *sourceHealth) onStats(doc string, assigned func(topic string, partition int32) bool) {
	up, reason, ok := kafkasink.BrokersUp(doc)
	if !ok {
		return
	}
	var st struct {
		Cgrp struct {
			State          string `json:"state"`
			JoinState      string `json:"join_state"`
			AssignmentSize int    `json:"assignment_size"`
		} `json:"cgrp"`
		Topics map[string]struct {
			Partitions map[string]struct {
				Hi        int64 `json:"hi_offset"`
				Lo        int64 `json:"lo_offset"`
				Committed int64 `json:"committed_offset"`
				Lag       int64 `json:"consumer_lag"`
			} `json:"partitions"`
		} `json:"topics"`
	}
	if err := json.Unmarshal([]byte(doc), &st); err != nil {
		return
	}
	if up && st.Cgrp.State != "" && st.Cgrp.State != "up" {
		up, reason = false, "consumer group coordinator state "+st.Cgrp.State
	}
	var lags []PartitionLag
	for topic, t := range st.Topics {
		for ps, p := range t.Partitions {
			n, err := strconv.ParseInt(ps, 10, 32)
			if err != nil || n < 0 || !assigned(topic, int32(n)) {
				continue
			}
			lag := int64(-1)
			switch {
			case p.Hi < 0:
			case p.Committed >= 0:
				lag = max(p.Hi-p.Committed, 0)
			case p.Lo >= 0:
				lag = max(p.Hi-p.Lo, 0)
			}
			lags = append(lags, PartitionLag{Topic: topic, Partition: int32(n), Lag: lag, HighWatermark: p.Hi, Committed: p.Committed})
		}
	}
	sort.Slice(lags, func(i, j int) bool {
		if lags[i].Topic != lags[j].Topic {
			return lags[i].Topic < lags[j].Topic
		}
		return lags[i].Partition < lags[j].Partition
	})
	h.mu.Lock()
	h.known, h.up, h.reason, h.lags = true, up, reason, lags
	h.joinState = st.Cgrp.JoinState
	h.mu.Unlock()
}

// LatencyBucket is one cumulative bucket of the end-to-end latency
// histogram.
type LatencyBucket struct {
	UpperBound time.Duration
	Count      uint64 // observations <= UpperBound
}

// LatencySnapshot is the end-to-end latency histogram (source record read
// to sink acknowledgement) with buckets doubling from 128µs.
type LatencySnapshot struct {
	Count   uint64
	Sum     time.Duration
	Buckets []LatencyBucket
}

// snapshot returns cumulative counts at every 4th bucket bound (powers of
// two microseconds) from 128µs.
func (h *latencyHistogram) snapshot() LatencySnapshot {
	s := LatencySnapshot{Count: h.count.Load(), Sum: time.Duration(h.sum.Load())}
	var cum uint64
	for i := range h.buckets {
		cum += h.buckets[i].Load()
		if (i+1)%4 == 0 && i+1 >= 28 {
			s.Buckets = append(s.Buckets, LatencyBucket{
				UpperBound: time.Duration(math.Exp2(float64(i+1)/4) * float64(time.Microsecond)),
				Count:      cum,
			})
		}
	}
	return s
}

// Ready reports whether the bridge is running and every source and every
// sink that can tell (sinks.Health) is connected; otherwise it lists why
// not, one reason per source or sink.
func (b *Bridge) Ready() (bool, []string) {
	var why []string
	if !b.running.Load() {
		why = append(why, "bridge not running")
	}
	for _, s := range b.sources {
		if up, reason, _, _ := s.health.snapshot(); !up {
			why = append(why, "source "+s.spec.Name+": "+reason)
		}
	}
	for _, sk := range b.sinks {
		if h, ok := sk.(sinks.Health); ok {
			if up, reason := h.Connected(); !up {
				why = append(why, "sink "+sk.Name()+": "+reason)
			}
		}
	}
	b.mu.Lock()
	dlq := b.dlq
	b.mu.Unlock()
	if dlq != nil {
		if n, last := dlq.waiting(); n > 0 {
			why = append(why, fmt.Sprintf("dead-letter topic %s: %d dead letters wait for their cluster (last error: %s)", dlq.topic, n, last))
		}
	}
	return len(why) == 0, why
}
