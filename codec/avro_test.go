package codec

import (
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
)

func mustPlan(t testing.TB, writer, reader avro.Schema) *Plan {
	t.Helper()
	p, err := NewPlan(writer, reader)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLogicalTypes encodes values with hamba (an independent encoder) and
// checks the plain presentation of each logical type.
func TestLogicalTypes(t *testing.T) {
	ts := time.Date(2024, 2, 29, 23, 59, 58, 123456789, time.UTC)
	tests := []struct {
		name   string
		schema string
		value  any // Go value for hamba's encoder
		want   any
	}{
		{"timestamp-millis", `{"type":"long","logicalType":"timestamp-millis"}`, ts, "2024-02-29T23:59:58.123Z"},
		{"timestamp-millis zone", `{"type":"long","logicalType":"timestamp-millis"}`, ts.In(time.FixedZone("X", 3600)), "2024-02-29T23:59:58.123Z"},
		{"timestamp-millis epoch", `{"type":"long","logicalType":"timestamp-millis"}`, time.Unix(0, 0), "1970-01-01T00:00:00.000Z"},
		{"timestamp-millis before epoch", `{"type":"long","logicalType":"timestamp-millis"}`, time.UnixMilli(-1), "1969-12-31T23:59:59.999Z"},
		{"timestamp-micros", `{"type":"long","logicalType":"timestamp-micros"}`, ts, "2024-02-29T23:59:58.123456Z"},
		{"local-timestamp-millis", `{"type":"long","logicalType":"local-timestamp-millis"}`, ts, "2024-02-29T23:59:58.123Z"},
		{"local-timestamp-micros", `{"type":"long","logicalType":"local-timestamp-micros"}`, ts, "2024-02-29T23:59:58.123456Z"},
		{"date", `{"type":"int","logicalType":"date"}`, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), "2024-02-29"},
		{"date before epoch", `{"type":"int","logicalType":"date"}`, time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), "1969-12-31"},
		{"time-millis", `{"type":"int","logicalType":"time-millis"}`, 13*time.Hour + 4*time.Minute + 5*time.Second + 6*time.Millisecond, "13:04:05.006"},
		{"time-millis midnight", `{"type":"int","logicalType":"time-millis"}`, time.Duration(0), "00:00:00.000"},
		{"time-micros", `{"type":"long","logicalType":"time-micros"}`, 23*time.Hour + 59*time.Minute + 59*time.Second + 999999*time.Microsecond, "23:59:59.999999"},
		{"uuid", `{"type":"string","logicalType":"uuid"}`, "9d6c2b4e-0f4a-4b8e-8d39-3b1f3e0c8a11", "9d6c2b4e-0f4a-4b8e-8d39-3b1f3e0c8a11"},
		{"decimal", `{"type":"bytes","logicalType":"decimal","precision":9,"scale":4}`, big.NewRat(12345, 100), "123.4500"},
		{"decimal negative", `{"type":"bytes","logicalType":"decimal","precision":9,"scale":4}`, big.NewRat(-12345, 100), "-123.4500"},
		{"decimal small negative", `{"type":"bytes","logicalType":"decimal","precision":9,"scale":3}`, big.NewRat(-5, 1000), "-0.005"},
		{"decimal zero", `{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}`, big.NewRat(0, 1), "0.00"},
		{"decimal scale 0", `{"type":"bytes","logicalType":"decimal","precision":9,"scale":0}`, big.NewRat(-42, 1), "-42"},
		{"decimal big", `{"type":"bytes","logicalType":"decimal","precision":38,"scale":10}`,
			new(big.Rat).SetFrac(mustBigInt("-123456789012345678901234567890123456"), mustBigInt("10000000000")), "-12345678901234567890123456.7890123456"},
		{"decimal fixed", `{"type":"fixed","name":"D","size":8,"logicalType":"decimal","precision":18,"scale":2}`, big.NewRat(-1, 100), "-0.01"},
		{"decimal fixed positive", `{"type":"fixed","name":"D","size":16,"logicalType":"decimal","precision":30,"scale":2}`, big.NewRat(1234567, 1), "1234567.00"},
		{"plain long", `"long"`, int64(-7), int64(-7)},
		{"plain int", `"int"`, int32(-7), int64(-7)},
		{"float", `"float"`, float32(1.5), 1.5},
		{"bytes", `"bytes"`, []byte{0, 1, 2}, []byte{0, 1, 2}},
		{"fixed", `{"type":"fixed","name":"F","size":3}`, [3]byte{9, 8, 7}, []byte{9, 8, 7}},
		{"enum", `{"type":"enum","name":"E","symbols":["A","B"]}`, "B", "B"},
		{"unknown logical type", `{"type":"long","logicalType":"timestamp-nanos"}`, int64(5), int64(5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustParse(t, tt.schema)
			payload, err := avro.Marshal(s, tt.value)
			if err != nil {
				t.Fatalf("hamba marshal: %v", err)
			}
			got, err := mustPlan(t, s, nil).Decode(payload)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func mustBigInt(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return n
}

func TestDuration(t *testing.T) {
	s := mustParse(t, `{"type":"fixed","name":"Dur","size":12,"logicalType":"duration"}`)
	want := map[string]any{"months": int64(1), "days": int64(2), "milliseconds": int64(3000)}
	got, err := mustPlan(t, s, nil).Decode(encodeAvro(t, s, want))
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, %v", got, err)
	}
}

func TestFormatDecimal(t *testing.T) {
	tests := []struct {
		b     []byte
		scale int
		want  string
	}{
		{nil, 2, "0.00"},
		{[]byte{0}, 0, "0"},
		{[]byte{0xff}, 2, "-0.01"},
		{[]byte{0x80}, 0, "-128"},
		{[]byte{0x00, 0x80}, 0, "128"},
		{[]byte{0xff, 0xff, 0xff, 0x80}, 1, "-12.8"},
		{[]byte{0x30, 0x39}, 2, "123.45"},
		{[]byte{0x30, 0x39}, 6, "0.012345"},
		{[]byte{0x80, 0, 0, 0, 0, 0, 0, 0}, 0, "-9223372036854775808"},
		{[]byte{0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 3, "9223372036854775.807"},
		{[]byte{0x00, 0x80, 0, 0, 0, 0, 0, 0, 0}, 0, "9223372036854775808"},
		{[]byte{0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 0, "-9223372036854775809"},
		{[]byte{0x01, 0, 0, 0, 0, 0, 0, 0, 0}, 2, "184467440737095516.16"},
	}
	for _, tt := range tests {
		got, err := formatDecimal(nil, tt.b, tt.scale)
		if err != nil || got != tt.want {
			t.Errorf("formatDecimal(%x, %d) = %q, %v; want %q", tt.b, tt.scale, got, err, tt.want)
		}
	}
	if _, err := formatDecimal(nil, append([]byte{1}, make([]byte, maxDecimalBytes)...), 0); err == nil {
		t.Error("oversized decimal accepted")
	}
}

func TestUnionUnwrapping(t *testing.T) {
	s := mustParse(t, `{"type":"record","name":"U","fields":[
		{"name":"u","type":["null","string","long","double","boolean","bytes",
			{"type":"record","name":"R","fields":[{"name":"x","type":"int"}]},
			{"type":"enum","name":"E","symbols":["A"]},
			{"type":"array","items":"int"},
			{"type":"map","values":"string"},
			{"type":"long","logicalType":"timestamp-millis"}]}]}`)
	p := mustPlan(t, s, nil)
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"null", branch{0, nil}, nil},
		{"string", branch{1, "s"}, "s"},
		{"long", branch{2, int64(-3)}, int64(-3)},
		{"double", branch{3, 2.5}, 2.5},
		{"boolean", branch{4, true}, true},
		{"bytes", branch{5, []byte("b")}, []byte("b")},
		{"record", branch{6, map[string]any{"x": int64(1)}}, map[string]any{"x": int64(1)}},
		{"enum", branch{7, "A"}, "A"},
		{"array", branch{8, []any{int64(1), int64(2)}}, []any{int64(1), int64(2)}},
		{"empty array", branch{8, []any{}}, []any{}},
		{"map", branch{9, map[string]any{"k": "v"}}, map[string]any{"k": "v"}},
		{"logical", branch{10, int64(0)}, "1970-01-01T00:00:00.000Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.Decode(encodeAvro(t, s, map[string]any{"u": tt.in}))
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]any{"u": tt.want}; !reflect.DeepEqual(got, want) {
				t.Fatalf("got %#v, want %#v", got, want)
			}
		})
	}
}

