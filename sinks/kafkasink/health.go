package kafkasink

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// StatsInterval is how often librdkafka reports the statistics that
// Connected and the outage detection are derived from.
const StatsInterval = 2 * time.Second

// Connected reports whether the sink can deliver: the producer has a live
// connection to at least one broker of the cluster, according to
// librdkafka's latest statistics and client errors (a successful delivery
// also proves it), and no message waits for the cluster because its last
// attempt found it unavailable (a partition without a leader, not enough
// in-sync replicas, ...). Otherwise it gives the reason ("waiting for the
// first broker statistics", "all broker connections are down (...)", "3
// messages wait for the cluster (...)"). It implements sinks.Health.
func (s *Sink) Connected() (bool, string) {
	ok, reason := s.health.get()
	n := s.waiting.Load()
	if n <= 0 {
		return ok, reason
	}
	waits := strconv.FormatInt(n, 10) + " messages wait for the cluster (not counted as attempts)"
	if !ok {
		return false, reason + "; " + waits
	}
	if why := s.lastWhy.Load(); why != nil {
		waits += ": " + *why
	}
	return false, waits
}

// brokerHealth is the connection state of a librdkafka client, from its
// statistics (broker states, partition leaders, retransmissions), its
// error events (all brokers down) and successful deliveries.
type brokerHealth struct {
	// connected mirrors known && up for onDelivered's fast path.
	connected atomic.Bool

	mu     sync.Mutex
	known  bool
	up     bool
	reason string
	// upSince is when the current connected period began (zero while not
	// connected).
	upSince time.Time
	// lastStats is when the latest statistics were applied.
	lastStats time.Time
	// fatal is set by a fatal client error (for example the idempotent
	// producer losing its sequence): the producer cannot recover, so the
	// sink stays not connected, whatever later statistics say, until the
	// process is restarted.
	fatal bool
	// topics holds, per topic the producer has used, when the statistics
	// last showed it unavailable (a partition without a leader, a leader
	// whose connection is not up, or librdkafka retransmitting produce
	// requests after retriable broker errors such as NOT_ENOUGH_REPLICAS).
	topics map[string]*topicHealth
}

type topicHealth struct {
	troubleAt time.Time
	why       string
	retrans   int64 // retransmitted messages at the last statistics
}

func (h *brokerHealth) get() (bool, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.known {
		return false, "waiting for the first broker statistics"
	}
	if h.up && !h.lastStats.IsZero() {
		var bad []string
		for name, th := range h.topics {
			if th.troubleAt.Equal(h.lastStats) {
				bad = append(bad, "topic "+name+" unavailable: "+th.why)
			}
		}
		if len(bad) > 0 {
			sort.Strings(bad)
			return false, strings.Join(bad, "; ")
		}
	}
	return h.up, h.reason
}

// isKnown reports whether statistics, a client error or a delivery told
// the connection state yet.
func (h *brokerHealth) isKnown() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.known
}

