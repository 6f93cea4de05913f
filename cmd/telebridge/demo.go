package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"go.uber.org/zap"

	"github.com/telebridge/telebridge/bridge"
	"github.com/telebridge/telebridge/bridge/config"
	"github.com/telebridge/telebridge/bridge/monitor"
	"github.com/telebridge/telebridge/bridge/profile"
	"github.com/telebridge/telebridge/internal/fleet"
	"github.com/telebridge/telebridge/internal/testkit"
	"github.com/telebridge/telebridge/schemas"
)

// Topics of the demo's embedded cluster.
const (
	demoTrackunitTopic = "trackunit.machine-insights"
	demoMobitoTopic    = "mobito.vehicles"
	demoReeferTopic    = "reefer.units" // mapped feed (profile: mapping)
	demoOutputTemplate = "globe-tracker.events.{type}"
	demoDeadLetter     = "telebridge.dead-letter"
	demoHTTP           = "127.0.0.1:8080"
)

// demoReeferMapping is the mapping of the demo's reefer feed, written next
// to the demo config.
//
//go:embed demo-reefer.yaml
var demoReeferMapping string

type demoFlags struct {
	duration    time.Duration
	rate        int
	machines    int
	vehicles    int
	poisonEvery int
	configOut   string
	seed        uint64
	wsListen    string // Kafka WS endpoint address; "" or busy: a free port
	http        string // dashboard listen address; "" picks a free port
}

func newDemoCmd(g *globalFlags) *cobra.Command {
	f := &demoFlags{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole bridge on embedded Kafka and Schema Registry, no setup needed",
		Long: `Start an embedded Kafka cluster (SASL PLAIN on) and an embedded Confluent Schema
Registry (basic auth) in this process, register the Trackunit Machine Insights
Avro schema, simulate a fleet of Trackunit machines and MOBITO vehicles moving
along routes, inject a few poison messages, and bridge both feeds to Globe
Tracker style push topics (globe-tracker.events.{type}).

While it runs it prints where everything listens (so you can attach kcat),
live progress and a sample of each output object type. It stops after
--duration (0 = until Ctrl-C) with a summary. The config it runs is written
to a file you can copy as a starting point.`,
		Example: `  go run ./cmd/telebridge demo
  go run ./cmd/telebridge demo --duration 0 --rate 200`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			log, err := newLogger(pick(g.logFormat, "", "console"), pick(g.logLevel, "", "warn"))
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			defer func() { _ = log.Sync() }()
			return runDemo(ctx, cmd.OutOrStdout(), f, log)
		},
	}
	cmd.Flags().DurationVar(&f.duration, "duration", time.Minute, "how long to run; 0 runs until Ctrl-C")
	cmd.Flags().IntVar(&f.rate, "rate", 20, "messages per second per feed (Trackunit and MOBITO each)")
	cmd.Flags().IntVar(&f.machines, "machines", 8, "number of simulated Trackunit machines")
	cmd.Flags().IntVar(&f.vehicles, "vehicles", 8, "number of simulated MOBITO vehicles")
	cmd.Flags().IntVar(&f.poisonEvery, "poison-every", 250, "inject one poison message per feed every N messages (0 = none after the first few)")
	cmd.Flags().StringVar(&f.configOut, "config-out", "", "where to write the config the demo runs (default: a file in the temp directory)")
	cmd.Flags().Uint64Var(&f.seed, "seed", 1, "simulation seed")
	cmd.Flags().StringVar(&f.wsListen, "ws-listen", demoWSDefaultAddr, "address of the Kafka WS endpoint (a free port if busy)")
	cmd.Flags().StringVar(&f.http, "http", demoHTTP, "listen address of the dashboard, metrics and API (a free port if this one is taken)")
	return cmd
}

