package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"go.uber.org/zap"

	"github.com/telebridge/telebridge/bridge/config"
	"github.com/telebridge/telebridge/bridge/monitor"
	"github.com/telebridge/telebridge/bridge/profile"
	"github.com/telebridge/telebridge/internal/fleet"
	"github.com/telebridge/telebridge/internal/testkit"
)

type benchFlags struct {
	messages int
	profile  string
	timeout  time.Duration
	cpuProf  string
	history  string
	mqtt     mqttBenchFlags
}

func newBenchCmd(g *globalFlags) *cobra.Command {
	f := &benchFlags{}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the bridge against a raw librdkafka copy on the embedded cluster",
		Long: `Start the embedded Kafka cluster (SASL PLAIN) and Schema Registry, preload
--messages messages of the chosen profile, then measure in the same run:

  (a) copy:   a plain librdkafka consumer and producer copying the same
              messages to another topic (acks=all, idempotent), the ceiling
              this machine and broker allow;
  (b) bridge: telebridge end to end, decode + normalise + encode + push
              every derived object (acks=all), committing offsets.

It prints input msgs/s, output objects/s, the ratio of (b) objects/s to (a)
msgs/s, p50/p99 latency (record read to acknowledged) and peak RSS.

With --mqtt it measures the MQTT sink instead: --messages object-sync
objects published at each --qos (default 0,1,2) to an embedded broker, or
to --mqtt-url, printing msgs/s and the p50/p99 latency from publish to
PUBACK (QoS 1), PUBCOMP (QoS 2) or written (QoS 0).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(pick(g.logFormat, "", "console"), pick(g.logLevel, "", "warn"))
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
			defer cancel()
			if f.mqtt.enabled {
				return runMQTTBench(ctx, cmd.OutOrStdout(), f, os.Getenv, log)
			}
			return runBench(ctx, cmd.OutOrStdout(), f, log)
		},
	}
	cmd.Flags().IntVar(&f.messages, "messages", 20000, "number of input messages to preload")
	cmd.Flags().StringVar(&f.profile, "profile", "trackunit-insights", "input profile: trackunit-insights or mobito")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 5*time.Minute, "give up after this long")
	cmd.Flags().StringVar(&f.cpuProf, "cpuprofile", "", "write a Go CPU profile of the bridge run (b) to this file")
	cmd.Flags().StringVar(&f.history, "history", "compare", "delivery history during the bridge run: off, on, or compare (runs with history off, on, on, off and prints the throughput change)")
	addMQTTBenchFlags(cmd, &f.mqtt)
	return cmd
}

const benchInput = "bench.input"

func runBench(ctx context.Context, out io.Writer, f *benchFlags, log *zap.Logger) error {
	if f.profile != profile.NameTrackunit && f.profile != profile.NameMobito {
		return &exitError{code: 2, err: fmt.Errorf("--profile %q: allowed: %s", f.profile, strings.Join(profile.Names(), ", "))}
	}
	if f.messages <= 0 {
		return &exitError{code: 2, err: errors.New("--messages must be positive")}
	}
	if f.history != "off" && f.history != "on" && f.history != "compare" {
		return &exitError{code: 2, err: fmt.Errorf("--history %q: allowed: off, on, compare", f.history)}
	}
	k, err := testkit.StartKafka([]string{benchInput, "bench.copy"})
	if err != nil {
		return err
	}
	defer k.Close()
	reg := testkit.StartRegistry()
	defer reg.Close()
	schemaID, _, err := reg.RegisterSchema(benchInput+"-value", sr.Schema{Schema: profile.TrackunitReaderSchema(), Type: sr.TypeAvro})
	if err != nil {
		return fmt.Errorf("register schema: %w", err)
	}

	bytesIn, err := preload(ctx, k, f, schemaID)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "preloaded %d %s messages (%.0f bytes avg) on %d partitions\n", f.messages, f.profile, float64(bytesIn)/float64(f.messages), testkit.DefaultPartitions)

	copyRate, err := benchCopy(ctx, k, f.messages)
	if err != nil {
		return fmt.Errorf("copy run: %w", err)
	}
	fmt.Fprintf(out, "(a) librdkafka copy : %8.0f msgs/s\n", copyRate)

	if f.cpuProf != "" {
		pf, err := os.Create(f.cpuProf)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
	}
	histDir, err := os.MkdirTemp("", "telebridge-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(histDir)
	firstHistory := f.history == "on"
	res, err := benchBridge(ctx, k, reg.URL(), f, log, histPath(histDir, firstHistory, 1))
	if f.cpuProf != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return fmt.Errorf("bridge run: %w", err)
	}
	label := "history off"
	if firstHistory {
		label = "history on"
	}
	fmt.Fprintf(out, "(b) telebridge      : %8.0f input msgs/s, %8.0f output objects/s (%.1f objects per message, %s)\n",
		res.inRate, res.outRate, res.outRate/res.inRate, label)
	if res.history != "" {
		fmt.Fprintf(out, "    %s\n", res.history)
	}
	fmt.Fprintf(out, "ratio (b) objects/s / (a) msgs/s : %.2f (target >= 0.70)\n", res.outRate/copyRate)
	if f.history == "compare" {
		// Runs in the order off, on, on, off, so that a drift over the
		// runs (the embedded broker holds more data each time) weighs on
		// both sides equally; each side is the mean of two runs.
		var on [2]bridgeResult
		for i := range on {
			on[i], err = benchBridge(ctx, k, reg.URL(), f, log, histPath(histDir, true, 2+i))
			if err != nil {
				return fmt.Errorf("bridge run with history: %w", err)
			}
			fmt.Fprintf(out, "(c) telebridge      : %8.0f input msgs/s, %8.0f output objects/s (history on)\n", on[i].inRate, on[i].outRate)
			fmt.Fprintf(out, "    %s\n", on[i].history)
		}
		off2, err := benchBridge(ctx, k, reg.URL(), f, log, "")
		if err != nil {
			return fmt.Errorf("bridge run: %w", err)
		}
		fmt.Fprintf(out, "(b) telebridge      : %8.0f input msgs/s, %8.0f output objects/s (history off, again)\n", off2.inRate, off2.outRate)
		offMean, onMean := (res.outRate+off2.outRate)/2, (on[0].outRate+on[1].outRate)/2
		fmt.Fprintf(out, "history cost       : %.0f objects/s with history on vs %.0f off (mean of two runs each): %+.1f%% (target: drop <= 10%%)\n",
			onMean, offMean, (onMean/offMean-1)*100)
		cpuOff, cpuOn := (res.cpuPerObject+off2.cpuPerObject)/2, (on[0].cpuPerObject+on[1].cpuPerObject)/2
		fmt.Fprintf(out, "CPU per object     : %s with history on vs %s off (%+.1f%%; process total, broker included)\n",
			cpuOn.Round(10*time.Nanosecond), cpuOff.Round(10*time.Nanosecond), (float64(cpuOn)/float64(cpuOff)-1)*100)
	}
	fmt.Fprintf(out, "latency read->ack  : p50 %s, p99 %s\n", res.p50, res.p99)
	fmt.Fprintf(out, "peak RSS           : %s\n", peakRSS())
	return nil
}

func preload(ctx context.Context, k *testkit.Kafka, f *benchFlags, schemaID int) (int, error) {
	cl, err := k.Client(kgo.ProducerLinger(2*time.Millisecond), kgo.MaxBufferedRecords(100000))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	fl := fleet.New(fleet.Config{Machines: 50, Vehicles: 50, Seed: 7, Start: time.Now().Add(-time.Hour)})
	var total int
	var firstErr error
	var mu sync.Mutex
	for range f.messages {
		var v []byte
		if f.profile == profile.NameTrackunit {
			v, err = fl.NextTrackunitAvro(schemaID)
			if err != nil {
				return 0, err
			}
		} else {
			v = fl.NextMobitoJSON()
		}
		total += len(v)
		cl.Produce(ctx, &kgo.Record{Topic: benchInput, Value: v}, func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		return 0, fmt.Errorf("preload: %w", err)
	}
	return total, firstErr
}

// benchCopy copies n records from the input topic to a copy topic with a
// plain librdkafka consumer and producer, and returns msgs/s.
func benchCopy(ctx context.Context, k *testkit.Kafka, n int) (float64, error) {
	conn := k.Librdkafka()
	cm := kafka.ConfigMap{}
	for key, v := range conn {
		cm[key] = v
	}
	cons := kafka.ConfigMap{"enable.metrics.push": false, "group.id": "bench-copy", "auto.offset.reset": "earliest", "enable.auto.commit": true, "queued.max.messages.kbytes": 16384}
	prod := kafka.ConfigMap{"enable.metrics.push": false, "acks": "all", "enable.idempotence": true, "linger.ms": 5, "partitioner": "murmur2_random"}
	for key, v := range cm {
		cons[key] = v
		prod[key] = v
	}
	c, err := kafka.NewConsumer(&cons)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	p, err := kafka.NewProducer(&prod)
	if err != nil {
		return 0, err
	}
	defer p.Close()
	if err := c.SubscribeTopics([]string{benchInput}, nil); err != nil {
		return 0, err
	}
	topic := "bench.copy"
	delivered := make(chan error, 1)
	go func() {
		got := 0
		for ev := range p.Events() {
			if m, ok := ev.(*kafka.Message); ok {
				if m.TopicPartition.Error != nil {
					delivered <- m.TopicPartition.Error
					return
				}
				got++
				if got == n {
					delivered <- nil
					return
				}
			}
		}
	}()
	var start time.Time
	read := 0
	for read < n {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		ev := c.Poll(100)
		m, ok := ev.(*kafka.Message)
		if !ok {
			continue
		}
		if read == 0 {
			start = time.Now()
		}
		read++
		for {
			err := p.Produce(&kafka.Message{TopicPartition: kafka.TopicPartition{Topic: &topic, Partition: kafka.PartitionAny}, Key: m.Key, Value: m.Value}, nil)
			if err == nil {
				break
			}
			var kerr kafka.Error
			if errors.As(err, &kerr) && kerr.Code() == kafka.ErrQueueFull {
				p.Flush(10)
				continue
			}
			return 0, err
		}
	}
	select {
	case err := <-delivered:
		if err != nil {
			return 0, err
		}
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

type bridgeResult struct {
	inRate, outRate float64
	p50, p99        time.Duration
	history         string // what the history recorded, "" when off
	// cpuPerObject is the process CPU time (user+system, embedded broker
	// included) per delivered object, from start to a stopped bridge with
	// its history written: unlike throughput, it does not depend on what
	// else the machine runs.
	cpuPerObject time.Duration
}

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// histPath is the history file of bridge run n, "" for history off.
func histPath(dir string, on bool, n int) string {
	if !on {
		return ""
	}
	return filepath.Join(dir, fmt.Sprintf("history-%d.db", n))
}

const benchConfig = `clusters:
  bench:
    bootstrap_servers: "%s"
    security_protocol: SASL_PLAINTEXT
    sasl: {mechanism: PLAIN, username: %s, password: "%s"}
registries:
  bench: {url: "%s", username: %s, password: "%s"}
sources:
  - name: bench
    cluster: bench
    topics: [%s]
    profile: %s
    %s
    start: earliest
sinks:
  - name: out
    type: kafka
    cluster: bench
    topic: "bench.out.{type}"
    key: assetId
    acks: all
dead_letter: {cluster: bench, topic: bench.dead-letter}
shutdown_timeout: 20s
http: {enabled: false}
`

func benchBridge(ctx context.Context, k *testkit.Kafka, regURL string, f *benchFlags, log *zap.Logger, historyPath string) (bridgeResult, error) {
	regLine := ""
	if f.profile == profile.NameTrackunit {
		regLine = "registry: bench"
	}
	text := fmt.Sprintf(benchConfig, k.Addr, testkit.KafkaUser, testkit.KafkaPassword, regURL, testkit.RegistryUser, testkit.RegistryPasswd, benchInput, f.profile, regLine)
	if historyPath != "" {
		text += fmt.Sprintf("history: {path: %q}\n", historyPath)
	} else {
		text += "history: {enabled: false}\n"
	}
	cfg, err := config.Parse([]byte(text), "bench.yaml", os.LookupEnv)
	if err != nil {
		return bridgeResult{}, err
	}
	svc, err := monitor.Start(cfg, monitor.Options{Logger: log})
	if err != nil {
		return bridgeResult{}, err
	}
	b := svc.Bridge
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	cpu0 := cpuTime()
	go func() { done <- svc.Run(runCtx) }()

	var start, lastIn time.Time
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return bridgeResult{}, fmt.Errorf("bridge stopped early: %v", err)
		case <-ctx.Done():
			return bridgeResult{}, ctx.Err()
		case <-tick.C:
		}
		st := b.Stats()
		src := st.Sources["bench"]
		if src.Consumed > 0 && start.IsZero() {
			start = time.Now()
		}
		if int(src.Consumed) >= f.messages && lastIn.IsZero() {
			lastIn = time.Now()
		}
		finished := st.Delivered + st.DeadLetters
		if int(src.Consumed) >= f.messages && finished >= src.Objects+src.Poison && src.Objects > 0 {
			end := time.Now()
			stop()
			if err := <-done; err != nil {
				return bridgeResult{}, err
			}
			el := end.Sub(start).Seconds()
			res := bridgeResult{
				inRate:       float64(f.messages) / el,
				outRate:      float64(st.Delivered) / el,
				p50:          st.LatencyP50,
				p99:          st.LatencyP99,
				cpuPerObject: (cpuTime() - cpu0) / time.Duration(max(st.Delivered, 1)),
			}
			if svc.Recorder != nil {
				h := svc.Recorder.Stats()
				res.history = fmt.Sprintf("history: %d records written, %d dropped (queue full), %d failed writes; %s", h.Recorded, h.Dropped, h.WriteFailed, fileSize(historyPath))
			}
			return res, nil
		}
	}
}

// peakRSS reads the process's peak resident set size (VmHWM).
func peakRSS() string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			fs := strings.Fields(line)
			if len(fs) >= 2 {
				if kb, err := strconv.Atoi(fs[1]); err == nil {
					return fmt.Sprintf("%.1f MiB", float64(kb)/1024)
				}
			}
		}
	}
	return "unknown"
}

// fileSize describes the size of a file and its WAL.
func fileSize(path string) string {
	var n int64
	for _, p := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return fmt.Sprintf("file %.1f MiB", float64(n)/(1<<20))
}
