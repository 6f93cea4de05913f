package bridge_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/telebridge/telebridge/sinks"
)

// TestFatalSinkErrorStopsTheBridge makes the broker answer the sink's
// produce requests so that librdkafka's idempotent producer fails fatally:
// the bridge stops with an error wrapping sinks.ErrFatal, nothing is
// dead-lettered for it, and the source's unfinished records stay
// uncommitted for the restart.
func TestFatalSinkErrorStopsTheBridge(t *testing.T) {
	e := newEnv(t)
	e.kafka.Cluster.ControlKey(int16(kmsg.Produce), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		e.kafka.Cluster.KeepControl()
		req, ok := kr.(*kmsg.ProduceRequest)
		if !ok || len(req.Topics) == 0 || !strings.HasPrefix(req.Topics[0].Topic, "fatal.") {
			return nil, nil, false
		}
		resp := req.ResponseKind().(*kmsg.ProduceResponse)
		for _, tp := range req.Topics {
			rt := kmsg.NewProduceResponseTopic()
			rt.Topic, rt.TopicID = tp.Topic, tp.TopicID
			for _, p := range tp.Partitions {
				rp := kmsg.NewProduceResponseTopicPartition()
				rp.Partition = p.Partition
				rp.ErrorCode = kerr.OutOfOrderSequenceNumber.Code
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp, nil, true
	})
	e.produce(t, e.mobito(5)...)
	cfg := e.config(t, cfgOpts{outTopic: "fatal.{type}"})
	r := start(t, cfg, nil)
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup's wait
		if !errors.Is(err, sinks.ErrFatal) {
			t.Fatalf("Run = %v, want an error wrapping sinks.ErrFatal", err)
		}
		t.Logf("Run: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("the bridge did not stop after a fatal sink error")
	}
	if st := r.b.Stats(); st.DeadLetters != 0 {
		t.Fatalf("%d dead letters; a fatal sink error must not dead-letter", st.DeadLetters)
	}
	// No object reached the sink, so no record may be committed: all five
	// are read again after the restart.
	for p, off := range committedOffsets(t, e, "g-"+t.Name()+"-mo", moTopic) {
		if off > 0 {
			t.Fatalf("partition %d committed up to %d; nothing was delivered", p, off)
		}
	}
}
