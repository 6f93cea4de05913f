package config

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/telebridge/telebridge/schemas"
	"github.com/telebridge/telebridge/sinks/mqttsink"
)

// SinkMQTT is the sinks[].type of MQTT push sinks.
const SinkMQTT = "mqtt"

// Defaults of MQTT sinks.
const (
	DefaultMQTTQoS           = 1
	DefaultMQTTSessionExpiry = time.Hour
	DefaultMQTTKeepAlive     = 30 * time.Second
	DefaultMQTTConnect       = 10 * time.Second
)

// EnvMQTTSetEventID names the environment variable that turns on eventId
// injection for MQTT sinks, as the Globe Tracker MQTT push documentation
// describes: its value is the payload member name, which wins over
// event_id.field; "true", "1", "yes" or "on" mean the sink's
// event_id.field (default eventId); "", "false", "0", "no" or "off" leave
// injection as configured (see Sink.EventIDInjection).
const EnvMQTTSetEventID = "MQTT_SET_EVENT_ID"

// EnvKafkaSetEventID is the same switch for Kafka sinks.
const EnvKafkaSetEventID = "KAFKA_SET_EVENT_ID"

// MQTTSink holds the settings of a sink with type mqtt. Topic, Types,
// EventID, Retry, DeliveryTimeout (the wait for PUBACK/PUBCOMP of one
// attempt) and MaxInFlight come from the common Sink fields.
type MQTTSink struct {
	Brokers        []string // mqtt://, mqtts://, ws:// or wss:// URLs, tried in order
	ClientID       string   // default telebridge-<sink name>
	Username       string
	Password       Secret
	TLS            *MQTTTLS
	QoS            int            // 0, 1 or 2 (default 1)
	QoSByType      map[string]int // per object type
	TopicByType    map[string]string
	Retain         bool
	SessionExpiry  time.Duration
	KeepAlive      time.Duration
	ConnectTimeout time.Duration
}

// MQTTTLS configures TLS towards an MQTT broker. Relative paths are
// resolved against the configuration file's directory.
type MQTTTLS struct {
	CAFile             string
	CertFile           string
	KeyFile            string
	ServerName         string
	InsecureSkipVerify bool
}

// mqttSinkKeys are the sinks[] keys that only MQTT sinks accept.
func mqttSinkKeys() []string {
	return []string{"brokers", "client_id", "username", "password", "tls", "qos", "qos_by_type", "topic_by_type",
		"retain", "session_expiry", "keep_alive", "connect_timeout"}
}

// kafkaOnlySinkKeys are the sinks[] keys that only Kafka sinks accept.
func kafkaOnlySinkKeys() []string { return []string{"cluster", "key", "acks", "compression"} }

func mqttTLSKeys() []string {
	return []string{"ca_file", "cert_file", "key_file", "server_name", "insecure_skip_verify"}
}

// mqttSinkKey decodes one MQTT-only key of a sink; it reports false for
// keys it does not know.
func (d *decoder) mqttSinkKey(s *Sink, k, p string, v *yaml.Node) bool {
	if !slices.Contains(mqttSinkKeys(), k) {
		return false
	}
	if s.MQTT == nil {
		s.MQTT = &MQTTSink{}
	}
	m := s.MQTT
	switch k {
	case "brokers":
		d.servers(v, p, &m.Brokers)
	case "client_id":
		d.str(v, p, &m.ClientID, nil)
	case "username":
		d.str(v, p, &m.Username, nil)
	case "password":
		d.secret(v, p, &m.Password)
	case "tls":
		t := &MQTTTLS{}
		if d.object(v, p, mqttTLSKeys(), func(k, p string, v *yaml.Node) {
			switch k {
			case "ca_file":
				d.filePath(v, p, &t.CAFile)
			case "cert_file":
				d.filePath(v, p, &t.CertFile)
			case "key_file":
				d.filePath(v, p, &t.KeyFile)
			case "server_name":
				d.str(v, p, &t.ServerName, nil)
			case "insecure_skip_verify":
				d.boolean(v, p, &t.InsecureSkipVerify)
			}
		}) {
			m.TLS = t
		}
	case "qos":
		d.integer(v, p, &m.QoS)
	case "qos_by_type":
		m.QoSByType = map[string]int{}
		d.named(v, p, "object types to QoS levels", func(name, p string, v *yaml.Node) {
			var q int
			d.integer(v, p, &q)
			m.QoSByType[strings.ToLower(name)] = q
		})
	case "topic_by_type":
		m.TopicByType = map[string]string{}
		d.named(v, p, "object types to topics", func(name, p string, v *yaml.Node) {
			if t, ok := d.scalar(v, p); ok {
				m.TopicByType[strings.ToLower(name)] = t
			}
		})
	case "retain":
		d.boolean(v, p, &m.Retain)
	case "session_expiry":
		d.duration(v, p, &m.SessionExpiry)
	case "keep_alive":
		d.duration(v, p, &m.KeepAlive)
	case "connect_timeout":
		d.duration(v, p, &m.ConnectTimeout)
	}
	return true
}

