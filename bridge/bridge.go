// Package bridge wires telebridge together: Kafka sources, codecs, source
// profiles, routing to sinks, ack tracking and offset commits, and dead
// letters.
//
// Delivery is at-least-once end to end: a source offset is committed only
// when every object derived from the records before it was acknowledged by
// every sink it was routed to, or dead-lettered. Poison input is
// dead-lettered with its original bytes and error headers, and its
// partition goes on. A registry outage blocks only the partitions that
// need the missing schema.
package bridge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hamba/avro/v2"
	"go.uber.org/zap"

	"github.com/telebridge/telebridge/bridge/config"
	"github.com/telebridge/telebridge/bridge/profile"
	"github.com/telebridge/telebridge/codec"
	"github.com/telebridge/telebridge/schemas"
	"github.com/telebridge/telebridge/sinks"
	"github.com/telebridge/telebridge/sinks/kafkasink"
)

// Options are the run-time collaborators of a Bridge.
type Options struct {
	// Logger receives structured logs; nil means no logs.
	Logger *zap.Logger
	// Observer, if set, receives every delivery attempt of every sink.
	Observer sinks.Observer
}

// Bridge is one configured telebridge pipeline: every source, sink and the
// dead-letter writer of a config.
type Bridge struct {
	cfg        *config.Config
	log        *zap.Logger
	opts       Options
	registries map[string]*codec.Registry
	sinks      []sinks.Sink
	sinkCount  map[string]*sinkCounters
	sources    []*source
	dlqConn    map[string]string
	latency    *latencyHistogram
	attempts   *attemptCounter
	decoders   map[string][]*codec.AvroDecoder // by registry name
	running    atomic.Bool

	mu  sync.Mutex
	dlq *deadLetterWriter
}

// New builds a bridge from a validated config. It connects to nothing yet:
// Run does.
func New(cfg *config.Config, opts Options) (*Bridge, error) {
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	b := &Bridge{
		cfg:        cfg,
		log:        opts.Logger,
		opts:       opts,
		registries: make(map[string]*codec.Registry),
		sinkCount:  make(map[string]*sinkCounters),
		latency:    &latencyHistogram{},
	}
	// Every attempt is counted for Stats, then passed to opts.Observer.
	b.attempts = &attemptCounter{bySink: make(map[string]*[numAttemptStatuses][numTypes]atomic.Uint64), next: opts.Observer}
	for _, sc := range cfg.Sinks {
		b.attempts.bySink[sc.Name] = new([numAttemptStatuses][numTypes]atomic.Uint64)
	}
	b.opts.Observer = b.attempts
	for name, r := range cfg.Registries {
		reg, err := newRegistry(r, b.log, "the partition waits")
		if err != nil {
			return nil, fmt.Errorf("registry %s: %w", name, err)
		}
		b.registries[name] = reg
	}
	routes := make(map[string]*route)
	for _, sc := range cfg.Sinks {
		sk, err := b.newSink(sc)
		if err != nil {
			return nil, err
		}
		b.sinks = append(b.sinks, sk)
		r := &route{sink: sk, counters: &sinkCounters{}}
		for _, t := range schemas.AllTypes() {
			r.accepts[typeIndex(t)] = sc.Accepts(string(t))
		}
		b.sinkCount[sc.Name] = r.counters
		routes[sc.Name] = r
	}
	dl, ok := cfg.Clusters[cfg.DeadLetter.Cluster]
	if !ok {
		return nil, fmt.Errorf("dead_letter.cluster %q is not defined in clusters", cfg.DeadLetter.Cluster)
	}
	b.dlqConn = dl.KafkaConfig()
	for _, sc := range cfg.Sources {
		spec, err := b.sourceSpec(sc, routes)
		if err != nil {
			return nil, err
		}
		b.sources = append(b.sources, newSource(spec, b.log, nil, b.latency))
	}
	// What validate warns about (types no sink takes), logged at start.
	for _, w := range cfg.Warnings() {
		b.log.Warn("configuration warning", zap.String("warning", w.Error()))
	}
	return b, nil
}

func (b *Bridge) newSink(sc *config.Sink) (sinks.Sink, error) {
	switch sc.Type {
	case "kafka":
		cl, ok := b.cfg.Clusters[sc.Cluster]
		if !ok {
			return nil, fmt.Errorf("sinks %s: cluster %q is not defined", sc.Name, sc.Cluster)
		}
		// KAFKA_SET_EVENT_ID, read as validate reads it.
		inj, err := b.cfg.EventIDInjection(sc)
		if err != nil {
			return nil, fmt.Errorf("sinks %s: %w", sc.Name, err)
		}
		return kafkasink.New(kafkasink.Config{
			Name:            sc.Name,
			Connection:      cl.KafkaConfig(),
			Topic:           sc.Topic,
			KeyPath:         sc.Key,
			Acks:            sc.Acks,
			EventIDField:    inj.Field,
			Retry:           retryPolicy(sc.Retry),
			DeliveryTimeout: sc.DeliveryTimeout,
			Compression:     sc.Compression,
			MaxInFlight:     sc.MaxInFlight,
			Logger:          b.log.With(zap.String("sink", sc.Name)),
			Observer:        b.opts.Observer,
		})
	case config.SinkMQTT:
		return b.newMQTTSink(sc)
	}
	return nil, fmt.Errorf("sinks %s: unsupported sink type %q (allowed: kafka, mqtt)", sc.Name, sc.Type)
}

