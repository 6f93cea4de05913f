package kafkasink

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/telebridge/telebridge/internal/sinktest"
	"github.com/telebridge/telebridge/sinks"
)

// restartable is a one-broker kfake cluster that persists to a directory,
// so it can be stopped and started again on the same address with its
// topics, records and producer ids, like a broker restart.
type restartable struct {
	t    testing.TB
	opts []kfake.Opt
	c    *kfake.Cluster
	addr string
}

func newRestartable(t testing.TB, opts ...kfake.Opt) *restartable {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	r := &restartable{t: t, opts: append([]kfake.Opt{kfake.NumBrokers(1), kfake.Ports(port),
		kfake.DataDir(t.TempDir()), kfake.ClusterID("restartable")}, opts...)}
	r.start()
	r.addr = r.c.ListenAddrs()[0]
	t.Cleanup(r.stop)
	return r
}

func (r *restartable) start() {
	r.t.Helper()
	c, err := kfake.NewCluster(r.opts...)
	if err != nil {
		r.t.Fatalf("start kfake: %v", err)
	}
	r.c = c
}

func (r *restartable) stop() {
	if r.c != nil {
		r.c.Close()
		r.c = nil
	}
}

// waitConnected polls s.Connected until it reports want, and returns the
// reason it gave.
func waitConnected(t testing.TB, ctx context.Context, s *Sink, want bool, reasonHas string) string {
	t.Helper()
	for {
		ok, reason := s.Connected()
		if ok == want && strings.Contains(reason, reasonHas) {
			return reason
		}
		select {
		case <-ctx.Done():
			t.Fatalf("Connected never became %v with %q (last reason %q)", want, reasonHas, reason)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestClusterOutageWaitsWithoutUsingAttempts stops the sink's cluster for
// longer than MaxAttempts x DeliveryTimeout and starts it again on the
// same address: no message fails, Send blocks at MaxInFlight meanwhile,
// the sink reports itself not connected with the waiting messages, and
// every message is in the topic afterwards.
func TestClusterOutageWaitsWithoutUsingAttempts(t *testing.T) {
	kc := newRestartable(t, kfake.SeedTopics(2, "events"))
	obs := sinktest.NewAttempts()
	cfg := baseConfig(kc.c, "events")
	cfg.DeliveryTimeout = 2 * time.Second
	cfg.MaxInFlight = 20
	cfg.Retry = sinks.RetryPolicy{MaxAttempts: 2, InitialBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}
	cfg.Observer = obs
	s := newSink(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res := sinktest.NewResults()
	const before, during = 10, 100
	msg := func(i int) *sinks.Message { return sinktest.Message(sinktest.Location("a", int64(i)), i) }
	for i := range before {
		m := msg(i)
		if err := s.Send(ctx, m, res.Done(m.EventID)); err != nil {
			t.Fatal(err)
		}
	}
	res.Wait(t, ctx, before)
	waitConnected(t, ctx, s, true, "")

	kc.stop()
	var sent atomic.Int64
	sendErr := make(chan error, 1)
	go func() {
		for i := before; i < before+during; i++ {
			m := msg(i)
			if err := s.Send(ctx, m, res.Done(m.EventID)); err != nil {
				sendErr <- err
				return
			}
			sent.Add(1)
		}
		sendErr <- nil
	}()
	reason := waitConnected(t, ctx, s, false, "wait for the cluster")
	t.Logf("during the outage: Connected() = false, %q", reason)
	// Outage longer than MaxAttempts x DeliveryTimeout (4s).
	time.Sleep(10 * time.Second)
	if n := sent.Load(); n > int64(cfg.MaxInFlight) {
		t.Fatalf("%d Sends returned during the outage, more than MaxInFlight %d", n, cfg.MaxInFlight)
	}
	kc.start()
	if err := <-sendErr; err != nil {
		t.Fatalf("Send: %v", err)
	}
	res.Wait(t, ctx, during)
	res.Check(t, before+during)
	waiting := 0
	for i := range before + during {
		m := msg(i)
		got, _ := res.Get(m.EventID)
		if got.Outcome != sinks.Delivered {
			t.Fatalf("%s: result %+v", m.EventID, got)
		}
		for _, a := range obs.ByEvent()[m.EventID] {
			switch a.Status {
			case sinks.StatusFailed:
				t.Fatalf("%s: attempt %+v failed for good during an outage", m.EventID, a)
			case sinks.StatusRetrying:
				waiting++
				if !strings.Contains(a.Err, "not counted toward max_attempts") {
					t.Fatalf("%s: retried attempt %q does not say it was not counted", m.EventID, a.Err)
				}
			}
		}
	}
	if waiting == 0 {
		t.Fatal("no attempt failed during the outage; the test did not test it")
	}
	waitConnected(t, ctx, s, true, "")
	recs := consume(t, ctx, kc.c, before+during, []string{"events"})
	seen := map[string]bool{}
	for _, r := range recs {
		id, _ := header(r, HeaderEventID)
		seen[id] = true
	}
	for i := range before + during {
		if m := msg(i); !seen[m.EventID] {
			t.Fatalf("message %d (%s) is not in the topic", i, m.EventID)
		}
	}
}

// answerProduce makes the cluster answer every produce request with code
// for every partition while refuse is set.
func answerProduce(c *kfake.Cluster, code int16, refuse *atomic.Bool) {
	c.ControlKey(int16(kmsg.Produce), func(r kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if !refuse.Load() {
			return nil, nil, false
		}
		req := r.(*kmsg.ProduceRequest)
		resp := req.ResponseKind().(*kmsg.ProduceResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewProduceResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewProduceResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
}

// TestRetriableBrokerErrorsDoNotUseAttempts: a connected cluster that
// answers produce requests with a retriable error (not enough in-sync
// replicas, not the leader) for longer than MaxAttempts x DeliveryTimeout
// is an outage: the messages wait and are delivered once it recovers.
func TestRetriableBrokerErrorsDoNotUseAttempts(t *testing.T) {
	for _, code := range []*kerr.Error{kerr.NotEnoughReplicas, kerr.NotEnoughReplicasAfterAppend, kerr.RequestTimedOut, kerr.LeaderNotAvailable, kerr.NotLeaderForPartition} {
		t.Run(code.Message, func(t *testing.T) {
			c := newCluster(t, kfake.SeedTopics(1, "events"))
			var refuse atomic.Bool
			refuse.Store(true)
			answerProduce(c, code.Code, &refuse)
			obs := sinktest.NewAttempts()
			cfg := baseConfig(c, "events")
			cfg.DeliveryTimeout = time.Second
			cfg.Retry = sinks.RetryPolicy{MaxAttempts: 2, InitialBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}
			cfg.Observer = obs
			s := newSink(t, cfg)
			ctx := testCtx(t)
			res := sinktest.NewResults()
			const n = 3
			for i := range n {
				m := sinktest.Message(sinktest.Location("a", int64(i)), i)
				if err := s.Send(ctx, m, res.Done(m.EventID)); err != nil {
					t.Fatal(err)
				}
			}
			// Longer than MaxAttempts x DeliveryTimeout. librdkafka either
			// times the messages out (attempts the sink must not count) or,
			// for leader errors, holds them until the leader answers.
			time.Sleep(5 * time.Second)
			res.Check(t, 0)
			reason := waitConnected(t, ctx, s, false, "")
			t.Logf("while refused: Connected() = false, %q", reason)
			refuse.Store(false)
			res.Wait(t, ctx, n)
			res.Check(t, n)
			waitConnected(t, ctx, s, true, "")
			for i := range n {
				m := sinktest.Message(sinktest.Location("a", int64(i)), i)
				if got, _ := res.Get(m.EventID); got.Outcome != sinks.Delivered {
					t.Fatalf("%s: result %+v, want delivered", m.EventID, got)
				}
				for _, a := range obs.ByEvent()[m.EventID] {
					if a.Status == sinks.StatusRetrying && !strings.Contains(a.Err, "not counted toward max_attempts") {
						t.Fatalf("%s: attempt %q was counted", m.EventID, a.Err)
					}
				}
			}
			t.Logf("attempts of the first message: %d", len(obs.ByEvent()[sinktest.Message(sinktest.Location("a", 0), 0).EventID]))
		})
	}
}

// TestRefusalsUseAttempts: what the broker refuses for the record itself
// (too large, invalid, not authorized for the topic) counts toward
// MaxAttempts and ends Failed, for the caller to dead-letter.
func TestRefusalsUseAttempts(t *testing.T) {
	for _, code := range []*kerr.Error{kerr.MessageTooLarge, kerr.TopicAuthorizationFailed, kerr.InvalidRecord} {
		t.Run(code.Message, func(t *testing.T) {
			c := newCluster(t, kfake.SeedTopics(1, "events"))
			var refuse atomic.Bool
			refuse.Store(true)
			answerProduce(c, code.Code, &refuse)
			cfg := baseConfig(c, "events")
			cfg.Acks = "1" // no idempotent producer: a refused batch is just refused
			cfg.Retry = sinks.RetryPolicy{MaxAttempts: 2, InitialBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}
			s := newSink(t, cfg)
			ctx := testCtx(t)
			res := sinktest.NewResults()
			m := sinktest.Message(sinktest.Location("a", 1), 1)
			if err := s.Send(ctx, m, res.Done(m.EventID)); err != nil {
				t.Fatal(err)
			}
			res.Wait(t, ctx, 1)
			got, _ := res.Get(m.EventID)
			if got.Outcome != sinks.Failed || got.Attempts != 2 {
				t.Fatalf("result %+v, want Failed after 2 attempts", got)
			}
			if strings.Contains(got.Err.Error(), "not counted") {
				t.Fatalf("a refusal was taken for an outage: %v", got.Err)
			}
			t.Logf("result error: %v", got.Err)
		})
	}
}

// TestTimeoutWhileHealthyUsesAttempts: a broker that stays connected and
// healthy but never answers the produce request (no retransmission, every
// partition led by a connected broker) uses up the attempts.
func TestTimeoutWhileHealthyUsesAttempts(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(1, "events"))
	release := holdProduce(c)
	t.Cleanup(release)
	cfg := baseConfig(c, "events")
	cfg.Connection["socket.timeout.ms"] = "60000" // no request timeout within the attempts
	cfg.DeliveryTimeout = time.Second
	cfg.Retry = sinks.RetryPolicy{MaxAttempts: 2, InitialBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}
	s := newSink(t, cfg)
	ctx := testCtx(t)
	res := sinktest.NewResults()
	m := sinktest.Message(sinktest.Location("a", 1), 1)
	if err := s.Send(ctx, m, res.Done(m.EventID)); err != nil {
		t.Fatal(err)
	}
	res.Wait(t, ctx, 1)
	got, _ := res.Get(m.EventID)
	if got.Outcome != sinks.Failed {
		t.Fatalf("result %+v, want Failed", got)
	}
	t.Logf("result error: %v", got.Err)
}

// TestUnlimitedAttemptsNeverFail: with sinks.UnlimitedAttempts a refusal
// is retried until it stops, instead of ending Failed.
func TestUnlimitedAttemptsNeverFail(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(1, "events"))
	var refuse atomic.Bool
	refuse.Store(true)
	answerProduce(c, kerr.TopicAuthorizationFailed.Code, &refuse)
	obs := sinktest.NewAttempts()
	cfg := baseConfig(c, "events")
	cfg.Acks = "1"
	cfg.Retry = sinks.RetryPolicy{MaxAttempts: sinks.UnlimitedAttempts, InitialBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}
	cfg.Observer = obs
	s := newSink(t, cfg)
	ctx := testCtx(t)
	res := sinktest.NewResults()
	m := sinktest.Message(sinktest.Location("a", 1), 1)
	if err := s.Send(ctx, m, res.Done(m.EventID)); err != nil {
		t.Fatal(err)
	}
	obs.WaitStatus(t, ctx, sinks.StatusRetrying, 10)
	refuse.Store(false)
	res.Wait(t, ctx, 1)
	if got, _ := res.Get(m.EventID); got.Outcome != sinks.Delivered || got.Attempts <= 10 {
		t.Fatalf("result %+v, want delivered after more than 10 attempts", got)
	}
}

// TestStatisticsDisabled: with librdkafka's statistics turned off through
// the connection properties, a timeout is judged at once (no statistics
// will come to wait for): after a delivery proved the connection, a broker
// that stops answering uses up the attempts. A bad interval is refused.
func TestStatisticsDisabled(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(1, "events"))
	cfg := baseConfig(c, "events")
	cfg.Connection["statistics.interval.ms"] = "soon"
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "statistics.interval.ms") {
		t.Fatalf("New with a bad statistics.interval.ms: %v", err)
	}
	cfg.Connection["statistics.interval.ms"] = "0"
	cfg.Connection["socket.timeout.ms"] = "60000"
	cfg.DeliveryTimeout = time.Second
	cfg.Retry = sinks.RetryPolicy{MaxAttempts: 2, InitialBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}
	s := newSink(t, cfg)
	ctx := testCtx(t)
	res := sinktest.NewResults()
	m := sinktest.Message(sinktest.Location("a", 1), 1)
	if err := s.Send(ctx, m, res.Done(m.EventID)); err != nil {
		t.Fatal(err)
	}
	res.Wait(t, ctx, 1)
	if got, _ := res.Get(m.EventID); got.Outcome != sinks.Delivered {
		t.Fatalf("first message: %+v", got)
	}
	release := holdProduce(c)
	t.Cleanup(release)
	m2 := sinktest.Message(sinktest.Location("a", 2), 2)
	if err := s.Send(ctx, m2, res.Done(m2.EventID)); err != nil {
		t.Fatal(err)
	}
	res.Wait(t, ctx, 1)
	if got, _ := res.Get(m2.EventID); got.Outcome != sinks.Failed || got.Attempts != 2 {
		t.Fatalf("held message: %+v, want Failed after 2 attempts", got)
	}
}
