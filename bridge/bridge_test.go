package bridge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/telebridge/telebridge/bridge"
	"github.com/telebridge/telebridge/bridge/config"
	"github.com/telebridge/telebridge/bridge/profile"
	"github.com/telebridge/telebridge/codec"
	"github.com/telebridge/telebridge/internal/fleet"
	"github.com/telebridge/telebridge/internal/testkit"
	"github.com/telebridge/telebridge/schemas"
)

const (
	tuTopic  = "tu.insights"
	moTopic  = "mobito.push"
	dlqTopic = "telebridge.dead-letter"
)

type env struct {
	kafka    *testkit.Kafka
	reg      *testkit.Registry
	schemaID int
	fleet    *fleet.Fleet
}

func newEnv(t *testing.T) *env {
	t.Helper()
	k, err := testkit.StartKafka([]string{tuTopic, moTopic})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	reg := testkit.StartRegistry()
	t.Cleanup(reg.Close)
	id, _, err := reg.RegisterSchema(tuTopic+"-value", sr.Schema{Schema: profile.TrackunitReaderSchema(), Type: sr.TypeAvro})
	if err != nil {
		t.Fatal(err)
	}
	return &env{kafka: k, reg: reg, schemaID: id, fleet: fleet.New(fleet.Config{Machines: 3, Vehicles: 3, Seed: 42, Start: time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)})}
}

// configText is a bridge config for the env. Options fill the source
// cluster's SASL block, the sink's topic and extras.
type cfgOpts struct {
	sourceSASL string // e.g. "{mechanism: PLAIN, username: u, password: p}"
	sinkSASL   string
	outTopic   string
	group      string
	decode     string
	extraSink  string
}

func (e *env) config(t *testing.T, o cfgOpts) *config.Config {
	t.Helper()
	if o.sourceSASL == "" {
		o.sourceSASL = fmt.Sprintf("{mechanism: PLAIN, username: %s, password: %s}", testkit.KafkaUser, testkit.KafkaPassword)
	}
	if o.sinkSASL == "" {
		o.sinkSASL = fmt.Sprintf("{mechanism: PLAIN, username: %s, password: %s}", testkit.KafkaUser, testkit.KafkaPassword)
	}
	if o.outTopic == "" {
		o.outTopic = "out.{type}"
	}
	if o.group == "" {
		o.group = "g-" + strings.ReplaceAll(t.Name(), "/", "-")
	}
	if o.decode == "" {
		o.decode = "pinned"
	}
	text := fmt.Sprintf(`
clusters:
  src:
    bootstrap_servers: %q
    security_protocol: SASL_PLAINTEXT
    sasl: %s
  lake:
    bootstrap_servers: %q
    security_protocol: SASL_PLAINTEXT
    sasl: %s
registries:
  tu: {url: %q, username: %s, password: %s}
sources:
  - name: trackunit
    cluster: src
    topics: [%s]
    group_id: %s-tu
    profile: trackunit-insights
    registry: tu
    decode: %s
  - name: mobito
    cluster: src
    topics: [%s]
    group_id: %s-mo
    profile: mobito
sinks:
  - name: out
    type: kafka
    cluster: lake
    topic: %q
    key: assetId
    event_id: {inject: true}
    retry: {max_attempts: 3, initial_backoff: 50ms, max_backoff: 200ms}
    delivery_timeout: 5s
%s
dead_letter: {cluster: lake, topic: %s}
shutdown_timeout: 10s
commit_interval: 100ms
`, e.kafka.Addr, o.sourceSASL, e.kafka.Addr, o.sinkSASL, e.reg.URL(), testkit.RegistryUser, testkit.RegistryPasswd,
		tuTopic, o.group, o.decode, moTopic, o.group, o.outTopic, o.extraSink, dlqTopic)
	// Only the eventId switches come from the process environment
	// (tests set them with t.Setenv), read at each look-up.
	lookup := func(k string) (string, bool) {
		if k == config.EnvKafkaSetEventID || k == config.EnvMQTTSetEventID {
			return os.LookupEnv(k)
		}
		return "", false
	}
	cfg, err := config.Parse([]byte(text), "test.yaml", lookup)
	if err != nil {
		t.Fatalf("config: %v\n%s", err, text)
	}
	return cfg
}