func (b *Bridge) sourceSpec(sc *config.Source, routes map[string]*route) (sourceSpec, error) {
	cl, ok := b.cfg.Clusters[sc.Cluster]
	if !ok {
		return sourceSpec{}, fmt.Errorf("sources %s: cluster %q is not defined", sc.Name, sc.Cluster)
	}
	opts := profile.Options{OwnerID: sc.OwnerID}
	readerSchema := profile.TrackunitReaderSchema()
	if sc.Profile == config.ProfileMapping {
		m := sc.CompiledMapping()
		if m == nil {
			var err error
			if m, err = profile.LoadMapping(sc.Mapping); err != nil {
				return sourceSpec{}, fmt.Errorf("sources %s: %w", sc.Name, err)
			}
		}
		opts.Mapping = m
		// Without a pinned reader schema a mapping reads writer schemas.
		readerSchema = m.ReaderSchema()
	}
	prof, err := profile.New(sc.Profile, opts)
	if err != nil {
		return sourceSpec{}, fmt.Errorf("sources %s: %w", sc.Name, err)
	}
	var decode decodeFunc
	counters := &sourceCounters{}
	switch prof.Format() {
	case profile.FormatAvro:
		reg, ok := b.registries[sc.Registry]
		if !ok {
			return sourceSpec{}, fmt.Errorf("sources %s: registry %q is not defined", sc.Name, sc.Registry)
		}
		var reader avro.Schema
		if sc.Decode != config.DecodeWriter && readerSchema != "" {
			reader, err = codec.ParseSchema(readerSchema)
			if err != nil {
				return sourceSpec{}, fmt.Errorf("sources %s: reader schema: %w", sc.Name, err)
			}
		}
		dec := codec.NewAvroDecoder(reg, reader, profile.TrackunitDecodeOptions()...)
		if b.decoders == nil {
			b.decoders = make(map[string][]*codec.AvroDecoder)
		}
		b.decoders[sc.Registry] = append(b.decoders[sc.Registry], dec)
		decode = dec.Decode
		if readerSchema != "" {
			guard, err := newSchemaGuard(reg, readerSchema, prof.Name(), b.log.With(zap.String("source", sc.Name)), &counters.incompatibleSchemas)
			if err != nil {
				return sourceSpec{}, fmt.Errorf("sources %s: %w", sc.Name, err)
			}
			decode = guardedDecode(guard, decode)
		}
	default:
		decode = func(_ context.Context, value []byte) (any, int, error) {
			v, err := codec.DecodeJSON(value)
			return v, -1, err
		}
	}
	var rs []*route
	names := sc.Sinks
	if len(names) == 0 {
		for _, s := range b.cfg.Sinks {
			names = append(names, s.Name)
		}
	}
	for _, n := range names {
		r, ok := routes[n]
		if !ok {
			return sourceSpec{}, fmt.Errorf("sources %s: sink %q is not defined", sc.Name, n)
		}
		rs = append(rs, r)
	}
	user := ""
	if cl.SASL != nil {
		user = cl.SASL.Username
	}
	return sourceSpec{
		Name:           sc.Name,
		ClusterName:    sc.Cluster,
		User:           user,
		Conn:           cl.KafkaConfig(),
		Topics:         sc.Topics,
		GroupID:        sc.GroupID,
		InstanceID:     b.cfg.InstanceID,
		Start:          sc.Start,
		Profile:        prof,
		Decode:         decode,
		Routes:         rs,
		MaxInFlight:    sc.MaxInFlight,
		CommitInterval: b.cfg.CommitInterval,
		DrainTimeout:   b.cfg.ShutdownTimeout,
		// Only Avro sources have a writer schema to be incompatible.
		StopOnIncompatibleSchema: sc.OnIncompatibleSchema == config.OnIncompatibleStop,
		counters:                 counters,
		Observer:                 b.opts.Observer,
	}, nil
}

// closeGrace is the least time sinks and the dead-letter writer get to
// close after the sources drained, even when draining used the whole
// shutdown budget.
const closeGrace = time.Second

