package codec

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

// mustParse parses an Avro schema for a test.
func mustParse(t testing.TB, text string) avro.Schema {
	t.Helper()
	s, err := ParseSchema(text)
	if err != nil {
		t.Fatalf("parse schema: %v", err)
	}
	return s
}

func machineSchemaText(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("testdata/machine.avsc")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// newFake starts an srfake registry that is closed when the test ends.
func newFake(t testing.TB, opts ...srfake.Option) *srfake.Registry {
	t.Helper()
	f := srfake.New(opts...)
	t.Cleanup(f.Close)
	return f
}

func basicAuth(user, pass string) srfake.Option {
	return srfake.WithAuth("Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
}

func seedAvro(f *srfake.Registry, subject string, version, id int, text string) {
	f.SeedSchema(subject, version, id, sr.Schema{Schema: text, Type: sr.TypeAvro})
}

// newTestRegistry returns a Registry for url with fast retries; mod may
// adjust the config.
func newTestRegistry(t testing.TB, url string, mod func(*RegistryConfig)) *Registry {
	t.Helper()
	cfg := RegistryConfig{URL: url, InitialBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond}
	if mod != nil {
		mod(&cfg)
	}
	r, err := NewRegistry(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// branch forces a union branch in encodeAvro.
type branch struct {
	i int
	v any
}

// encodeAvro is an independent test encoder. It writes v, given in the plain
// presentation that Plan.Decode returns (logical values as strings, or raw
// int64 for int/long logical types), as Avro binary for schema s.
func encodeAvro(t testing.TB, s avro.Schema, v any) []byte {
	t.Helper()
	var e testEncoder
	e.value(s, v)
	if e.err != nil {
		t.Fatalf("encode test value: %v", e.err)
	}
	return e.b
}

type testEncoder struct {
	b   []byte
	err error
}

func (e *testEncoder) fail(format string, args ...any) {
	if e.err == nil {
		e.err = fmt.Errorf(format, args...)
	}
}

func (e *testEncoder) long(v int64) { e.b = binary.AppendVarint(e.b, v) }

func (e *testEncoder) bytes(b []byte) {
	e.long(int64(len(b)))
	e.b = append(e.b, b...)
}

func (e *testEncoder) value(s avro.Schema, v any) {
	s = deref(s)
	switch s := s.(type) {
	case *avro.NullSchema:
		if v != nil {
			e.fail("null: got %T", v)
		}
	case *avro.PrimitiveSchema:
		e.primitive(s, v)
	case *avro.FixedSchema:
		b := e.logicalBytes(s.Logical(), v, s.Size())
		if len(b) != s.Size() {
			e.fail("fixed %s: %d bytes, want %d", s.FullName(), len(b), s.Size())
		}
		e.b = append(e.b, b...)
	case *avro.EnumSchema:
		for i, sym := range s.Symbols() {
			if sym == v {
				e.long(int64(i))
				return
			}
		}
		e.fail("enum %s: no symbol %v", s.FullName(), v)
	case *avro.ArraySchema:
		a, _ := v.([]any)
		if len(a) > 0 {
			e.long(int64(len(a)))
			for _, x := range a {
				e.value(s.Items(), x)
			}
		}
		e.long(0)
	case *avro.MapSchema:
		m, _ := v.(map[string]any)
		if len(m) > 0 {
			e.long(int64(len(m)))
			for k, x := range m {
				e.bytes([]byte(k))
				e.value(s.Values(), x)
			}
		}
		e.long(0)
	case *avro.RecordSchema:
		m, ok := v.(map[string]any)
		if !ok {
			e.fail("record %s: got %T", s.FullName(), v)
			return
		}
		for _, f := range s.Fields() {
			x, ok := m[f.Name()]
			if !ok && f.HasDefault() {
				x = f.Default()
			}
			e.value(f.Type(), x)
		}
	case *avro.UnionSchema:
		if b, ok := v.(branch); ok {
			e.long(int64(b.i))
			e.value(s.Types()[b.i], b.v)
			return
		}
		for i, bs := range s.Types() {
			if accepts(deref(bs), v) {
				e.long(int64(i))
				e.value(bs, v)
				return
			}
		}
		e.fail("union: no branch for %T", v)
	default:
		e.fail("unsupported schema %T", s)
	}
}

func accepts(s avro.Schema, v any) bool {
	switch s.Type() {
	case avro.Null:
		return v == nil
	case avro.Boolean:
		_, ok := v.(bool)
		return ok
	case avro.Int, avro.Long:
		switch v.(type) {
		case int64:
			return true
		case string:
			return s.(*avro.PrimitiveSchema).Logical() != nil
		}
	case avro.Float, avro.Double:
		_, ok := v.(float64)
		return ok
	case avro.String:
		_, ok := v.(string)
		return ok
	case avro.Bytes, avro.Fixed:
		switch v.(type) {
		case []byte:
			return true
		case string:
			ls, ok := s.(avro.LogicalTypeSchema)
			return ok && ls.Logical() != nil
		}
	case avro.Enum:
		_, ok := v.(string)
		return ok
	case avro.Array:
		_, ok := v.([]any)
		return ok
	case avro.Map, avro.Record:
		_, ok := v.(map[string]any)
		return ok
	}
	return false
}

func (e *testEncoder) primitive(s *avro.PrimitiveSchema, v any) {
	switch s.Type() {
	case avro.Boolean:
		if v == true {
			e.b = append(e.b, 1)
		} else {
			e.b = append(e.b, 0)
		}
	case avro.Int, avro.Long:
		e.long(e.logicalInt(s, v))
	case avro.Float:
		f, _ := v.(float64)
		e.b = binary.LittleEndian.AppendUint32(e.b, math.Float32bits(float32(f)))
	case avro.Double:
		f, _ := v.(float64)
		e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(f))
	case avro.String:
		str, _ := v.(string)
		e.bytes([]byte(str))
	case avro.Bytes:
		e.bytes(e.logicalBytes(s.Logical(), v, -1))
	}
}

func (e *testEncoder) logicalInt(s *avro.PrimitiveSchema, v any) int64 {
	if i, ok := v.(int64); ok {
		return i
	}
	str, ok := v.(string)
	if !ok || s.Logical() == nil {
		e.fail("%s: got %T", s.Type(), v)
		return 0
	}
	parse := func(layout string) time.Time {
		t, err := time.Parse(layout, str)
		if err != nil {
			e.fail("%s: %v", s.Logical().Type(), err)
		}
		return t
	}
	switch s.Logical().Type() {
	case avro.TimestampMillis, avro.LocalTimestampMillis:
		return parse(time.RFC3339Nano).UnixMilli()
	case avro.TimestampMicros, avro.LocalTimestampMicros:
		return parse(time.RFC3339Nano).UnixMicro()
	case avro.Date:
		return parse(time.DateOnly).Unix() / 86400
	case avro.TimeMillis:
		t := parse("15:04:05.000")
		return int64(t.Hour()*3600000 + t.Minute()*60000 + t.Second()*1000 + t.Nanosecond()/1e6)
	case avro.TimeMicros:
		t := parse("15:04:05.000000")
		return int64(t.Hour())*3600e6 + int64(t.Minute())*60e6 + int64(t.Second())*1e6 + int64(t.Nanosecond()/1e3)
	}
	e.fail("logical %s", s.Logical().Type())
	return 0
}

// logicalBytes encodes a decimal string (or passes []byte through) with
// size bytes for fixed, or the minimal two's complement for size -1.
func (e *testEncoder) logicalBytes(l avro.LogicalSchema, v any, size int) []byte {
	if b, ok := v.([]byte); ok {
		return b
	}
	if m, ok := v.(map[string]any); ok && l != nil && l.Type() == avro.Duration {
		b := make([]byte, 12)
		binary.LittleEndian.PutUint32(b[0:], uint32(m["months"].(int64)))
		binary.LittleEndian.PutUint32(b[4:], uint32(m["days"].(int64)))
		binary.LittleEndian.PutUint32(b[8:], uint32(m["milliseconds"].(int64)))
		return b
	}
	dl, ok := l.(*avro.DecimalLogicalSchema)
	str, isStr := v.(string)
	if !ok || !isStr {
		e.fail("bytes: got %T", v)
		return nil
	}
	digits := strings.Replace(str, ".", "", 1)
	if i := strings.IndexByte(str, '.'); i >= 0 && len(str)-i-1 != dl.Scale() {
		e.fail("decimal %q does not have scale %d", str, dl.Scale())
	}
	n, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		e.fail("decimal %q", str)
		return nil
	}
	return twosComplement(n, size)
}

func twosComplement(n *big.Int, size int) []byte {
	if size < 0 {
		size = (n.BitLen() + 8) / 8 // room for the sign bit
	}
	if n.Sign() >= 0 {
		return n.FillBytes(make([]byte, size))
	}
	m := new(big.Int).Add(n, new(big.Int).Lsh(big.NewInt(1), uint(8*size)))
	return m.FillBytes(make([]byte, size))
}

// gauge builds a Gauge record value.
func gauge(v float64, unit string, at string) map[string]any {
	return map[string]any{"value": v, "unit": unit, "at": at}
}

// sampleMachine is a fully populated MachineInsight in plain presentation.
func sampleMachine() map[string]any {
	const at = "2024-05-06T07:08:09.123Z"
	return map[string]any{
		"machineId":  "M-000123",
		"eventId":    "0b6f2e3a-8d7c-4e1f-9a2b-3c4d5e6f7a8b",
		"time":       "2024-05-06T07:08:09.123Z",
		"receivedAt": "2024-05-06T07:08:10.123456Z",
		"location": map[string]any{
			"lat": 55.676098, "lon": 12.568337, "altitude": 12.5, "heading": int64(270),
			"speed": 13.9, "fixTime": at,
			"accuracy": map[string]any{"hdop": 0.75, "satellites": int64(11)},
		},
		"engine": map[string]any{
			"running":     true,
			"hours":       gauge(12034.5, "h", at),
			"fuelLevel":   gauge(61.25, "%", at),
			"coolantTemp": gauge(88, "C", at),
			"oilPressure": gauge(3.5, "bar", at),
			"rpm":         gauge(1450, "rpm", at),
		},
		"battery":       map[string]any{"voltage": gauge(24.25, "V", at), "charge": gauge(87.5, "%", at)},
		"odometer":      gauge(98765.5, "km", at),
		"digitalInputs": map[string]any{"in1": true, "in2": false, "in3": nil, "in4": true},
		"reefer": map[string]any{
			"setpoint": gauge(-18, "C", at), "supplyAir": gauge(-18.5, "C", at),
			"returnAir": gauge(-16.25, "C", at), "mode": "COOL",
		},
		"genset": map[string]any{"fuel": gauge(40, "%", at), "hours": gauge(321.5, "h", at), "status": "RUNNING"},
		"faults": []any{
			map[string]any{"code": "P0217", "severity": "WARN", "at": at, "spn": int64(110), "fmi": int64(0)},
			map[string]any{"code": "B1234", "severity": "INFO", "at": at, "spn": nil, "fmi": nil},
		},
		"tags":     map[string]any{"site": "CPH-3", "fleet": "north"},
		"cost":     "1234.5600",
		"firmware": map[string]any{"version": "4.2.1", "released": "2023-11-30"},
		"extra":    int64(42),
	}
}

// waitUntil spins (yielding) until cond holds or ctx ends; it never sleeps
// for a fixed time, so tests stay free of timing assumptions.
func waitUntil(ctx context.Context, t testing.TB, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if ctx.Err() != nil {
			t.Fatalf("gave up waiting for %s", what)
		}
		runtime.Gosched()
	}
}
