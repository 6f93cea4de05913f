package mqttsink

import (
	"bytes"
	"context"
	"encoding/json"
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