// TestMachineRoundTrip decodes the representative record in generic mode
// and checks every field, including nested optional records.
func TestMachineRoundTrip(t *testing.T) {
	s := mustParse(t, machineSchemaText(t))
	want := sampleMachine()
	got, err := mustPlan(t, s, nil).Decode(encodeAvro(t, s, want))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}

	// All optional fields absent.
	sparse := map[string]any{"machineId": "M", "eventId": "e", "time": int64(0), "faults": []any{}, "tags": map[string]any{}}
	got, err = mustPlan(t, s, nil).Decode(encodeAvro(t, s, sparse))
	if err != nil {
		t.Fatal(err)
	}
	m := got.(map[string]any)
	for _, f := range []string{"receivedAt", "location", "engine", "battery", "odometer", "digitalInputs", "reefer", "genset", "cost", "firmware", "extra"} {
		if v, ok := m[f]; !ok || v != nil {
			t.Errorf("field %s = %#v, %v; want present and nil", f, v, ok)
		}
	}
}

func TestCorruptAvro(t *testing.T) {
	rec := mustParse(t, `{"type":"record","name":"R","fields":[
		{"name":"s","type":"string"},
		{"name":"n","type":["null","long"]},
		{"name":"b","type":"boolean"}]}`)
	good := encodeAvro(t, rec, map[string]any{"s": "abc", "n": int64(5), "b": true})
	tests := []struct {
		name    string
		schema  string
		payload []byte
		errText string
	}{
		{"empty", "", nil, "truncated"},
		{"truncated string", "", good[:2], "invalid string length 3 with 1 bytes left"},
		{"truncated union", "", good[:4], "truncated"},
		{"trailing bytes", "", append(append([]byte{}, good...), 0), "1 trailing bytes"},
		{"negative length", "", []byte{1}, "invalid string length -1"},
		{"length past end", "", []byte{0x7e, 'a'}, "invalid string length 63"},
		{"union index out of range", "", []byte{0, 4}, "union index 2 out of range"},
		{"negative union index", "", []byte{0, 1}, "union index -1 out of range"},
		{"bad boolean", "", []byte{0, 0, 2}, "invalid boolean byte 0x02"},
		{"varint too long", `"long"`, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, "longer than 10 bytes"},
		{"varint overflow", `"long"`, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, "overflows 64 bits"},
		{"int overflow", `"int"`, []byte{0xff, 0xff, 0xff, 0xff, 0x7f}, "overflows 32 bits"},
		{"int too long", `"int"`, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, "longer than 5 bytes"},
		{"enum index", `{"type":"enum","name":"E","symbols":["A","B"]}`, []byte{4}, "enum index 2 out of range"},
		{"array count too large", `{"type":"array","items":"long"}`, []byte{0x80, 0x80, 0x80, 0x80, 0x10, 0}, "cannot fit"},
		{"array negative count bad size", `{"type":"array","items":"long"}`, []byte{1, 0x7f}, "invalid array block size"},
		{"array min int64 count", `{"type":"array","items":"long"}`, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, "invalid array block count"},
		{"zero-size items", `{"type":"array","items":"null"}`, []byte{0x80, 0x80, 0x80, 0x80, 0x10}, "zero-size items in one value"},
		{"nested zero-size items", `{"type":"array","items":{"type":"array","items":"null"}}`,
			[]byte{6, 0xfe, 0xff, 0x07, 0, 0xfe, 0xff, 0x07, 0, 0xfe, 0xff, 0x07, 0, 0}, "zero-size items in one value"},
		{"map count too large", `{"type":"map","values":"null"}`, []byte{0x80, 0x80, 0x04}, "cannot fit"},
		{"fixed truncated", `{"type":"fixed","name":"F","size":4}`, []byte{1, 2}, "truncated fixed"},
		{"double truncated", `"double"`, []byte{1, 2, 3}, "truncated double"},
		{"time-millis range", `{"type":"int","logicalType":"time-millis"}`, encodeAvro(t, mustParse(t, `"int"`), int64(millisPerDay)), "time-millis 86400000 is outside"},
		{"time-micros negative", `{"type":"long","logicalType":"time-micros"}`, []byte{1}, "time-micros -1 is outside"},
		{"timestamp year", `{"type":"long","logicalType":"timestamp-millis"}`, []byte{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, "outside years"},
		{"date year", `{"type":"int","logicalType":"date"}`, []byte{0xfe, 0xff, 0xff, 0xff, 0x0f}, "outside years"},
		{"decimal too large", `{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}`,
			encodeAvro(t, mustParse(t, `"bytes"`), append([]byte{1}, make([]byte, 2048)...)), "exceeds the 1024-byte limit"},
		{"record field truncated", `{"type":"record","name":"R","fields":[{"name":"s","type":"string"}]}`, []byte{0x04, 'a'}, "invalid string length 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := rec
			if tt.schema != "" {
				s = mustParse(t, tt.schema)
			}
			v, err := mustPlan(t, s, nil).Decode(tt.payload)
			if c, ok := ClassOf(err); !ok || c != ClassCorruptAvro {
				t.Fatalf("got %#v, %v; want class %s", v, err, ClassCorruptAvro)
			}
			if !strings.Contains(err.Error(), tt.errText) {
				t.Fatalf("err = %q, want it to contain %q", err, tt.errText)
			}
		})
	}
}

