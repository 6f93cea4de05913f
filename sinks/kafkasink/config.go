package kafkasink

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"go.uber.org/zap"

	"github.com/telebridge/telebridge/schemas"
	"github.com/telebridge/telebridge/sinks"
)

// TypePlaceholder is replaced by the object type name (asset, location,
// sensordata, reeferdata, gensetdata, gtoemdata) in Config.Topic.
const TypePlaceholder = "{type}"

// Defaults applied by New to zero Config fields.
const (
	DefaultAcks            = "all"
	DefaultDeliveryTimeout = 30 * time.Second
	DefaultMaxInFlight     = 1000
)

// Config configures a Kafka push sink.
type Config struct {
	// Name is the sink name used in logs, errors and attempts. Required.
	Name string
	// Connection holds librdkafka connection and security properties
	// (bootstrap.servers, security.protocol, sasl.*, ssl.*, client.id and
	// any extra tuning such as linger.ms), built by the caller.
	// bootstrap.servers is required. Properties that the typed fields below
	// control (acks, enable.idempotence, partitioner, message.timeout.ms,
	// compression, delivery report and go.* channel settings) are rejected
	// with an error naming the key.
	Connection map[string]string
	// Topic is a literal topic, or a template in which {type} is replaced by
	// the object type name, e.g. "globe-tracker.events.{type}". Required.
	Topic string
	// KeyPath is the payload field path (schemas.FieldValue) whose value is
	// the record key, e.g. "assetId" or "data.vin". "" means no key: records
	// spread evenly over partitions. An object without a value at KeyPath
	// (absent optional field, a type without that field, a non-scalar) is
	// sent without a key, i.e. to a random partition; it is not an error.
	KeyPath string
	// Acks is "0", "1" or "all" ("-1" is accepted as "all"); default "all".
	// "all" enables the idempotent producer (enable.idempotence=true).
	Acks string
	// EventIDField, when not empty, injects the Message.EventID into the
	// JSON payload under this member name (e.g. "eventId"). The eventId is
	// always carried in the eventId header.
	EventIDField string
	// Retry is the application-level retry policy; defaults per
	// sinks.RetryPolicy.WithDefaults. Each attempt is bounded by
	// DeliveryTimeout, within which librdkafka retries on its own.
	Retry sinks.RetryPolicy
	// DeliveryTimeout bounds one attempt (librdkafka message.timeout.ms);
	// default 30s.
	DeliveryTimeout time.Duration
	// Compression is none, gzip, snappy, lz4 or zstd; "" means none.
	Compression string
	// MaxInFlight is the number of messages that may await an outcome
	// (queued, in flight or waiting for a retry); Send blocks beyond it.
	// Default 1000.
	MaxInFlight int
	// Logger receives client errors (rate limited) and librdkafka logs at
	// debug level; nil means no logging.
	Logger *zap.Logger
	// Observer, if not nil, receives every delivery attempt.
	Observer sinks.Observer
}

// reservedKey reports whether a librdkafka property is set from the typed
// Config fields or needed for the sink's own operation (so Connection may
// not set it), and what controls it.
func reservedKey(k string) (string, bool) {
	switch k {
	case "acks", "request.required.acks", "enable.idempotence":
		return "Acks", true
	case "partitioner", "partitioner_cb":
		return "the sink (murmur2_random, Java-compatible)", true
	case "message.timeout.ms", "delivery.timeout.ms":
		return "DeliveryTimeout", true
	case "compression.type", "compression.codec":
		return "Compression", true
	case "delivery.report.only.error", "dr_cb", "dr_msg_cb":
		return "the sink (delivery reports are required)", true
	case "transactional.id":
		return "the sink (transactions are not used)", true
	}
	if strings.HasPrefix(k, "go.") {
		return "the sink", true
	}
	return "", false
}

// isSecretKey reports whether a librdkafka property's value is a secret
// that is redacted from any text the sink logs or reports.
func isSecretKey(k string) bool {
	switch k {
	case "sasl.password", "sasl.oauthbearer.client.secret", "sasl.oauthbearer.config",
		"ssl.key.password", "ssl.key.pem", "ssl.keystore.password", "ssl_key":
		return true
	}
	return false
}

// minRedactLen is the shortest secret value redacted; shorter values would
// mangle unrelated text and are not secrets worth the name.
const minRedactLen = 4

// settings is the validated, defaulted form of Config.
type settings struct {
	name            string
	topic           string
	keyPath         string
	acks            string
	eventIDField    string
	retry           sinks.RetryPolicy
	deliveryTimeout time.Duration
	compression     string
	maxInFlight     int
	log             *zap.Logger
	observer        sinks.Observer
	redact          *strings.Replacer // nil when there is nothing to redact
	// statsOff is set when Connection disables librdkafka's statistics
	// (statistics.interval.ms 0): no timeout then waits for them.
	statsOff bool
}

