// Package history records every delivery attempt of every object to every
// sink, keeps the records in an embedded SQLite database and answers
// queries over them (for the HTTP API, the dashboard and `telebridge
// history`).
//
// Recording is off the hot path: a Recorder is a sinks.Observer whose
// ObserveAttempt copies the attempt into a bounded queue and returns at
// once. One writer goroutine, owned by whoever called Recorder.Run, drains
// the queue in batches, inserting each batch in one transaction. When the
// queue is full the record is dropped and counted (Stats.Dropped, metric
// telebridge_history_dropped_total): history never slows or stalls
// delivery. Retention by age and by size runs periodically in the same
// goroutine.
//
// The store is a single SQLite file in WAL mode (modernc.org/sqlite, pure
// Go), so other processes (the CLI) can read it while the bridge writes.
package history

import (
	"encoding/json"
	"time"

	"github.com/telebridge/telebridge/sinks"
)

// Statuses of a record. The first three are reported by sinks; the last by
// the bridge once the dead-letter topic has acknowledged an object whose
// attempts were all used.
const (
	StatusDelivered    = string(sinks.StatusDelivered)
	StatusRetrying     = string(sinks.StatusRetrying)
	StatusFailed       = string(sinks.StatusFailed)
	StatusDeadLettered = string(sinks.StatusDeadLettered)
)

// Statuses lists every record status, in lifecycle order.
func Statuses() []string {
	return []string{StatusDelivered, StatusRetrying, StatusFailed, StatusDeadLettered}
}

// IsFinal reports whether status ends a delivery: delivered or
// dead-lettered. (A "failed" record is the last sink attempt; the
// dead-letter record follows it.)
func IsFinal(status string) bool {
	return status == StatusDelivered || status == StatusDeadLettered
}

// Record is one delivery attempt of one object to one sink.
type Record struct {
	// ID orders records by insertion; it is the pagination cursor.
	ID   int64     `json:"id"`
	Time time.Time `json:"time"`
	Sink string    `json:"sink"`
	Kind string    `json:"kind"`
	// Topic is the destination topic (Kafka or MQTT), or the dead-letter
	// topic for a dead-lettered record.
	Topic string `json:"topic,omitempty"`
	// Partition and Offset locate the Kafka record; -1 when unknown (a
	// failed attempt, MQTT).
	Partition int32 `json:"partition"`
	Offset    int64 `json:"offset"`
	// QoS is the MQTT QoS; nil for other sinks.
	QoS     *int   `json:"qos,omitempty"`
	Status  string `json:"status"`
	Error   string `json:"error,omitempty"`
	Attempt int    `json:"attempt"`
	// Latency is the attempt's duration, from hand-off to the outcome.
	Latency         time.Duration `json:"-"`
	LatencyMillis   float64       `json:"latencyMs"`
	EventID         string        `json:"eventId"`
	Type            string        `json:"type"`
	AssetID         string        `json:"assetId,omitempty"`
	SourceTopic     string        `json:"sourceTopic"`
	SourcePartition int32         `json:"sourcePartition"`
	SourceOffset    int64         `json:"sourceOffset"`
	// SourceMessageID is the provider's id of the source message (MOBITO's
	// uuid); empty, and omitted, when the feed has none.
	SourceMessageID string `json:"sourceMessageId,omitempty"`
	// PayloadSize is the full payload size in bytes; Payload holds at most
	// the configured number of bytes (PayloadTruncated tells), and is nil
	// when payloads are off or not requested.
	PayloadSize      int    `json:"payloadSize"`
	Payload          []byte `json:"-"`
	PayloadTruncated bool   `json:"payloadTruncated,omitempty"`
}

