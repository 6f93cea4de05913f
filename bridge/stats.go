package bridge

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/telebridge/telebridge/codec"
	"github.com/telebridge/telebridge/schemas"
)

// typeIndex maps an object type to a dense index for per-type counters.
func typeIndex(t schemas.Type) int {
	switch t {
	case schemas.TypeAsset:
		return 0
	case schemas.TypeLocation:
		return 1
	case schemas.TypeSensorData:
		return 2
	case schemas.TypeReeferData:
		return 3
	case schemas.TypeGensetData:
		return 4
	case schemas.TypeGtoemData:
		return 5
	}
	return 0
}

const numTypes = 6

// sourceCounters are the live counters of one source.
type sourceCounters struct {
	consumed atomic.Uint64
	poison   atomic.Uint64
	objects  atomic.Uint64
	// incompatibleSchemas counts writer schema ids found incompatible with
	// the profile's reader schema.
	incompatibleSchemas atomic.Uint64
	// unrouted counts, by type, objects that no sink of the source accepts
	// (dropped, by configuration); unroutedLogged marks the types already
	// logged, so each is logged once per source.
	unrouted       [numTypes]atomic.Uint64
	unroutedLogged [numTypes]atomic.Bool
}

// sinkCounters are the live counters of one sink.
type sinkCounters struct {
	delivered    [numTypes]atomic.Uint64
	deadLettered atomic.Uint64
	aborted      atomic.Uint64
}

// latencyHistogram is a lock-free histogram of end-to-end latencies with
// buckets growing by 2^(1/4), from 1µs to about 3 hours.
type latencyHistogram struct {
	buckets [136]atomic.Uint64
	count   atomic.Uint64
	sum     atomic.Int64 // nanoseconds
}

func (h *latencyHistogram) observe(d time.Duration) {
	us := float64(d) / float64(time.Microsecond)
	i := 0
	if us > 1 {
		i = int(math.Log2(us) * 4)
	}
	if i >= len(h.buckets) {
		i = len(h.buckets) - 1
	}
	h.buckets[i].Add(1)
	h.count.Add(1)
	h.sum.Add(int64(d))
}

// quantile returns the upper bound of the bucket holding quantile q.
func (h *latencyHistogram) quantile(q float64) time.Duration {
	n := h.count.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	var seen uint64
	for i := range h.buckets {
		seen += h.buckets[i].Load()
		if seen >= rank {
			return time.Duration(math.Exp2(float64(i+1)/4) * float64(time.Microsecond))
		}
	}
	return time.Duration(math.Exp2(float64(len(h.buckets))/4) * float64(time.Microsecond))
}

// Stats is a snapshot of the bridge's counters.
type Stats struct {
	Sources map[string]SourceStats
	Sinks   map[string]SinkStats
	// DeadLetters counts records acknowledged by the dead-letter topic.
	DeadLetters uint64
	// LatencyP50 and LatencyP99 are end-to-end latencies from the source
	// record's timestamp to the sink's acknowledgement.
	LatencyP50, LatencyP99 time.Duration
	Delivered              uint64
	// Latency is the end-to-end latency histogram.
	Latency LatencySnapshot
	// Registries holds each schema registry's cache counters.
	Registries map[string]codec.RegistryStats
}

// SourceStats counts one source's records.
type SourceStats struct {
	Consumed uint64 // records read
	Poison   uint64 // records dead-lettered as poison input
	Objects  uint64 // objects derived
	// IncompatibleSchemas counts the writer schema ids seen on this source
	// that the profile's pinned reader schema cannot read (each counted
	// once; their records are dead-lettered or stop the source).
	IncompatibleSchemas uint64
	// Unrouted counts, by object type, the objects derived from this
	// source that none of its sinks accepts (no routed sink lists the type
	// in sinks[].types). They are dropped, and their records committed, by
	// configuration; every type is present, zero or not.
	Unrouted map[schemas.Type]uint64
	// Connected is true when librdkafka reports a live broker connection
	// and the consumer group is up; Reason tells why not.
	Connected bool
	Reason    string
	// InFlight counts records read but not yet finished.
	InFlight int
	// Lag lists the assigned partitions' consumer lag.
	Lag []PartitionLag
}

// SinkStats counts one sink's outcomes.
type SinkStats struct {
	Delivered    map[schemas.Type]uint64
	DeadLettered uint64
	Aborted      uint64
	Kind         string
	// Connected is the sink's own report (sinks.Health); sinks that
	// cannot tell are reported connected.
	Connected bool
	Reason    string
	// Retries counts failed attempts that will be retried, Failed the
	// final failed attempts (each is then dead-lettered), DeadLetteredBy
	// the dead-lettered objects, all by object type.
	Retries        map[schemas.Type]uint64
	Failed         map[schemas.Type]uint64
	DeadLetteredBy map[schemas.Type]uint64
}
