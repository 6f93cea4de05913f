package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/telebridge/telebridge/internal/testkit"
)

// TestFleetOfInstancesLosesNothing runs telebridge as a fleet: instances in
// one consumer group per source, with the Kafka cluster in a process of its
// own and an MQTT broker beside it, while a producer keeps adding input.
// Instances a, b and c start one after another; b is killed with SIGKILL
// mid-stream, d starts, a stops with SIGTERM. Then every object of a
// reference run must have arrived on Kafka (and every location on MQTT)
// with the same eventId and payload, no commit may ever have passed an
// undelivered object (commits sampled throughout, rebalances included),
// and the partitions must end up spread over the live instances c and d.
func TestFleetOfInstancesLosesNothing(t *testing.T) {
	p := newClusterProcEnv(t, "tu.in", "mo.in")
	mq, err := testkit.StartMQTT(testkit.MQTTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mq.Close)
	mqOut, err := mq.Collect("fleet/#")
	if err != nil {
		t.Fatal(err)
	}
	p.extraSinks = fmt.Sprintf(`  - {name: mq, type: mqtt, brokers: %q, topic: "fleet/{type}", qos: 1, types: [location], event_id: {inject: true}}`, mq.URL())
	// A member that died or stopped (static members do not leave) holds
	// its partitions for the session timeout; keep that short here.
	p.clusterProps = `session.timeout.ms: "6000", heartbeat.interval.ms: "1000"`

	in := newStormInput(t, p)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := in.produce(ctx, 150); err != nil {
		t.Fatal(err)
	}
	stopProducer := in.produceSteadily(ctx)

	cfgPath := p.configFile(t, "fleet", "fleet")
	out := collect(t, p.k, "fleet")
	dlq := collectDeadLetters(t, p.k, "fleet.dlq")

	// Commits are sampled all along, through every rebalance.
	var smu sync.Mutex
	var samples []commitSample
	sampleCtx, stopSampling := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for sampleCtx.Err() == nil {
			c := map[string]map[int32]int64{}
			okAll := true
			for _, g := range []string{"fleet-tu", "fleet-mo"} {
				m, err := p.k.Committed(sampleCtx, g)
				if err != nil {
					okAll = false
					break
				}
				for k, v := range m {
					c[k] = v
				}
			}
			if okAll {
				smu.Lock()
				samples = append(samples, commitSample{at: time.Now(), committed: c})
				smu.Unlock()
			}
			select {
			case <-sampleCtx.Done():
			case <-time.After(300 * time.Millisecond):
			}
		}
	}()

	waitAssigned := func(bp *bridgeProc, name string) {
		t.Helper()
		select {
		case <-bp.assigned:
		case <-time.After(30 * time.Second):
			t.Fatalf("instance %s got no partitions in 30s\n%s", name, bp.log())
		}
	}
	a := startBridgeAs(t, cfgPath, "fleet-a")
	waitAssigned(a, "a")
	time.Sleep(2 * time.Second)
	b := startBridgeAs(t, cfgPath, "fleet-b")
	waitAssigned(b, "b")
	time.Sleep(time.Second)
	c := startBridgeAs(t, cfgPath, "fleet-c")
	waitAssigned(c, "c")
	time.Sleep(2 * time.Second)
	_ = b.cmd.Process.Signal(syscall.SIGKILL)
	_ = b.wait()
	time.Sleep(time.Second)
	d := startBridgeAs(t, cfgPath, "fleet-d")
	time.Sleep(3 * time.Second)
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := a.wait(); err != nil {
		t.Fatalf("instance a: SIGTERM exit %v, want 0\n%s", err, a.log())
	}
	if err := stopProducer(); err != nil {
		t.Fatalf("producer: %v", err)
	}
	waitAssigned(d, "d")

	// Partitions end up spread over the live instances c and d only, and
	// everything gets finished.
	end, err := p.k.EndOffsets(ctx, "tu.in", "mo.in")
	if err != nil {
		t.Fatal(err)
	}
	var spread string
	waitUntil(t, 90*time.Second, "the groups settled on c and d with every record finished", func() bool {
		var desc []string
		for _, g := range []struct{ group, topic string }{{"fleet-tu", "tu.in"}, {"fleet-mo", "mo.in"}} {
			state, members, err := p.k.DescribeGroup(ctx, g.group)
			if err != nil || state != "Stable" {
				return false
			}
			owners := map[string]int{}
			total := 0
			for _, m := range members {
				owners[m.Name] = len(m.Partitions[g.topic])
				total += len(m.Partitions[g.topic])
			}
			if len(members) != 2 || owners["fleet-c"] == 0 || owners["fleet-d"] == 0 || total != len(end[g.topic]) {
				return false
			}
			committed, err := p.k.Committed(ctx, g.group)
			if err != nil {
				return false
			}
			for part, hi := range end[g.topic] {
				if committed[g.topic][part] != hi {
					return false
				}
			}
			names := make([]string, 0, len(owners))
			for n, k := range owners {
				names = append(names, fmt.Sprintf("%s:%d", n, k))
			}
			sort.Strings(names)
			desc = append(desc, g.group+" "+strings.Join(names, " "))
		}
		spread = strings.Join(desc, "; ")
		return true
	})
	t.Logf("partitions spread: %s", spread)
	stopSampling()
	<-sampled
	for _, bp := range []*bridgeProc{c, d} {
		if err := bp.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := bp.wait(); err != nil {
			t.Fatalf("SIGTERM: exit %v, want 0\n%s", err, bp.log())
		}
		if l := bp.log(); strings.Contains(l, "drain timed out") {
			t.Fatalf("a rebalance or shutdown did not drain:\n%s", l)
		}
	}

	ref := referenceRun(t, p, end)
	refEvents, refSrc, want := ref.events, ref.src, ref.delivered
	n := ref.matchedBy(t, out)

	// MQTT: every reference location, same payload as on Kafka.
	byEvent := map[string]string{}
	mqttLocations := 0
	for _, m := range mqOut.Messages() {
		ev := m.User["eventId"]
		if prev, ok := byEvent[ev]; ok && prev != string(m.Payload) {
			t.Fatalf("MQTT eventId %s delivered with different payloads: %s vs %s", ev, prev, m.Payload)
		}
		byEvent[ev] = string(m.Payload)
	}
	for ev, payload := range refEvents {
		if ref.topic[ev] != "ref.location" {
			continue
		}
		mqttLocations++
		if byEvent[ev] != payload {
			t.Fatalf("location %s: on Kafka %s, on MQTT %q", ev, payload, byEvent[ev])
		}
	}
	if mqttLocations == 0 {
		t.Fatal("the reference run has no locations: the MQTT check checked nothing")
	}

	poison := in.poisonRecords()
	waitUntil(t, 30*time.Second, "every poison record dead-lettered", func() bool {
		dl := dlq.snapshot()
		for k := range poison {
			if _, ok := dl[k]; !ok {
				return false
			}
		}
		return true
	})
	smu.Lock()
	defer smu.Unlock()
	checked := checkCommitsFollowDelivery(t, samples, refEvents, refSrc, out, poison, dlq.snapshot())
	t.Logf("reference %d objects; fleet output %d Kafka records (%d duplicates), %d MQTT messages (%d reference locations); %d poison dead-lettered; %d commit samples, %d object-before-commit checks",
		want, n, n-want, len(mqOut.Messages()), mqttLocations, len(poison), len(samples), checked)
}
