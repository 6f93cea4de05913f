package monitor

import (
	"sort"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telebridge/telebridge/bridge"
	"github.com/telebridge/telebridge/bridge/history"
	"github.com/telebridge/telebridge/schemas"
)

// collector exports the bridge's counters at scrape time from
// bridge.Stats and the history recorder's counters, so the hot path is
// instrumented once (by the bridge's own atomics).
type collector struct {
	b   *bridge.Bridge
	rec *history.Recorder // nil when history is off

	consumed, poison, objects, inFlight, srcUp, lag   *prometheus.Desc
	delivered, failed, retries, deadLettered, aborted *prometheus.Desc
	sinkUp, deadLetters, latency, ready               *prometheus.Desc
	regHits, regMisses, regFetches, regErrors         *prometheus.Desc
	histRecorded, histDropped, histFailed, histQueue  *prometheus.Desc
	histPruned, incompatible, unrouted                *prometheus.Desc
}

func newCollector(b *bridge.Bridge, rec *history.Recorder) *collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("telebridge_"+name, help, labels, nil)
	}
	return &collector{
		b: b, rec: rec,
		consumed:     d("source_consumed_total", "Source records read.", "source"),
		poison:       d("source_poison_total", "Source records dead-lettered as poison input (undecodable or unmappable).", "source"),
		incompatible: d("source_incompatible_schemas_total", "Writer schema ids the profile's reader schema cannot read (each counted once; their records are dead-lettered or stop the source).", "source"),
		objects:      d("source_objects_total", "Object-sync objects derived from source records.", "source"),
		unrouted:     d("objects_unrouted_total", "Objects dropped because none of the source's sinks accepts their type (sinks[].types); each type is logged once per source.", "source", "type"),
		inFlight:     d("source_in_flight", "Source records read but not yet delivered or dead-lettered.", "source"),
		srcUp:        d("source_connected", "1 when the source's consumer has a broker connection and its group is up.", "source"),
		lag:          d("consumer_lag", "High watermark minus committed offset per assigned source partition (-1 unknown).", "source", "topic", "partition"),
		delivered:    d("sink_delivered_total", "Objects acknowledged by the sink.", "sink", "kind", "type"),
		failed:       d("sink_failed_total", "Objects whose last attempt failed (each is then dead-lettered).", "sink", "kind", "type"),
		retries:      d("sink_retries_total", "Failed attempts that were retried.", "sink", "kind", "type"),
		deadLettered: d("sink_dead_lettered_total", "Objects written to the dead-letter topic after the sink used every attempt.", "sink", "kind", "type"),
		aborted:      d("sink_aborted_total", "Deliveries stopped by shutdown before an outcome (redelivered after restart).", "sink", "kind"),
		sinkUp:       d("sink_connected", "1 when the sink reports a connection to its destination.", "sink", "kind"),
		deadLetters:  d("dead_letters_total", "Records acknowledged by the dead-letter topic (poison input and undeliverable objects)."),
		latency:      d("end_to_end_latency_seconds", "Time from reading the source record to the sink's acknowledgement."),
		ready:        d("ready", "1 when every source and sink is connected (see /readyz)."),
		regHits:      d("registry_cache_hits_total", "Schema look-ups answered from the cache.", "registry"),
		regMisses:    d("registry_cache_misses_total", "Schema look-ups that waited for a fetch.", "registry"),
		regFetches:   d("registry_fetches_total", "HTTP requests to the schema registry.", "registry"),
		regErrors:    d("registry_errors_total", "Failed schema registry requests.", "registry"),
		histRecorded: d("history_records_total", "Delivery-history records written."),
		histDropped:  d("history_dropped_total", "Delivery-history records dropped because the write queue was full (delivery is not affected)."),
		histFailed:   d("history_write_failed_total", "Delivery-history records lost because the store refused the write."),
		histQueue:    d("history_queue_length", "Delivery-history records waiting to be written."),
		histPruned:   d("history_pruned_total", "Delivery-history records deleted by retention."),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.consumed, c.poison, c.incompatible, c.objects, c.unrouted, c.inFlight, c.srcUp, c.lag,
		c.delivered, c.failed, c.retries, c.deadLettered, c.aborted, c.sinkUp, c.deadLetters, c.latency, c.ready,
		c.regHits, c.regMisses, c.regFetches, c.regErrors} {
		ch <- d
	}
	if c.rec != nil {
		for _, d := range []*prometheus.Desc{c.histRecorded, c.histDropped, c.histFailed, c.histQueue, c.histPruned} {
			ch <- d
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := c.b.Stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, name := range sortedKeys(st.Sources) {
		s := st.Sources[name]
		counter(c.consumed, s.Consumed, name)
		counter(c.poison, s.Poison, name)
		counter(c.incompatible, s.IncompatibleSchemas, name)
		counter(c.objects, s.Objects, name)
		for _, t := range schemas.AllTypes() {
			counter(c.unrouted, s.Unrouted[t], name, string(t))
		}
		gauge(c.inFlight, float64(s.InFlight), name)
		gauge(c.srcUp, b2f(s.Connected), name)
		for _, l := range s.Lag {
			gauge(c.lag, float64(l.Lag), name, l.Topic, strconv.Itoa(int(l.Partition)))
		}
	}
	for _, name := range sortedKeys(st.Sinks) {
		s := st.Sinks[name]
		for _, t := range schemas.AllTypes() {
			ty := string(t)
			counter(c.delivered, s.Delivered[t], name, s.Kind, ty)
			counter(c.failed, s.Failed[t], name, s.Kind, ty)
			counter(c.retries, s.Retries[t], name, s.Kind, ty)
			counter(c.deadLettered, s.DeadLetteredBy[t], name, s.Kind, ty)
		}
		counter(c.aborted, s.Aborted, name, s.Kind)
		gauge(c.sinkUp, b2f(s.Connected), name, s.Kind)
	}
	counter(c.deadLetters, st.DeadLetters)
	buckets := make(map[float64]uint64, len(st.Latency.Buckets))
	for _, b := range st.Latency.Buckets {
		buckets[b.UpperBound.Seconds()] = b.Count
	}
	ch <- prometheus.MustNewConstHistogram(c.latency, st.Latency.Count, st.Latency.Sum.Seconds(), buckets)
	ok, _ := c.b.Ready()
	gauge(c.ready, b2f(ok))
	for _, name := range sortedKeys(st.Registries) {
		r := st.Registries[name]
		counter(c.regHits, r.Hits, name)
		counter(c.regMisses, r.Misses, name)
		counter(c.regFetches, r.Fetches, name)
		counter(c.regErrors, r.Errors, name)
	}
	if c.rec != nil {
		h := c.rec.Stats()
		counter(c.histRecorded, h.Recorded)
		counter(c.histDropped, h.Dropped)
		counter(c.histFailed, h.WriteFailed)
		counter(c.histPruned, h.Pruned)
		gauge(c.histQueue, float64(h.Queued))
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
