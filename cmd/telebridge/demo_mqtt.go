package main

import (
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/telebridge/telebridge/bridge"
	"github.com/telebridge/telebridge/internal/testkit"
)

// Embedded MQTT broker of the demo.
const (
	demoMQTTSink     = "globe-tracker-mqtt"
	demoMQTTTemplate = "globe-tracker/events/{type}"
	demoMQTTAddr     = "127.0.0.1:1883" // tried first, so the printed commands are short
)

// startDemoMQTT starts the demo's embedded broker with username/password
// auth, on port 1883 when it is free, else on a free port.
func startDemoMQTT() (*testkit.MQTT, error) {
	opts := testkit.MQTTOptions{Users: map[string]string{testkit.MQTTUser: testkit.MQTTPassword}}
	if l, err := net.Listen("tcp", demoMQTTAddr); err == nil {
		_ = l.Close()
		opts.Addr = demoMQTTAddr
	}
	return testkit.StartMQTT(opts)
}

// demoMQTTSinkYAML is the MQTT sink of the demo config (a sinks[] item).
func demoMQTTSinkYAML(m *testkit.MQTT) string {
	return fmt.Sprintf(`  - name: %s
    type: mqtt
    brokers: ["%s"]
    username: %s
    password: "${TELEBRIDGE_DEMO_MQTT_PASSWORD:-%s}"
    topic: "%s"
    qos: 1
    event_id: {inject: true, field: eventId}
    retry: {max_attempts: 5, initial_backoff: 200ms, max_backoff: 5s}
`, demoMQTTSink, m.URL(), testkit.MQTTUser, testkit.MQTTPassword, demoMQTTTemplate)
}

// printDemoMQTT tells how to watch the MQTT output with mosquitto_sub.
func printDemoMQTT(out io.Writer, m *testkit.MQTT) {
	host, port, _ := net.SplitHostPort(m.Addr())
	fmt.Fprintf(out, `MQTT broker           %s   (MQTT 5, user %q, password %q)
MQTT topics           %s (QoS 1, eventId injected)
Watch the MQTT output with mosquitto_sub (Debian/Ubuntu: apt install mosquitto-clients):
  mosquitto_sub -V mqttv5 -h %s -p %s -u %s -P %s -q 1 -t 'globe-tracker/events/#' -v -F '%%t %%P %%p'
`, m.URL(), testkit.MQTTUser, testkit.MQTTPassword, strings.ReplaceAll(demoMQTTTemplate, "{type}", "<type>"),
		host, port, testkit.MQTTUser, testkit.MQTTPassword)
}

// demoMQTTSummary is the summary line of the MQTT sink.
func demoMQTTSummary(out io.Writer, st bridge.Stats) {
	s, ok := st.Sinks[demoMQTTSink]
	if !ok {
		return
	}
	var n uint64
	for _, c := range s.Delivered {
		n += c
	}
	fmt.Fprintf(out, "  mqtt        %d objects delivered to the embedded MQTT broker (PUBACK), %d dead-lettered\n", n, s.DeadLettered)
}
