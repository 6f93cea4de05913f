package monitor

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/telebridge/telebridge/sinks/kafkaws"
)

// kafkaWSCollector exports a Kafka WS endpoint's counters at scrape time
// from kafkaws.Server.Stats.
type kafkaWSCollector struct {
	ws *kafkaws.Server

	ticketsIssued, ticketsRefused, connections, accepted *prometheus.Desc
	rejected, slowClosed, subscribers, received          *prometheus.Desc
	undecodable, ticketsUnchecked, spentRecords          *prometheus.Desc
}

// KafkaWSCollector returns a Prometheus collector for ws, to pass in
// Options.Collectors so the endpoint's metrics appear on /metrics.
func KafkaWSCollector(ws *kafkaws.Server) prometheus.Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("telebridge_kafka_ws_"+name, help, labels, nil)
	}
	return &kafkaWSCollector{
		ws:               ws,
		ticketsIssued:    d("tickets_issued_total", "Tickets handed out for a valid JWT."),
		ticketsRefused:   d("tickets_refused_total", "Ticket requests and WebSocket upgrades refused: 401 (bad or missing token or ticket) or 503 (too many tickets, or a ticket the spent-ticket topic did not confirm)."),
		ticketsUnchecked: d("tickets_unchecked_total", "Tickets refused with 503 (fail closed) because the spent-ticket topic did not confirm them within ticket.spent_wait."),
		spentRecords:     d("spent_records_total", "Spent-ticket records read from ticket.spent_topic."),
		connections:      d("connections", "Open WebSocket connections."),
		accepted:         d("connections_accepted_total", "WebSocket connections that reached streaming."),
		rejected:         d("connections_rejected_total", "WebSocket connections closed at once (filter syntax, access or internal error)."),
		slowClosed:       d("connections_slow_closed_total", "WebSocket connections closed with 4429 because the client fell too far behind."),
		subscribers:      d("topic_subscribers", "WebSocket connections streaming a topic.", "topic"),
		received:         d("topic_received_total", "Kafka messages consumed for a topic's subscribers.", "topic"),
		undecodable:      d("topic_undecodable_total", "Kafka messages skipped because they were neither JSON nor decodable Avro.", "topic"),
	}
}

// Describe implements prometheus.Collector.
func (c *kafkaWSCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.ticketsIssued, c.ticketsRefused, c.connections, c.accepted,
		c.rejected, c.slowClosed, c.subscribers, c.received, c.undecodable, c.ticketsUnchecked, c.spentRecords} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *kafkaWSCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.ws.Stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(c.ticketsIssued, st.TicketsIssued)
	counter(c.ticketsRefused, st.TicketsRefused)
	counter(c.ticketsUnchecked, st.TicketsUnchecked)
	counter(c.spentRecords, st.SpentRecords)
	ch <- prometheus.MustNewConstMetric(c.connections, prometheus.GaugeValue, float64(st.Connections))
	counter(c.accepted, st.Accepted)
	counter(c.rejected, st.Rejected)
	counter(c.slowClosed, st.SlowClosed)
	for _, t := range st.Topics {
		ch <- prometheus.MustNewConstMetric(c.subscribers, prometheus.GaugeValue, float64(t.Subscribers), t.Topic)
		counter(c.received, t.Received, t.Topic)
		counter(c.undecodable, t.Undecodable, t.Topic)
	}
}