// demoConfig is the config the demo runs; %s are filled with addresses.
const demoConfig = `# telebridge demo config: written by 'telebridge demo'. Both feeds come from the
# embedded cluster here; against real clusters each source gets its own
# cluster entry (see testdata/config/).
log:
  level: info
  format: console
clusters:
  trackunit:            # Trackunit Streaming API (Confluent Cloud: SASL_SSL + PLAIN)
    bootstrap_servers: "%[1]s"
    security_protocol: SASL_PLAINTEXT
    sasl: {mechanism: PLAIN, username: %[2]s, password: "${TELEBRIDGE_DEMO_KAFKA_PASSWORD:-%[3]s}"}
  mobito:               # MOBITO Push API (username/password)
    bootstrap_servers: "%[1]s"
    security_protocol: SASL_PLAINTEXT
    sasl: {mechanism: PLAIN, username: %[2]s, password: "${TELEBRIDGE_DEMO_KAFKA_PASSWORD:-%[3]s}"}
  lake:                 # your own cluster, where object-sync push topics live
    bootstrap_servers: "%[1]s"
    security_protocol: SASL_PLAINTEXT
    sasl: {mechanism: PLAIN, username: %[2]s, password: "${TELEBRIDGE_DEMO_KAFKA_PASSWORD:-%[3]s}"}
registries:
  trackunit:
    url: "%[4]s"
    username: %[5]s
    password: "${TELEBRIDGE_DEMO_SR_PASSWORD:-%[6]s}"
sources:
  - name: trackunit
    cluster: trackunit
    topics: [%[7]s]
    profile: trackunit-insights
    registry: trackunit
    start: earliest
  - name: mobito
    cluster: mobito
    topics: [%[8]s]
    profile: mobito
    start: earliest
sinks:
  - name: globe-tracker
    type: kafka
    cluster: lake
    topic: "%[9]s"
    key: assetId
    acks: all
    event_id: {inject: true, field: eventId}
    retry: {max_attempts: 5, initial_backoff: 200ms, max_backoff: 5s}
%[11]sdead_letter:
  cluster: lake
  topic: %[10]s
shutdown_timeout: 15s
commit_interval: 1s
`

// startDemoKafka starts the demo's embedded broker: kfake with SASL PLAIN
// and SCRAM (testkit), the input topics created.
func startDemoKafka() (*testkit.Kafka, error) {
	return testkit.StartKafka([]string{demoTrackunitTopic, demoMobitoTopic, demoReeferTopic})
}

func runDemo(ctx context.Context, out io.Writer, f *demoFlags, log *zap.Logger) error {
	kafkaSvc, err := startDemoKafka()
	if err != nil {
		return err
	}
	defer kafkaSvc.Close()
	reg := testkit.StartRegistry()
	defer reg.Close()
	mqttSvc, err := startDemoMQTT()
	if err != nil {
		return err
	}
	defer mqttSvc.Close()

	schemaID, _, err := reg.RegisterSchema(demoTrackunitTopic+"-value", sr.Schema{Schema: profile.TrackunitReaderSchema(), Type: sr.TypeAvro})
	if err != nil {
		return fmt.Errorf("register trackunit schema: %w", err)
	}

	text := fmt.Sprintf(demoConfig, kafkaSvc.Addr, testkit.KafkaUser, testkit.KafkaPassword,
		reg.URL(), testkit.RegistryUser, testkit.RegistryPasswd,
		demoTrackunitTopic, demoMobitoTopic, demoOutputTemplate, demoDeadLetter, demoMQTTSinkYAML(mqttSvc))
	text += demoKafkaWSConfig(demoWSListen(f.wsListen))
	path := f.configOut
	if path == "" {
		path = filepath.Join(os.TempDir(), fmt.Sprintf("telebridge-demo-%d.yaml", os.Getpid()))
	}
	listen := f.http
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	histPath := strings.TrimSuffix(path, filepath.Ext(path)) + "-history.db"
	mappingPath := strings.TrimSuffix(path, filepath.Ext(path)) + "-reefer-mapping.yaml"
	if err := os.WriteFile(mappingPath, []byte(demoReeferMapping), 0o600); err != nil {
		return fmt.Errorf("write demo mapping: %w", err)
	}
	text = strings.Replace(text, "sinks:\n", fmt.Sprintf(`  - name: reefer          # any other feed: a declarative mapping
    cluster: mobito
    topics: [%s]
    profile: mapping
    mapping: %q
    start: earliest
sinks:
`, demoReeferTopic, mappingPath), 1)
	text += fmt.Sprintf("http: {listen: %q}\nhistory: {path: %q}\n", listen, histPath)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		return fmt.Errorf("write demo config: %w", err)
	}
	cfg, err := config.Parse([]byte(text), path, os.LookupEnv)
	if err != nil {
		return fmt.Errorf("demo config: %w", err)
	}
	svc, err := monitor.Start(cfg, monitor.Options{Logger: log})
	if err != nil && errors.Is(err, syscall.EADDRINUSE) && f.http == demoHTTP {
		// The default port is taken (another demo?): use a free one.
		svc, err = monitor.Start(cfg, monitor.Options{Logger: log, Listen: "127.0.0.1:0"})
	}
	if err != nil {
		return err
	}
	b := svc.Bridge

	fmt.Fprintf(out, `telebridge demo
  Kafka bootstrap     %s   (SASL_PLAINTEXT, mechanism PLAIN, user %q, password %q)
  Schema Registry     %s   (basic auth %q / %q; Trackunit schema id %d)
  input topics        %s (Avro), %s (JSON), %s (JSON, mapped by %s)
  output topics       %s
  dead-letter topic   %s
  config              %s
  dashboard           %s/   (metrics %s/metrics, API %s/api/v1/status)
  delivery history    %s   (telebridge history --db %s --since 10m)
Attach kcat from another terminal, e.g.:
  kcat -b %s -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN \
       -X sasl.username=%s -X sasl.password=%s -C -t globe-tracker.events.location -o beginning
`, kafkaSvc.Addr, testkit.KafkaUser, testkit.KafkaPassword, reg.URL(), testkit.RegistryUser, testkit.RegistryPasswd, schemaID,
		demoTrackunitTopic, demoMobitoTopic, demoReeferTopic, mappingPath, demoOutputTemplate, demoDeadLetter, path,
		svc.URL, svc.URL, svc.URL, histPath, histPath,
		kafkaSvc.Addr, testkit.KafkaUser, testkit.KafkaPassword)
	var wg sync.WaitGroup
	wsCtx, stopWS := context.WithCancel(ctx)
	defer stopWS()
	wsURL, err := startDemoKafkaWS(wsCtx, cfg, log, &wg)
	if err != nil {
		return err
	}
	if err := printKafkaWSExample(out, wsURL); err != nil {
		return err
	}
	printDemoMQTT(out, mqttSvc)
	if f.duration > 0 {
		fmt.Fprintf(out, "Running for %s (Ctrl-C stops earlier).\n\n", f.duration)
	} else {
		fmt.Fprint(out, "Running until Ctrl-C.\n\n")
	}

	runCtx := ctx
	if f.duration > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, f.duration)
		defer cancel()
	}
	prodCtx, stopProducing := context.WithCancel(runCtx)
	defer stopProducing()

	var produced producedCounts
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := simulateWith(prodCtx, kafkaSvc.Client, f, schemaID, &produced); err != nil && prodCtx.Err() == nil {
			log.Error("fleet simulator stopped", zap.Error(err))
		}
	}()
	samples := newSampler(out)
	wg.Add(1)
	go func() {
		defer wg.Done()
		samples.run(prodCtx, kafkaSvc)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		progress(prodCtx, out, b, &produced)
	}()

	start := time.Now()
	err = svc.Run(runCtx)
	stopProducing()
	stopWS()
	wg.Wait()
	summary(out, b, &produced, time.Since(start), path)
	return err
}