func (e *env) produce(t *testing.T, recs ...*kgo.Record) {
	t.Helper()
	cl, err := e.kafka.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func (e *env) trackunit(t *testing.T, n int) []*kgo.Record {
	t.Helper()
	var recs []*kgo.Record
	for range n {
		v, err := e.fleet.NextTrackunitAvro(e.schemaID)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, &kgo.Record{Topic: tuTopic, Value: v})
	}
	return recs
}

func (e *env) mobito(n int) []*kgo.Record {
	var recs []*kgo.Record
	for range n {
		recs = append(recs, &kgo.Record{Topic: moTopic, Value: e.fleet.NextMobitoJSON()})
	}
	return recs
}

// running is a bridge running in the background.
type running struct {
	b    *bridge.Bridge
	stop context.CancelFunc
	done chan error
}

func start(t *testing.T, cfg *config.Config, log *zap.Logger) *running {
	t.Helper()
	if log == nil {
		log = zap.NewNop()
	}
	b, err := bridge.New(cfg, bridge.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{b: b, stop: cancel, done: make(chan error, 1)}
	go func() { r.done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			t.Error("bridge did not stop within 30s")
		}
	})
	return r
}

// waitFor polls cond until it holds; it fails the test after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// settled reports whether the source consumed want records and every
// derived object and poison record is delivered or dead-lettered.
func settled(b *bridge.Bridge, source string, want uint64) bool {
	st := b.Stats()
	s := st.Sources[source]
	return s.Consumed >= want && st.Delivered+st.DeadLetters >= totalObjects(st)+totalPoison(st)
}

func totalObjects(st bridge.Stats) uint64 {
	var n uint64
	for _, s := range st.Sources {
		n += s.Objects
	}
	return n
}

func totalPoison(st bridge.Stats) uint64 {
	var n uint64
	for _, s := range st.Sources {
		n += s.Poison
	}
	return n
}

func (r *running) shutdown(t *testing.T) {
	t.Helper()
	r.stop()
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("bridge returned %v after a requested stop", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("bridge did not stop within 30s")
	}
	r.done <- nil // for the cleanup
}

func readAll(t *testing.T, e *env, topic string, n int) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	recs, err := e.kafka.ReadTopic(ctx, topic, n)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

