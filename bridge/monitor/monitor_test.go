package monitor_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/telebridge/telebridge/bridge/config"
	"github.com/telebridge/telebridge/bridge/history"
	"github.com/telebridge/telebridge/bridge/monitor"
	"github.com/telebridge/telebridge/internal/scenario"
)

func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	code, body := get(t, u)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, code, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("GET %s: %v\n%s", u, err, body)
	}
}

// TestHistoryAPIAndMetricsFromARealRun runs the bridge against kfake with
// one sink the broker always refuses and one it refuses every other time,
// and checks that the history, the API and the metrics show deliveries,
// retries and dead letters.
func TestHistoryAPIAndMetricsFromARealRun(t *testing.T) {
	sc, err := scenario.Start(scenario.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = sc.Stop()
		}
	})
	base := sc.Service.URL
	if code, body := get(t, base+"/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("healthz: %d %q", code, body)
	}
	if err := sc.Produce(context.Background(), 10); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 90*time.Second, "every delivery settled and recorded", sc.Settled)
	waitFor(t, 30*time.Second, "/readyz 200", func() bool { code, _ := get(t, base+"/readyz"); return code == 200 })

	// The refused sink: every location was tried 3 times, then dead-lettered.
	var dead history.Page
	getJSON(t, base+"/api/v1/deliveries?sink=refused&status=dead-lettered&limit=1000", &dead)
	if len(dead.Records) == 0 {
		t.Fatal("no dead-lettered records for the refused sink")
	}
	for _, r := range dead.Records {
		if r.Topic != scenario.DeadLetter || r.Attempt != 3 || !strings.Contains(r.Error, "TOPIC_AUTHORIZATION_FAILED") && !strings.Contains(r.Error, "authorization") || r.Type != "location" {
			t.Fatalf("dead-lettered record: %+v", r)
		}
	}
	ev := dead.Records[0].EventID
	var event history.Event
	getJSON(t, base+"/api/v1/deliveries/"+url.PathEscape(ev), &event)
	var refused *history.Delivery
	for i := range event.Deliveries {
		if event.Deliveries[i].Sink == "refused" {
			refused = &event.Deliveries[i]
		}
	}
	if refused == nil || !refused.Final || refused.Status != history.StatusDeadLettered {
		t.Fatalf("event %s deliveries: %+v", ev, event.Deliveries)
	}
	var statuses []string
	for _, a := range refused.Attempts {
		statuses = append(statuses, a.Status)
	}
	if got := strings.Join(statuses, ","); got != "failed-will-retry,failed-will-retry,failed,dead-lettered" {
		t.Fatalf("refused attempts: %s", got)
	}
	if len(event.Deliveries) != 3 || len(event.Payload) == 0 || !json.Valid(event.Payload) || !strings.Contains(string(event.Payload), `"assetId"`) {
		t.Fatalf("event: %d deliveries, payload %s", len(event.Deliveries), event.Payload)
	}

	// The flaky sink retried some deliveries, and every one ended delivered.
	var retried history.Page
	getJSON(t, base+"/api/v1/deliveries?sink=flaky&status=failed-will-retry&limit=1000", &retried)
	if len(retried.Records) == 0 {
		t.Fatal("flaky sink has no retried attempts")
	}
	var flakyEvent history.Event
	getJSON(t, base+"/api/v1/deliveries/"+retried.Records[0].EventID, &flakyEvent)
	for _, d := range flakyEvent.Deliveries {
		if d.Sink == "flaky" && (d.Status != history.StatusDelivered || len(d.Attempts) < 2 || d.Attempts[len(d.Attempts)-1].Attempt < 2) {
			t.Fatalf("flaky delivery: %+v", d)
		}
	}
	var failedFlaky history.Page
	getJSON(t, base+"/api/v1/deliveries?sink=flaky&status=failed,dead-lettered", &failedFlaky)
	if len(failedFlaky.Records) != 0 {
		t.Fatalf("flaky sink gave up on something: %+v", failedFlaky.Records)
	}

	// Filters: type, asset, eventId, relative since, pagination.
	var lake history.Page
	getJSON(t, base+"/api/v1/deliveries?sink=lake&status=delivered&since=1h&limit=5", &lake)
	if len(lake.Records) != 5 || lake.Next == 0 {
		t.Fatalf("lake page: %d records, next %d", len(lake.Records), lake.Next)
	}
	var next history.Page
	getJSON(t, base+"/api/v1/deliveries?sink=lake&status=delivered&since=1h&limit=5&before="+itoa(lake.Next), &next)
	if len(next.Records) == 0 || next.Records[0].ID >= lake.Records[4].ID {
		t.Fatalf("second page does not continue the first: %+v", next.Records)
	}
	asset := lake.Records[0].AssetID
	var byAsset history.Page
	getJSON(t, base+"/api/v1/deliveries?asset="+url.QueryEscape(asset)+"&limit=1000", &byAsset)
	for _, r := range byAsset.Records {
		if r.AssetID != asset {
			t.Fatalf("asset filter returned %+v", r)
		}
	}
	var future history.Page
	getJSON(t, base+"/api/v1/deliveries?since="+url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339)), &future)
	if len(future.Records) != 0 {
		t.Fatalf("since in the future returned %d records", len(future.Records))
	}
	var types history.Page
	getJSON(t, base+"/api/v1/deliveries?type=location&eventId="+ev, &types)
	if len(types.Records) < 6 { // lake 1, flaky 1 or more, refused 4
		t.Fatalf("eventId %s: %d records", ev, len(types.Records))
	}
	for _, r := range types.Records {
		if r.EventID != ev {
			t.Fatalf("eventId filter returned %+v", r)
		}
	}
	for q, want := range map[string]string{
		"status=failedd":  "failedd",
		"since=yesterday": "since:",
		"type=locaton":    `type \"locaton\": allowed: asset, location`,
		"limit=-1":        "limit:",
	} {
		code, body := get(t, base+"/api/v1/deliveries?"+q)
		if code != http.StatusBadRequest || !strings.Contains(body, want) {
			t.Errorf("%s: %d %s", q, code, body)
		}
	}
	if code, body := get(t, base+"/api/v1/deliveries/no-such-event"); code != http.StatusNotFound || !strings.Contains(body, "no-such-event") {
		t.Errorf("unknown event: %d %s", code, body)
	}

	// Status: sources and sinks with their counters.
	var st monitor.Status
	getJSON(t, base+"/api/v1/status", &st)
	if !st.Ready || len(st.Sources) != 2 || len(st.Sinks) != 3 || st.History == nil || st.History.Recorded == 0 {
		t.Fatalf("status: %+v", st)
	}
	for _, sk := range st.Sinks {
		switch sk.Name {
		case "refused":
			if sk.DeadLettered == 0 || sk.Failed != sk.DeadLettered || sk.Retries != 2*sk.DeadLettered || sk.Delivered != 0 {
				t.Errorf("refused sink status: %+v", sk)
			}
		case "flaky":
			if sk.Retries == 0 || sk.Delivered == 0 || sk.DeadLettered != 0 {
				t.Errorf("flaky sink status: %+v", sk)
			}
		}
	}

	// Metrics, read with Prometheus' own text parser.
	code, body := get(t, base+"/metrics")
	if code != 200 {
		t.Fatalf("metrics: %d", code)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse metrics: %v", err)
	}
	value := func(name string, labels map[string]string) float64 {
		t.Helper()
		f := families[name]
		if f == nil {
			t.Fatalf("metric %s missing", name)
		}
		var total float64
		for _, m := range f.Metric {
			if matches(m, labels) {
				switch {
				case m.Counter != nil:
					total += m.Counter.GetValue()
				case m.Gauge != nil:
					total += m.Gauge.GetValue()
				}
			}
		}
		return total
	}
	if v := value("telebridge_source_incompatible_schemas_total", map[string]string{"source": "trackunit"}); v != 0 {
		t.Errorf("trackunit incompatible schemas = %v, want 0", v)
	}
	if v := value("telebridge_source_consumed_total", map[string]string{"source": "mobito"}); v != 10 {
		t.Errorf("mobito consumed = %v, want 10", v)
	}
	if v := value("telebridge_sink_dead_lettered_total", map[string]string{"sink": "refused", "type": "location"}); v != float64(len(dead.Records)) {
		t.Errorf("refused dead-lettered = %v, want %d", v, len(dead.Records))
	}
	if v := value("telebridge_sink_retries_total", map[string]string{"sink": "flaky"}); v == 0 {
		t.Error("flaky retries = 0")
	}
	if v := value("telebridge_sink_delivered_total", map[string]string{"sink": "lake", "kind": "kafka"}); v == 0 {
		t.Error("lake delivered = 0")
	}
	if v := value("telebridge_dead_letters_total", nil); v < float64(len(dead.Records)) {
		t.Errorf("dead letters = %v", v)
	}
	if v := value("telebridge_registry_cache_hits_total", map[string]string{"registry": "tu"}); v < 5 {
		t.Errorf("registry cache hits = %v", v)
	}
	if v := value("telebridge_ready", nil); v != 1 {
		t.Errorf("ready = %v", v)
	}
	if v := value("telebridge_sink_connected", map[string]string{"sink": "lake"}); v != 1 {
		t.Errorf("lake connected = %v", v)
	}
	if v := value("telebridge_history_records_total", nil); v == 0 {
		t.Error("history records = 0")
	}
	if f := families["telebridge_consumer_lag"]; f == nil || len(f.Metric) == 0 {
		t.Error("no consumer lag series")
	}
	h := families["telebridge_end_to_end_latency_seconds"]
	if h == nil || h.Metric[0].Histogram == nil || h.Metric[0].Histogram.GetSampleCount() == 0 {
		t.Fatalf("latency histogram: %v", h)
	}

	// The dashboard is served from the binary.
	if code, body := get(t, base+"/"); code != 200 || !strings.Contains(body, "telebridge") {
		t.Fatalf("dashboard: %d", code)
	}

	stopped = true
	if err := sc.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	// After the stop the store holds every attempt the sinks reported.
	store, err := history.OpenReadOnly(sc.HistoryPath)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	n, err := store.Count(context.Background())
	if err != nil || n == 0 {
		t.Fatalf("stored records: %d %v", n, err)
	}
}

