package bridge_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telebridge/telebridge/bridge"
	"github.com/telebridge/telebridge/bridge/config"
	"github.com/telebridge/telebridge/internal/testkit"
	"github.com/telebridge/telebridge/schemas"
)

// TestMappedSourceMatchesBuiltin runs the built-in mobito profile and
// testdata/mappings/mobito.yaml as two sources on the same topic through
// the whole pipeline (embedded Kafka with SASL) and requires the same
// output records (payloads with eventId, eventId headers) from both, and
// a record the mapping cannot map dead-lettered with class mapping.
func TestMappedSourceMatchesBuiltin(t *testing.T) {
	e := newEnv(t)
	recs := e.mobito(12)
	poison := &kgo.Record{Topic: moTopic, Value: []byte(`{"vin":"V1","fleet_id":"F","latitude":"north","longitude":"1"}`),
		Headers: []kgo.RecordHeader{{Key: "origin", Value: []byte("bad-latitude")}}}
	e.produce(t, append(recs, poison)...)
	mapping, err := filepath.Abs("../testdata/mappings/mobito.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sasl := fmt.Sprintf("{mechanism: PLAIN, username: %s, password: %s}", testkit.KafkaUser, testkit.KafkaPassword)
	text := fmt.Sprintf(`
clusters:
  k: {bootstrap_servers: %q, security_protocol: SASL_PLAINTEXT, sasl: %s}
sources:
  - {name: builtin, cluster: k, topics: [%s], group_id: g-builtin, profile: mobito, sinks: [a], start: earliest}
  - {name: mapped, cluster: k, topics: [%s], group_id: g-mapped, profile: mapping, mapping: %q, sinks: [b], start: earliest}
sinks:
  - {name: a, type: kafka, cluster: k, topic: "a.{type}", key: assetId, event_id: {inject: true}}
  - {name: b, type: kafka, cluster: k, topic: "b.{type}", key: assetId, event_id: {inject: true}}
dead_letter: {cluster: k, topic: %s}
shutdown_timeout: 10s
commit_interval: 100ms
`, e.kafka.Addr, sasl, moTopic, moTopic, mapping, dlqTopic)
	cfg, err := config.Parse([]byte(text), "test.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("config: %v\n%s", err, text)
	}
	r := start(t, cfg, nil)
	waitFor(t, 60*time.Second, "both sources bridged", func() bool {
		st := r.b.Stats()
		return st.Sources["builtin"].Consumed >= 13 && st.Sources["mapped"].Consumed >= 13 &&
			st.Delivered+st.DeadLetters >= totalObjects(st)+totalPoison(st)
	})
	r.shutdown(t)
	st := r.b.Stats()
	if st.Sources["mapped"].Poison != 1 || st.Sources["builtin"].Poison != 1 {
		t.Fatalf("poison: builtin %d, mapped %d; want 1 each", st.Sources["builtin"].Poison, st.Sources["mapped"].Poison)
	}
	if st.Sinks["b"].Delivered[schemas.TypeSensorData] == 0 || st.Sinks["b"].Delivered[schemas.TypeAsset] == 0 {
		t.Fatalf("the mapped source delivered no sensor data or assets: %v", st.Sinks["b"].Delivered)
	}
	for _, ty := range schemas.AllTypes() {
		na, nb := int(st.Sinks["a"].Delivered[ty]), int(st.Sinks["b"].Delivered[ty])
		if na != nb {
			t.Fatalf("%s: built-in delivered %d, mapping %d", ty, na, nb)
		}
		if na == 0 {
			continue
		}
		render := func(rs []*kgo.Record) []string {
			var out []string
			for _, r := range rs {
				out = append(out, header(r, "eventId")+" "+string(r.Key)+" "+string(r.Value))
			}
			slices.Sort(out)
			return out
		}
		a, b := render(readAll(t, e, "a."+string(ty), na)), render(readAll(t, e, "b."+string(ty), nb))
		if strings.Join(a, "\n") != strings.Join(b, "\n") {
			t.Fatalf("%s: outputs differ\nbuilt-in:\n%s\nmapping:\n%s", ty, strings.Join(a, "\n"), strings.Join(b, "\n"))
		}
	}
	var mappedLetter *kgo.Record
	for _, d := range readAll(t, e, dlqTopic, 2) {
		if header(d, bridge.HeaderErrorClass) != bridge.ClassMapping || header(d, "origin") != "bad-latitude" || string(d.Value) != string(poison.Value) {
			t.Fatalf("dead letter class %q origin %q value %q", header(d, bridge.HeaderErrorClass), header(d, "origin"), d.Value)
		}
		if strings.Contains(header(d, bridge.HeaderError), "objects[0].fields.latitude") {
			mappedLetter = d
		}
	}
	if mappedLetter == nil {
		t.Fatal("no dead letter names the mapping's object field")
	}
	if msg := header(mappedLetter, bridge.HeaderError); !strings.Contains(msg, `number(record.latitude)`) || !strings.Contains(msg, "mobito.yaml:") {
		t.Fatalf("dead-letter error does not name the expression and its place: %s", msg)
	}
}
