package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMQTTExampleConfig(t *testing.T) {
	path := filepath.Join("..", "..", "testdata", "config", "mqtt-tls.yaml")
	env := map[string]string{"MQTT_PASSWORD": "s3cret-mqtt-pw"}
	c, err := Load(path, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	s := c.Sinks[0]
	m := s.MQTT
	if s.Type != SinkMQTT || m == nil {
		t.Fatalf("sink %+v", s)
	}
	if len(m.Brokers) != 2 || m.Brokers[0] != "mqtts://broker.example.com:8883" || m.Username != "telebridge" ||
		m.Password.Reveal() != "s3cret-mqtt-pw" || m.QoS != 1 || m.QoSByType["asset"] != 2 ||
		m.TopicByType["reeferdata"] != "globe-tracker/reefers/{ownerId}/{assetId}" || m.SessionExpiry != time.Hour ||
		m.TLS == nil || !strings.HasSuffix(m.TLS.CAFile, filepath.Join("testdata", "config", "certs", "ca.pem")) {
		t.Fatalf("mqtt settings %+v tls %+v", m, m.TLS)
	}
	out := c.String()
	if strings.Contains(out, "s3cret-mqtt-pw") || !strings.Contains(out, "password: '[redacted]'") && !strings.Contains(out, "password: \"[redacted]\"") && !strings.Contains(out, "password: [redacted]") {
		t.Fatalf("redacted config leaks or lacks the password:\n%s", out)
	}
	if !strings.Contains(out, "qos_by_type:") || !strings.Contains(out, "brokers:") {
		t.Fatalf("redacted config misses mqtt keys:\n%s", out)
	}
}

const mqttBase = `
clusters: {k: {bootstrap_servers: "localhost:9092"}}
sources: [{name: s, cluster: k, topics: [in], profile: mobito}]
dead_letter: {cluster: k, topic: dlq}
sinks:
`

func parseMQTT(t *testing.T, sink string) (*Config, error) {
	t.Helper()
	return Parse([]byte(mqttBase+sink), "bridge.yaml", func(string) (string, bool) { return "", false })
}

func TestMQTTSinkDefaults(t *testing.T) {
	c, err := parseMQTT(t, `  - {name: m, type: mqtt, brokers: "mqtt://localhost:1883", topic: "a/{type}"}`)
	if err != nil {
		t.Fatal(err)
	}
	m := c.Sinks[0].MQTT
	if m.QoS != 1 || m.ClientID != "telebridge-"+c.InstanceID+"-m" || m.KeepAlive != DefaultMQTTKeepAlive || m.ConnectTimeout != DefaultMQTTConnect || len(m.Brokers) != 1 {
		t.Fatalf("defaults %+v", m)
	}
	// Each instance of a fleet gets its own session; without an instance
	// name the sink's name alone is the client id.
	if c, err := Parse([]byte("instance_id: pod-1\n"+mqttBase+`  - {name: m, type: mqtt, brokers: "mqtt://localhost:1883", topic: "a/{type}"}`), "bridge.yaml", envMap(nil)); err != nil || c.Sinks[0].MQTT.ClientID != "telebridge-pod-1-m" {
		t.Fatalf("client id with instance_id pod-1: %v %+v", err, c)
	}
	if c, err := Parse([]byte("instance_id: \"\"\n"+mqttBase+`  - {name: m, type: mqtt, brokers: "mqtt://localhost:1883", topic: "a/{type}"}`), "bridge.yaml", envMap(nil)); err != nil || c.Sinks[0].MQTT.ClientID != "telebridge-m" {
		t.Fatalf("client id without instance_id: %v %+v", err, c)
	}
	c, err = parseMQTT(t, `  - {name: m, type: mqtt, brokers: ["mqtt://a:1883", "ws://b:80/mqtt"], topic: x, qos: 0}`)
	if err != nil {
		t.Fatal(err)
	}
	if c.Sinks[0].MQTT.QoS != 0 || len(c.Sinks[0].MQTT.Brokers) != 2 {
		t.Fatalf("explicit qos 0 / brokers list: %+v", c.Sinks[0].MQTT)
	}
}

func TestMQTTSinkErrors(t *testing.T) {
	for name, tc := range map[string]struct{ sink, want string }{
		"kafka key on mqtt":    {`  - {name: m, type: mqtt, brokers: "mqtt://h", topic: x, acks: all}`, "sinks[0].acks: applies to kafka sinks only; this sink has type mqtt"},
		"cluster on mqtt":      {`  - {name: m, type: mqtt, brokers: "mqtt://h", topic: x, cluster: k}`, "sinks[0].cluster: applies to kafka sinks only"},
		"mqtt key on kafka":    {`  - {name: m, type: kafka, cluster: k, topic: x, qos: 1}`, "sinks[0].qos: applies to mqtt sinks only; this sink has type kafka"},
		"brokers on kafka":     {`  - {name: m, type: kafka, cluster: k, topic: x, brokers: "mqtt://h"}`, "sinks[0].brokers: applies to mqtt sinks only"},
		"no brokers":           {`  - {name: m, type: mqtt, topic: x}`, "sinks[0].brokers: required"},
		"bad scheme":           {`  - {name: m, type: mqtt, brokers: "http://h:1", topic: x}`, `unsupported scheme "http"`},
		"creds in url":         {`  - {name: m, type: mqtt, brokers: "mqtt://u:p@h:1", topic: x}`, "must not contain credentials"},
		"qos 3":                {`  - {name: m, type: mqtt, brokers: "mqtt://h", topic: x, qos: 3}`, "sinks[0].qos: must be 0, 1 or 2; got 3"},
		"qos by bad type":      {`  - {name: m, type: mqtt, brokers: "mqtt://h", topic: x, qos_by_type: {locations: 1}}`, `did you mean "location"`},
		"wildcard topic":       {`  - {name: m, type: mqtt, brokers: "mqtt://h", topic: "a/+/b"}`, "wildcards"},
		"unknown placeholder":  {`  - {name: m, type: mqtt, brokers: "mqtt://h", topic: "a/{nope}"}`, "addresses no field"},
		"placeholder for type": {`  - {name: m, type: mqtt, brokers: "mqtt://h", topic: "a/{sensorId}"}`, "is not a field of asset objects"},
		"no topic":             {`  - {name: m, type: mqtt, brokers: "mqtt://h"}`, "sinks[0].topic: required"},
		"tls without mqtts":    {`  - {name: m, type: mqtt, brokers: "mqtt://h", topic: x, tls: {insecure_skip_verify: true}}`, "no broker URL uses mqtts"},
		"cert without key":     {`  - {name: m, type: mqtt, brokers: "mqtts://h", topic: x, tls: {cert_file: /nonexistent.pem}}`, "must be set together"},
		"unknown tls key":      {`  - {name: m, type: mqtt, brokers: "mqtts://h", topic: x, tls: {ca: x}}`, "unknown key"},
		"password alone":       {`  - {name: m, type: mqtt, brokers: "mqtt://h", topic: x, password: pw}`, "set username too"},
	} {
		_, err := parseMQTT(t, tc.sink)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
	// Restricting types makes a per-type placeholder valid.
	if _, err := parseMQTT(t, `  - {name: m, type: mqtt, brokers: "mqtt://h", topic: "a/{sensorId}", types: [sensordata]}`); err != nil {
		t.Errorf("sensorId template for sensordata only: %v", err)
	}
}

func TestEventIDField(t *testing.T) {
	for _, kind := range []struct{ typ, env string }{{SinkMQTT, EnvMQTTSetEventID}, {SinkKafka, EnvKafkaSetEventID}} {
		testEventIDField(t, kind.typ, kind.env)
	}
}

func testEventIDField(t *testing.T, typ, name string) {
	env := func(v string, ok bool) func(string) (string, bool) {
		return func(k string) (string, bool) {
			if k != name {
				return "", false
			}
			return v, ok
		}
	}
	for _, tc := range []struct {
		inject bool
		field  string
		env    func(string) (string, bool)
		want   string
		err    bool
	}{
		{false, "eventId", nil, "", false},
		{false, "eventId", env("", false), "", false},
		{true, "evt", env("", false), "evt", false},
		{true, "evt", env("other", true), "other", false}, // the variable names the field and wins
		{false, "eventId", env("true", true), "eventId", false},
		{false, "evt", env("1", true), "evt", false},
		{false, "eventId", env("myEventId", true), "myEventId", false},
		{false, "eventId", env("false", true), "", false},
		{false, "eventId", env("not a field!", true), "", true},
	} {
		s := &Sink{Type: typ, EventID: EventID{Inject: tc.inject, Field: tc.field}}
		got, err := s.EventIDField(tc.env)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("%+v: got %q, %v; want %q (error %v)", tc, got, err, tc.want, tc.err)
		}
		if err != nil && !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name the variable: %v", err)
		}
	}
}
