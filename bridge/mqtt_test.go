package bridge_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/telebridge/telebridge/bridge"
	"github.com/telebridge/telebridge/internal/testkit"
	"github.com/telebridge/telebridge/sinks"
)

// mqttObserver records the source coordinates of MQTT deliveries.
type mqttObserver struct {
	mu        sync.Mutex
	delivered map[int32]map[int64]int // partition -> offset -> objects delivered to mqtt
	eventIDs  map[string]bool
}

func (o *mqttObserver) ObserveAttempt(a *sinks.Attempt) {
	if a.Kind != "mqtt" || a.Status != sinks.StatusDelivered {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.delivered[a.Source.Partition] == nil {
		o.delivered[a.Source.Partition] = map[int64]int{}
	}
	o.delivered[a.Source.Partition][a.Source.Offset]++
	o.eventIDs[a.EventID] = true
}

// committedOffsets returns the group's committed offsets for topic.
func committedOffsets(t *testing.T, e *env, group, topic string) map[int32]int64 {
	t.Helper()
	cl, err := e.kafka.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = group
	g := kmsg.NewOffsetFetchRequestGroup()
	g.Group = group
	req.Groups = append(req.Groups, g)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	add := func(tn string, p int32, off int64) {
		if tn == topic && off >= 0 {
			out[p] = off
		}
	}
	for _, rt := range resp.Topics {
		for _, p := range rt.Partitions {
			add(rt.Topic, p.Partition, p.Offset)
		}
	}
	for _, rg := range resp.Groups {
		for _, rt := range rg.Topics {
			for _, p := range rt.Partitions {
				add(rt.Topic, p.Partition, p.Offset)
			}
		}
	}
	return out
}

// TestBridgeMQTTBrokerRestart runs the bridge from Kafka to a Kafka sink
// and an MQTT sink, stops the MQTT broker mid-stream and starts it again:
// while it is down the committed source offsets never pass a record whose
// objects did not reach the broker, and in the end every object is
// delivered to MQTT (none dead-lettered) and reached the broker at least
// once.
func TestBridgeMQTTBrokerRestart(t *testing.T) {
	for _, qos := range []int{1, 2} {
		t.Run(fmt.Sprintf("qos%d", qos), func(t *testing.T) {
			e := newEnv(t)
			b, err := testkit.StartMQTT(testkit.MQTTOptions{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(b.Close)
			group := fmt.Sprintf("g-mqtt-%d", qos)
			cfg := e.config(t, cfgOpts{group: group, extraSink: fmt.Sprintf(`
  - name: mq
    type: mqtt
    brokers: %q
    topic: "tb/{ownerId}/{type}"
    qos: %d
    event_id: {inject: true}
    retry: {max_attempts: 50, initial_backoff: 20ms, max_backoff: 200ms}
    delivery_timeout: 2s
    connect_timeout: 1s
    max_in_flight: 20`, b.URL(), qos)})
			obs := &mqttObserver{delivered: map[int32]map[int64]int{}, eventIDs: map[string]bool{}}
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

			const n = 200
			e.produce(t, e.mobito(n/2)...)
			waitFor(t, 60*time.Second, "some MQTT deliveries", func() bool {
				obs.mu.Lock()
				defer obs.mu.Unlock()
				return len(obs.eventIDs) > 20
			})
			waitFor(t, 60*time.Second, "a first commit", func() bool { return len(committedOffsets(t, e, group+"-mo", moTopic)) > 0 })
			b.Stop()
			e.produce(t, e.mobito(n/2)...)
			time.Sleep(500 * time.Millisecond) // several commit intervals with the broker down

			// Offsets committed while the broker is down cover only records
			// whose objects all reached MQTT (every mobito record yields
			// objects, so each offset below the commit must be delivered).
			committed := committedOffsets(t, e, group+"-mo", moTopic)
			var sum int64
			for _, off := range committed {
				sum += off
			}
			if sum == 0 || sum >= n {
				t.Fatalf("committed %d of %d records while the broker is down: want some, not all", sum, n)
			}
			obs.mu.Lock()
			for p, off := range committed {
				for o := int64(0); o < off; o++ {
					if obs.delivered[p][o] == 0 {
						obs.mu.Unlock()
						t.Fatalf("partition %d committed at %d, but offset %d never reached the MQTT broker", p, off, o)
					}
				}
			}
			obs.mu.Unlock()
			if st := br.Stats(); st.Sources["mobito"].Consumed < n/2 {
				t.Fatalf("consumed %d records", st.Sources["mobito"].Consumed)
			}

			if err := b.Start(); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 60*time.Second, "all records bridged to both sinks", func() bool { return settled(br, "mobito", n) })
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("Run: %v", err)
			}
			done <- nil
			st := br.Stats()
			mq := st.Sinks["mq"]
			var delivered uint64
			for _, c := range mq.Delivered {
				delivered += c
			}
			if delivered != st.Sources["mobito"].Objects || mq.DeadLettered != 0 || st.DeadLetters != 0 {
				t.Fatalf("mqtt delivered %d of %d objects, %d dead-lettered (%d dead letters in all)", delivered, st.Sources["mobito"].Objects, mq.DeadLettered, st.DeadLetters)
			}
			accepted := b.Accepted()
			obs.mu.Lock()
			defer obs.mu.Unlock()
			if len(obs.eventIDs) != int(delivered) {
				t.Fatalf("%d distinct eventIds delivered, want %d", len(obs.eventIDs), delivered)
			}
			for id := range obs.eventIDs {
				if accepted[id] == 0 {
					t.Fatalf("eventId %s reported delivered but the broker never accepted it", id)
				}
			}
			// After the clean stop, everything is committed.
			committed = committedOffsets(t, e, group+"-mo", moTopic)
			var total int64
			for _, off := range committed {
				total += off
			}
			if total != n {
				t.Fatalf("committed %d of %d records after the drain", total, n)
			}
		})
	}
}

// TestBridgeMQTTShutdownWhileBrokerDown: a stop request with the MQTT
// broker unreachable ends within the shutdown budget, commits nothing that
// did not reach MQTT, and does not dead-letter the waiting objects.
func TestBridgeMQTTShutdownWhileBrokerDown(t *testing.T) {
	e := newEnv(t)
	b, err := testkit.StartMQTT(testkit.MQTTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b.Stop()
	cfg := e.config(t, cfgOpts{group: "g-mqtt-down", extraSink: fmt.Sprintf(`
  - name: mq
    type: mqtt
    brokers: %q
    topic: "tb/{type}"
    connect_timeout: 1s`, b.URL())})
	cfg.ShutdownTimeout = time.Second
	br, err := bridge.New(cfg, bridge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.produce(t, e.mobito(20)...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- br.Run(ctx) }()
	waitFor(t, 60*time.Second, "records consumed", func() bool { return br.Stats().Sources["mobito"].Consumed > 0 })
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Log("Run returned nil")
		} else {
			t.Logf("Run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("bridge did not stop within 20s with the MQTT broker down")
	}
	if got := committedOffsets(t, e, "g-mqtt-down-mo", moTopic); len(got) != 0 {
		t.Fatalf("committed %v although nothing reached the MQTT broker", got)
	}
	if st := br.Stats(); st.DeadLetters != 0 {
		t.Fatalf("%d dead letters: waiting for the broker must not dead-letter", st.DeadLetters)
	}
}