func matches(m *dto.Metric, labels map[string]string) bool {
	for k, v := range labels {
		found := false
		for _, l := range m.Label {
			if l.GetName() == k && l.GetValue() == v {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestNotReadyAndHistoryOff: with every broker unreachable, /readyz says
// 503 and names each source and sink; with history off, the deliveries
// API says so.
func TestNotReadyAndHistoryOff(t *testing.T) {
	cfg, err := config.Parse([]byte(`
clusters: {k: {bootstrap_servers: "127.0.0.1:1"}}
sources: [{name: mo, cluster: k, topics: [mo], profile: mobito}]
sinks: [{name: out, type: kafka, cluster: k, topic: "o.{type}"}]
dead_letter: {cluster: k, topic: dlq}
http: {listen: "127.0.0.1:0"}
history: {enabled: false}
`), filepath.Join(t.TempDir(), "down.yaml"), func(string) (string, bool) { return "", false })
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
	// After the first statistics the reasons name the brokers' state.
	waitFor(t, 20*time.Second, "broker states in /readyz", func() bool {
		code, body := get(t, svc.URL+"/readyz")
		if code != http.StatusServiceUnavailable {
			t.Fatalf("readyz with no broker: %d %s", code, body)
		}
		return strings.Contains(body, "source mo: ") && strings.Contains(body, "sink out: ") && !strings.Contains(body, "waiting for the first")
	})
	code, body := get(t, svc.URL+"/api/v1/deliveries")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "history is disabled") {
		t.Fatalf("deliveries with history off: %d %s", code, body)
	}
	var st monitor.Status
	getJSON(t, svc.URL+"/api/v1/status", &st)
	if st.Ready || st.History != nil || len(st.Sinks) != 1 || st.Sinks[0].Connected {
		t.Fatalf("status: %+v", st)
	}
	if code, body := get(t, svc.URL+"/metrics"); code != 200 || !strings.Contains(body, "telebridge_ready 0") || strings.Contains(body, "telebridge_history_records_total") {
		t.Fatalf("metrics: %d", code)
	}
}

// TestHistoryTopic: with history.topic set, every record is also published
// as JSON to the topic.
func TestHistoryTopic(t *testing.T) {
	sc, err := scenario.Start(scenario.Options{Dir: t.TempDir(), HistoryTopic: "telebridge.delivery-results"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sc.Stop() })
	if err := sc.Produce(context.Background(), 2); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 90*time.Second, "settled", sc.Settled)
	n := int(sc.Service.Recorder.Stats().Recorded)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	recs, err := sc.Kafka.ReadTopic(ctx, "telebridge.delivery-results", n)
	if err != nil {
		t.Fatalf("read %d records: %v", n, err)
	}
	statuses := map[string]int{}
	for _, kr := range recs {
		var r history.Record
		if err := json.Unmarshal(kr.Value, &r); err != nil || string(kr.Key) != r.EventID || r.ID == 0 {
			t.Fatalf("published record %s: %v", kr.Value, err)
		}
		statuses[r.Status]++
	}
	if statuses["delivered"] == 0 || statuses["dead-lettered"] == 0 || statuses["failed-will-retry"] == 0 {
		t.Fatalf("published statuses: %v", statuses)
	}
}
