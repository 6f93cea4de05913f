package history

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/telebridge/telebridge/sinks"
)

type collect struct {
	mu  sync.Mutex
	ids []int64
}

func (c *collect) Publish(recs []Record) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range recs {
		c.ids = append(c.ids, r.ID)
	}
}

func TestRecorderWritesBatchesAndDrainsOnClose(t *testing.T) {
	s := openTemp(t)
	pub := &collect{}
	r := NewRecorder(s, RecorderOptions{BatchSize: 7, FlushInterval: time.Hour, MaxPayload: 64, Publisher: pub})
	go r.Run()
	for i := range 100 {
		r.ObserveAttempt(&sinks.Attempt{Time: time.Now(), Sink: "k", Kind: "kafka", Status: sinks.StatusDelivered, Number: 1,
			EventID: fmt.Sprint("e", i), Type: "location", Payload: []byte(`{"i":1}`)})
	}
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := r.Stats()
	if st.Recorded != 100 || st.Dropped != 0 || st.LastID != 100 {
		t.Fatalf("stats %+v", st)
	}
	n, _ := s.Count(context.Background())
	if n != 100 || len(pub.ids) != 100 || pub.ids[99] != 100 {
		t.Fatalf("stored %d, published %d", n, len(pub.ids))
	}
	// After Close, attempts are counted as dropped, never block.
	r.ObserveAttempt(&sinks.Attempt{Sink: "k", Status: sinks.StatusDelivered})
	if r.Stats().Dropped != 1 {
		t.Fatalf("after close: %+v", r.Stats())
	}
}

func TestRecorderQueueFullDropsAndCounts(t *testing.T) {
	s := openTemp(t)
	r := NewRecorder(s, RecorderOptions{QueueSize: 10})
	// The writer is not running: the queue fills and the rest are dropped
	// at once instead of blocking the caller.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 25 {
			r.ObserveAttempt(&sinks.Attempt{Sink: "k", Status: sinks.StatusDelivered})
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("ObserveAttempt blocked on a full queue")
	}
	if st := r.Stats(); st.Dropped != 15 || st.Queued != 10 {
		t.Fatalf("stats %+v", st)
	}
	go r.Run()
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.Recorded != 10 {
		t.Fatalf("after drain %+v", st)
	}
}

func TestRecorderWriteFailureIsCounted(t *testing.T) {
	s := openTemp(t)
	r := NewRecorder(s, RecorderOptions{FlushInterval: 10 * time.Millisecond})
	go r.Run()
	_ = s.Close() // the store goes away under the recorder
	r.ObserveAttempt(&sinks.Attempt{Sink: "k", Status: sinks.StatusDelivered})
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := r.Stats()
	if st.WriteFailed != 1 || st.LastError == "" {
		t.Fatalf("stats %+v", st)
	}
}

func TestRecorderAppliesRetention(t *testing.T) {
	s := openTemp(t)
	old := time.Now().Add(-48 * time.Hour)
	for i := range 3 { // three old segments
		if err := s.Insert(context.Background(), []Record{FromAttempt(&sinks.Attempt{Time: old, Sink: "k", Kind: "kafka", Status: sinks.StatusDelivered, EventID: fmt.Sprint("old", i)}, 0)}); err != nil {
			t.Fatal(err)
		}
	}
	r := NewRecorder(s, RecorderOptions{MaxAge: 24 * time.Hour, PruneInterval: 20 * time.Millisecond, FlushInterval: 10 * time.Millisecond})
	go r.Run()
	r.ObserveAttempt(&sinks.Attempt{Time: time.Now(), Sink: "k", Kind: "kafka", Status: sinks.StatusDelivered, EventID: "new"})
	deadline := time.Now().Add(10 * time.Second)
	for r.Stats().Pruned < 3 || r.Stats().Recorded < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v", r.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	p, err := s.Query(context.Background(), Query{})
	if err != nil || len(p.Records) != 1 || p.Records[0].EventID != "new" {
		t.Fatalf("left: %v %+v", err, p.Records)
	}
}