// producedCounts counts what the simulator wrote.
type producedCounts struct {
	mu                        sync.Mutex
	trackunit, mobito, poison int
	reefer                    int
}

// simulateWith produces the simulated feeds (and their poison) to the
// demo topics at f.rate messages per second per feed through a client
// made by newClient, until ctx ends.
func simulateWith(ctx context.Context, newClient func(...kgo.Opt) (*kgo.Client, error), f *demoFlags, schemaID int, pc *producedCounts) error {
	cl, err := newClient(kgo.ProducerLinger(5 * time.Millisecond))
	if err != nil {
		return err
	}
	defer cl.Close()
	fl := fleet.New(fleet.Config{Machines: f.machines, Vehicles: f.vehicles, Seed: f.seed, Start: time.Now().Add(-time.Minute)})
	reefers := fleet.NewReefers(max(f.vehicles, 1), f.seed)
	produce := func(topic string, value []byte) error {
		return cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: value}).FirstErr()
	}
	// A few poison messages up front, one of each class, so the dead-letter
	// topic shows every class early.
	poisonTU := fleet.TrackunitPoisonKinds()
	poisonMO := fleet.MobitoPoisonKinds()
	for _, kind := range poisonTU {
		if err := produce(demoTrackunitTopic, fleet.PoisonTrackunit(kind, schemaID)); err != nil {
			return err
		}
	}
	for _, kind := range poisonMO {
		if err := produce(demoMobitoTopic, fleet.PoisonMobito(kind)); err != nil {
			return err
		}
	}
	pc.mu.Lock()
	pc.poison += len(poisonTU) + len(poisonMO)
	pc.mu.Unlock()

	rate := max(f.rate, 1)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var carry float64
	n := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		carry += float64(rate) / 10
		batch := int(carry)
		carry -= float64(batch)
		var recs []*kgo.Record
		poison := 0
		for range batch {
			n++
			v, err := fl.NextTrackunitAvro(schemaID)
			if err != nil {
				return err
			}
			recs = append(recs, &kgo.Record{Topic: demoTrackunitTopic, Value: v},
				&kgo.Record{Topic: demoMobitoTopic, Value: fl.NextMobitoJSON()},
				&kgo.Record{Topic: demoReeferTopic, Value: reefers.Next(fl.Now()), Timestamp: fl.Now()})
			if f.poisonEvery > 0 && n%f.poisonEvery == 0 {
				recs = append(recs,
					&kgo.Record{Topic: demoTrackunitTopic, Value: fleet.PoisonTrackunit(poisonTU[(n/f.poisonEvery)%len(poisonTU)], schemaID)},
					&kgo.Record{Topic: demoMobitoTopic, Value: fleet.PoisonMobito(poisonMO[(n/f.poisonEvery)%len(poisonMO)])})
				poison += 2
			}
		}
		if len(recs) == 0 {
			continue
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			return err
		}
		pc.mu.Lock()
		pc.trackunit += batch
		pc.mobito += batch
		pc.reefer += batch
		pc.poison += poison
		pc.mu.Unlock()
	}
}

