// Package scenario runs a complete bridge for tests of the delivery
// history, the HTTP API, the CLI and the dashboard: an embedded Kafka
// cluster (kfake, SASL) and schema registry (srfake), both simulated
// feeds, and a bridge Service with history on and three sinks:
//
//   - lake: every type to out.{type}; delivers everything.
//   - flaky: locations to flaky.{type}; the broker refuses the first three
//     produce requests, so the first deliveries are retried before they
//     succeed.
//   - refused: locations to refused.{type}; the broker refuses every produce
//     request (topic authorization failed), so every attempt fails and each
//     location is dead-lettered after 3 attempts.
//
// The refusals are made by the real broker (a kfake control function on
// Produce requests), so librdkafka's real failure path is exercised.
package scenario

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sr"
	"go.uber.org/zap"

	"github.com/telebridge/telebridge/bridge/config"
	"github.com/telebridge/telebridge/bridge/monitor"
	"github.com/telebridge/telebridge/bridge/profile"
	"github.com/telebridge/telebridge/internal/fleet"
	"github.com/telebridge/telebridge/internal/testkit"
)

// Topics of the scenario.
const (
	TrackunitTopic = "tu.insights"
	MobitoTopic    = "mobito.push"
	DeadLetter     = "telebridge.dead-letter"
)

// Scenario is a running bridge with its embedded services.
type Scenario struct {
	Kafka    *testkit.Kafka
	Registry *testkit.Registry
	Config   *config.Config
	Service  *monitor.Service
	// HistoryPath is the SQLite history file.
	HistoryPath string

	schemaID int
	fleet    *fleet.Fleet
	cancel   context.CancelFunc
	done     chan error
}

// Options adjust a scenario.
type Options struct {
	// Dir holds the config and history files (required).
	Dir string
	// Listen is the HTTP address (default 127.0.0.1:0).
	Listen string
	Logger *zap.Logger
	// ExtraConfig is appended to the config text.
	ExtraConfig string
	// HistoryTopic also publishes history records to this topic.
	HistoryTopic string
}