// Run starts every source and blocks until ctx ends or a source fails
// fatally (for example its cluster refused the credentials). On the way
// out it stops fetching, drains in-flight work, commits what finished,
// flushes and closes the sinks and the dead-letter writer, all within the
// configured shutdown timeout of the stop (plus closeGrace); what is not
// acknowledged by then stays uncommitted and is redelivered on restart. It returns nil after a requested stop.
func (b *Bridge) Run(ctx context.Context) error {
	dlq, err := newDeadLetterWriter(b.dlqConn, b.cfg.DeadLetter.Topic, b.log.With(zap.String("component", "dead-letter")))
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.dlq = dlq
	b.mu.Unlock()

	b.running.Store(true)
	defer b.running.Store(false)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	// One shutdown budget: the sources drain, then the sinks and the
	// dead-letter writer flush, all within ShutdownTimeout of the stop
	// (plus closeGrace, so clients can always say goodbye).
	stopped := make(chan time.Time, 1)
	stopAfter := context.AfterFunc(runCtx, func() { stopped <- time.Now() })
	defer stopAfter()
	errs := make([]error, len(b.sources))
	var wg sync.WaitGroup
	for i, s := range b.sources {
		s.dlq = dlq
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.run(runCtx); err != nil {
				errs[i] = err
				cancel() // one fatal source stops the bridge
			}
		}()
	}
	wg.Wait()

	cancel() // a source may have returned without a stop; start the budget now
	deadline := (<-stopped).Add(b.cfg.ShutdownTimeout)
	if floor := time.Now().Add(closeGrace); deadline.Before(floor) {
		deadline = floor
	}
	closeCtx, closeCancel := context.WithDeadline(context.Background(), deadline)
	defer closeCancel()
	for _, sk := range b.sinks {
		if err := sk.Close(closeCtx); err != nil {
			errs = append(errs, fmt.Errorf("close sink %s: %w", sk.Name(), err))
		}
	}
	dlq.close(closeCtx)
	return errors.Join(errs...)
}

// Stats returns a snapshot of the bridge's counters.
func (b *Bridge) Stats() Stats {
	st := Stats{Sources: make(map[string]SourceStats), Sinks: make(map[string]SinkStats), Registries: make(map[string]codec.RegistryStats)}
	for _, s := range b.sources {
		up, reason, lag, inFlight := s.health.snapshot()
		st.Sources[s.spec.Name] = SourceStats{
			Consumed:  s.counters.consumed.Load(),
			Poison:    s.counters.poison.Load(),
			Objects:   s.counters.objects.Load(),
			Connected: up,
			Reason:    reason,
			InFlight:  inFlight,
			Lag:       lag,

			IncompatibleSchemas: s.counters.incompatibleSchemas.Load(),
			Unrouted:            make(map[schemas.Type]uint64, numTypes),
		}
		for _, t := range schemas.AllTypes() {
			st.Sources[s.spec.Name].Unrouted[t] = s.counters.unrouted[typeIndex(t)].Load()
		}
	}
	for name, r := range b.registries {
		rs := r.Stats()
		// The decoders' resolved-schema caches answer before the
		// registry's; their hits are cache hits too.
		for _, d := range b.decoders[name] {
			rs.Hits += d.CacheHits()
		}
		st.Registries[name] = rs
	}
	kinds := make(map[string]sinks.Sink, len(b.sinks))
	for _, sk := range b.sinks {
		kinds[sk.Name()] = sk
	}
	for name, c := range b.sinkCount {
		ss := SinkStats{Delivered: make(map[schemas.Type]uint64), DeadLettered: c.deadLettered.Load(), Aborted: c.aborted.Load(),
			Connected: true,
			Retries:   b.attempts.counts(name, attRetrying), Failed: b.attempts.counts(name, attFailed),
			DeadLetteredBy: b.attempts.counts(name, attDeadLettered)}
		if sk := kinds[name]; sk != nil {
			ss.Kind = sk.Kind()
			if h, ok := sk.(sinks.Health); ok {
				ss.Connected, ss.Reason = h.Connected()
			}
		}
		for _, t := range schemas.AllTypes() {
			n := c.delivered[typeIndex(t)].Load()
			ss.Delivered[t] = n
			st.Delivered += n
		}
		st.Sinks[name] = ss
	}
	b.mu.Lock()
	if b.dlq != nil {
		st.DeadLetters = b.dlq.count.Load()
	}
	b.mu.Unlock()
	st.LatencyP50 = b.latency.quantile(0.50)
	st.LatencyP99 = b.latency.quantile(0.99)
	st.Latency = b.latency.snapshot()
	return st
}

// SourceNames lists the configured sources, for display.
func (b *Bridge) SourceNames() string {
	n := make([]string, len(b.sources))
	for i, s := range b.sources {
		n[i] = s.spec.Name
	}
	return strings.Join(n, ", ")
}

// newRegistry builds the registry client of r. Look-up failures are logged
// on the first attempt and every tenth after it, with waits saying what
// waits for the schema meanwhile.
func newRegistry(r *config.Registry, log *zap.Logger, waits string) (*codec.Registry, error) {
	return codec.NewRegistry(codec.RegistryConfig{
		URL:      r.URL,
		Username: r.Username,
		Password: r.Password.Reveal(),
		Timeout:  r.Timeout,
		CAFile:   r.CAFile,
		// InsecureSkipVerify is validated to apply to https URLs only.
		InsecureSkipVerify: r.InsecureSkipVerify,
		OnRetry: func(id, attempt int, err error) {
			if attempt == 1 || attempt%10 == 0 {
				log.Warn("schema registry look-up failed; retrying ("+waits+")", zap.String("registry", r.Name), zap.Int("schema_id", id), zap.Int("attempt", attempt), zap.Error(err))
			}
		},
	})
}
