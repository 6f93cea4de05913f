package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"go.uber.org/zap"

	"github.com/telebridge/telebridge/bridge"
	"github.com/telebridge/telebridge/bridge/config"
	"github.com/telebridge/telebridge/bridge/profile"
	"github.com/telebridge/telebridge/internal/fleet"
	"github.com/telebridge/telebridge/internal/testkit"
	"github.com/telebridge/telebridge/schemas"
)

// TestMain lets the test binary act as the telebridge command, so tests
// can run it as a real process (signals, kill -9) without a second build.
func TestMain(m *testing.M) {
	if os.Getenv("TELEBRIDGE_TEST_AS_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	if os.Getenv("TELEBRIDGE_TEST_AS_CLUSTER") == "1" {
		os.Exit(runTestCluster())
	}
	os.Exit(m.Run())
}

// command runs the telebridge command as a child process.
func command(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "TELEBRIDGE_TEST_AS_MAIN=1")
	return cmd
}

const procConfig = `clusters:
  k:
    bootstrap_servers: %q
    properties: {%s}
    security_protocol: SASL_PLAINTEXT
    sasl: {mechanism: PLAIN, username: %s, password: "${TB_TEST_KAFKA_PASSWORD}"}
registries:
  tu: {url: %q, username: %s, password: "${TB_TEST_SR_PASSWORD}"}
sources:
  - {name: trackunit, cluster: k, topics: [tu.in], group_id: %s-tu, profile: trackunit-insights, registry: tu, max_in_flight: 50}
  - {name: mobito, cluster: k, topics: [mo.in], group_id: %s-mo, profile: mobito, max_in_flight: 50}
sinks:
  - name: out
    type: kafka
    cluster: k
    topic: "%s.{type}"
    key: assetId
    event_id: {inject: true}
%s
dead_letter: {cluster: k, topic: "%s.dlq"}
shutdown_timeout: 20s
commit_interval: 200ms
http: {listen: "127.0.0.1:0"}
`

type procEnv struct {
	k *testkit.Kafka
	// reg is the in-process registry (nil when it runs in a cluster
	// process); regURL is its address either way.
	reg      *testkit.Registry
	regURL   string
	schemaID int
	dir      string
	// extraSinks is appended to the sinks of every config file.
	extraSinks string
	// clusterProps are librdkafka properties of cluster k.
	clusterProps string
}

