package bridge

import (
	"context"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/twmb/franz-go/pkg/kfake"
	"go.uber.org/zap"

	"github.com/telebridge/telebridge/internal/testkit"
)

// dlqResults collects the done calls of dead letters by key.
type dlqResults struct {
	mu  sync.Mutex
	got map[string][]bool
	ch  chan struct{}
}

func newDLQResults() *dlqResults {
	return &dlqResults{got: map[string][]bool{}, ch: make(chan struct{}, 1024)}
}

func (r *dlqResults) done(key string) func(bool) {
	return func(ok bool) {
		r.mu.Lock()
		r.got[key] = append(r.got[key], ok)
		r.mu.Unlock()
		r.ch <- struct{}{}
	}
}

func (r *dlqResults) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, v := range r.got {
		n += len(v)
	}
	return n
}

// TestDeadLetterWriterWaitsOutItsClusterOutage stops the dead-letter
// cluster for several attempt timeouts: no dead letter is reported
// written or given up meanwhile, and after the restart on the same
// address every one is acknowledged exactly once and is in the topic. A
// writer closed while its cluster is down reports every pending dead
// letter not written (done(false)), never written.
func TestDeadLetterWriterWaitsOutItsClusterOutage(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	opts := []kfake.Opt{kfake.Ports(port), kfake.DataDir(t.TempDir()), kfake.ClusterID("dlq")}
	k, err := testkit.StartKafka([]string{"dlq"}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { k.Close() }()
	conn := k.Librdkafka()
	conn["reconnect.backoff.max.ms"] = "200"
	w, err := newDeadLetterWriterTimeout(conn, "dlq", zap.NewNop(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	res := newDLQResults()
	letter := func(i int) deadLetter {
		return deadLetter{key: []byte("k" + strconv.Itoa(i)), value: []byte("v" + strconv.Itoa(i)),
			headers: []kafka.Header{{Key: HeaderErrorClass, Value: []byte("test")}}}
	}
	w.send(letter(0), res.done("k0"))
	<-res.ch
	k.Close()
	const n = 5
	for i := 1; i <= n; i++ {
		w.send(letter(i), res.done("k"+strconv.Itoa(i)))
	}
	time.Sleep(5 * time.Second) // several attempt timeouts
	if got := res.count(); got != 1 {
		t.Fatalf("%d done calls during the outage (want none beyond the first letter): %v", got-1, res.got)
	}
	if waiting, last := w.waiting(); waiting != n || last == "" {
		t.Fatalf("waiting() = %d, %q during the outage; want %d with the error", waiting, last, n)
	}
	k, err = testkit.StartKafka(nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	for range n {
		select {
		case <-res.ch:
		case <-ctx.Done():
			t.Fatalf("dead letters not acknowledged after the restart: %v", res.got)
		}
	}
	for i := 0; i <= n; i++ {
		if got := res.got["k"+strconv.Itoa(i)]; len(got) != 1 || !got[0] {
			t.Fatalf("letter %d: done calls %v, want one done(true)", i, got)
		}
	}
	if waiting, _ := w.waiting(); waiting != 0 {
		t.Fatalf("waiting() = %d after every letter was written", waiting)
	}
	recs, err := k.ReadTopic(ctx, "dlq", n+1)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, r := range recs {
		keys[string(r.Key)] = true
	}
	if len(keys) != n+1 {
		t.Fatalf("topic holds keys %v, want all %d letters", keys, n+1)
	}

	// Closed while the cluster is down: pending letters end done(false).
	k.Close()
	for i := n + 1; i <= n+3; i++ {
		w.send(letter(i), res.done("k"+strconv.Itoa(i)))
	}
	time.Sleep(1500 * time.Millisecond) // at least one attempt timed out and waits for its retry
	closeCtx, closeCancel := context.WithTimeout(context.Background(), time.Second)
	defer closeCancel()
	w.close(closeCtx)
	for i := n + 1; i <= n+3; i++ {
		if got := res.got["k"+strconv.Itoa(i)]; len(got) != 1 || got[0] {
			t.Fatalf("letter %d after close: done calls %v, want one done(false)", i, got)
		}
	}
}
