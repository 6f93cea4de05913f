package monitor_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telebridge/telebridge/bridge/config"
	"github.com/telebridge/telebridge/bridge/monitor"
	"github.com/telebridge/telebridge/internal/fleet"
	"github.com/telebridge/telebridge/internal/testkit"
)

// TestUnroutedInMetricsAndStatus: objects no sink accepts show in
// telebridge_objects_unrouted_total{source,type} and in the status API,
// with the same counts.
func TestUnroutedInMetricsAndStatus(t *testing.T) {
	k, err := testkit.StartKafka([]string{"mo"})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	cl, err := k.Client()
	if err != nil {
		t.Fatal(err)
	}
	fl := fleet.New(fleet.Config{Vehicles: 3, Seed: 5})
	const records = 8
	for range records {
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: "mo", Value: fl.NextMobitoJSON()}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cl.Close()
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
clusters: {k: {bootstrap_servers: %q, security_protocol: SASL_PLAINTEXT, sasl: {mechanism: PLAIN, username: %s, password: %s}}}
sources: [{name: mo, cluster: k, topics: [mo], profile: mobito, start: earliest}]
sinks: [{name: loc, type: kafka, cluster: k, topic: "o.{type}", types: [location]}]
dead_letter: {cluster: k, topic: dlq}
http: {listen: "127.0.0.1:0"}
history: {enabled: false}
`, k.Addr, testkit.KafkaUser, testkit.KafkaPassword)), filepath.Join(t.TempDir(), "unrouted.yaml"), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	svc, err := monitor.Start(cfg, monitor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	var st monitor.Status
	waitFor(t, 60*time.Second, "every object delivered or unrouted", func() bool {
		getJSON(t, svc.URL+"/api/v1/status", &st)
		return len(st.Sources) == 1 && st.Sources[0].Consumed == records && st.Delivered+st.Sources[0].Unrouted == st.Sources[0].Objects
	})
	src := st.Sources[0]
	if src.Unrouted == 0 || src.UnroutedByType["asset"] == 0 || src.UnroutedByType["sensordata"] == 0 || src.UnroutedByType["location"] != 0 {
		t.Fatalf("status unrouted %d by type %v", src.Unrouted, src.UnroutedByType)
	}
	_, body := get(t, svc.URL+"/metrics")
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	f := families["telebridge_objects_unrouted_total"]
	if f == nil {
		t.Fatal("telebridge_objects_unrouted_total missing")
	}
	if len(f.Metric) != 6 {
		t.Errorf("%d series, want one per object type", len(f.Metric))
	}
	for typ, want := range src.UnroutedByType {
		found := false
		for _, m := range f.Metric {
			if matches(m, map[string]string{"source": "mo", "type": typ}) {
				found = true
				if got := m.Counter.GetValue(); got != float64(want) {
					t.Errorf("unrouted{type=%s} = %v, status says %d", typ, got, want)
				}
			}
		}
		if !found {
			t.Errorf("no series for type %s", typ)
		}
	}
}