// TestRecursiveSchema checks recursive schemas in generic and pinned mode
// (hamba's SchemaCompatibility.Resolve overflows the stack on these, which
// is why resolution is done here) and that hostile nesting is bounded.
func TestRecursiveSchema(t *testing.T) {
	const text = `{"type":"record","name":"Node","fields":[
		{"name":"v","type":"int"},
		{"name":"next","type":["null","Node"],"default":null}]}`
	w := mustParse(t, text)
	r := mustParse(t, text)
	list := map[string]any{"v": int64(1), "next": map[string]any{"v": int64(2), "next": nil}}
	payload := encodeAvro(t, w, list)
	for name, reader := range map[string]avro.Schema{"generic": nil, "pinned": r} {
		got, err := mustPlan(t, w, reader).Decode(payload)
		if err != nil || !reflect.DeepEqual(got, list) {
			t.Fatalf("%s: got %#v, %v", name, got, err)
		}
	}

	// 10,000 levels: each level is "v=0, next=branch 1".
	deep := make([]byte, 0, 20001)
	for range 10000 {
		deep = append(deep, 0, 2)
	}
	deep = append(deep, 0, 0)
	for name, reader := range map[string]avro.Schema{"generic": nil, "pinned": r} {
		_, err := mustPlan(t, w, reader).Decode(deep)
		if c, _ := ClassOf(err); c != ClassCorruptAvro || !strings.Contains(err.Error(), "nested deeper") {
			t.Fatalf("%s: err = %v, want nesting error", name, err)
		}
	}
}