// onError applies a client error; only "all brokers down" and fatal errors
// change the state.
func (h *brokerHealth) onError(e kafka.Error, text string) {
	if e.Code() != kafka.ErrAllBrokersDown && !e.IsFatal() {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fatal {
		return
	}
	h.known, h.up, h.upSince = true, false, time.Time{}
	h.connected.Store(false)
	h.reason = "all broker connections are down (" + text + ")"
	if e.IsFatal() {
		h.fatal = true
		h.reason = "fatal producer error (restart the bridge): " + text
	}
}

// onDelivered records that a delivery succeeded, which proves a broker
// connection. It reports whether the sink was not connected before.
func (h *brokerHealth) onDelivered(now time.Time) (cameUp bool) {
	if h.connected.Load() {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fatal || (h.known && h.up) {
		return false
	}
	h.known, h.up, h.reason, h.upSince = true, true, "", now
	h.connected.Store(true)
	return true
}

// onStats updates the state from a librdkafka statistics document. It
// reports whether the sink was not connected before and is now.
func (h *brokerHealth) onStats(doc string, now time.Time) (cameUp bool) {
	st, ok := parseStats(doc)
	if !ok {
		return false
	}
	up, reason := st.brokersUp()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lastStats = now
	if !h.fatal {
		cameUp = up && !(h.known && h.up)
		switch {
		case up && !h.known:
			// Up at the first statistics: connected since the start, as
			// far as anyone can tell.
			h.upSince = time.Time{}
		case up && !h.up:
			h.upSince = now
		}
		if !up {
			h.upSince = time.Time{}
		}
		h.known, h.up, h.reason = true, up, reason
		h.connected.Store(up)
	}
	for name, t := range st.Topics {
		if h.topics == nil {
			h.topics = make(map[string]*topicHealth)
		}
		th := h.topics[name]
		if th == nil {
			// First seen: the counters cover only the interval in which
			// the producer started using the topic.
			th = &topicHealth{}
			h.topics[name] = th
		}
		why, retrans := st.topicTrouble(t)
		if retrans > th.retrans {
			why = append(why, "librdkafka retransmitted "+strconv.FormatInt(retrans-th.retrans, 10)+
				" messages (retriable broker errors such as NOT_ENOUGH_REPLICAS or NOT_LEADER_FOR_PARTITION)")
		}
		th.retrans = retrans
		if len(why) > 0 {
			th.troubleAt, th.why = now, strings.Join(why, "; ")
		}
	}
	return cameUp
}

// unavailableSince reports whether the cluster was unavailable for topic at
// some point since start (an attempt's start time), with the reason: no
// broker connection (now, or the current connected period began after
// start, or nothing is known yet), or the statistics showed the topic
// unavailable after start - StatsInterval (statistics describe the
// interval before them).
func (h *brokerHealth) unavailableSince(topic string, start time.Time) (bool, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case !h.known:
		return true, "no broker statistics yet"
	case !h.up:
		return true, h.reason
	case h.upSince.After(start):
		return true, "the broker connection was down during the attempt"
	}
	if th := h.topics[topic]; th != nil && !th.troubleAt.IsZero() && th.troubleAt.After(start.Add(-StatsInterval)) {
		return true, "topic " + topic + " unavailable: " + th.why
	}
	return false, ""
}

// stats is the part of librdkafka's statistics JSON the sink reads.
type stats struct {
	Brokers map[string]struct {
		State  string `json:"state"`
		NodeID int32  `json:"nodeid"`
	} `json:"brokers"`
	Topics map[string]statsTopic `json:"topics"`
}

type statsTopic struct {
	Partitions map[string]struct {
		Partition int32 `json:"partition"`
		Leader    int32 `json:"leader"`
		Msgs      int64 `json:"msgs"`
		TxMsgs    int64 `json:"txmsgs"`
		Unknown   bool  `json:"unknown"`
	} `json:"partitions"`
}

func parseStats(doc string) (*stats, bool) {
	var st stats
	if err := json.Unmarshal([]byte(doc), &st); err != nil {
		return nil, false
	}
	return &st, true
}

// brokersUp reports whether at least one real broker (not a bootstrap
// entry) is in state UP, with the states of the others when none is.
func (st *stats) brokersUp() (bool, string) {
	var states []string
	for name, b := range st.Brokers {
		if b.State == "UP" && b.NodeID >= 0 {
			return true, ""
		}
		states = append(states, name+" "+b.State)
	}
	if len(states) == 0 {
		return false, "no brokers known"
	}
	sort.Strings(states)
	return false, "no broker connection: " + strings.Join(states, ", ")
}

// topicTrouble lists why t's partitions cannot take produce requests (no
// leader, leader not connected) and returns the number of messages
// librdkafka transmitted more than once (txmsgs beyond msgs), summed over
// the partitions.
func (st *stats) topicTrouble(t statsTopic) (why []string, retrans int64) {
	upNodes := make(map[int32]bool, len(st.Brokers))
	for _, b := range st.Brokers {
		if b.NodeID >= 0 {
			upNodes[b.NodeID] = b.State == "UP"
		}
	}
	var noLeader, down []string
	for _, p := range t.Partitions {
		if p.Partition < 0 {
			continue // the unassigned-messages queue
		}
		if p.TxMsgs > p.Msgs {
			retrans += p.TxMsgs - p.Msgs
		}
		if p.Unknown {
			continue
		}
		id := strconv.Itoa(int(p.Partition))
		if p.Leader < 0 {
			noLeader = append(noLeader, id)
		} else if up, known := upNodes[p.Leader]; known && !up {
			down = append(down, id)
		}
	}
	if len(noLeader) > 0 {
		sort.Strings(noLeader)
		why = append(why, "no leader for partitions "+strings.Join(noLeader, ","))
	}
	if len(down) > 0 {
		sort.Strings(down)
		why = append(why, "leader not connected for partitions "+strings.Join(down, ","))
	}
	return why, retrans
}

// BrokersUp reads librdkafka's statistics JSON and reports whether at
// least one real broker (not a bootstrap entry) is in state UP, with the
// states of the others when none is. ok is false when doc is not a
// statistics document.
func BrokersUp(doc string) (up bool, reason string, ok bool) {
	st, ok := parseStats(doc)
	if !ok {
		return false, "", false
	}
	up, reason = st.brokersUp()
	return up, reason, true
}
