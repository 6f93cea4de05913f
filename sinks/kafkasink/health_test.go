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
