package monitor

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/telebridge/telebridge/sinks/kafkaws"
)

// TestKafkaWSCollector exports a real endpoint's ticket counters: one
// ticket issued for a valid JWT, one request refused without a token.
func TestKafkaWSCollector(t *testing.T) {
	secret := []byte("kafka-ws-metrics-test-secret")
	ws, err := kafkaws.New(kafkaws.Config{
		Listen: "127.0.0.1:0",
		Kafka:  map[string]string{"bootstrap.servers": "127.0.0.1:1"},
		Auth:   kafkaws.Auth{HS256Secret: secret},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	api := httptest.NewServer(ws.Handler())
	defer api.Close()
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"service": "fleet", "exp": time.Now().Add(time.Minute).Unix(),
	}).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	for _, auth := range []string{"Bearer " + signed, ""} {
		req, _ := http.NewRequest(http.MethodGet, api.URL+"/kafka-ws/v1/ticket", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(KafkaWSCollector(ws))
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatalf("parse metrics: %v\n%s", err, rec.Body.String())
	}
	for name, want := range map[string]float64{
		"telebridge_kafka_ws_tickets_issued_total":  1,
		"telebridge_kafka_ws_tickets_refused_total": 1,
		"telebridge_kafka_ws_connections":           0,
	} {
		f := families[name]
		if f == nil || len(f.Metric) != 1 {
			t.Fatalf("metric %s missing:\n%s", name, rec.Body.String())
		}
		m := f.Metric[0]
		got := m.GetGauge().GetValue() + m.GetCounter().GetValue()
		if got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}
