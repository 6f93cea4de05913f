package profile

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

func TestMobitoNamespace(t *testing.T) {
	// RFC 9562 DNS namespace 6ba7b810-9dad-11d1-80b4-00c04fd430c8.
	const dns = "\x6b\xa7\xb8\x10\x9d\xad\x11\xd1\x80\xb4\x00\xc0\x4f\xd4\x30\xc8"
	if got := uuidV5(dns, "mobito.telebridge.io"); got != MobitoNamespace {
		t.Fatalf("UUIDv5(DNS, mobito.telebridge.io) = %s, want %s", got, MobitoNamespace)
	}
	if got := uuidV5(mobitoNamespace, ""); len(got) != 36 {
		t.Fatalf("bad UUID %q", got)
	}
	// Known value from Python's uuid.uuid5(uuid.NAMESPACE_DNS, "python.org").
	if got := uuidV5(dns, "python.org"); got != "886313e1-3b8a-5372-9b90-0c9aee199e5d" {
		t.Fatalf("uuidV5(DNS, python.org) = %s", got)
	}
}

func TestNumberSyntax(t *testing.T) {
	tests := []struct {
		in   string
		want numKind
	}{
		{"0", kindInteger}, {"-12", kindInteger}, {"+4", kindInteger}, {"007", kindInteger},
		{"12.56", kindDecimal}, {"680.0", kindDecimal}, {".5", kindDecimal}, {"5.", kindDecimal},
		{"1e3", kindDecimal}, {"-1.5E-7", kindDecimal}, {"99999999999999999999", kindDecimal},
		{"", kindNone}, {"-", kindNone}, {".", kindNone}, {"e3", kindNone}, {"1e", kindNone},
		{"NaN", kindNone}, {"Inf", kindNone}, {"0x1F", kindNone}, {"1_000", kindNone},
		{"2027-02", kindNone}, {"12 ", kindNone}, {"1.2.3", kindNone},
	}
	for _, tc := range tests {
		if got := numberSyntax(tc.in); got != tc.want {
			t.Errorf("numberSyntax(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestAsFloatAsInt(t *testing.T) {
	tests := []struct {
		in  any
		f   float64
		fok bool
		i   int64
		iok bool
	}{
		{int64(5), 5, true, 5, true},
		{int32(-2), -2, true, -2, true},
		{7, 7, true, 7, true},
		{2.5, 2.5, true, 0, false},
		{float32(1.5), 1.5, true, 0, false},
		{3.0, 3, true, 3, true},
		{json.Number("12"), 12, true, 12, true},
		{json.Number("1e2"), 100, true, 100, true},
		{"-0.25", -0.25, true, 0, false},
		{"NaN", 0, false, 0, false},
		{"1e400", 0, false, 0, false},
		{math.Inf(1), 0, false, 0, false},
		{nil, 0, false, 0, false},
		{true, 0, false, 0, false},
		{1e19, 1e19, true, 0, false},
	}
	for _, tc := range tests {
		f, fok := asFloat(tc.in)
		i, iok := asInt(tc.in)
		if f != tc.f || fok != tc.fok || i != tc.i || iok != tc.iok {
			t.Errorf("%v (%T): asFloat %v %v, asInt %v %v", tc.in, tc.in, f, fok, i, iok)
		}
	}
}

func TestAsTime(t *testing.T) {
	want := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	ms := want.UnixMilli()
	for _, in := range []any{ms, float64(ms), json.Number("1741082400000"), "1741082400000",
		"2025-03-04T11:00:00+01:00", want.In(time.FixedZone("x", 3600))} {
		got, err := asTime(in)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("asTime(%v %T) = %v, %v", in, in, got, err)
		}
	}
	if got, err := asTime(nil); err != nil || !got.IsZero() {
		t.Errorf("asTime(nil) = %v, %v", got, err)
	}
	for _, in := range []any{"yesterday", true, int64(math.MaxInt64), int64(maxMillis + 1), math.NaN(), []byte("1"),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if _, err := asTime(in); err == nil {
			t.Errorf("asTime(%v %T): want error", in, in)
		}
	}
}

func TestAppendReading(t *testing.T) {
	tests := []struct {
		in   any
		text string
		typ  string
		ok   bool
	}{
		{12.0, "12", "DECIMAL", true},
		{12.5, "12.5", "DECIMAL", true},
		{1e-9, "1e-09", "DECIMAL", true},
		{1e21, "1e+21", "DECIMAL", true},
		{float32(0.1), "0.1", "DECIMAL", true},
		{int64(-3), "-3", "INTEGER", true},
		{true, "true", "BOOLEAN", true},
		{json.Number("4.0"), "4.0", "DECIMAL", true},
		{"false", "false", "BOOLEAN", true},
		{"OK", "OK", "STRING", true},
		{math.NaN(), "", "", false},
		{math.Inf(-1), "", "", false},
		{nil, "", "", false},
		{map[string]any{}, "", "", false},
	}
	for _, tc := range tests {
		b, typ, ok := appendReading(nil, tc.in)
		if string(b) != tc.text || typ != tc.typ || ok != tc.ok {
			t.Errorf("appendReading(%v) = %q %q %v", tc.in, b, typ, ok)
		}
	}
}

func TestPlain(t *testing.T) {
	deep := any("leaf")
	for range maxPlainDepth + 5 {
		deep = []any{deep}
	}
	in := map[string]any{
		"b": []byte{0x0a, 0xff}, "f": math.NaN(), "i": int32(3), "t": time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		"n": []any{float32(1.5), json.Number("2")}, "x": struct{ A int }{1}, "deep": deep,
	}
	out := plain(in, 0).(map[string]any)
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	const prefix = `{"b":"0aff","deep":`
	if string(b[:len(prefix)]) != prefix {
		t.Errorf("plain = %s", b)
	}
	if out["f"] != nil || out["i"] != int64(3) || out["t"] != "2025-01-02T03:04:05Z" || out["x"] != "{1}" {
		t.Errorf("plain = %v", out)
	}
	in["b"].([]byte)[0] = 0 // a copy, not an alias
	if out["b"] != "0aff" {
		t.Error("plain aliases its input")
	}
}

func TestAssetCacheLRU(t *testing.T) {
	c := newAssetCache(2)
	step := func(id string, sum uint64, at int64, wantEmit bool, wantFirst int64) {
		t.Helper()
		emit, first := c.observe(id, sum, time.Unix(at, 0))
		if emit != wantEmit || first.Unix() != wantFirst {
			t.Fatalf("observe(%s, %d) = %v %v, want %v %d", id, sum, emit, first.Unix(), wantEmit, wantFirst)
		}
	}
	step("a", 1, 100, true, 100)
	step("a", 1, 101, false, 100)
	step("a", 2, 102, true, 100) // changed: emitted, first seen kept
	step("b", 1, 103, true, 103)
	step("a", 2, 104, false, 100) // a is now most recent
	step("c", 1, 105, true, 105)  // evicts b
	if c.len() != 2 {
		t.Fatalf("len = %d", c.len())
	}
	step("a", 2, 106, false, 100)
	step("b", 1, 107, true, 107) // forgotten, evicts c
	step("c", 1, 108, true, 108)
	if newAssetCache(0).max != 1 {
		t.Error("minimum size not enforced")
	}
}

func TestHasUnitName(t *testing.T) {
	for k, want := range map[string]bool{"Unit": true, "VoltageUnit": true, "UNITS": true, "unitOfMeasure": true, "Uni": false, "Value": false} {
		if hasUnitName(k) != want {
			t.Errorf("hasUnitName(%q) != %v", k, want)
		}
	}
}

func TestFingerprintSeparates(t *testing.T) {
	a := fnvOffset.str("ab").str("c")
	b := fnvOffset.str("a").str("bc")
	empty := ""
	if a == b || fnvOffset.opt(nil) == fnvOffset.opt(&empty) || fnvOffset.int(1) == fnvOffset.int(256) {
		t.Error("fingerprint collisions")
	}
	if fnvOffset.bytes([]byte("xy")) != fnvOffset.str("xy") {
		t.Error("bytes and str differ")
	}
}
