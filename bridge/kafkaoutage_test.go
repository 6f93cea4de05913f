package bridge_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telebridge/telebridge/bridge"
	"github.com/telebridge/telebridge/bridge/config"
	"github.com/telebridge/telebridge/internal/fleet"
	"github.com/telebridge/telebridge/internal/testkit"
	"github.com/telebridge/telebridge/sinks"
)

// lakeCluster is a sink cluster that can be stopped and started again on
// the same address with its data (kfake persisting to a directory), like
// a broker restart.
type lakeCluster struct {
	t    *testing.T
	opts []kfake.Opt
	k    *testkit.Kafka
}

func startLake(t *testing.T) *lakeCluster {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	l := &lakeCluster{t: t, opts: []kfake.Opt{kfake.Ports(port), kfake.DataDir(t.TempDir()), kfake.ClusterID("lake")}}
	l.start()
	t.Cleanup(l.stop)
	return l
}

func (l *lakeCluster) start() {
	l.t.Helper()
	k, err := testkit.StartKafka(nil, l.opts...)
	if err != nil {
		l.t.Fatal(err)
	}
	l.k = k
}

func (l *lakeCluster) stop() {
	if l.k != nil {
		l.k.Close()
		l.k = nil
	}
}

// outageObserver records deliveries by source coordinates and any attempt
// that ended for good without a delivery.
type outageObserver struct {
	mu        sync.Mutex
	delivered map[int32]map[int64]bool // source partition -> offset
	eventIDs  map[string]bool
	gaveUp    []sinks.Attempt
}

func (o *outageObserver) ObserveAttempt(a *sinks.Attempt) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch a.Status {
	case sinks.StatusDelivered:
		if o.delivered[a.Source.Partition] == nil {
			o.delivered[a.Source.Partition] = map[int64]bool{}
		}
		o.delivered[a.Source.Partition][a.Source.Offset] = true
		o.eventIDs[a.EventID] = true
	case sinks.StatusFailed, sinks.StatusDeadLettered:
		o.gaveUp = append(o.gaveUp, *a)
	}
}

