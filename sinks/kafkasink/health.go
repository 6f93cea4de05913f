package kafkasink

import (
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// StatsInterval is how often librdkafka reports the statistics that
// Connected is derived from.
const StatsInterval = 2 * time.Second

// Connected reports whether the producer has a live connection to at least
// one broker of the cluster, according to librdkafka's latest statistics,
// with a reason when it has not ("waiting for the first broker statistics",
// "all brokers down: ..."). It implements sinks.Health.
func (s *Sink) Connected() (bool, string) { return s.health.get() }

// brokerHealth is the connection state of a librdkafka client, from its
// statistics (broker states) and error events (all brokers down).
type brokerHealth struct {
	mu     sync.Mutex
	known  bool
	up     bool
	reason string
	// fatal is set by a fatal client error (for example the idempotent
	// producer losing its sequence): the producer cannot recover, so the
	// sink stays not connected, whatever later statistics say, until the
	// process is restarted.
	fatal bool
}

func (h *brokerHealth) get() (bool, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.known {
		return false, "waiting for the first broker statistics"
	}
	return h.up, h.reason
}

func (h *brokerHealth) onError(e kafka.Error, text string) {
	if e.Code() != kafka.ErrAllBrokersDown && !e.IsFatal() {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fatal {
		return
	}
	h.known, h.up, h.reason = true, false, text
	if e.IsFatal() {
		h.fatal = true
		h.reason = "fatal producer error (restart the bridge): " + text
	}
}

// onStats updates the state from a librdkafka statistics document.
func (h *brokerHealth) onStats(doc string) {
	up, reason, ok := BrokersUp(doc)
	if !ok {
		return
	}
	h.mu.Lock()
	if !h.fatal {
		h.known, h.up, h.reason = true, up, reason
	}
	h.mu.Unlock()
}

// BrokersUp reads librdkafka's statistics JSON and reports whether at
// least one real broker (not a bootstrap entry) is in state UP, with the
// states of the others when none is. ok is false when doc is not a
// statistics document.
func BrokersUp(doc string) (up bool, reason string, ok bool) {
	var st struct {
		Brokers map[string]struct {
			State  string `json:"state"`
			NodeID int    `json:"nodeid"`
		} `json:"brokers"`
	}
	if err := json.Unmarshal([]byte(doc), &st); err != nil {
		return false, "", false
	}
	var states []string
	for name, b := range st.Brokers {
		if b.State == "UP" && b.NodeID >= 0 {
			return true, "", true
		}
		states = append(states, name+" "+b.State)
	}
	if len(states) == 0 {
		return false, "no brokers known", true
	}
	return false, "no broker connection: " + strings.Join(states, ", "), true
}
