// Package sinktest is the harness the sink packages' tests share: done
// callback bookkeeping that checks exactly one result per message, an
// attempt observer, and sample object-sync objects and messages.
package sinktest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/telebridge/telebridge/schemas"
	"github.com/telebridge/telebridge/sinks"
)

// Results collects done callbacks and checks there is exactly one per
// message.
type Results struct {
	mu    sync.Mutex
	byID  map[string]sinks.Result
	dupes []string
	n     int
	ch    chan struct{} // one token per done call
}

// NewResults returns an empty Results.
func NewResults() *Results {
	return &Results{byID: make(map[string]sinks.Result), ch: make(chan struct{}, 1<<16)}
}

// Done returns the done callback of the message with eventId id.
func (r *Results) Done(id string) func(sinks.Result) {
	return func(res sinks.Result) {
		r.mu.Lock()
		if _, ok := r.byID[id]; ok {
			r.dupes = append(r.dupes, id)
		}
		r.byID[id] = res
		r.n++
		r.mu.Unlock()
		r.ch <- struct{}{}
	}
}

// Wait blocks until n done calls arrived.
func (r *Results) Wait(t testing.TB, ctx context.Context, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		select {
		case <-r.ch:
		case <-ctx.Done():
			r.mu.Lock()
			got := r.n
			r.mu.Unlock()
			t.Fatalf("waiting for %d results: got %d: %v", n, got, ctx.Err())
		}
	}
}

// Get returns the result of eventId id.
func (r *Results) Get(id string) (sinks.Result, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res, ok := r.byID[id]
	return res, ok
}

// Check fails t unless done was called exactly want times, once per
// message.
func (r *Results) Check(t testing.TB, want int) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.dupes) > 0 {
		t.Fatalf("done called more than once for %v", r.dupes)
	}
	if r.n != want {
		t.Fatalf("done called %d times, want %d", r.n, want)
	}
}

// Attempts records observed attempts.
type Attempts struct {
	mu   sync.Mutex
	list []sinks.Attempt
	ch   chan sinks.Attempt
}

// NewAttempts returns an empty Attempts observer.
func NewAttempts() *Attempts { return &Attempts{ch: make(chan sinks.Attempt, 1<<16)} }

// ObserveAttempt implements sinks.Observer.
func (a *Attempts) ObserveAttempt(at *sinks.Attempt) {
	a.mu.Lock()
	a.list = append(a.list, *at)
	a.mu.Unlock()
	a.ch <- *at
}

// ByEvent groups the observed attempts by eventId.
func (a *Attempts) ByEvent() map[string][]sinks.Attempt {
	a.mu.Lock()
	defer a.mu.Unlock()
	m := make(map[string][]sinks.Attempt)
	for _, at := range a.list {
		m[at.EventID] = append(m[at.EventID], at)
	}
	return m
}

// WaitStatus blocks until n attempts with the given status were observed.
func (a *Attempts) WaitStatus(t testing.TB, ctx context.Context, status sinks.AttemptStatus, n int) {
	t.Helper()
	for n > 0 {
		select {
		case at := <-a.ch:
			if at.Status == status {
				n--
			}
		case <-ctx.Done():
			t.Fatalf("waiting for %d more %s attempts: %v", n, status, ctx.Err())
		}
	}
}

// Ptr returns a pointer to v.
func Ptr[T any](v T) *T { return &v }

// BaseTime is the fixed time of the sample objects.
func BaseTime() time.Time { return time.Date(2024, 3, 20, 14, 30, 0, 0, time.UTC) }

// SampleObjects returns one object of every type, owned by asset.
func SampleObjects(asset string, id int64) []schemas.Object {
	return []schemas.Object{
		&schemas.Asset{ID: asset, Name: "SN-" + asset, OwnerID: "owner-1", WhenCreated: BaseTime(), WhenUpdated: BaseTime(), Tags: []string{"a"}},
		&schemas.Location{ID: id, AssetID: asset, OwnerID: "owner-1", WhenCreated: BaseTime(), Latitude: 55.676098, Longitude: 12.568337, Speed: Ptr(0.0), Heading: Ptr(90.0)},
		&schemas.SensorData{ID: id, AssetID: asset, OwnerID: "owner-1", SensorID: "s1", SensorType: "temperature", WhenCreated: BaseTime(), Value: "4.5", Type: schemas.ValueDecimal},
		&schemas.ReeferData{ID: id, AssetID: asset, OwnerID: "owner-1", WhenCreated: BaseTime(), ReeferClass: "CARRIER", Data: map[string]any{"temperature": 4.5, "setpoint": 4.0}},
		&schemas.GensetData{ID: id, AssetID: asset, OwnerID: "owner-1", WhenCreated: BaseTime(), GensetType: "G1", Data: map[string]any{"rpm": 1500}},
		&schemas.GtoemData{ID: id, AssetID: asset, OwnerID: "owner-1", WhenCreated: BaseTime(), PayloadType: 7, Data: map[string]any{"x": "y"}},
	}
}

// Location returns a minimal valid Location of asset.
func Location(asset string, id int64) *schemas.Location {
	return &schemas.Location{ID: id, AssetID: asset, OwnerID: "owner-1", WhenCreated: BaseTime(), Latitude: 1, Longitude: 2}
}

// Message wraps o with a deterministic eventId and source record for
// index i.
func Message(o schemas.Object, i int) *sinks.Message {
	return &sinks.Message{
		Object:   o,
		EventID:  fmt.Sprintf("00000000-0000-5000-8000-%012d", i),
		Source:   sinks.SourceRef{Topic: "src", Partition: int32(i % 3), Offset: int64(1000 + i), Index: 0},
		Received: BaseTime(),
	}
}
