package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"

	"github.com/telebridge/telebridge/bridge"
	"github.com/telebridge/telebridge/bridge/config"
	"github.com/telebridge/telebridge/internal/fleet"
	"github.com/telebridge/telebridge/internal/testkit"
)

// stormKills is how many times the storm kills the bridge with SIGKILL.
const stormKills = 16

// stormDrainBound is how long the instance started after the storm may take
// to finish every record. A dynamic member would wait for the killed
// members until the rebalance timeout (max.poll.interval.ms, 300 s); a
// static member takes its partitions back at once.
const stormDrainBound = 60 * time.Second

// stormInput produces the storm's input: Trackunit Avro and MOBITO JSON
// records from the fleet simulator, with a poison record on each topic
// every poisonEvery pairs, and remembers where every poison record landed.
type stormInput struct {
	p      *procEnv
	cl     *kgo.Client
	fleet  *fleet.Fleet
	mu     sync.Mutex
	poison map[string]bool // "topic/partition@offset"
	pairs  int
}

const poisonEvery = 50

func newStormInput(t *testing.T, p *procEnv) *stormInput {
	t.Helper()
	cl, err := p.k.Client()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &stormInput{
		p: p, cl: cl, poison: map[string]bool{},
		fleet: fleet.New(fleet.Config{Machines: 6, Vehicles: 6, Seed: 16, Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}),
	}
}

// produce adds n pairs of records (and their poison) synchronously.
func (in *stormInput) produce(ctx context.Context, n int) error {
	var recs []*kgo.Record
	isPoison := map[*kgo.Record]bool{}
	for range n {
		v, err := in.fleet.NextTrackunitAvro(in.p.schemaID)
		if err != nil {
			return err
		}
		recs = append(recs, &kgo.Record{Topic: "tu.in", Value: v}, &kgo.Record{Topic: "mo.in", Value: in.fleet.NextMobitoJSON()})
		in.pairs++
		if in.pairs%poisonEvery == 0 {
			bad := []*kgo.Record{
				{Topic: "tu.in", Value: []byte{0x07, 0, 0, 0, 1, 2}}, // bad magic byte
				{Topic: "mo.in", Value: []byte(`{"vin": "W0L`)},      // truncated JSON
			}
			for _, r := range bad {
				isPoison[r] = true
			}
			recs = append(recs, bad...)
		}
	}
	res := in.cl.ProduceSync(ctx, recs...)
	if err := res.FirstErr(); err != nil {
		return err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, r := range recs {
		if isPoison[r] {
			in.poison[fmt.Sprintf("%s/%d@%d", r.Topic, r.Partition, r.Offset)] = true
		}
	}
	return nil
}

// produceSteadily adds 2 pairs every 100ms until the returned stop is
// called, which waits for the producer and returns its error.
func (in *stormInput) produceSteadily(ctx context.Context) (stop func() error) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				done <- nil
				return
			case <-tick.C:
				if err := in.produce(ctx, 2); err != nil && ctx.Err() == nil {
					done <- err
					return
				}
			}
		}
	}()
	return func() error { cancel(); return <-done }
}

func (in *stormInput) poisonRecords() map[string]bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make(map[string]bool, len(in.poison))
	for k := range in.poison {
		out[k] = true
	}
	return out
}

// bridgeProc is one child telebridge process whose JSON log is watched for
// the partition assignment.
type bridgeProc struct {
	cmd      *exec.Cmd
	assigned chan struct{}
	logDone  chan struct{}
	mu       sync.Mutex
	tail     []string
}

func startBridge(t *testing.T, cfgPath string) *bridgeProc {
	t.Helper()
	return startBridgeAs(t, cfgPath, "storm-instance")
}

