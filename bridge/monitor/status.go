package monitor

import (
	"sync"
	"time"

	"github.com/telebridge/telebridge/bridge"
	"github.com/telebridge/telebridge/bridge/history"
)

// Rate sampling: one sample every sampleInterval, the last maxSamples kept
// (10 minutes), for /api/v1/status rates and the dashboard's chart.
const (
	sampleInterval = 2 * time.Second
	maxSamples     = 300
)

// sample is the cumulative counters at one instant.
type sample struct {
	at       time.Time
	consumed map[string]uint64 // by source
	done     map[string]uint64 // by sink: delivered
	failed   map[string]uint64 // by sink: failed attempts (retried or final)
	dlq      uint64
}

// sampler keeps a bounded ring of samples; its run goroutine is owned by
// the Server.
type sampler struct {
	b       *bridge.Bridge
	mu      sync.Mutex
	samples []sample
}

func takeSample(st bridge.Stats, at time.Time) sample {
	s := sample{at: at, consumed: map[string]uint64{}, done: map[string]uint64{}, failed: map[string]uint64{}, dlq: st.DeadLetters}
	for n, src := range st.Sources {
		s.consumed[n] = src.Consumed
	}
	for n, sk := range st.Sinks {
		var d, f uint64
		for _, v := range sk.Delivered {
			d += v
		}
		for _, v := range sk.Retries {
			f += v
		}
		for _, v := range sk.Failed {
			f += v
		}
		s.done[n], s.failed[n] = d, f
	}
	return s
}

func (s *sampler) add(sm sample) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.samples) == maxSamples {
		copy(s.samples, s.samples[1:])
		s.samples = s.samples[:maxSamples-1]
	}
	s.samples = append(s.samples, sm)
}

func (s *sampler) run(stop <-chan struct{}) {
	t := time.NewTicker(sampleInterval)
	defer t.Stop()
	s.add(takeSample(s.b.Stats(), time.Now()))
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			s.add(takeSample(s.b.Stats(), now))
		}
	}
}

// Series is the rate history for the dashboard's chart: per-second rates
// between consecutive samples.
type Series struct {
	IntervalSeconds float64              `json:"intervalSeconds"`
	Times           []time.Time          `json:"times"`
	Sources         map[string][]float64 `json:"sources"`      // records consumed per second
	Sinks           map[string][]float64 `json:"sinks"`        // objects delivered per second
	SinkFailures    map[string][]float64 `json:"sinkFailures"` // failed attempts per second
}

func (s *sampler) series() Series {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Series{IntervalSeconds: sampleInterval.Seconds(), Sources: map[string][]float64{}, Sinks: map[string][]float64{}, SinkFailures: map[string][]float64{}}
	for i := 1; i < len(s.samples); i++ {
		a, b := s.samples[i-1], s.samples[i]
		dt := b.at.Sub(a.at).Seconds()
		if dt <= 0 {
			continue
		}
		out.Times = append(out.Times, b.at.UTC())
		for n, v := range b.consumed {
			out.Sources[n] = append(out.Sources[n], rate(a.consumed[n], v, dt))
		}
		for n, v := range b.done {
			out.Sinks[n] = append(out.Sinks[n], rate(a.done[n], v, dt))
			out.SinkFailures[n] = append(out.SinkFailures[n], rate(a.failed[n], b.failed[n], dt))
		}
	}
	return out
}

func rate(a, b uint64, dt float64) float64 {
	if b < a {
		return 0
	}
	return float64(b-a) / dt
}

// Status is the /api/v1/status document.
type Status struct {
	Time        time.Time      `json:"time"`
	Started     time.Time      `json:"started"`
	Ready       bool           `json:"ready"`
	NotReady    []string       `json:"notReady,omitempty"`
	Sources     []SourceStatus `json:"sources"`
	Sinks       []SinkStatus   `json:"sinks"`
	DeadLetters uint64         `json:"deadLetters"`
	Delivered   uint64         `json:"delivered"`
	LatencyP50  float64        `json:"latencyP50Ms"`
	LatencyP99  float64        `json:"latencyP99Ms"`
	History     *HistoryStatus `json:"history,omitempty"`
	Series      Series         `json:"series"`
}

// SourceStatus is one source in Status.
type SourceStatus struct {
	Name      string `json:"name"`
	Connected bool   `json:"connected"`
	Reason    string `json:"reason,omitempty"`
	Consumed  uint64 `json:"consumed"`
	Objects   uint64 `json:"objects"`
	Poison    uint64 `json:"poison"`
	// Unrouted counts objects no sink of the source accepts (dropped by
	// configuration); UnroutedByType splits it by object type.
	Unrouted       uint64                `json:"unrouted"`
	UnroutedByType map[string]uint64     `json:"unroutedByType"`
	InFlight       int                   `json:"inFlight"`
	Rate           float64               `json:"rate"` // records/s over the last interval
	Lag            int64                 `json:"lag"`  // sum over partitions with a known lag
	Partition      []bridge.PartitionLag `json:"partitions"`
}

// SinkStatus is one sink in Status.
type SinkStatus struct {
	Name         string  `json:"name"`
	Kind         string  `json:"kind"`
	Connected    bool    `json:"connected"`
	Reason       string  `json:"reason,omitempty"`
	Delivered    uint64  `json:"delivered"`
	Retries      uint64  `json:"retries"`
	Failed       uint64  `json:"failed"`
	DeadLettered uint64  `json:"deadLettered"`
	Aborted      uint64  `json:"aborted"`
	Rate         float64 `json:"rate"`     // delivered/s over the last interval
	FailRate     float64 `json:"failRate"` // failed attempts/s
}

// HistoryStatus describes the delivery-history store in Status.
type HistoryStatus struct {
	Path string `json:"path"`
	history.RecorderStats
}

func sum[K comparable](m map[K]uint64) uint64 {
	var n uint64
	for _, v := range m {
		n += v
	}
	return n
}

func last[V any](m map[string][]V, k string) V {
	var zero V
	if s := m[k]; len(s) > 0 {
		return s[len(s)-1]
	}
	return zero
}
