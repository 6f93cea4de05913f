package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/telebridge/telebridge/internal/testkit"
	"github.com/telebridge/telebridge/schemas"
	"github.com/telebridge/telebridge/sinks"
	"github.com/telebridge/telebridge/sinks/mqttsink"
)

// mqttBenchFlags configure `telebridge bench --mqtt`.
type mqttBenchFlags struct {
	enabled  bool
	url      string
	qos      string
	inFlight int
	user     string
	password string
	caFile   string
	insecure bool
	topic    string
}

func addMQTTBenchFlags(cmd *cobra.Command, f *mqttBenchFlags) {
	cmd.Flags().BoolVar(&f.enabled, "mqtt", false, "benchmark the MQTT sink instead: publish rate and PUBACK/PUBCOMP latency per QoS")
	cmd.Flags().StringVar(&f.url, "mqtt-url", "", "with --mqtt: broker URL (mqtt://, mqtts://, ws://, wss://); default an embedded broker")
	cmd.Flags().StringVar(&f.qos, "qos", "0,1,2", "with --mqtt: QoS levels to measure, comma-separated")
	cmd.Flags().IntVar(&f.inFlight, "mqtt-inflight", 1000, "with --mqtt: messages in flight (the sink's max_in_flight)")
	cmd.Flags().StringVar(&f.user, "mqtt-user", "", "with --mqtt-url: username")
	cmd.Flags().StringVar(&f.password, "mqtt-password", "", "with --mqtt-url: password (or env TELEBRIDGE_BENCH_MQTT_PASSWORD)")
	cmd.Flags().StringVar(&f.caFile, "mqtt-cafile", "", "with --mqtt-url: CA certificate file for mqtts:// or wss://")
	cmd.Flags().BoolVar(&f.insecure, "mqtt-insecure", false, "with --mqtt-url: skip TLS verification (testing only)")
	cmd.Flags().StringVar(&f.topic, "mqtt-topic", "telebridge/bench/{type}", "with --mqtt: topic template")
}

// mqttBenchResult is the measurement of one QoS level.
type mqttBenchResult struct {
	qos      byte
	n        int
	elapsed  time.Duration
	p50, p99 time.Duration
	bytes    int
}

func (r mqttBenchResult) rate() float64 { return float64(r.n) / r.elapsed.Seconds() }

// runMQTTBench publishes --messages object-sync objects through the MQTT
// sink at each requested QoS and reports the publish rate (first Send to
// last acknowledgement) and the per-attempt latency from publish to
// PUBACK/PUBCOMP (written, for QoS 0).
func runMQTTBench(ctx context.Context, out io.Writer, f *benchFlags, getenv func(string) string, log *zap.Logger) error {
	m := &f.mqtt
	var levels []byte
	for _, q := range strings.Split(m.qos, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(q))
		if err != nil || n < 0 || n > 2 {
			return &exitError{code: 2, err: fmt.Errorf("--qos %q: want 0, 1 and/or 2, comma-separated", m.qos)}
		}
		levels = append(levels, byte(n))
	}
	if f.messages <= 0 || m.inFlight <= 0 {
		return &exitError{code: 2, err: errors.New("--messages and --mqtt-inflight must be positive")}
	}
	url, where := m.url, m.url
	if url == "" {
		b, err := testkit.StartMQTT(testkit.MQTTOptions{})
		if err != nil {
			return err
		}
		defer b.Close()
		url, where = b.URL(), "embedded mochi-mqtt "+b.URL()
	}
	password := m.password
	if password == "" {
		password = getenv("TELEBRIDGE_BENCH_MQTT_PASSWORD")
	}
	msgs := mqttBenchMessages(f.messages)
	fmt.Fprintf(out, "MQTT bench: %d messages per QoS (avg %d bytes payload), %d in flight, broker %s\n",
		f.messages, avgPayload(msgs), m.inFlight, where)
	for _, q := range levels {
		r, err := mqttBenchOnce(ctx, msgs, q, url, m, password, log)
		if err != nil {
			return fmt.Errorf("QoS %d: %w", q, err)
		}
		fmt.Fprintf(out, "QoS %d: %8.0f msgs/s (%d in %s, %.1f MB/s); ack latency p50 %s, p99 %s\n",
			q, r.rate(), r.n, r.elapsed.Round(time.Millisecond), float64(r.bytes)/r.elapsed.Seconds()/1e6, r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond))
	}
	return nil
}