// startBridgeAs starts telebridge run with instance id instance.
func startBridgeAs(t *testing.T, cfgPath, instance string) *bridgeProc {
	t.Helper()
	cmd := command("run", "-c", cfgPath, "--log-format", "json")
	cmd.Env = append(cmd.Env, config.InstanceIDEnv+"="+instance)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	bp := &bridgeProc{cmd: cmd, assigned: make(chan struct{}), logDone: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go bp.watch(stderr)
	return bp
}

func (bp *bridgeProc) watch(r io.Reader) {
	defer close(bp.logDone)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	once := false
	for sc.Scan() {
		line := sc.Text()
		if !once && strings.Contains(line, `"partitions assigned`) {
			once = true
			close(bp.assigned)
		}
		bp.mu.Lock()
		bp.tail = append(bp.tail, line)
		if len(bp.tail) > 40 {
			bp.tail = bp.tail[1:]
		}
		bp.mu.Unlock()
	}
	_, _ = io.Copy(io.Discard, r)
}

func (bp *bridgeProc) log() string {
	bp.mu.Lock()
	defer bp.mu.Unlock()
	return strings.Join(bp.tail, "\n")
}

// wait waits for the process and its log reader.
func (bp *bridgeProc) wait() error {
	<-bp.logDone
	return bp.cmd.Wait()
}

// commitSample is the group's committed offsets, read at a moment when no
// bridge process was running.
type commitSample struct {
	at        time.Time
	committed map[string]map[int32]int64
}

// TestKill9StormLosesNothing kills the bridge with SIGKILL stormKills times
// at random moments (during start-up, right after the partition
// assignment, during a SIGTERM drain, and mid-stream) while a producer keeps
// adding input, then starts one more instance that must finish every record
// within stormDrainBound. Afterwards a clean in-process reference run over
// the same input must match it object for object by eventId, every poison
// record must be dead-lettered, no committed offset may ever have passed a
// record whose objects were not yet delivered, and a further run must
// consume nothing. TELEBRIDGE_STORM_SEED replays a run's timings.
func TestKill9StormLosesNothing(t *testing.T) {
	seed := time.Now().UnixNano()
	if v := os.Getenv("TELEBRIDGE_STORM_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseInt(v, 10, 64); err != nil {
			t.Fatalf("TELEBRIDGE_STORM_SEED=%q: %v", v, err)
		}
	}
	t.Logf("storm seed %d (set TELEBRIDGE_STORM_SEED to replay)", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 16))

	p := newClusterProcEnv(t, "tu.in", "mo.in")
	in := newStormInput(t, p)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := in.produce(ctx, 200); err != nil {
		t.Fatal(err)
	}

	// A producer adds input throughout the storm.
	stopProducer := in.produceSteadily(ctx)

	cfgPath := p.configFile(t, "storm", "storm")
	out := collect(t, p.k, "storm")
	dlq := collectDeadLetters(t, p.k, "storm.dlq")

	var samples []commitSample
	sample := func() {
		sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
		defer scancel()
		c, err := p.k.Committed(sctx, "storm-tu")
		if err != nil {
			t.Fatal(err)
		}
		m, err := p.k.Committed(sctx, "storm-mo")
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range m {
			c[k] = v
		}
		samples = append(samples, commitSample{at: time.Now(), committed: c})
	}

	moments := map[string]int{}
	for i := range stormKills {
		bp := startBridge(t, cfgPath)
		var moment string
		switch i % 4 {
		case 0: // during start-up: before or while joining the group
			moment = "start-up"
			time.Sleep(time.Duration(50+rng.IntN(600)) * time.Millisecond)
		case 1: // right after the assignment, while lanes start
			moment = "assignment"
			select {
			case <-bp.assigned:
				time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
			case <-time.After(20 * time.Second):
				moment = "assignment (timed out waiting)"
			}
		case 2: // during the SIGTERM drain
			moment = "shutdown"
			time.Sleep(time.Duration(800+rng.IntN(2000)) * time.Millisecond)
			_ = bp.cmd.Process.Signal(syscall.SIGTERM)
			time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
		default: // mid-stream
			moment = "mid-stream"
			time.Sleep(time.Duration(800+rng.IntN(4000)) * time.Millisecond)
		}
		moments[moment]++
		_ = bp.cmd.Process.Signal(syscall.SIGKILL)
		_ = bp.wait()
		sample()
	}
	if err := stopProducer(); err != nil {
		t.Fatalf("producer: %v", err)
	}
	_, _, stormRecords := out.snapshot()
	t.Logf("%d kills %v; %d output records during the storm; input %d pairs, %d poison", stormKills, moments, stormRecords, in.pairs, len(in.poisonRecords()))

	// The instance after the storm must finish everything quickly.
	end, err := p.k.EndOffsets(ctx, "tu.in", "mo.in")
	if err != nil {
		t.Fatal(err)
	}
	final := startBridge(t, cfgPath)
	finalStart := time.Now()
	drained := func() bool {
		sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
		defer scancel()
		tu, err1 := p.k.Committed(sctx, "storm-tu")
		mo, err2 := p.k.Committed(sctx, "storm-mo")
		if err1 != nil || err2 != nil {
			return false
		}
		for topic, parts := range end {
			got := tu[topic]
			if topic == "mo.in" {
				got = mo[topic]
			}
			for part, hi := range parts {
				if got[part] != hi {
					return false
				}
			}
		}
		return true
	}
	deadline := finalStart.Add(stormDrainBound)
	for !drained() {
		if time.Now().After(deadline) {
			_ = final.cmd.Process.Signal(syscall.SIGKILL)
			_ = final.wait()
			t.Fatalf("the instance started after the storm did not finish every record within %s (the rebalance timeout is 300s)\n%s", stormDrainBound, final.log())
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("after the storm, every record finished %s after the last start", time.Since(finalStart).Round(100*time.Millisecond))
	// The storm may have finished everything already: SIGTERM only once
	// the instance runs (and handles signals).
	select {
	case <-final.assigned:
	case <-time.After(20 * time.Second):
		t.Fatalf("the instance after the storm got no partitions in 20s\n%s", final.log())
	}
	if err := final.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := final.wait(); err != nil {
		t.Fatalf("SIGTERM after the storm: exit %v, want 0\n%s", err, final.log())
	}

	ref := referenceRun(t, p, end)
	refEvents, refSrc, want := ref.events, ref.src, ref.delivered

	// Every reference object arrived, with the same payload.
	n := ref.matchedBy(t, out)

	// Every poison record was dead-lettered.
	poison := in.poisonRecords()
	waitUntil(t, 30*time.Second, "every poison record dead-lettered", func() bool {
		d := dlq.snapshot()
		for k := range poison {
			if _, ok := d[k]; !ok {
				return false
			}
		}
		return true
	})
	deadLettered := dlq.snapshot()

	checked := checkCommitsFollowDelivery(t, samples, refEvents, refSrc, out, poison, deadLettered)
	t.Logf("reference %d objects; storm output %d records (%d duplicates with the same eventIds); %d poison dead-lettered; %d object-before-commit checks", want, n, n-want, len(poison), checked)

	// Everything was committed: a further run consumes nothing.
	again := startBridge(t, cfgPath)
	select {
	case <-again.assigned:
	case <-time.After(20 * time.Second):
		t.Fatalf("a run after the storm got no partitions in 20s\n%s", again.log())
	}
	time.Sleep(3 * time.Second)
	_ = again.cmd.Process.Signal(syscall.SIGTERM)
	if err := again.wait(); err != nil {
		t.Fatalf("run after the storm: exit %v\n%s", err, again.log())
	}
	if _, _, after := out.snapshot(); after != n {
		t.Fatalf("a run after the storm re-sent %d records: offsets were not committed", after-n)
	}
}

// deadLetters reads a dead-letter topic and keeps, per source record
// ("topic/partition@offset"), the earliest time it was dead-lettered.
type deadLetters struct {
	mu    sync.Mutex
	first map[string]time.Time
}

func collectDeadLetters(t *testing.T, k *testkit.Kafka, topic string) *deadLetters {
	t.Helper()
	cl, err := k.Client(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.MetadataMinAge(100*time.Millisecond), kgo.MetadataMaxAge(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &deadLetters{first: map[string]time.Time{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer cl.Close()
		for ctx.Err() == nil {
			cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
				var st, sp, so string
				for _, h := range r.Headers {
					switch h.Key {
					case bridge.HeaderSourceTopic:
						st = string(h.Value)
					case bridge.HeaderSourcePartition:
						sp = string(h.Value)
					case bridge.HeaderSourceOffset:
						so = string(h.Value)
					}
				}
				key := st + "/" + sp + "@" + so
				d.mu.Lock()
				if f, ok := d.first[key]; !ok || r.Timestamp.Before(f) {
					d.first[key] = r.Timestamp
				}
				d.mu.Unlock()
			})
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return d
}

func (d *deadLetters) snapshot() map[string]time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]time.Time, len(d.first))
	for k, v := range d.first {
		out[k] = v
	}
	return out
}

// reference is what a clean reference run delivered: objects by eventId
// (assets apart, by id), each object's source record and output topic, and
// the number of records it delivered to Kafka.
type reference struct {
	events    map[string]string
	assets    map[string]bool
	src       map[string]string
	topic     map[string]string
	delivered int
}

// referenceRun bridges everything up to end in process, with a group and
// output prefix "ref" of its own.
func referenceRun(t *testing.T, p *procEnv, end map[string]map[int32]int64) reference {
	t.Helper()
	// The Kafka sink alone: its deliveries are the reference.
	extra := p.extraSinks
	p.extraSinks = ""
	refPath := p.configFile(t, "ref", "ref")
	p.extraSinks = extra
	refCfg, err := config.Load(refPath, os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := bridge.New(refCfg, bridge.Options{Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	var total uint64
	for _, parts := range end {
		for _, hi := range parts {
			total += uint64(hi)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- ref.Run(ctx) }()
	waitUntil(t, 120*time.Second, "reference run", func() bool {
		st := ref.Stats()
		var objs, poison, consumed uint64
		for _, s := range st.Sources {
			objs += s.Objects
			poison += s.Poison
			consumed += s.Consumed
		}
		return consumed == total && st.Delivered+st.DeadLetters == objs+poison
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	coll := collect(t, p.k, "ref")
	// Every sink's deliveries: only the Kafka sink "out" writes ref.*.
	want := 0
	for _, n := range ref.Stats().Sinks["out"].Delivered {
		want += int(n)
	}
	waitUntil(t, 60*time.Second, "reference output read", func() bool { _, _, n := coll.snapshot(); return n >= want })
	r := reference{delivered: want, src: map[string]string{}, topic: map[string]string{}}
	r.events, r.assets, _ = coll.snapshot()
	coll.mu.Lock()
	defer coll.mu.Unlock()
	for k, v := range coll.srcOf {
		r.src[k] = v
	}
	for k, v := range coll.topicOf {
		r.topic[k] = v
	}
	return r
}

// matchedBy waits until out holds every reference object and asset, then
// fails the test unless each object has the reference payload, no eventId
// came with two payloads and out holds nothing the reference lacks. It
// returns the number of records out read (duplicates included).
func (r reference) matchedBy(t *testing.T, out *collector) int {
	t.Helper()
	waitUntil(t, 60*time.Second, "every reference object in the output", func() bool {
		ev, as, _ := out.snapshot()
		for e := range r.events {
			if _, ok := ev[e]; !ok {
				return false
			}
		}
		for a := range r.assets {
			if !as[a] {
				return false
			}
		}
		return true
	})
	got, _, n := out.snapshot()
	for ev, payload := range r.events {
		if got[ev] != payload {
			t.Fatalf("eventId %s: reference %s, output %q", ev, payload, got[ev])
		}
	}
	for ev, payload := range got {
		if strings.HasPrefix(payload, "CONFLICT") {
			t.Fatalf("eventId %s delivered with different payloads: %s", ev, payload)
		}
		if _, ok := r.events[ev]; !ok {
			t.Fatalf("eventId %s is not in the reference run", ev)
		}
	}
	return n
}

// srcRec is a source record's coordinates.
type srcRec struct {
	topic     string
	partition int32
	offset    int64
}

// parseSrc parses "topic/partition@offset".
func parseSrc(s string) srcRec {
	topic, rest, _ := strings.Cut(s, "/")
	ps, offs, _ := strings.Cut(rest, "@")
	part, _ := strconv.ParseInt(ps, 10, 32)
	off, _ := strconv.ParseInt(offs, 10, 64)
	return srcRec{topic, int32(part), off}
}

// checkCommitsFollowDelivery fails the test if any sampled commit passed a
// record whose objects (by the reference run) were not yet delivered, or
// whose poison was not yet dead-lettered, when the commit was read: the
// first copy of each must have been produced before then. It returns the
// number of object checks made.
func checkCommitsFollowDelivery(t *testing.T, samples []commitSample, refEvents, refSrc map[string]string, out *collector, poison map[string]bool, deadLettered map[string]time.Time) int {
	t.Helper()
	out.mu.Lock()
	first := make(map[string]time.Time, len(out.first))
	for k, v := range out.first {
		first[k] = v
	}
	out.mu.Unlock()
	checked := 0
	for _, smp := range samples {
		for ev := range refEvents {
			r := parseSrc(refSrc[ev])
			if c, ok := smp.committed[r.topic][r.partition]; ok && r.offset < c {
				f, delivered := first[ev]
				if !delivered || f.After(smp.at) {
					t.Fatalf("offset %d of %s/%d was committed by %s, but its object %s was first delivered at %s", c, r.topic, r.partition, smp.at.Format(time.RFC3339Nano), ev, f.Format(time.RFC3339Nano))
				}
				checked++
			}
		}
		for k := range poison {
			r := parseSrc(k)
			if c, ok := smp.committed[r.topic][r.partition]; ok && r.offset < c {
				if f, ok := deadLettered[k]; !ok || f.After(smp.at) {
					t.Fatalf("offset %d of %s/%d was committed by %s, but poison record %s was dead-lettered at %s", c, r.topic, r.partition, smp.at.Format(time.RFC3339Nano), k, f.Format(time.RFC3339Nano))
				}
			}
		}
	}
	return checked
}
