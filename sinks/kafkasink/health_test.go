package kafkasink

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/telebridge/telebridge/internal/sinktest"
	"github.com/telebridge/telebridge/sinks"
)

// TestFatalErrorStaysNotConnected raises a fatal producer error (as the
// idempotent producer does when it loses its sequence): the sink reports
// itself not connected with the reason, and later broker statistics, which
// still show the brokers up, do not make it look healthy again.
func TestFatalErrorStaysNotConnected(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(1, "fatal"))
	ctx := testCtx(t)
	s := newSink(t, baseConfig(c, "fatal"))
	res := sinktest.NewResults()
	m := sinktest.Message(sinktest.Location("a", 1), 1)
	if err := s.Send(ctx, m, res.Done(m.EventID)); err != nil {
		t.Fatal(err)
	}
	res.Wait(t, ctx, 1)
	if r, _ := res.Get(m.EventID); r.Outcome != sinks.Delivered {
		t.Fatalf("first message: %+v", r)
	}
	waitHealth := func(want bool) string {
		t.Helper()
		for {
			ok, reason := s.Connected()
			if ok == want {
				return reason
			}
			select {
			case <-ctx.Done():
				t.Fatalf("Connected never became %v (reason %q)", want, reason)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	waitHealth(true)

	if code := s.producer.TestFatalError(kafka.ErrOutOfOrderSequenceNumber, "test: lost sequence"); code != kafka.ErrNoError {
		t.Fatalf("TestFatalError: %v", code)
	}
	reason := waitHealth(false)
	if !strings.Contains(reason, "fatal producer error") {
		t.Fatalf("reason %q does not say the error is fatal", reason)
	}
	// Send refuses (the caller leaves the record unfinished and stops),
	// without calling done.
	m2 := sinktest.Message(sinktest.Location("a", 2), 2)
	if err := s.Send(ctx, m2, res.Done(m2.EventID)); !errors.Is(err, sinks.ErrFatal) {
		t.Fatalf("Send after a fatal error = %v, want sinks.ErrFatal", err)
	}
	// Statistics keep arriving with the broker up; the sink must stay down.
	time.Sleep(StatsInterval + StatsInterval/2)
	if ok, reason := s.Connected(); ok || !strings.Contains(reason, "fatal producer error") {
		t.Fatalf("after more statistics: Connected = %v, %q", ok, reason)
	}
	res.Check(t, 1)
}

// statsDoc is a librdkafka statistics document (the fields the sink
// reads, in librdkafka's layout) for one topic of two partitions led by
// brokers 1 and 2.
func statsDoc(broker2, leader1 string, txmsgs int) string {
	return `{"name":"rdkafka#producer-1","type":"producer",
"brokers":{"b1:9092/1":{"name":"b1:9092/1","nodeid":1,"state":"UP"},
           "b2:9092/2":{"name":"b2:9092/2","nodeid":2,"state":"` + broker2 + `"},
           "b1:9092/bootstrap":{"name":"b1:9092/bootstrap","nodeid":-1,"state":"INIT"}},
"topics":{"events":{"topic":"events","partitions":{
  "0":{"partition":0,"leader":` + leader1 + `,"msgs":10,"txmsgs":10},
  "1":{"partition":1,"leader":2,"msgs":10,"txmsgs":` + itoa(txmsgs) + `},
  "-1":{"partition":-1,"leader":-1,"msgs":0,"txmsgs":0}}}}}`
}

func TestHealthFromStatistics(t *testing.T) {
	t0 := time.Now()
	tests := []struct {
		name    string
		docs    []string
		wantBad string // "" means available
	}{
		{"healthy", []string{statsDoc("UP", "1", 10), statsDoc("UP", "1", 10)}, ""},
		{"no leader", []string{statsDoc("UP", "-1", 10)}, "no leader for partitions 0"},
		{"leader not connected", []string{statsDoc("DOWN", "1", 10)}, "leader not connected for partitions 1"},
		{"retransmitted", []string{statsDoc("UP", "1", 10), statsDoc("UP", "1", 14)}, "retransmitted 4 messages"},
		{"retransmitted before first seen", []string{statsDoc("UP", "1", 12)}, "retransmitted 2 messages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h brokerHealth
			for i, d := range tt.docs {
				h.onStats(d, t0.Add(time.Duration(i)*StatsInterval))
			}
			last := t0.Add(time.Duration(len(tt.docs)-1) * StatsInterval)
			bad, why := h.unavailableSince("events", last)
			ok, reason := h.get()
			if tt.wantBad == "" {
				if bad || !ok {
					t.Fatalf("unavailable %v (%q), Connected %v (%q); want available", bad, why, ok, reason)
				}
				return
			}
			if !bad || !strings.Contains(why, tt.wantBad) {
				t.Fatalf("unavailableSince = %v, %q; want true with %q", bad, why, tt.wantBad)
			}
			if ok || !strings.Contains(reason, tt.wantBad) {
				t.Fatalf("get = %v, %q; want not connected with %q", ok, reason, tt.wantBad)
			}
			// Other topics are not affected.
			if bad, why := h.unavailableSince("other", last); bad {
				t.Fatalf("topic other unavailable: %q", why)
			}
		})
	}

	// Broker connection: down, then up again after an attempt started.
	var h brokerHealth
	h.onStats(statsDoc("UP", "1", 10), t0)
	start := t0.Add(time.Second)
	if bad, _ := h.unavailableSince("events", start); bad {
		t.Fatal("unavailable while up")
	}
	down := strings.ReplaceAll(statsDoc("DOWN", "1", 10), `"state":"UP"`, `"state":"CONNECT"`)
	if cameUp := h.onStats(down, t0.Add(2*time.Second)); cameUp {
		t.Fatal("came up on a down document")
	}
	if ok, reason := h.get(); ok || !strings.Contains(reason, "no broker connection") {
		t.Fatalf("get while down = %v, %q", ok, reason)
	}
	if !h.onStats(statsDoc("UP", "1", 10), t0.Add(4*time.Second)) {
		t.Fatal("did not report coming up")
	}
	if bad, why := h.unavailableSince("events", start); !bad || !strings.Contains(why, "down during the attempt") {
		t.Fatalf("attempt spanning the outage: %v, %q", bad, why)
	}
	if bad, _ := h.unavailableSince("events", t0.Add(7*time.Second)); bad {
		t.Fatal("attempt after the recovery counted as unavailable")
	}
	if h.onDelivered(t0.Add(8 * time.Second)) {
		t.Fatal("a delivery while up reported coming up")
	}
}