func progress(ctx context.Context, out io.Writer, b *bridge.Bridge, pc *producedCounts) {
	tick := time.NewTicker(3 * time.Second)
	defer tick.Stop()
	var last uint64
	lastT := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			st := b.Stats()
			var consumed uint64
			for _, s := range st.Sources {
				consumed += s.Consumed
			}
			rate := float64(consumed-last) / now.Sub(lastT).Seconds()
			last, lastT = consumed, now
			fmt.Fprintf(out, "[progress] consumed %d (%.0f/s) | produced %s | dead letters %d\n",
				consumed, rate, perType(st), st.DeadLetters)
		}
	}
}

func perType(st bridge.Stats) string {
	counts := map[schemas.Type]uint64{}
	for _, s := range st.Sinks {
		for t, n := range s.Delivered {
			counts[t] += n
		}
	}
	var parts []string
	for _, t := range schemas.AllTypes() {
		if counts[t] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", t, counts[t]))
		}
	}
	if len(parts) == 0 {
		return "nothing yet"
	}
	return strings.Join(parts, ", ")
}

func summary(out io.Writer, b *bridge.Bridge, pc *producedCounts, took time.Duration, path string) {
	st := b.Stats()
	pc.mu.Lock()
	defer pc.mu.Unlock()
	fmt.Fprintf(out, "\nSummary after %s\n", took.Round(time.Second))
	fmt.Fprintf(out, "  simulated   %d Trackunit messages, %d MOBITO messages, %d reefer messages, %d poison messages\n", pc.trackunit, pc.mobito, pc.reefer, pc.poison)
	names := make([]string, 0, len(st.Sources))
	for n := range st.Sources {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := st.Sources[n]
		fmt.Fprintf(out, "  source %-10s consumed %d, objects %d, poison %d\n", n, s.Consumed, s.Objects, s.Poison)
	}
	fmt.Fprintf(out, "  delivered   %d objects (%s)\n", st.Delivered, perType(st))
	fmt.Fprintf(out, "  dead letters %d (topic %s)\n", st.DeadLetters, demoDeadLetter)
	demoMQTTSummary(out, st)
	fmt.Fprintf(out, "  latency     p50 %s, p99 %s (read to acknowledged)\n", st.LatencyP50, st.LatencyP99)
	fmt.Fprintf(out, "  config      %s\n", path)
}

// sampler prints the first output record of each object type.
type sampler struct {
	out  io.Writer
	seen map[string]bool
}

func newSampler(out io.Writer) *sampler { return &sampler{out: out, seen: map[string]bool{}} }

func (s *sampler) run(ctx context.Context, k *testkit.Kafka) {
	var topics []string
	for _, t := range schemas.AllTypes() {
		topics = append(topics, strings.ReplaceAll(demoOutputTemplate, "{type}", string(t)))
	}
	cl, err := k.Client(kgo.ConsumeTopics(topics...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.MetadataMinAge(100*time.Millisecond), kgo.MetadataMaxAge(time.Second))
	if err != nil {
		fmt.Fprintf(s.out, "[sample] cannot read the output topics: %v\n", err)
		return
	}
	defer cl.Close()
	for ctx.Err() == nil && len(s.seen) < len(topics) {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			if s.seen[r.Topic] {
				return
			}
			s.seen[r.Topic] = true
			var pretty bytes.Buffer
			if json.Indent(&pretty, r.Value, "  ", "  ") != nil {
				pretty.Reset()
				pretty.Write(r.Value)
			}
			var hdr []string
			for _, h := range r.Headers {
				hdr = append(hdr, h.Key+"="+string(h.Value))
			}
			fmt.Fprintf(s.out, "[sample] %s key=%s headers[%s]\n  %s\n", r.Topic, r.Key, strings.Join(hdr, " "), pretty.String())
		})
	}
}