// refuseProduce makes the cluster refuse produce requests to refused.*
// always and the first three to flaky.*.
func refuseProduce(k *testkit.Kafka) {
	var flaky atomic.Int64
	k.Cluster.ControlKey(int16(kmsg.Produce), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		k.Cluster.KeepControl()
		req, ok := kr.(*kmsg.ProduceRequest)
		if !ok || len(req.Topics) == 0 {
			return nil, nil, false
		}
		refuse := true
		for _, t := range req.Topics {
			switch {
			case strings.HasPrefix(t.Topic, "refused."):
			case strings.HasPrefix(t.Topic, "flaky."):
				refuse = refuse && flaky.Add(1) <= 3
			default:
				refuse = false
			}
		}
		if !refuse {
			return nil, nil, false
		}
		resp := req.ResponseKind().(*kmsg.ProduceResponse)
		for _, t := range req.Topics {
			rt := kmsg.NewProduceResponseTopic()
			rt.Topic, rt.TopicID = t.Topic, t.TopicID
			for _, p := range t.Partitions {
				rp := kmsg.NewProduceResponseTopicPartition()
				rp.Partition = p.Partition
				// Authorization errors make librdkafka fail the topic
				// locally for a while, so the transient refusal uses a
				// per-request error instead.
				rp.ErrorCode = kerr.TopicAuthorizationFailed.Code
				if strings.HasPrefix(t.Topic, "flaky.") {
					rp.ErrorCode = kerr.InvalidRecord.Code
				}
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp, nil, true
	})
}

const configText = `
clusters:
  src:
    bootstrap_servers: %[1]q
    security_protocol: SASL_PLAINTEXT
    sasl: {mechanism: PLAIN, username: %[2]s, password: %[3]s}
registries:
  tu: {url: %[4]q, username: %[5]s, password: %[6]s}
sources:
  - name: trackunit
    cluster: src
    topics: [%[7]s]
    profile: trackunit-insights
    registry: tu
    start: earliest
  - name: mobito
    cluster: src
    topics: [%[8]s]
    profile: mobito
    start: earliest
sinks:
  - name: lake
    type: kafka
    cluster: src
    topic: "out.{type}"
    key: assetId
    event_id: {inject: true}
  - name: flaky
    type: kafka
    cluster: src
    topic: "flaky.{type}"
    types: [location]
    retry: {max_attempts: 6, initial_backoff: 20ms, max_backoff: 100ms}
  - name: refused
    type: kafka
    cluster: src
    topic: "refused.{type}"
    types: [location]
    retry: {max_attempts: 3, initial_backoff: 20ms, max_backoff: 50ms}
dead_letter: {cluster: src, topic: %[9]s}
shutdown_timeout: 10s
commit_interval: 200ms
http: {listen: %[10]q}
history:
  path: %[11]q
%[12]s`

// Start starts the services and the bridge (HTTP server included), with
// no input yet: call Produce.
func Start(opts Options) (*Scenario, error) {
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:0"
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	k, err := testkit.StartKafka([]string{TrackunitTopic, MobitoTopic})
	if err != nil {
		return nil, err
	}
	refuseProduce(k)
	reg := testkit.StartRegistry()
	s := &Scenario{Kafka: k, Registry: reg, HistoryPath: filepath.Join(opts.Dir, "history.db"), done: make(chan error, 1),
		fleet: fleet.New(fleet.Config{Machines: 3, Vehicles: 3, Seed: 7, Start: time.Now().Add(-time.Hour)})}
	fail := func(err error) (*Scenario, error) {
		reg.Close()
		k.Close()
		return nil, err
	}
	s.schemaID, _, err = reg.RegisterSchema(TrackunitTopic+"-value", sr.Schema{Schema: profile.TrackunitReaderSchema(), Type: sr.TypeAvro})
	if err != nil {
		return fail(err)
	}
	text := fmt.Sprintf(configText, k.Addr, testkit.KafkaUser, testkit.KafkaPassword, reg.URL(), testkit.RegistryUser, testkit.RegistryPasswd,
		TrackunitTopic, MobitoTopic, DeadLetter, opts.Listen, s.HistoryPath, topicLine(opts.HistoryTopic)) + opts.ExtraConfig
	cfg, err := config.Parse([]byte(text), filepath.Join(opts.Dir, "scenario.yaml"), func(string) (string, bool) { return "", false })
	if err != nil {
		return fail(fmt.Errorf("scenario config: %w", err))
	}
	s.Config = cfg
	svc, err := monitor.Start(cfg, monitor.Options{Logger: opts.Logger})
	if err != nil {
		return fail(err)
	}
	s.Service = svc
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() { s.done <- svc.Run(ctx) }()
	return s, nil
}

// Produce writes n Trackunit and n MOBITO records.
func (s *Scenario) Produce(ctx context.Context, n int) error {
	cl, err := s.Kafka.Client()
	if err != nil {
		return err
	}
	defer cl.Close()
	var recs []*kgo.Record
	for range n {
		v, err := s.fleet.NextTrackunitAvro(s.schemaID)
		if err != nil {
			return err
		}
		recs = append(recs, &kgo.Record{Topic: TrackunitTopic, Value: v}, &kgo.Record{Topic: MobitoTopic, Value: s.fleet.NextMobitoJSON()})
	}
	return cl.ProduceSync(ctx, recs...).FirstErr()
}

// Settled reports whether every object consumed so far reached its final
// state on every sink it is routed to (delivered or dead-lettered) and the
// history has written a record of every attempt.
func (s *Scenario) Settled() bool {
	st := s.Service.Bridge.Stats()
	var objects uint64
	for _, src := range st.Sources {
		if src.InFlight > 0 {
			return false
		}
		objects += src.Objects
	}
	if objects == 0 {
		return false
	}
	done := func(sink string, only string) uint64 {
		var n uint64
		sk := st.Sinks[sink]
		for t, d := range sk.Delivered {
			if only == "" || string(t) == only {
				n += d + sk.DeadLetteredBy[t]
			}
		}
		return n
	}
	locations := done("lake", "location")
	if done("lake", "") < objects || done("flaky", "location") < locations || done("refused", "location") < locations {
		return false
	}
	var attempts uint64
	for _, sk := range st.Sinks {
		for t, n := range sk.Delivered {
			attempts += n + sk.Retries[t] + sk.Failed[t] + sk.DeadLetteredBy[t]
		}
	}
	return s.Service.Recorder.Stats().Recorded >= attempts
}

// Stop stops the bridge (draining it) and the services, and returns the
// bridge's error.
func (s *Scenario) Stop() error {
	s.cancel()
	var err error
	select {
	case err = <-s.done:
	case <-time.After(60 * time.Second):
		err = fmt.Errorf("scenario bridge did not stop within 60s")
	}
	s.Registry.Close()
	s.Kafka.Close()
	return err
}

func topicLine(topic string) string {
	if topic == "" {
		return ""
	}
	return fmt.Sprintf("  topic: {cluster: src, name: %q}\n", topic)
}
