package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/telebridge/telebridge/bridge/profile"
)

// Environment variables holding the simulator's secrets (never flags, which
// show in process listings).
const (
	simulateSASLPasswordEnv     = "TELEBRIDGE_SIMULATE_SASL_PASSWORD"
	simulateRegistryPasswordEnv = "TELEBRIDGE_SIMULATE_REGISTRY_PASSWORD"
)

type simulateFlags struct {
	demoFlags
	bootstrap    string
	mechanism    string
	username     string
	useTLS       bool
	registry     string
	registryUser string
	partitions   int
}

func newSimulateCmd() *cobra.Command {
	f := &simulateFlags{}
	cmd := &cobra.Command{
		Use:   "simulate --bootstrap HOST:PORT --registry URL",
		Short: "Produce the demo's simulated Trackunit and MOBITO feeds to a Kafka cluster of yours",
		Long: `Produce the demo's simulated fleet to an existing Kafka cluster and Confluent
Schema Registry: Trackunit Machine Insights Avro on ` + demoTrackunitTopic + ` (the reader
schema registered under ` + demoTrackunitTopic + `-value) and MOBITO JSON on ` + demoMobitoTopic + `,
with poison messages mixed in. Missing topics are created with --partitions
partitions. Use it to try telebridge, or a fleet of telebridge instances,
against real brokers (docker-compose.yaml does).

Secrets come from the environment: ` + simulateSASLPasswordEnv + ` and
` + simulateRegistryPasswordEnv + `.`,
		Example: `  telebridge simulate --bootstrap localhost:9092 --registry http://localhost:8081 --rate 50`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if f.duration > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, f.duration)
				defer cancel()
			}
			return runSimulate(ctx, cmd.OutOrStdout(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.bootstrap, "bootstrap", "", "Kafka bootstrap servers, comma separated (required)")
	fl.StringVar(&f.mechanism, "sasl-mechanism", "", "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (default: no SASL)")
	fl.StringVar(&f.username, "sasl-username", "", "SASL user; the password is read from "+simulateSASLPasswordEnv)
	fl.BoolVar(&f.useTLS, "tls", false, "connect to the brokers with TLS (system CAs)")
	fl.StringVar(&f.registry, "registry", "", "Schema Registry URL (required)")
	fl.StringVar(&f.registryUser, "registry-username", "", "registry basic-auth user; the password is read from "+simulateRegistryPasswordEnv)
	fl.IntVar(&f.partitions, "partitions", 6, "partitions of topics the simulator creates")
	fl.DurationVar(&f.duration, "duration", 0, "how long to run; 0 runs until SIGINT/SIGTERM")
	fl.IntVar(&f.rate, "rate", 20, "messages per second per feed")
	fl.IntVar(&f.machines, "machines", 8, "number of simulated Trackunit machines")
	fl.IntVar(&f.vehicles, "vehicles", 8, "number of simulated MOBITO vehicles")
	fl.IntVar(&f.poisonEvery, "poison-every", 250, "one poison message per feed every N messages (0 = only the first few)")
	fl.Uint64Var(&f.seed, "seed", 1, "simulation seed")
	return cmd
}

func (f *simulateFlags) kafkaOpts() ([]kgo.Opt, error) {
	if f.bootstrap == "" {
		return nil, errors.New("--bootstrap is required")
	}
	opts := []kgo.Opt{kgo.SeedBrokers(strings.Split(f.bootstrap, ",")...), kgo.AllowAutoTopicCreation()}
	if f.useTLS {
		opts = append(opts, kgo.DialTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12}))
	}
	pass := os.Getenv(simulateSASLPasswordEnv)
	switch strings.ToUpper(f.mechanism) {
	case "":
		if f.username != "" {
			return nil, errors.New("--sasl-username needs --sasl-mechanism")
		}
	case "PLAIN":
		opts = append(opts, kgo.SASL(plain.Auth{User: f.username, Pass: pass}.AsMechanism()))
	case "SCRAM-SHA-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: f.username, Pass: pass}.AsSha256Mechanism()))
	case "SCRAM-SHA-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: f.username, Pass: pass}.AsSha512Mechanism()))
	default:
		return nil, fmt.Errorf("--sasl-mechanism %q: want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", f.mechanism)
	}
	return opts, nil
}

func runSimulate(ctx context.Context, out io.Writer, f *simulateFlags) error {
	opts, err := f.kafkaOpts()
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if f.registry == "" {
		return &exitError{code: 2, err: errors.New("--registry is required")}
	}
	if f.partitions < 1 {
		return &exitError{code: 2, err: fmt.Errorf("--partitions %d: want at least 1", f.partitions)}
	}
	newClient := func(extra ...kgo.Opt) (*kgo.Client, error) {
		cl, err := kgo.NewClient(append(append([]kgo.Opt(nil), opts...), extra...)...)
		if err != nil {
			return nil, fmt.Errorf("kafka client for %s: %w", f.bootstrap, err)
		}
		return cl, nil
	}
	cl, err := newClient()
	if err != nil {
		return err
	}
	err = createTopics(ctx, cl, f.partitions, demoTrackunitTopic, demoMobitoTopic, demoReeferTopic)
	cl.Close()
	if err != nil {
		return err
	}
	ropts := []sr.ClientOpt{sr.URLs(f.registry)}
	if f.registryUser != "" {
		ropts = append(ropts, sr.BasicAuth(f.registryUser, os.Getenv(simulateRegistryPasswordEnv)))
	}
	reg, err := sr.NewClient(ropts...)
	if err != nil {
		return fmt.Errorf("registry %s: %w", f.registry, err)
	}
	var ss sr.SubjectSchema
	for attempt := 1; ; attempt++ {
		// The registry may still be starting (compose starts it beside
		// the brokers): retry for a while.
		ss, err = reg.CreateSchema(ctx, demoTrackunitTopic+"-value", sr.Schema{Schema: profile.TrackunitReaderSchema(), Type: sr.TypeAvro})
		if err == nil || attempt == 30 || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
	if err != nil {
		return fmt.Errorf("register the Trackunit schema under %s-value at %s: %w", demoTrackunitTopic, f.registry, err)
	}
	fmt.Fprintf(out, "simulating %d machines and %d vehicles at %d msg/s per feed: %s (schema id %d), %s\n", f.machines, f.vehicles, f.rate, demoTrackunitTopic, ss.ID, demoMobitoTopic)
	var pc producedCounts
	start := time.Now()
	err = simulateWith(ctx, newClient, &f.demoFlags, ss.ID, &pc)
	pc.mu.Lock()
	fmt.Fprintf(out, "produced %d Trackunit, %d MOBITO and %d poison messages in %s\n", pc.trackunit, pc.mobito, pc.poison, time.Since(start).Round(time.Second))
	pc.mu.Unlock()
	if err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

// createTopics creates the topics that do not exist yet.
func createTopics(ctx context.Context, cl *kgo.Client, partitions int, topics ...string) error {
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 30000
	for _, t := range topics {
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic = t
		rt.NumPartitions = int32(partitions)
		rt.ReplicationFactor = -1 // the broker's default
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("create topics %v: %w", topics, err)
	}
	for _, t := range resp.Topics {
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", t.Topic, err)
		}
	}
	return nil
}