// FromAttempt converts a sink attempt into a record, keeping at most
// maxPayload bytes of the payload (none when maxPayload <= 0). The payload
// is shared, not copied (see sinks.Observer).
func FromAttempt(a *sinks.Attempt, maxPayload int) Record {
	r := Record{
		Time:            a.Time,
		Sink:            a.Sink,
		Kind:            a.Kind,
		Topic:           a.Topic,
		Partition:       a.Partition,
		Offset:          a.Offset,
		Status:          string(a.Status),
		Error:           a.Err,
		Attempt:         a.Number,
		Latency:         a.Latency,
		LatencyMillis:   float64(a.Latency) / float64(time.Millisecond),
		EventID:         a.EventID,
		Type:            string(a.Type),
		AssetID:         a.AssetID,
		SourceTopic:     a.Source.Topic,
		SourcePartition: a.Source.Partition,
		SourceOffset:    a.Source.Offset,
		SourceMessageID: a.Source.MessageID,
		PayloadSize:     len(a.Payload),
	}
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	if a.Status != sinks.StatusDelivered {
		// Only a delivered record has an offset; what a client reports
		// for a failed attempt is meaningless.
		r.Offset = -1
	}
	if a.Kind == "mqtt" {
		q := int(a.QoS)
		r.QoS = &q
	}
	if maxPayload > 0 && len(a.Payload) > 0 {
		n := min(len(a.Payload), maxPayload)
		r.Payload = a.Payload[:n:n]
		r.PayloadTruncated = n < len(a.Payload)
	}
	return r
}

// Delivery is every attempt of one object (eventId) to one sink, oldest
// first, with the delivery's current status.
type Delivery struct {
	Sink string `json:"sink"`
	Kind string `json:"kind"`
	// Status is the newest attempt's status; Final tells whether it ends
	// the delivery (delivered or dead-lettered).
	Status   string   `json:"status"`
	Final    bool     `json:"final"`
	Attempts []Record `json:"attempts"`
}

// Event is everything recorded for one eventId: its object and one
// Delivery per sink it was routed to.
type Event struct {
	EventID         string     `json:"eventId"`
	Type            string     `json:"type"`
	AssetID         string     `json:"assetId,omitempty"`
	SourceTopic     string     `json:"sourceTopic"`
	SourcePartition int32      `json:"sourcePartition"`
	SourceOffset    int64      `json:"sourceOffset"`
	SourceMessageID string     `json:"sourceMessageId,omitempty"`
	Deliveries      []Delivery `json:"deliveries"`
	// Payload is the newest recorded payload (possibly truncated); nil
	// when payloads are off.
	Payload          []byte `json:"-"`
	PayloadTruncated bool   `json:"payloadTruncated,omitempty"`
}

// recordJSON is Record's wire form: the payload is embedded as JSON when it
// is valid JSON, else as text (a truncated payload).
type recordJSON struct {
	recordAlias
	PayloadJSON json.RawMessage `json:"payload,omitempty"`
	PayloadText string          `json:"payloadText,omitempty"`
}

type recordAlias Record

// MarshalJSON encodes the record with its payload as JSON (or as
// payloadText when it is not valid JSON, e.g. truncated).
func (r Record) MarshalJSON() ([]byte, error) {
	w := recordJSON{recordAlias: recordAlias(r)}
	w.PayloadJSON, w.PayloadText = payloadWire(r.Payload)
	return json.Marshal(w)
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (r *Record) UnmarshalJSON(b []byte) error {
	var w recordJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*r = Record(w.recordAlias)
	r.Latency = time.Duration(r.LatencyMillis * float64(time.Millisecond))
	r.Payload = payloadFromWire(w.PayloadJSON, w.PayloadText)
	return nil
}

type eventAlias Event

type eventJSON struct {
	eventAlias
	PayloadJSON json.RawMessage `json:"payload,omitempty"`
	PayloadText string          `json:"payloadText,omitempty"`
}

// MarshalJSON encodes the event with its payload as JSON (or as
// payloadText when it is not valid JSON).
func (e Event) MarshalJSON() ([]byte, error) {
	w := eventJSON{eventAlias: eventAlias(e)}
	w.PayloadJSON, w.PayloadText = payloadWire(e.Payload)
	return json.Marshal(w)
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (e *Event) UnmarshalJSON(b []byte) error {
	var w eventJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*e = Event(w.eventAlias)
	e.Payload = payloadFromWire(w.PayloadJSON, w.PayloadText)
	return nil
}

func payloadWire(p []byte) (json.RawMessage, string) {
	if len(p) == 0 {
		return nil, ""
	}
	if json.Valid(p) {
		return json.RawMessage(p), ""
	}
	return nil, string(p)
}

func payloadFromWire(raw json.RawMessage, text string) []byte {
	if len(raw) > 0 {
		return []byte(raw)
	}
	if text != "" {
		return []byte(text)
	}
	return nil
}