func TestKitchenSink(t *testing.T) {
	w, r := mustParse(t, kitchenSink), mustParse(t, kitchenReader)
	payload := encodeAvro(t, w, kitchenValue())

	got, err := mustPlan(t, w, nil).Decode(payload)
	if err != nil {
		t.Fatal(err)
	}
	m := got.(map[string]any)
	if m["i"] != "2022-01-08" || m["t"] != "00:00:00.005" || m["dec"] != "0.001" || m["bd"] != "-0.00001" ||
		m["us"] != "1969-12-31T23:59:59.999999Z" || len(m["children"].([]any)) != 2 {
		t.Fatalf("generic: %#v", m)
	}

	got, err = mustPlan(t, w, r).Decode(payload)
	if err != nil {
		t.Fatal(err)
	}
	child := map[string]any{"f": 1.0, "e": "C", "children": []any{}, "added": map[string]any{"x": int64(1)}, "us": int64(0)}
	want := map[string]any{"f": 2.0, "e": "A", "children": []any{child, child}, "added": map[string]any{"x": int64(1)}, "us": int64(-1)}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("pinned: got %#v\nwant %#v", got, want)
	}
}

// TestTimestampFormatting checks the hand-written RFC 3339 formatter against
// the time package over the whole supported range.
func TestTimestampFormatting(t *testing.T) {
	lo := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	hi := time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC).UnixMicro()
	values := []int64{lo, hi, 0, -1, 1, 951782400000000 /* 2000-02-29 */, -62135596800000000 /* 0001-01-01 */}
	step := (hi - lo) / 20011
	for v := lo; v < hi-step; v += step {
		values = append(values, v, v+1, v-1)
	}
	for _, us := range values {
		if us < lo || us > hi {
			continue
		}
		want := time.UnixMicro(us).UTC().Format("2006-01-02T15:04:05.000000Z07:00")
		got, err := convertInt(nil, convTimestampMicros, us)
		if err != nil || got != want {
			t.Fatalf("micros %d: got %v, %v; want %s", us, got, err, want)
		}
		ms := us / 1000
		if us < 0 && us%1000 != 0 {
			ms--
		}
		want = time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z07:00")
		if got, err := convertInt(nil, convTimestampMillis, ms); err != nil || got != want {
			t.Fatalf("millis %d: got %v, %v; want %s", ms, got, err, want)
		}
		days := ms / 86400000
		if ms < 0 && ms%86400000 != 0 {
			days--
		}
		want = time.Unix(days*86400, 0).UTC().Format(time.DateOnly)
		if got, err := convertInt(nil, convDate, days); err != nil || got != want {
			t.Fatalf("date %d: got %v, %v; want %s", days, got, err, want)
		}
	}
	for _, v := range []int64{lo - 1, hi + 1, -1 << 63, 1<<63 - 1} {
		if _, err := convertInt(nil, convTimestampMicros, v); err == nil {
			t.Errorf("micros %d accepted", v)
		}
	}
	for _, v := range []int64{minDay - 1, maxDay + 1} {
		if _, err := convertInt(nil, convDate, v); err == nil {
			t.Errorf("date %d accepted", v)
		}
	}
}

// TestDecodedStringsAreStable checks that strings carved from the decoder's
// arena are not overwritten by later decodes or by mutating the payload.
func TestDecodedStringsAreStable(t *testing.T) {
	s := mustParse(t, machineSchemaText(t))
	p := mustPlan(t, s, nil)
	payload := encodeAvro(t, s, sampleMachine())
	first, err := p.Decode(payload)
	if err != nil {
		t.Fatal(err)
	}
	for i := range payload {
		payload[i] ^= 0x55
	}
	_, _ = p.Decode(payload)
	if !reflect.DeepEqual(first, sampleMachine()) {
		t.Fatalf("decoded value changed after reuse of the payload: %#v", first)
	}
}