func TestEndToEndBothFeedsWithPoison(t *testing.T) {
	e := newEnv(t)
	e.produce(t, e.trackunit(t, 20)...)
	e.produce(t, e.mobito(20)...)
	var poison []*kgo.Record
	for _, k := range fleet.TrackunitPoisonKinds() {
		poison = append(poison, &kgo.Record{Topic: tuTopic, Value: fleet.PoisonTrackunit(k, e.schemaID), Key: []byte("k-" + k), Headers: []kgo.RecordHeader{{Key: "origin", Value: []byte("tu-" + k)}}})
	}
	for _, k := range fleet.MobitoPoisonKinds() {
		poison = append(poison, &kgo.Record{Topic: moTopic, Value: fleet.PoisonMobito(k), Key: []byte("k-" + k), Headers: []kgo.RecordHeader{{Key: "origin", Value: []byte("mo-" + k)}}})
	}
	e.produce(t, poison...)
	// Good records after the poison ones: the partitions go on.
	e.produce(t, e.trackunit(t, 5)...)
	e.produce(t, e.mobito(5)...)

	r := start(t, e.config(t, cfgOpts{}), nil)
	wantIn := uint64(25 + len(fleet.TrackunitPoisonKinds()))
	waitFor(t, 60*time.Second, "all records bridged", func() bool {
		st := r.b.Stats()
		return st.Sources["trackunit"].Consumed >= wantIn && st.Sources["mobito"].Consumed >= uint64(25+len(fleet.MobitoPoisonKinds())) &&
			st.Delivered+st.DeadLetters >= totalObjects(st)+totalPoison(st)
	})
	r.shutdown(t)
	st := r.b.Stats()
	if got, want := totalPoison(st), uint64(len(poison)); got != want {
		t.Fatalf("poison = %d, want %d", got, want)
	}

	// Every output record is valid object-sync JSON with its eventId.
	byType := map[schemas.Type]int{}
	for _, ty := range schemas.AllTypes() {
		n := int(st.Sinks["out"].Delivered[ty])
		if n == 0 {
			continue
		}
		byType[ty] = n
		for _, rec := range readAll(t, e, "out."+string(ty), n) {
			var m map[string]any
			if err := json.Unmarshal(rec.Value, &m); err != nil {
				t.Fatalf("%s: invalid JSON %q: %v", ty, rec.Value, err)
			}
			ev := header(rec, "eventId")
			if ev == "" || m["eventId"] != ev {
				t.Fatalf("%s: eventId header %q, payload %v", ty, ev, m["eventId"])
			}
			if header(rec, "objectType") != string(ty) {
				t.Fatalf("objectType header %q on %s", header(rec, "objectType"), ty)
			}
			if string(rec.Key) == "" || (m["assetId"] != nil && m["assetId"] != string(rec.Key)) || (ty == schemas.TypeAsset && m["id"] != string(rec.Key)) {
				t.Fatalf("%s: key %q does not match the payload's asset", ty, rec.Key)
			}
		}
	}
	for _, ty := range []schemas.Type{schemas.TypeAsset, schemas.TypeLocation, schemas.TypeSensorData, schemas.TypeGtoemData} {
		if byType[ty] == 0 {
			t.Errorf("no %s objects delivered (got %v)", ty, byType)
		}
	}

	// Every poison record is in the dead-letter topic with its original
	// bytes, key, headers and the error headers.
	dl := readAll(t, e, dlqTopic, len(poison))
	byOrigin := map[string]*kgo.Record{}
	for _, d := range dl {
		byOrigin[header(d, "origin")] = d
	}
	for _, p := range poison {
		d := byOrigin[string(p.Headers[0].Value)]
		if d == nil {
			t.Fatalf("poison %s not dead-lettered", p.Headers[0].Value)
		}
		if string(d.Value) != string(p.Value) || string(d.Key) != string(p.Key) {
			t.Errorf("poison %s: dead letter changed key/value", p.Headers[0].Value)
		}
		for _, h := range []string{bridge.HeaderError, bridge.HeaderErrorClass, bridge.HeaderSourceTopic, bridge.HeaderSourcePartition, bridge.HeaderSourceOffset} {
			if header(d, h) == "" {
				t.Errorf("poison %s: header %s missing", p.Headers[0].Value, h)
			}
		}
		if header(d, bridge.HeaderSourceTopic) != p.Topic {
			t.Errorf("source topic header %q, want %q", header(d, bridge.HeaderSourceTopic), p.Topic)
		}
	}
	classes := map[string]bool{}
	for _, d := range dl {
		classes[header(d, bridge.HeaderErrorClass)] = true
	}
	for _, c := range []string{string(codec.ClassBadMagic), string(codec.ClassUnknownSchema), string(codec.ClassCorruptAvro), string(codec.ClassInvalidJSON), bridge.ClassMapping} {
		if !classes[c] {
			t.Errorf("no dead letter of class %s (got %v)", c, classes)
		}
	}

	// Offsets were committed: a second run of the same groups reads nothing.
	r2 := start(t, e.config(t, cfgOpts{}), nil)
	time.Sleep(3 * time.Second)
	if got := r2.b.Stats().Sources["trackunit"].Consumed + r2.b.Stats().Sources["mobito"].Consumed; got != 0 {
		t.Fatalf("restarted bridge re-read %d records: offsets were not committed", got)
	}
	r2.shutdown(t)
}

func TestSCRAMSourceAndSink(t *testing.T) {
	e := newEnv(t)
	e.produce(t, e.mobito(10)...)
	cfg := e.config(t, cfgOpts{
		sourceSASL: fmt.Sprintf("{mechanism: SCRAM-SHA-256, username: %s, password: %s}", testkit.ScramUser256, testkit.ScramPassword),
		sinkSASL:   fmt.Sprintf("{mechanism: SCRAM-SHA-512, username: %s, password: %s}", testkit.ScramUser512, testkit.ScramPassword),
	})
	r := start(t, cfg, nil)
	waitFor(t, 60*time.Second, "mobito bridged over SCRAM", func() bool { return settled(r.b, "mobito", 10) })
	r.shutdown(t)
	if r.b.Stats().Delivered == 0 {
		t.Fatal("nothing delivered")
	}
}