func newProcEnv(t *testing.T) *procEnv {
	t.Helper()
	k, err := testkit.StartKafka([]string{"tu.in", "mo.in"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	reg := testkit.StartRegistry()
	t.Cleanup(reg.Close)
	id, _, err := reg.RegisterSchema("tu.in-value", sr.Schema{Schema: profile.TrackunitReaderSchema(), Type: sr.TypeAvro})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("TB_TEST_KAFKA_PASSWORD", testkit.KafkaPassword)
	t.Setenv("TB_TEST_SR_PASSWORD", testkit.RegistryPasswd)
	return &procEnv{k: k, reg: reg, regURL: reg.URL(), schemaID: id, dir: t.TempDir()}
}

func (p *procEnv) configFile(t *testing.T, group, out string) string {
	t.Helper()
	path := filepath.Join(p.dir, group+".yaml")
	text := fmt.Sprintf(procConfig, p.k.Addr, p.clusterProps, testkit.KafkaUser, p.regURL, testkit.RegistryUser, group, group, out, p.extraSinks, out)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (p *procEnv) preload(t *testing.T, n int) {
	t.Helper()
	cl, err := p.k.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	fl := fleet.New(fleet.Config{Machines: 5, Vehicles: 5, Seed: 9, Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)})
	var recs []*kgo.Record
	for range n {
		v, err := fl.NextTrackunitAvro(p.schemaID)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, &kgo.Record{Topic: "tu.in", Value: v}, &kgo.Record{Topic: "mo.in", Value: fl.NextMobitoJSON()})
	}
	recs = append(recs, &kgo.Record{Topic: "mo.in", Value: []byte("{not json")})
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// collector reads output topics continuously, keeping eventId -> payload
// and a count of records.
type collector struct {
	mu      sync.Mutex
	byEvent map[string]string
	assets  map[string]bool
	records int
	// first is the earliest record timestamp (producer CreateTime) of
	// each eventId, srcOf its telebridge-source header (topic/p@offset).
	first   map[string]time.Time
	srcOf   map[string]string
	topicOf map[string]string // eventId -> output topic
	cancel  context.CancelFunc
	done    chan struct{}
}

func collect(t *testing.T, k *testkit.Kafka, prefix string) *collector {
	t.Helper()
	var topics []string
	for _, ty := range schemas.AllTypes() {
		topics = append(topics, prefix+"."+string(ty))
	}
	cl, err := k.Client(kgo.ConsumeTopics(topics...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.MetadataMinAge(100*time.Millisecond), kgo.MetadataMaxAge(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &collector{byEvent: map[string]string{}, assets: map[string]bool{}, first: map[string]time.Time{}, srcOf: map[string]string{}, topicOf: map[string]string{}, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		defer cl.Close()
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			fs.EachRecord(func(r *kgo.Record) {
				var ev, src string
				for _, h := range r.Headers {
					switch h.Key {
					case "eventId":
						ev = string(h.Value)
					case "telebridge-source":
						src = string(h.Value)
					}
				}
				c.mu.Lock()
				c.records++
				if f, ok := c.first[ev]; !ok || r.Timestamp.Before(f) {
					c.first[ev] = r.Timestamp
				}
				c.srcOf[ev] = src
				c.topicOf[ev] = r.Topic
				if strings.HasSuffix(r.Topic, ".asset") {
					var a struct{ ID string }
					_ = json.Unmarshal(r.Value, &a)
					c.assets[a.ID] = true
				} else {
					if prev, ok := c.byEvent[ev]; ok && prev != string(r.Value) {
						c.byEvent[ev] = "CONFLICT: " + prev + " vs " + string(r.Value)
					} else {
						c.byEvent[ev] = string(r.Value)
					}
				}
				c.mu.Unlock()
			})
		}
	}()
	t.Cleanup(func() { cancel(); <-c.done })
	return c
}

func (c *collector) snapshot() (map[string]string, map[string]bool, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ev := make(map[string]string, len(c.byEvent))
	for k, v := range c.byEvent {
		ev[k] = v
	}
	as := make(map[string]bool, len(c.assets))
	for k := range c.assets {
		as[k] = true
	}
	return ev, as, c.records
}

func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestKill9RestartLosesNothing bridges the same input twice: once in
// process as a reference, once in a child process that is killed with
// SIGKILL mid-stream and restarted, then stopped with SIGTERM. Every
// reference object must arrive with the same eventId and payload, and the
// SIGTERM must drain, commit and exit 0.
func TestKill9RestartLosesNothing(t *testing.T) {
	p := newProcEnv(t)
	p.preload(t, 300)

	// Reference run, in process.
	refCfg, err := config.Load(p.configFile(t, "ref", "ref"), os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := bridge.New(refCfg, bridge.Options{Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	refDone := make(chan error, 1)
	go func() { refDone <- ref.Run(ctx) }()
	waitUntil(t, 120*time.Second, "reference run", func() bool {
		st := ref.Stats()
		var objs, poison, consumed uint64
		for _, s := range st.Sources {
			objs += s.Objects
			poison += s.Poison
			consumed += s.Consumed
		}
		return consumed == 601 && st.Delivered+st.DeadLetters == objs+poison
	})
	cancel()
	if err := <-refDone; err != nil {
		t.Fatal(err)
	}
	refColl := collect(t, p.k, "ref")
	want := int(ref.Stats().Delivered)
	waitUntil(t, 60*time.Second, "reference output read", func() bool { _, _, n := refColl.snapshot(); return n >= want })
	refEvents, refAssets, _ := refColl.snapshot()

	// Crash run.
	cfgPath := p.configFile(t, "crash", "out")
	out := collect(t, p.k, "out")
	first := command("run", "-c", cfgPath, "--log-format", "json")
	var firstLog bytes.Buffer
	first.Stderr = &firstLog
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 60*time.Second, "first output of the crash run", func() bool { _, _, n := out.snapshot(); return n > 0 })
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	_, _, before := out.snapshot()
	t.Logf("killed after %d of %d output records", before, want)

	second := command("run", "-c", cfgPath)
	var secondLog bytes.Buffer
	second.Stderr = &secondLog
	if err := second.Start(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 120*time.Second, "every reference object after the restart", func() bool {
		ev, as, _ := out.snapshot()
		return len(ev) >= len(refEvents) && len(as) >= len(refAssets)
	})
	if err := second.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := second.Wait(); err != nil {
		t.Fatalf("SIGTERM: exit %v, want 0\n%s", err, secondLog.String())
	}

	got, gotAssets, n := out.snapshot()
	for ev, payload := range refEvents {
		if got[ev] != payload {
			t.Fatalf("eventId %s: reference %s, after restart %q", ev, payload, got[ev])
		}
	}
	for ev, payload := range got {
		if strings.HasPrefix(payload, "CONFLICT") {
			t.Fatalf("eventId %s delivered with different payloads: %s", ev, payload)
		}
		if _, ok := refEvents[ev]; !ok {
			t.Fatalf("eventId %s is not in the reference run: identities are not deterministic", ev)
		}
	}
	for a := range refAssets {
		if !gotAssets[a] {
			t.Fatalf("asset %s missing after the restart", a)
		}
	}
	t.Logf("reference %d objects, crash run %d records (%d duplicates re-sent with the same eventIds)", want, n, n-want)

	// The SIGTERM committed everything: the same group reads nothing more.
	again := command("run", "-c", cfgPath, "--log-format", "json", "--log-level", "info")
	var againLog bytes.Buffer
	again.Stderr = &againLog
	if err := again.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second)
	_ = again.Process.Signal(syscall.SIGTERM)
	if err := again.Wait(); err != nil {
		t.Fatalf("third run exit %v\n%s", err, againLog.String())
	}
	_, _, after := out.snapshot()
	if after != n {
		t.Fatalf("a run after a clean SIGTERM re-sent %d records: offsets were not committed", after-n)
	}
}

func TestValidateCommand(t *testing.T) {
	// The secrets the example configs reference; each gets a distinctive
	// value that must never be printed.
	env := map[string]string{}
	for _, name := range []string{"TRACKUNIT_KAFKA_KEY", "TRACKUNIT_KAFKA_SECRET", "TRACKUNIT_USERNAME", "TRACKUNIT_PASSWORD", "TRACKUNIT_SR_KEY", "TRACKUNIT_SR_SECRET", "MOBITO_USERNAME", "MOBITO_PASSWORD", "OWN_KAFKA_PASSWORD", "OWN_KEY_PASSWORD"} {
		env[name] = "s3cr3t-" + strings.ToLower(name)
	}
	files, err := filepath.Glob("../../testdata/config/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example configs: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cmd := command("validate", "-c", f)
			for k, v := range env {
				if k == "TRACKUNIT_PASSWORD" && strings.Contains(f, "missing-env") {
					continue // that file tests exactly this variable missing
				}
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			out, err := cmd.CombinedOutput()
			invalid := strings.HasPrefix(filepath.Base(f), "invalid")
			if invalid {
				ee, ok := err.(*exec.ExitError)
				if !ok || ee.ExitCode() != 2 {
					t.Fatalf("invalid config: exit %v, want 2\n%s", err, out)
				}
				if !strings.Contains(string(out), filepath.Base(f)+":") {
					t.Fatalf("error does not name the file and line:\n%s", out)
				}
				return
			}
			if err != nil {
				t.Fatalf("validate: %v\n%s", err, out)
			}
			for k, v := range env {
				if strings.HasSuffix(k, "_USERNAME") {
					continue // user names are not secrets
				}
				if strings.Contains(string(out), v) {
					t.Fatalf("validate printed a secret:\n%s", out)
				}
			}
			if !strings.Contains(string(out), "[redacted]") {
				t.Fatalf("no redacted secret in the summary:\n%s", out)
			}
			if strings.Contains(string(out), "warning:") {
				t.Fatalf("an example config has warnings (every type its sources produce must be routed):\n%s", out)
			}
		})
	}
}

func TestDemoRunsAndShowsEverything(t *testing.T) {
	var out bytes.Buffer
	f := &demoFlags{duration: 8 * time.Second, rate: 20, machines: 3, vehicles: 3, poisonEvery: 40, seed: 1, configOut: filepath.Join(t.TempDir(), "demo.yaml")}
	if err := runDemo(context.Background(), &syncWriter{w: &out}, f, zap.NewNop()); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	s := out.String()
	for _, want := range []string{"Kafka bootstrap", "Schema Registry", "kcat -b", "[progress]", "[sample] globe-tracker.events.", "Summary", "dead letters", "mosquitto_sub -V mqttv5", "objects delivered to the embedded MQTT broker"} {
		if !strings.Contains(s, want) {
			t.Errorf("demo output lacks %q:\n%s", want, s)
		}
	}
	// The mapped reefer feed makes the output cover every object type.
	for _, typ := range []string{"asset", "location", "sensordata", "reeferdata", "gensetdata", "gtoemdata"} {
		if !regexp.MustCompile(`delivered +[0-9]+ objects \(.*\b` + typ + ` [1-9]`).MatchString(s) {
			t.Errorf("the demo delivered no %s:\n%s", typ, s)
		}
	}
	if !regexp.MustCompile(`source reefer +consumed [1-9][0-9]*, objects [1-9][0-9]*, poison 0`).MatchString(s) {
		t.Errorf("the mapped reefer source did not map cleanly:\n%s", s)
	}
	if !regexp.MustCompile(`mqtt +[1-9][0-9]* objects delivered`).MatchString(s) {
		t.Errorf("the demo delivered nothing to its MQTT broker:\n%s", s)
	}
	if _, err := config.Load(f.configOut, os.LookupEnv); err != nil {
		t.Fatalf("the config the demo wrote does not load: %v", err)
	}
}

// syncWriter serialises writes from the demo's goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
