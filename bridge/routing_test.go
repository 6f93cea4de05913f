package bridge_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/telebridge/telebridge/bridge/config"
	"github.com/telebridge/telebridge/internal/testkit"
	"github.com/telebridge/telebridge/schemas"
)

// TestUnroutedObjectsAreCountedAndLogged routes a MOBITO source only to a
// sink that takes locations: its assets and sensor data are dropped, but
// counted per type in Stats, logged once per type, warned about at start,
// and their records are committed (dropping by configuration is an
// outcome, not a stall).
func TestUnroutedObjectsAreCountedAndLogged(t *testing.T) {
	e := newEnv(t)
	const records = 12
	e.produce(t, e.mobito(records)...)
	sasl := fmt.Sprintf("{mechanism: PLAIN, username: %s, password: %s}", testkit.KafkaUser, testkit.KafkaPassword)
	group := "g-unrouted"
	text := fmt.Sprintf(`
clusters:
  k:
    bootstrap_servers: %q
    security_protocol: SASL_PLAINTEXT
    sasl: %s
sources:
  - {name: mobito, cluster: k, topics: [%s], group_id: %s, start: earliest, profile: mobito, sinks: [locations]}
sinks:
  - {name: locations, type: kafka, cluster: k, topic: "only.{type}", types: [location]}
dead_letter: {cluster: k, topic: %s}
shutdown_timeout: 10s
commit_interval: 100ms
`, e.kafka.Addr, sasl, moTopic, group, dlqTopic)
	cfg, err := config.Parse([]byte(text), "unrouted.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	core, logs := observer.New(zapcore.WarnLevel)
	r := start(t, cfg, zap.New(core))
	waitFor(t, 60*time.Second, "every record consumed and settled", func() bool {
		st := r.b.Stats()
		s := st.Sources["mobito"]
		var unrouted uint64
		for _, n := range s.Unrouted {
			unrouted += n
		}
		return s.Consumed >= records && st.Delivered+unrouted >= s.Objects
	})
	waitFor(t, 30*time.Second, "offsets committed past the records", func() bool {
		var sum int64
		for _, off := range committedOffsets(t, e, group, moTopic) {
			sum += off
		}
		return sum == records
	})
	r.shutdown(t)

	st := r.b.Stats()
	s := st.Sources["mobito"]
	delivered := st.Sinks["locations"].Delivered[schemas.TypeLocation]
	if delivered == 0 || s.Unrouted[schemas.TypeLocation] != 0 {
		t.Fatalf("locations delivered %d, unrouted %d: locations must be routed", delivered, s.Unrouted[schemas.TypeLocation])
	}
	if s.Unrouted[schemas.TypeAsset] == 0 || s.Unrouted[schemas.TypeSensorData] == 0 {
		t.Fatalf("unrouted = %v, want assets and sensor data counted", s.Unrouted)
	}
	if got := delivered + s.Unrouted[schemas.TypeAsset] + s.Unrouted[schemas.TypeSensorData] + s.Unrouted[schemas.TypeGtoemData]; got != s.Objects {
		t.Fatalf("delivered %d + unrouted %v = %d, want every one of the %d objects accounted for", delivered, s.Unrouted, got, s.Objects)
	}
	if got := readAll(t, e, "only.location", int(delivered)); len(got) != int(delivered) {
		t.Fatalf("read %d locations, want %d", len(got), delivered)
	}

	byType := map[string]int{}
	for _, l := range logs.FilterMessageSnippet("accepted by none of the source's sinks").All() {
		byType[l.ContextMap()["type"].(string)]++
		if src := l.ContextMap()["source"]; src != "mobito" {
			t.Errorf("log names source %v", src)
		}
	}
	if byType["asset"] != 1 || byType["sensordata"] != 1 || byType["gtoemdata"] != 1 || len(byType) != 3 {
		t.Errorf("unrouted logs by type = %v, want asset, sensordata and gtoemdata once each", byType)
	}
	warned := logs.FilterMessage("configuration warning").All()
	if len(warned) != 1 || !strings.Contains(warned[0].ContextMap()["warning"].(string), "unrouted.yaml:8: sources[0].sinks: profile mobito produces asset, sensordata, gtoemdata, which none of the source's sinks (locations) accepts") {
		t.Errorf("start-up warnings = %v", warned)
	}
}