func (c *Config) validate() (*settings, error) {
	if c.Name == "" {
		return nil, errors.New("kafkasink: name is required")
	}
	errf := func(format string, args ...any) error {
		return fmt.Errorf("kafka sink %q: "+format, append([]any{c.Name}, args...)...)
	}
	s := &settings{
		name:            c.Name,
		topic:           c.Topic,
		keyPath:         c.KeyPath,
		acks:            c.Acks,
		eventIDField:    c.EventIDField,
		retry:           c.Retry.WithDefaults(),
		deliveryTimeout: c.DeliveryTimeout,
		compression:     c.Compression,
		maxInFlight:     c.MaxInFlight,
		log:             c.Logger,
		observer:        c.Observer,
	}
	if s.topic == "" {
		return nil, errf("topic is required (a topic name or a template with %s)", TypePlaceholder)
	}
	for _, t := range schemas.AllTypes() {
		if err := validTopicName(strings.ReplaceAll(s.topic, TypePlaceholder, string(t))); err != nil {
			return nil, errf("topic %q: %w", s.topic, err)
		}
	}
	if s.keyPath != "" {
		var firstErr error
		ok := false
		for _, t := range schemas.AllTypes() {
			err := schemas.ValidFieldPath(t, s.keyPath)
			if err == nil {
				ok = true
				break
			}
			if firstErr == nil {
				firstErr = err
			}
		}
		if !ok {
			return nil, errf("key path %q addresses no field of any object type: %w", s.keyPath, firstErr)
		}
	}
	switch s.acks {
	case "":
		s.acks = DefaultAcks
	case "0", "1", "all":
	case "-1":
		s.acks = "all"
	default:
		return nil, errf("acks: invalid value %q (want 0, 1 or all)", c.Acks)
	}
	switch s.compression {
	case "":
		s.compression = "none"
	case "none", "gzip", "snappy", "lz4", "zstd":
	default:
		return nil, errf("compression: invalid value %q (want none, gzip, snappy, lz4 or zstd)", c.Compression)
	}
	if s.deliveryTimeout < 0 {
		return nil, errf("delivery timeout: must not be negative, got %v", s.deliveryTimeout)
	}
	if s.deliveryTimeout == 0 {
		s.deliveryTimeout = DefaultDeliveryTimeout
	}
	if s.deliveryTimeout < time.Millisecond {
		return nil, errf("delivery timeout: must be at least 1ms, got %v", s.deliveryTimeout)
	}
	if s.maxInFlight < 0 {
		return nil, errf("max in flight: must not be negative, got %d", s.maxInFlight)
	}
	if s.maxInFlight == 0 {
		s.maxInFlight = DefaultMaxInFlight
	}
	if s.log == nil {
		s.log = zap.NewNop()
	}
	s.log = s.log.With(zap.String("sink", s.name), zap.String("kind", Kind))

	if c.Connection["bootstrap.servers"] == "" && c.Connection["metadata.broker.list"] == "" {
		return nil, errf("connection: bootstrap.servers is required")
	}
	if v, ok := c.Connection["statistics.interval.ms"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			return nil, errf("connection: statistics.interval.ms: invalid value %q (want milliseconds, 0 disables)", v)
		}
		s.statsOff = n == 0
	}
	var pairs []string
	for k, v := range c.Connection {
		if field, ok := reservedKey(k); ok {
			return nil, errf("connection: property %q is controlled by %s and may not be set here", k, field)
		}
		if isSecretKey(k) && len(v) >= minRedactLen {
			pairs = append(pairs, v, "[redacted]")
		}
	}
	if len(pairs) > 0 {
		s.redact = strings.NewReplacer(pairs...)
	}
	return s, nil
}

// validTopicName applies Kafka's topic name rules.
func validTopicName(t string) error {
	if t == "" || t == "." || t == ".." {
		return fmt.Errorf("invalid topic name %q", t)
	}
	if len(t) > 249 {
		return fmt.Errorf("topic name %q is longer than 249 characters", t)
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("topic name %q contains %q (allowed: letters, digits, '.', '_', '-')", t, r)
		}
	}
	return nil
}

// configMap builds the librdkafka configuration: sink defaults, then the
// caller's Connection (which may override the defaults), then the
// properties derived from the typed fields.
func (s *settings) configMap(conn map[string]string, logs chan kafka.LogEvent) (*kafka.ConfigMap, error) {
	cm := kafka.ConfigMap{
		// Defaults the caller may override through Connection.
		"linger.ms":                    5,
		"queue.buffering.max.messages": max(100000, s.maxInFlight+1),
		// Statistics feed Connected (broker states) every StatsInterval.
		"statistics.interval.ms": int(StatsInterval / time.Millisecond),
	}
	for k, v := range conn {
		cm[k] = v
	}
	idempotent := s.acks == "all"
	for k, v := range map[string]kafka.ConfigValue{
		"acks":                      s.acks,
		"enable.idempotence":        idempotent,
		"partitioner":               "murmur2_random",
		"message.timeout.ms":        int(s.deliveryTimeout / time.Millisecond),
		"compression.type":          s.compression,
		"go.delivery.reports":       true,
		"go.delivery.report.fields": "none",
		// Delivery reports never exceed the in-flight limit; the slack
		// covers error and statistics events.
		"go.events.channel.size":  s.maxInFlight + 256,
		"go.produce.channel.size": 1,
		"go.logs.channel.enable":  true,
		"go.logs.channel":         logs,
	} {
		if err := cm.SetKey(k, v); err != nil {
			return nil, fmt.Errorf("kafka sink %q: set %s: %w", s.name, k, err)
		}
	}
	return &cm, nil
}

// redactString removes configured secret values from text.
func (s *settings) redactString(text string) string {
	if s.redact == nil {
		return text
	}
	return s.redact.Replace(text)
}

// formatSource renders a source reference as topic/partition@offset.
func formatSource(r sinks.SourceRef) string {
	b := make([]byte, 0, len(r.Topic)+24)
	b = append(b, r.Topic...)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(r.Partition), 10)
	b = append(b, '@')
	b = strconv.AppendInt(b, r.Offset, 10)
	return string(b)
}
