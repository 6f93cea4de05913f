package mqttsink

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/telebridge/telebridge/internal/sinktest"
	"github.com/telebridge/telebridge/internal/testkit"
	"github.com/telebridge/telebridge/sinks"
)

// TestUnlimitedAttemptsOutlastARefusal: with sinks.UnlimitedAttempts a
// publish the broker's ACL refuses is retried, far beyond the default
// attempts, until the ACL lets it through; it never ends Failed.
func TestUnlimitedAttemptsOutlastARefusal(t *testing.T) {
	var deny atomic.Bool
	deny.Store(true)
	b := startBroker(t, testkit.MQTTOptions{DenyTopic: func(topic string) bool {
		return deny.Load() && strings.HasPrefix(topic, "acl/")
	}})
	ctx := testCtx(t)
	cfg := baseConfig(b, "acl/{type}")
	cfg.Retry.MaxAttempts = sinks.UnlimitedAttempts
	obs := sinktest.NewAttempts()
	cfg.Observer = obs
	s := newSink(t, cfg)
	res := sinktest.NewResults()
	m := sinktest.Message(sinktest.Location("a", 1), 1)
	if err := s.Send(ctx, m, res.Done(m.EventID)); err != nil {
		t.Fatal(err)
	}
	obs.WaitStatus(t, ctx, sinks.StatusRetrying, 2*sinks.DefaultMaxAttempts)
	deny.Store(false)
	res.Wait(t, ctx, 1)
	r, _ := res.Get(m.EventID)
	if r.Outcome != sinks.Delivered || r.Attempts <= 2*sinks.DefaultMaxAttempts {
		t.Fatalf("result %+v, want delivered after more than %d attempts", show(r), 2*sinks.DefaultMaxAttempts)
	}
	for _, a := range obs.ByEvent()[m.EventID] {
		if a.Status == sinks.StatusFailed {
			t.Fatalf("attempt %+v ended Failed with unlimited attempts", a)
		}
	}
}