func TestWrongPasswordIsOneClearError(t *testing.T) {
	e := newEnv(t)
	core, logs := observer.New(zap.WarnLevel)
	cfg := e.config(t, cfgOpts{sourceSASL: fmt.Sprintf("{mechanism: PLAIN, username: %s, password: wrong-secret}", testkit.KafkaUser)})
	b, err := bridge.New(cfg, bridge.Options{Logger: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err = b.Run(ctx)
	if err == nil || ctx.Err() != nil {
		t.Fatalf("Run = %v (ctx %v); want an authentication error before the deadline", err, ctx.Err())
	}
	if !strings.Contains(err.Error(), "refused user") || !strings.Contains(err.Error(), testkit.KafkaUser) {
		t.Fatalf("error does not say which user was refused: %v", err)
	}
	if strings.Contains(err.Error(), "wrong-secret") {
		t.Fatal("error leaks the password")
	}
	for _, l := range logs.All() {
		if strings.Contains(fmt.Sprint(l.Message, l.Context), "wrong-secret") {
			t.Fatal("log leaks the password")
		}
	}
	if n := logs.Len(); n > 10 {
		t.Fatalf("%d warning logs for one bad password: a flood", n)
	}
}

func TestRegistryOutageBlocksThenRecovers(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	down := true
	e.reg.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		defer mu.Unlock()
		if down {
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	e.produce(t, e.trackunit(t, 5)...)
	e.produce(t, e.mobito(5)...)
	r := start(t, e.config(t, cfgOpts{}), nil)
	// MOBITO (no registry) flows; Trackunit waits, nothing dead-lettered.
	waitFor(t, 60*time.Second, "mobito bridged during the outage", func() bool { return settled(r.b, "mobito", 5) })
	time.Sleep(time.Second)
	st := r.b.Stats()
	if st.Sources["trackunit"].Objects != 0 || st.DeadLetters != 0 {
		t.Fatalf("during the outage: trackunit objects %d, dead letters %d; want 0, 0", st.Sources["trackunit"].Objects, st.DeadLetters)
	}
	mu.Lock()
	down = false
	mu.Unlock()
	waitFor(t, 60*time.Second, "trackunit bridged after the outage", func() bool {
		st := r.b.Stats()
		return st.Sources["trackunit"].Objects > 0 && settled(r.b, "trackunit", 5)
	})
	r.shutdown(t)
	if st := r.b.Stats(); st.DeadLetters != 0 {
		t.Fatalf("%d dead letters after a registry outage; want none", st.DeadLetters)
	}
}

// TestKafkaSetEventIDFromEnv turns eventId injection on for a Kafka sink
// through KAFKA_SET_EVENT_ID, as the push services' users know it: the
// named payload member carries the same eventId as the header.
func TestKafkaSetEventIDFromEnv(t *testing.T) {
	t.Setenv(config.EnvKafkaSetEventID, "evtId")
	e := newEnv(t)
	e.produce(t, e.mobito(3)...)
	cfg := e.config(t, cfgOpts{extraSink: `  - name: plain
    type: kafka
    cluster: lake
    topic: plain.{type}
    types: [location]
`})
	r := start(t, cfg, nil)
	waitFor(t, 60*time.Second, "mobito bridged", func() bool { return settled(r.b, "mobito", 3) })
	r.shutdown(t)
	recs := readAll(t, e, "plain.location", 3)
	for _, rec := range recs {
		var v map[string]any
		if err := json.Unmarshal(rec.Value, &v); err != nil {
			t.Fatal(err)
		}
		if id := header(rec, "eventId"); id == "" || v["evtId"] != id {
			t.Fatalf("payload evtId %v, header eventId %q: %s", v["evtId"], id, rec.Value)
		}
		if _, ok := v["eventId"]; ok {
			t.Fatalf("payload has the default member too: %s", rec.Value)
		}
	}

	t.Setenv(config.EnvKafkaSetEventID, "not a field!")
	if _, err := bridge.New(cfg, bridge.Options{}); err == nil || !strings.Contains(err.Error(), config.EnvKafkaSetEventID) {
		t.Fatalf("bad variable: err = %v", err)
	}
}