// rssKiB is this process's resident set size (the bridge and both
// embedded clusters), from /proc/self/status.
func rssKiB(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// TestKafkaSinkClusterOutage stops the Kafka sink's cluster mid-stream for
// longer than max_attempts x delivery_timeout and starts it again on the
// same address, with the dead-letter topic on another cluster and on the
// stopped one: nothing is dead-lettered for the outage, every object is
// delivered, the committed source offsets never pass a record that was
// neither delivered nor dead-lettered, the source partitions pause (the
// bridge stops consuming instead of buffering), the sink reports itself
// not connected with the reason, and poison records read meanwhile reach
// the dead-letter topic once it is reachable.
func TestKafkaSinkClusterOutage(t *testing.T) {
	for _, dlqOn := range []string{"src", "lake"} {
		t.Run("dead_letter_on_"+dlqOn, func(t *testing.T) {
			e := newEnv(t)
			lake := startLake(t)
			group := "g-outage-" + dlqOn
			text := fmt.Sprintf(`
clusters:
  src:
    bootstrap_servers: %q
    security_protocol: SASL_PLAINTEXT
    sasl: {mechanism: PLAIN, username: %s, password: %s}
  lake:
    bootstrap_servers: %q
    security_protocol: SASL_PLAINTEXT
    sasl: {mechanism: PLAIN, username: %s, password: %s}
sources:
  - name: mobito
    cluster: src
    topics: [%s]
    group_id: %s
    profile: mobito
    max_in_flight: 20
sinks:
  - name: out
    type: kafka
    cluster: lake
    topic: "out.{type}"
    key: assetId
    retry: {max_attempts: 2, initial_backoff: 50ms, max_backoff: 1s}
    delivery_timeout: 2s
    max_in_flight: 50
dead_letter: {cluster: %s, topic: %s}
shutdown_timeout: 10s
commit_interval: 100ms
`, e.kafka.Addr, testkit.KafkaUser, testkit.KafkaPassword, lake.k.Addr, testkit.KafkaUser, testkit.KafkaPassword,
				moTopic, group, dlqOn, dlqTopic)
			cfg, err := config.Parse([]byte(text), "outage.yaml", func(string) (string, bool) { return "", false })
			if err != nil {
				t.Fatal(err)
			}
			obs := &outageObserver{delivered: map[int32]map[int64]bool{}, eventIDs: map[string]bool{}}
			br, err := bridge.New(cfg, bridge.Options{Observer: obs})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- br.Run(ctx) }()
			t.Cleanup(func() {
				cancel()
				select {
				case <-done:
				case <-time.After(30 * time.Second):
					t.Error("bridge did not stop")
				}
			})

			const before, during, poisonN = 40, 400, 4
			e.produce(t, e.mobito(before)...)
			waitFor(t, 60*time.Second, "the first records bridged", func() bool { return settled(br, "mobito", before) })
			rssBefore := rssKiB(t)

			lake.stop()
			recs := e.mobito(during)
			poison := map[int32]map[int64]bool{}
			for i := range poisonN {
				recs = append(recs, &kgo.Record{Topic: moTopic, Value: fleet.PoisonMobito(fleet.PoisonInvalidJSON), Key: []byte("poison-" + strconv.Itoa(i))})
			}
			cl, err := e.kafka.Client()
			if err != nil {
				t.Fatal(err)
			}
			res := cl.ProduceSync(context.Background(), recs...)
			cl.Close()
			if err := res.FirstErr(); err != nil {
				t.Fatal(err)
			}
			for _, r := range res {
				if strings.HasPrefix(string(r.Record.Key), "poison-") {
					if poison[r.Record.Partition] == nil {
						poison[r.Record.Partition] = map[int64]bool{}
					}
					poison[r.Record.Partition][r.Record.Offset] = true
				}
			}

			// Longer than max_attempts x delivery_timeout (4s); check the
			// commits, the readiness and the memory as it goes.
			var reason, notReady string
			readyDuring := false
			rssPeak := rssBefore
			outageEnd := time.Now().Add(10 * time.Second)
			for time.Now().Before(outageEnd) {
				time.Sleep(500 * time.Millisecond)
				rssPeak = max(rssPeak, rssKiB(t))
				if sk := br.Stats().Sinks["out"]; !sk.Connected {
					reason = sk.Reason
				}
				if ok, why := br.Ready(); ok {
					readyDuring = true
				} else if notReady == "" {
					notReady = strings.Join(why, "; ")
				}
				committed := committedOffsets(t, e, group, moTopic)
				obs.mu.Lock()
				for p, off := range committed {
					for o := int64(0); o < off; o++ {
						if !obs.delivered[p][o] && !(poison[p][o] && dlqOn == "src") {
							obs.mu.Unlock()
							t.Fatalf("partition %d committed at %d during the outage, but offset %d was neither delivered nor dead-lettered", p, off, o)
						}
					}
				}
				obs.mu.Unlock()
			}
			st := br.Stats()
			consumed := st.Sources["mobito"].Consumed
			t.Logf("during the outage: consumed %d of %d records, sink reason %q, RSS %d KiB before, peak %d KiB", consumed, before+during+poisonN, reason, rssBefore, rssPeak)
			if reason == "" {
				t.Fatal("the sink never reported itself not connected during the outage")
			}
			if !strings.Contains(notReady, "sink out:") {
				t.Fatalf("readiness during the outage: %q, want the sink named", notReady)
			}
			if readyDuring {
				t.Log("note: ready at some sample during the outage (before librdkafka noticed the brokers down)")
			}
			if consumed >= before+during {
				t.Fatalf("consumed all %d records during the outage: the source partitions did not pause", consumed)
			}
			if st.Sinks["out"].DeadLettered != 0 {
				t.Fatalf("%d objects dead-lettered during the outage", st.Sinks["out"].DeadLettered)
			}

			lake.start()
			total := uint64(before + during + poisonN)
			waitFor(t, 90*time.Second, "every record bridged after the restart", func() bool { return settled(br, "mobito", total) })
			rssAfter := rssKiB(t)
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("Run: %v", err)
			}
			done <- nil
			t.Logf("RSS: %d KiB before the outage, peak %d KiB during it, %d KiB after the recovery", rssBefore, rssPeak, rssAfter)

			st = br.Stats()
			out := st.Sinks["out"]
			var delivered uint64
			for _, n := range out.Delivered {
				delivered += n
			}
			obs.mu.Lock()
			gaveUp := obs.gaveUp
			distinct := len(obs.eventIDs)
			obs.mu.Unlock()
			if len(gaveUp) > 0 {
				t.Fatalf("%d deliveries gave up, first %+v", len(gaveUp), gaveUp[0])
			}
			if delivered != st.Sources["mobito"].Objects || out.DeadLettered != 0 || distinct != int(delivered) {
				t.Fatalf("delivered %d of %d objects (%d distinct eventIds), %d dead-lettered", delivered, st.Sources["mobito"].Objects, distinct, out.DeadLettered)
			}
			if st.DeadLetters != poisonN || st.Sources["mobito"].Poison != poisonN {
				t.Fatalf("%d dead letters for %d poison records (want exactly the %d poison records)", st.DeadLetters, st.Sources["mobito"].Poison, poisonN)
			}
			// The dead-letter topic holds exactly the poison records.
			dlqCluster := e.kafka
			if dlqOn == "lake" {
				dlqCluster = lake.k
			}
			rctx, rcancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer rcancel()
			letters, err := dlqCluster.ReadTopic(rctx, dlqTopic, poisonN)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range letters {
				if c := header(l, bridge.HeaderErrorClass); c != "invalid-json" {
					t.Fatalf("dead letter of class %q: %s", c, header(l, bridge.HeaderError))
				}
			}
			// Every object is in the sink's topics (read independently).
			var outRecs int
			seen := map[string]bool{}
			for ty, n := range out.Delivered {
				if n == 0 {
					continue
				}
				got, err := lake.k.ReadTopic(rctx, "out."+string(ty), int(n))
				if err != nil {
					t.Fatal(err)
				}
				outRecs += len(got)
				for _, r := range got {
					seen[header(r, "eventId")] = true
				}
			}
			obs.mu.Lock()
			for id := range obs.eventIDs {
				if !seen[id] {
					obs.mu.Unlock()
					t.Fatalf("eventId %s reported delivered but not in the sink topics", id)
				}
			}
			obs.mu.Unlock()
			// After the clean stop, everything is committed.
			var committedTotal int64
			for _, off := range committedOffsets(t, e, group, moTopic) {
				committedTotal += off
			}
			if committedTotal != int64(total) {
				t.Fatalf("committed %d of %d records after the drain", committedTotal, total)
			}
		})
	}
}