// mqttBenchMessages builds n messages of the shapes a Trackunit feed
// yields most (Location and SensorData records).
func mqttBenchMessages(n int) []*sinks.Message {
	base := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	msgs := make([]*sinks.Message, n)
	for i := range msgs {
		asset := fmt.Sprintf("4562ee9b-6a56-4cb6-93e6-%012d", i%500)
		var o schemas.Object
		if i%4 == 0 {
			sp, hd := float64(i%90), float64(i%360)
			o = &schemas.Location{ID: int64(i + 1), AssetID: asset, OwnerID: "owner-1", WhenCreated: base.Add(time.Duration(i) * time.Second),
				Latitude: 55.6 + float64(i%100)/1000, Longitude: 12.5, Speed: &sp, Heading: &hd}
		} else {
			o = &schemas.SensorData{ID: int64(i + 1), AssetID: asset, OwnerID: "owner-1", SensorID: "AmbientAirTemperature:celsius",
				SensorType: "AmbientAirTemperature", WhenCreated: base.Add(time.Duration(i) * time.Second), Value: strconv.Itoa(i % 40), Type: schemas.ValueDecimal}
		}
		msgs[i] = &sinks.Message{Object: o, EventID: fmt.Sprintf("00000000-0000-5000-8000-%012d", i),
			Source: sinks.SourceRef{Topic: "bench", Partition: int32(i % 4), Offset: int64(i)}}
	}
	return msgs
}

func avgPayload(msgs []*sinks.Message) int {
	total := 0
	for _, m := range msgs {
		total += len(m.Object.AppendJSON(nil, "eventId", m.EventID))
	}
	return total / max(len(msgs), 1)
}

// latencies collects the latency of delivered attempts.
type latencies struct {
	mu  sync.Mutex
	d   []time.Duration
	err string
}

func (l *latencies) ObserveAttempt(a *sinks.Attempt) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if a.Status == sinks.StatusDelivered {
		l.d = append(l.d, a.Latency)
	} else if l.err == "" {
		l.err = a.Err
	}
}

func mqttBenchOnce(ctx context.Context, msgs []*sinks.Message, qos byte, url string, m *mqttBenchFlags, password string, log *zap.Logger) (mqttBenchResult, error) {
	lat := &latencies{d: make([]time.Duration, 0, len(msgs))}
	s, err := mqttsink.New(mqttsink.Config{
		Name:         fmt.Sprintf("bench-q%d-%d", qos, time.Now().UnixNano()),
		Brokers:      []string{url},
		Username:     m.user,
		Password:     password,
		TLS:          mqttsink.TLS{CAFile: m.caFile, InsecureSkipVerify: m.insecure},
		Topic:        m.topic,
		QoS:          &qos,
		EventIDField: "eventId",
		MaxInFlight:  m.inFlight,
		Logger:       log,
		Observer:     lat,
	})
	if err != nil {
		return mqttBenchResult{}, err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Close(cctx)
	}()
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := s.AwaitConnection(cctx); err != nil {
		return mqttBenchResult{}, err
	}
	var wg sync.WaitGroup
	var failed sync.Once
	var failure error
	res := mqttBenchResult{qos: qos, n: len(msgs)}
	wg.Add(len(msgs))
	start := time.Now()
	for i, msg := range msgs {
		err := s.Send(ctx, msg, func(r sinks.Result) {
			if r.Outcome != sinks.Delivered {
				failed.Do(func() { failure = r.Err })
			}
			wg.Done()
		})
		if err != nil {
			wg.Add(-(len(msgs) - i))
			wg.Wait()
			return res, err
		}
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	if failure != nil {
		return res, failure
	}
	for _, msg := range msgs {
		res.bytes += len(msg.Object.AppendJSON(nil, "eventId", msg.EventID))
	}
	lat.mu.Lock()
	defer lat.mu.Unlock()
	slices.Sort(lat.d)
	if n := len(lat.d); n > 0 {
		res.p50 = lat.d[n*50/100]
		res.p99 = lat.d[min(n-1, n*99/100)]
	}
	return res, nil
}
