package mqttsink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/telebridge/telebridge/internal/testkit"
	"github.com/telebridge/telebridge/schemas"
	"github.com/telebridge/telebridge/sinks"
)

// testWait bounds every wait in these tests; it is a safety net against
// hangs, never an assertion about speed.
const testWait = 45 * time.Second

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	t.Cleanup(cancel)
	return ctx
}

// results collects done callbacks and checks there is exactly one per
// message.
type results struct {
	mu    sync.Mutex
	byID  map[string]sinks.Result
	dupes []string
	n     int
	ch    chan struct{} // one token per done call
}

func newResults() *results {
	return &results{byID: make(map[string]sinks.Result), ch: make(chan struct{}, 1<<16)}
}

func (r *results) done(id string) func(sinks.Result) {
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

// wait blocks until n done calls arrived.
func (r *results) wait(t testing.TB, ctx context.Context, n int) {
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

func (r *results) get(id string) (sinks.Result, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res, ok := r.byID[id]
	return res, ok
}

func (r *results) check(t testing.TB, want int) {
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

// attempts records observed attempts.
type attempts struct {
	mu   sync.Mutex
	list []sinks.Attempt
	ch   chan sinks.Attempt
}

func newAttempts() *attempts { return &attempts{ch: make(chan sinks.Attempt, 1<<16)} }

func (a *attempts) ObserveAttempt(at *sinks.Attempt) {
	a.mu.Lock()
	a.list = append(a.list, *at)
	a.mu.Unlock()
	a.ch <- *at
}

func (a *attempts) byEvent() map[string][]sinks.Attempt {
	a.mu.Lock()
	defer a.mu.Unlock()
	m := make(map[string][]sinks.Attempt)
	for _, at := range a.list {
		m[at.EventID] = append(m[at.EventID], at)
	}
	return m
}

// waitStatus blocks until n attempts with the given status were observed.
func (a *attempts) waitStatus(t testing.TB, ctx context.Context, status sinks.AttemptStatus, n int) {
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

func ptr[T any](v T) *T { return &v }

func baseTime() time.Time { return time.Date(2024, 3, 20, 14, 30, 0, 0, time.UTC) }

// sampleObjects returns one object of every type, owned by asset.
func sampleObjects(asset string, id int64) []schemas.Object {
	return []schemas.Object{
		&schemas.Asset{ID: asset, Name: "SN-" + asset, OwnerID: "owner-1", WhenCreated: baseTime(), WhenUpdated: baseTime(), Tags: []string{"a"}},
		&schemas.Location{ID: id, AssetID: asset, OwnerID: "owner-1", WhenCreated: baseTime(), Latitude: 55.676098, Longitude: 12.568337, Speed: ptr(0.0), Heading: ptr(90.0)},
		&schemas.SensorData{ID: id, AssetID: asset, OwnerID: "owner-1", SensorID: "s1", SensorType: "temperature", WhenCreated: baseTime(), Value: "4.5", Type: schemas.ValueDecimal},
		&schemas.ReeferData{ID: id, AssetID: asset, OwnerID: "owner-1", WhenCreated: baseTime(), ReeferClass: "CARRIER", Data: map[string]any{"temperature": 4.5, "setpoint": 4.0}},
		&schemas.GensetData{ID: id, AssetID: asset, OwnerID: "owner-1", WhenCreated: baseTime(), GensetType: "G1", Data: map[string]any{"rpm": 1500}},
		&schemas.GtoemData{ID: id, AssetID: asset, OwnerID: "owner-1", WhenCreated: baseTime(), PayloadType: 7, Data: map[string]any{"x": "y"}},
	}
}

func location(asset string, id int64) *schemas.Location {
	return &schemas.Location{ID: id, AssetID: asset, OwnerID: "owner-1", WhenCreated: baseTime(), Latitude: 1, Longitude: 2}
}

func message(o schemas.Object, i int) *sinks.Message {
	return &sinks.Message{
		Object:   o,
		EventID:  fmt.Sprintf("00000000-0000-5000-8000-%012d", i),
		Source:   sinks.SourceRef{Topic: "src", Partition: int32(i % 3), Offset: int64(1000 + i), Index: 0},
		Received: baseTime(),
	}
}

func startBroker(t testing.TB, opts testkit.MQTTOptions) *testkit.MQTT {
	t.Helper()
	b, err := testkit.StartMQTT(opts)
	if err != nil {
		t.Fatalf("start broker: %v", err)
	}
	t.Cleanup(b.Close)
	return b
}

func collect(t testing.TB, b *testkit.MQTT, filter string) *testkit.Collector {
	t.Helper()
	c, err := b.Collect(filter)
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	return c
}

func baseConfig(b *testkit.MQTT, topic string) Config {
	return Config{
		Name:            "test",
		Brokers:         []string{b.URL()},
		Topic:           topic,
		DeliveryTimeout: 5 * time.Second,
		ConnectTimeout:  2 * time.Second,
		ReconnectMin:    20 * time.Millisecond,
		ReconnectMax:    200 * time.Millisecond,
		Retry:           sinks.RetryPolicy{MaxAttempts: 3, InitialBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond},
	}
}

func newSink(t testing.TB, cfg Config) *Sink {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testWait)
		defer cancel()
		_ = s.Close(ctx)
	})
	return s
}

func qosPtr(q byte) *byte { return &q }

// validateJSON checks payload against the object-sync JSON Schema of typ.
func validateJSON(t testing.TB, typ schemas.Type, payload []byte) map[string]any {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	url := "mem://" + string(typ) + ".json"
	if err := c.AddResource(url, bytes.NewReader(schemas.JSONSchema(typ))); err != nil {
		t.Fatalf("%s: %v", typ, err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatalf("%s: compile: %v", typ, err)
	}
	d := json.NewDecoder(bytes.NewReader(payload))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", payload, err)
	}
	if err := sch.Validate(m); err != nil {
		t.Fatalf("%s payload %s does not match the object-sync schema: %v", typ, payload, err)
	}
	return m
}
