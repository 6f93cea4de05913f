// Package sinks pushes object-sync objects to their destinations (Kafka
// topics in sinks/kafkasink, MQTT brokers in sinks/mqttsink) with retries,
// exponential backoff with jitter, and a report of every delivery attempt.
// WebSocket subscribers are served by the Kafka WS endpoint in
// sinks/kafkaws, which reads the pushed topics itself and is not a Sink.
//
// A sink never drops a message silently: every Message handed to Send ends
// in exactly one call of its done callback, with Delivered, Failed (all
// attempts used; the caller dead-letters it) or Aborted (the sink was closed
// or the context cancelled before an outcome was known; the caller must not
// treat it as finished, so the source offset is not committed and the
// message is redelivered after a restart).
package sinks

import (
	"context"
	"errors"
	"time"

	"github.com/telebridge/telebridge/schemas"
)

// SourceRef locates the source record an object was derived from.
type SourceRef struct {
	Topic     string
	Partition int32
	Offset    int64
	// Index is the position of the object among the non-asset objects
	// derived from the record, or -1, -2, ... among its Asset objects
	// (assets are emitted only when new or changed, so they are counted
	// apart to keep the other objects' identities stable).
	Index int
	// MessageID is the provider's own id of the source message (MOBITO's
	// uuid), "" when the feed has none. Sinks send it with the object
	// (Kafka header, MQTT user property telebridge-source-message-id) and
	// the delivery history records it, so every object can be traced to
	// the provider's message.
	MessageID string
}

// Message is one object to deliver to one sink.
type Message struct {
	Object schemas.Object
	// EventID is the deterministic UUIDv5 of the source coordinates and
	// object index; a redelivered object carries the same EventID.
	EventID string
	Source  SourceRef
	// Received is when the source record was read, for end-to-end latency.
	Received time.Time
}

// ErrFatal is wrapped by the errors of a sink that can no longer deliver
// anything until the process restarts (for example a Kafka idempotent
// producer that lost its sequence). Send then returns it without taking
// the message, and messages it held end Aborted with it, so nothing is
// dead-lettered for the sink's own failure; the bridge stops with the
// error and the unfinished records are redelivered after the restart.
var ErrFatal = errors.New("sink failed fatally")

// Outcome is the final state of one Message on one sink.
type Outcome int

// Outcomes of a delivery.
const (
	// Delivered: acknowledged at the sink's configured level.
	Delivered Outcome = iota + 1
	// Failed: every configured attempt failed; the caller dead-letters the
	// message with Result.Err and Result.Payload.
	Failed
	// Aborted: the sink stopped before an outcome was known; not finished.
	Aborted
)

func (o Outcome) String() string {
	switch o {
	case Delivered:
		return "delivered"
	case Failed:
		return "failed"
	case Aborted:
		return "aborted"
	}
	return "unknown"
}

// Result is reported exactly once per Message handed to Send.
type Result struct {
	Outcome  Outcome
	Attempts int
	// Err is the last error (nil when Delivered).
	Err error
	// Payload is the encoded object as sent (for dead letters).
	Payload []byte
	// Topic, Partition and Offset locate the delivered record (Kafka).
	Topic     string
	Partition int32
	Offset    int64
	// QoS is the MQTT QoS level the message was published at (MQTT sinks
	// only; 0 for other kinds).
	QoS byte
}

// AttemptStatus is the state an attempt ended in.
type AttemptStatus string

// Attempt statuses.
const (
	StatusDelivered AttemptStatus = "delivered"
	StatusRetrying  AttemptStatus = "failed-will-retry"
	StatusFailed    AttemptStatus = "failed"
	// StatusDeadLettered is reported by the bridge, not a sink, once an
	// object whose attempts were all used is acknowledged by the
	// dead-letter topic (Topic names it).
	StatusDeadLettered AttemptStatus = "dead-lettered"
)

// Attempt describes one delivery attempt of one object to one sink.
type Attempt struct {
	Time      time.Time
	Sink      string
	Kind      string // "kafka" or "mqtt"
	Topic     string
	Partition int32
	Offset    int64
	// QoS is the MQTT QoS level of the attempt (MQTT sinks only; 0 for
	// other kinds).
	QoS     byte
	Status  AttemptStatus
	Err     string
	Number  int
	Latency time.Duration
	EventID string
	Type    schemas.Type
	AssetID string
	Source  SourceRef
	Payload []byte
}

// Observer receives every delivery attempt. Implementations must be fast
// and safe for concurrent use; they are called on the sink's hot path.
// They may keep a.Payload (not a itself) after the call: a sink never
// modifies a payload once it has handed it out (Result.Payload is kept
// for dead letters in the same way).
type Observer interface {
	ObserveAttempt(a *Attempt)
}

// Sink delivers messages.
type Sink interface {
	// Name is the configured sink name.
	Name() string
	// Kind is "kafka" or "mqtt".
	Kind() string
	// Send hands m to the sink. It blocks while the sink's in-flight limit
	// is reached (back-pressure) and returns ctx.Err() if ctx ends first,
	// in which case done is not called. Otherwise done is called exactly
	// once, from any goroutine, with the final result.
	Send(ctx context.Context, m *Message, done func(Result)) error
	// Close waits for in-flight messages up to ctx's deadline, reports the
	// rest as Aborted, and releases the sink's resources.
	Close(ctx context.Context) error
}

// Health is implemented by sinks that can tell whether they are connected
// to their destination (used for readiness). Connected returns false with
// a human-readable reason while disconnected or not yet connected.
type Health interface {
	Connected() (ok bool, reason string)
}