// applyMQTTDefaults fills the defaults of MQTT sink p.
func (c *Config) applyMQTTDefaults(p string, s *Sink) {
	if s.Type != SinkMQTT {
		return
	}
	if s.MQTT == nil {
		s.MQTT = &MQTTSink{}
	}
	m := s.MQTT
	absent := func(path string) bool { return c.meta == nil || !c.meta.set[path] }
	if m.QoS == 0 && absent(p+".qos") {
		m.QoS = DefaultMQTTQoS
	}
	if m.ClientID == "" && s.Name != "" {
		// Instances of a fleet share the config: the instance name keeps
		// their sessions apart (one client id per session, or they take
		// the connection from each other), and a restarted instance
		// resumes its own session.
		m.ClientID = mqttsink.DefaultClientIDPrefix + s.Name
		if c.InstanceID != "" {
			m.ClientID = mqttsink.DefaultClientIDPrefix + c.InstanceID + "-" + s.Name
		}
	}
	if m.SessionExpiry == 0 && absent(p+".session_expiry") {
		m.SessionExpiry = DefaultMQTTSessionExpiry
	}
	if m.KeepAlive == 0 && absent(p+".keep_alive") {
		m.KeepAlive = DefaultMQTTKeepAlive
	}
	if m.ConnectTimeout == 0 && absent(p+".connect_timeout") {
		m.ConnectTimeout = DefaultMQTTConnect
	}
}

// present reports whether key path appeared in the file.
func (v *validator) present(path string) bool {
	_, ok := v.m.lines[path]
	return ok
}

// rejectKeys reports keys of sink p that its type does not accept.
func (v *validator) rejectKeys(p string, s *Sink, keys []string, onlyFor string) {
	for _, k := range keys {
		if v.present(p + "." + k) {
			v.add(p+"."+k, "applies to %s sinks only; this sink has type %s", onlyFor, s.Type)
		}
	}
}

// mqttSink validates a sink with type mqtt.
func (v *validator) mqttSink(p string, s *Sink) {
	v.rejectKeys(p, s, kafkaOnlySinkKeys(), SinkKafka)
	m := s.MQTT
	if m == nil {
		m = &MQTTSink{}
	}
	bp := p + ".brokers"
	if len(m.Brokers) == 0 {
		v.add(bp, "required: one or more broker URLs, e.g. mqtts://broker.example.com:8883 (mqtt, mqtts, ws or wss)")
	}
	anyTLS := false
	for i, b := range m.Brokers {
		ip := bp
		if v.present(joinIndex(bp, i)) {
			ip = joinIndex(bp, i)
		}
		u, err := url.Parse(b)
		switch {
		case err != nil || u.Host == "":
			v.add(ip, "invalid broker URL %s: want scheme://host:port, e.g. mqtt://localhost:1883", v.show(ip, b))
		case u.User != nil:
			v.add(ip, "broker URL must not contain credentials; set username and password")
		case !slices.Contains([]string{"mqtt", "mqtts", "ws", "wss"}, strings.ToLower(u.Scheme)):
			v.add(ip, "unsupported scheme %q in %s (want mqtt, mqtts, ws or wss)", u.Scheme, v.show(ip, b))
		default:
			anyTLS = anyTLS || strings.EqualFold(u.Scheme, "mqtts") || strings.EqualFold(u.Scheme, "wss")
		}
	}
	if m.Password != "" && m.Username == "" {
		v.add(p+".password", "set username too (a password alone is not sent)")
	}
	if t := m.TLS; t != nil {
		tp := p + ".tls"
		if !anyTLS {
			v.add(tp, "has no effect: no broker URL uses mqtts:// or wss://")
		}
		if (t.CertFile == "") != (t.KeyFile == "") {
			v.add(tp, "cert_file and key_file must be set together (mutual TLS needs both)")
		}
		v.readable(tp+".ca_file", t.CAFile)
		v.readable(tp+".cert_file", t.CertFile)
		v.readable(tp+".key_file", t.KeyFile)
	}
	if m.QoS < 0 || m.QoS > 2 {
		v.add(p+".qos", "must be 0, 1 or 2; got %d", m.QoS)
	}

	tyPath := p + ".types"
	if len(s.Types) == 0 {
		v.add(tyPath, "must list at least one type; omit types to receive all (allowed: %s)", strings.Join(ObjectTypes(), ", "))
	}
	for j, t := range s.Types {
		ip := joinIndex(tyPath, j)
		if v.enum(ip, t, ObjectTypes()) && slices.Index(s.Types, t) < j {
			v.add(ip, "duplicate type %s", v.show(ip, t))
		}
	}
	for t, q := range m.QoSByType {
		ip := joinKey(p+".qos_by_type", t)
		if v.enum(ip, t, ObjectTypes()) && (q < 0 || q > 2) {
			v.add(ip, "must be 0, 1 or 2; got %d", q)
		}
	}
	for t := range m.TopicByType {
		v.enum(joinKey(p+".topic_by_type", t), t, ObjectTypes())
	}
	// Every received type needs a topic whose placeholders it can fill.
	for _, t := range s.Types {
		raw, tp := s.Topic, p+".topic"
		if tt, ok := m.TopicByType[t]; ok {
			raw, tp = tt, joinKey(p+".topic_by_type", t)
		}
		if raw == "" {
			v.add(p+".topic", "required: a topic or template such as globe-tracker/events/{type} (or topic_by_type for %s)", t)
			break
		}
		if err := mqttsink.ValidateTopic(raw, schemas.Type(t)); err != nil {
			v.add(tp, "%v; restrict types or set topic_by_type.%s", err, t)
		}
	}
	v.sinkDelivery(p, s)
	v.positive(p+".max_in_flight", int64(s.MaxInFlight), "an integer above 0 (messages awaiting acknowledgement)")
	v.positive(p+".session_expiry", int64(m.SessionExpiry), "a duration of at least 1s, e.g. 1h (how long the broker keeps unacknowledged QoS 1/2 messages)")
	v.positive(p+".keep_alive", int64(m.KeepAlive), "a duration of at least 1s, e.g. 30s")
	v.positive(p+".connect_timeout", int64(m.ConnectTimeout), "a duration above 0, e.g. 10s")
}

// mqttSecrets lists the MQTT sinks' passwords.
func (c *Config) mqttSecrets() []string {
	var out []string
	for _, s := range c.Sinks {
		if s != nil && s.MQTT != nil && s.MQTT.Password != "" {
			out = append(out, s.MQTT.Password.Reveal())
		}
	}
	return out
}

// mqttSink prints an MQTT sink with its password redacted.
func (r *redactor) mqttSink(p string, s *Sink) *yaml.Node {
	m := s.MQTT
	if m == nil {
		m = &MQTTSink{}
	}
	var tlsNode *yaml.Node
	if t := m.TLS; t != nil {
		tlsNode = mapping(
			"ca_file", r.opt(p+".tls.ca_file", t.CAFile),
			"cert_file", r.opt(p+".tls.cert_file", t.CertFile),
			"key_file", r.opt(p+".tls.key_file", t.KeyFile),
			"server_name", r.opt(p+".tls.server_name", t.ServerName),
			"insecure_skip_verify", r.flag(p+".tls.insecure_skip_verify", t.InsecureSkipVerify))
	}
	var qbt, tbt *yaml.Node
	if len(m.QoSByType) > 0 {
		qbt = mapping()
		for _, t := range slices.Sorted(mapKeys(m.QoSByType)) {
			qbt = appendPair(qbt, t, r.num(joinKey(p+".qos_by_type", t), m.QoSByType[t]))
		}
	}
	if len(m.TopicByType) > 0 {
		tbt = mapping()
		for _, t := range slices.Sorted(mapKeys(m.TopicByType)) {
			tbt = appendPair(tbt, t, r.str(joinKey(p+".topic_by_type", t), m.TopicByType[t]))
		}
	}
	return mapping(
		"name", r.str(p+".name", s.Name),
		"type", r.str(p+".type", s.Type),
		"brokers", r.list(p+".brokers", m.Brokers),
		"client_id", r.str(p+".client_id", m.ClientID),
		"username", r.opt(p+".username", m.Username),
		"password", optSecret(m.Password),
		"tls", tlsNode,
		"topic", r.opt(p+".topic", s.Topic),
		"topic_by_type", tbt,
		"qos", r.num(p+".qos", m.QoS),
		"qos_by_type", qbt,
		"retain", r.flag(p+".retain", m.Retain),
		"types", r.list(p+".types", s.Types),
		"event_id", r.eventID(p, s),
		"retry", r.retry(p, s),
		"delivery_timeout", r.dur(p+".delivery_timeout", s.DeliveryTimeout),
		"session_expiry", r.dur(p+".session_expiry", m.SessionExpiry),
		"keep_alive", r.dur(p+".keep_alive", m.KeepAlive),
		"connect_timeout", r.dur(p+".connect_timeout", m.ConnectTimeout),
		"max_in_flight", r.num(p+".max_in_flight", s.MaxInFlight))
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func appendPair(n *yaml.Node, key string, v *yaml.Node) *yaml.Node {
	k := &yaml.Node{}
	k.SetString(key)
	n.Content = append(n.Content, k, v)
	return n
}
