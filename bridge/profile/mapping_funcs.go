package profile

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"

	"github.com/telebridge/telebridge/schemas"
)

// This file holds the helper functions of mapping expressions. Every helper
// is a plain Go function over decoded values; the expression VM and the
// mapping fast path (mapping_fast.go) call the same function, so both
// evaluate identically.

// helper is one mapping expression function.
type helper struct {
	name string
	fn   func(args ...any) (any, error)
	// types are the signatures the expression checker uses for argument
	// counts and result types (pointers to func types).
	types []any
	doc   string
	// str, when set, is fn for one argument without boxing the text result.
	str func(st *evalState, arg any) (string, error)
	// stfn, when set, is fn for the fast path, using the evaluation state
	// (same results).
	stfn func(st *evalState, args ...any) (any, error)
}

// helpers returns the mapping helper functions by name.
func helpers() map[string]*helper {
	type def struct {
		name  string
		fn    func(args ...any) (any, error)
		types []any
		doc   string
	}
	defs := []def{
		{"number", fnNumber, []any{new(func(any) float64)},
			"number(v): v (a number, json.Number or numeric text) as a float; fails on anything else"},
		{"integer", fnInteger, []any{new(func(any) int64)},
			"integer(v): v as an int64; fails unless v is integral"},
		{"tryNumber", fnTryNumber, []any{new(func(any) any)},
			"tryNumber(v): number(v), or nil when v is not a number"},
		{"text", fnText, []any{new(func(any) string)},
			"text(v): v as sensor-reading text (numbers keep their JSON text, objects and arrays become compact JSON)"},
		{"valueType", fnValueType, []any{new(func(any) string)},
			"valueType(v): the SensorData type of text(v): BOOLEAN, INTEGER, DECIMAL or STRING"},
		{"time", fnTime, []any{new(func(any) time.Time), new(func(any, string) time.Time), new(func(any, string, string) time.Time)},
			`time(v[, layout[, zone]]): a timestamp in UTC; layout "s", "ms", "us", "ns" (epoch units), "rfc3339" or a Go layout; zone an IANA name for text without an offset`},
		{"tryTime", fnTryTime, []any{new(func(any) any), new(func(any, string) any), new(func(any, string, string) any)},
			"tryTime(...): time(...), or nil when v is nil or cannot be parsed"},
		{"fToC", fnFToC, []any{new(func(any) float64)}, "fToC(v): degrees Fahrenheit to Celsius"},
		{"cToF", fnCToF, []any{new(func(any) float64)}, "cToF(v): degrees Celsius to Fahrenheit"},
		{"milesToKm", fnMilesToKm, []any{new(func(any) float64)}, "milesToKm(v): miles to kilometres"},
		{"kmToMiles", fnKmToMiles, []any{new(func(any) float64)}, "kmToMiles(v): kilometres to miles"},
		{"roundTo", fnRoundTo, []any{new(func(any, int) float64)}, "roundTo(v, digits): v rounded half away from zero"},
		{"mod", fnMod, []any{new(func(any, any) float64)}, "mod(v, m): v modulo m in [0, m) (e.g. a heading)"},
		{"uuid5", fnUUID5, []any{new(func(string, any) string)},
			"uuid5(namespace, name): RFC 9562 UUIDv5 of name's text; namespace is a UUID or a DNS name (hashed into the DNS namespace)"},
		{"blank", fnBlank, []any{new(func(any) bool)}, `blank(v): v is nil or ""`},
		{"default", fnDefault, []any{new(func(any, any) any)}, `default(v, d): d when v is nil or "", else v`},
		{"joinText", fnJoinText, []any{new(func(...any) any)},
			`joinText(sep, v...): the non-empty text values joined by sep, or nil when there are none`},
		{"sortedKeys", fnSortedKeys, []any{new(func(any) []any)}, "sortedKeys(m): the keys of map m in ascending order"},
		{"keysWithPrefix", fnKeysWithPrefix, []any{new(func(any, string) []any)},
			"keysWithPrefix(m, p): the keys of map m that start with p, ascending"},
		{"pairs", fnPairs, []any{new(func(any, any) []string)},
			`pairs(m, keys): "key:text" for each key of the list whose value in m is not nil; "prefix*" stands for every key with that prefix, ascending`},
		{"codeList", fnCodeList, []any{new(func(any, string) []any), new(func(any, string, bool) []any)},
			`codeList(v, source[, describe]): one fault-code map {CodeSource, CodeIdentifier[, CodeDescription]} per entry of v, a list inside a string ("[a, b]", brackets optional) or an array; with describe, "955 Tire pressure" is code 955 with description "Tire pressure"; nil gives none`},
		{"json", fnJSON, []any{new(func(any) string)}, "json(v): compact JSON text of v"},
		{"plain", fnPlain, []any{new(func(any) any)},
			"plain(v): a JSON-ready copy of v (bytes as hex, times as RFC 3339)"},
	}
	hs := make([]*helper, len(defs))
	for i, d := range defs {
		hs[i] = &helper{name: d.name, fn: d.fn, types: d.types, doc: d.doc}
	}
	for _, h := range hs {
		switch h.name {
		case "text":
			h.str = strText
		case "valueType":
			h.str = strValueType
		case "pairs":
			h.stfn = statePairs
		}
	}
	m := make(map[string]*helper, len(hs))
	for _, h := range hs {
		m[h.name] = h
	}
	return m
}

// exprOptions returns the expression options of helper functions.
func helperOptions(hs map[string]*helper) []expr.Option {
	names := make([]string, 0, len(hs))
	for n := range hs {
		names = append(names, n)
	}
	slices.Sort(names)
	opts := make([]expr.Option, 0, len(names))
	for _, n := range names {
		h := hs[n]
		opts = append(opts, expr.Function(h.name, h.fn, h.types...))
	}
	return opts
}

func argc(name string, args []any, lo, hi int) error {
	if len(args) < lo || len(args) > hi {
		if lo == hi {
			return fmt.Errorf("%s: want %d arguments, got %d", name, lo, len(args))
		}
		return fmt.Errorf("%s: want %d to %d arguments, got %d", name, lo, hi, len(args))
	}
	return nil
}

// describe renders a value for an error message, bounded.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		if len(x) > 64 {
			x = x[:64] + "..."
		}
		return strconv.Quote(x)
	case json.Number:
		return string(x)
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	s := fmt.Sprintf("%v (%T)", v, v)
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return s
}

func fnNumber(args ...any) (any, error) {
	if err := argc("number", args, 1, 1); err != nil {
		return nil, err
	}
	f, ok := asFloat(args[0])
	if !ok {
		return nil, fmt.Errorf("number: %s is not a number", describe(args[0]))
	}
	return f, nil
}

func fnTryNumber(args ...any) (any, error) {
	if err := argc("tryNumber", args, 1, 1); err != nil {
		return nil, err
	}
	if f, ok := asFloat(args[0]); ok {
		return f, nil
	}
	return nil, nil
}

func fnInteger(args ...any) (any, error) {
	if err := argc("integer", args, 1, 1); err != nil {
		return nil, err
	}
	i, ok := asInt(args[0])
	if !ok {
		return nil, fmt.Errorf("integer: %s is not an integer", describe(args[0]))
	}
	return i, nil
}

// readingText renders a reading and its SensorData type: strings and
// json.Number keep their text (typed by classifyText), booleans are BOOLEAN,
// integral floats below 2^53 INTEGER, other floats DECIMAL, objects and
// arrays compact JSON (STRING), times RFC 3339 (STRING).
func readingText(v any) (string, string, error) {
	switch x := v.(type) {
	case nil:
		return "", "", errors.New("value is null")
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano), schemas.ValueString, nil
	}
	return mobitoValue(v)
}

// cachedReading is readingText remembering the last scalar it rendered,
// so text(value) and valueType(value) of one element render it once.
func cachedReading(st *evalState, v any) (string, string, error) {
	switch v.(type) {
	case string, json.Number, bool, float64, int64:
		if st.rtOK && st.rtArg == v {
			return st.rtText, st.rtType, nil
		}
		text, typ, err := readingText(v)
		if err == nil {
			st.rtArg, st.rtText, st.rtType, st.rtOK = v, text, typ, true
		}
		return text, typ, err
	}
	return readingText(v)
}

func strText(st *evalState, v any) (string, error) {
	s, _, err := cachedReading(st, v)
	if err != nil {
		return "", fmt.Errorf("text: %w", err)
	}
	return s, nil
}

func strValueType(st *evalState, v any) (string, error) {
	_, t, err := cachedReading(st, v)
	if err != nil {
		return "", fmt.Errorf("valueType: %w", err)
	}
	return t, nil
}

func fnText(args ...any) (any, error) {
	if err := argc("text", args, 1, 1); err != nil {
		return nil, err
	}
	s, _, err := readingText(args[0])
	if err != nil {
		return nil, fmt.Errorf("text: %w", err)
	}
	return s, nil
}

func fnValueType(args ...any) (any, error) {
	if err := argc("valueType", args, 1, 1); err != nil {
		return nil, err
	}
	_, t, err := readingText(args[0])
	if err != nil {
		return nil, fmt.Errorf("valueType: %w", err)
	}
	return t, nil
}

// parseTime implements time(v, layout, zone).
func parseTime(args []any) (time.Time, error) {
	if err := argc("time", args, 1, 3); err != nil {
		return time.Time{}, err
	}
	v := args[0]
	layout := ""
	if len(args) > 1 {
		s, ok := args[1].(string)
		if !ok {
			return time.Time{}, fmt.Errorf("time: layout %s is not text", describe(args[1]))
		}
		layout = s
	}
	loc := time.UTC
	if len(args) > 2 {
		z, ok := args[2].(string)
		if !ok {
			return time.Time{}, fmt.Errorf("time: zone %s is not text", describe(args[2]))
		}
		l, err := time.LoadLocation(z)
		if err != nil {
			return time.Time{}, fmt.Errorf("time: unknown zone %q", z)
		}
		loc = l
	}
	if v == nil {
		return time.Time{}, errors.New("time: value is null")
	}
	var t time.Time
	switch layout {
	case "":
		tt, err := asTime(v)
		if err != nil {
			return time.Time{}, fmt.Errorf("time: %w", err)
		}
		t = tt
	case "s", "ms", "us", "µs", "ns":
		tt, err := epochTime(v, layout)
		if err != nil {
			return time.Time{}, err
		}
		t = tt
	default:
		if tv, ok := v.(time.Time); ok {
			t = tv
			break
		}
		s, ok := asString(v)
		if !ok {
			return time.Time{}, fmt.Errorf("time: %s is not text for layout %q", describe(v), layout)
		}
		l := layout
		if strings.EqualFold(l, "rfc3339") {
			l = time.RFC3339Nano
		}
		tt, err := time.ParseInLocation(l, s, loc)
		if err != nil {
			return time.Time{}, fmt.Errorf("time: %q does not match layout %q", s, layout)
		}
		t = tt
	}
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return time.Time{}, fmt.Errorf("time: year %d is outside 1..9999", y)
	}
	return t.UTC(), nil
}

// epochTime converts an epoch number in unit ("s", "ms", "us", "ns").
// Fractions are kept down to the nanosecond.
func epochTime(v any, unit string) (time.Time, error) {
	var scale float64
	var mult int64
	switch unit {
	case "s":
		scale, mult = 1e9, 1e9
	case "ms":
		scale, mult = 1e6, 1e6
	case "us", "µs":
		scale, mult = 1e3, 1e3
	default:
		scale, mult = 1, 1
	}
	if i, ok := asInt(v); ok {
		// Exact for integers whose nanoseconds fit int64.
		if i <= math.MaxInt64/mult && i >= math.MinInt64/mult {
			return time.Unix(0, i*mult).UTC(), nil
		}
		return time.Time{}, fmt.Errorf("time: epoch %d%s is out of range", i, unit)
	}
	f, ok := asFloat(v)
	if !ok {
		return time.Time{}, fmt.Errorf("time: %s is not an epoch number in %s", describe(v), unit)
	}
	ns := f * scale
	if ns >= math.MaxInt64 || ns <= math.MinInt64 {
		return time.Time{}, fmt.Errorf("time: epoch %v%s is out of range", f, unit)
	}
	return time.Unix(0, int64(math.Round(ns))).UTC(), nil
}

func fnTime(args ...any) (any, error) {
	t, err := parseTime(args)
	if err != nil {
		return nil, err
	}
	return t, nil
}

func fnTryTime(args ...any) (any, error) {
	if len(args) > 0 && args[0] == nil {
		return nil, nil
	}
	if len(args) > 0 {
		if s, ok := args[0].(string); ok && s == "" {
			return nil, nil
		}
	}
	t, err := parseTime(args)
	if err != nil {
		if len(args) > 2 {
			// A bad zone is a mapping bug, not bad input.
			if _, zerr := time.LoadLocation(fmt.Sprint(args[2])); zerr != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	return t, nil
}

func unary(name string, args []any, f func(float64) float64) (any, error) {
	if err := argc(name, args, 1, 1); err != nil {
		return nil, err
	}
	x, ok := asFloat(args[0])
	if !ok {
		return nil, fmt.Errorf("%s: %s is not a number", name, describe(args[0]))
	}
	return f(x), nil
}

func fnFToC(args ...any) (any, error) {
	return unary("fToC", args, func(x float64) float64 { return (x - 32) * 5 / 9 })
}
func fnCToF(args ...any) (any, error) {
	return unary("cToF", args, func(x float64) float64 { return x*9/5 + 32 })
}
func fnMilesToKm(args ...any) (any, error) {
	return unary("milesToKm", args, func(x float64) float64 { return x * 1.609344 })
}
func fnKmToMiles(args ...any) (any, error) {
	return unary("kmToMiles", args, func(x float64) float64 { return x / 1.609344 })
}

func fnRoundTo(args ...any) (any, error) {
	if err := argc("roundTo", args, 2, 2); err != nil {
		return nil, err
	}
	x, ok := asFloat(args[0])
	if !ok {
		return nil, fmt.Errorf("roundTo: %s is not a number", describe(args[0]))
	}
	d, ok := asInt(args[1])
	if !ok || d < 0 || d > 15 {
		return nil, fmt.Errorf("roundTo: digits %s must be an integer in 0..15", describe(args[1]))
	}
	p := math.Pow(10, float64(d))
	r := math.Round(x*p) / p
	// Parse the shortest text so 0.1+0.2 style noise does not survive.
	if s := strconv.FormatFloat(r, 'f', int(d), 64); s != "" {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			r = f
		}
	}
	return r, nil
}

func fnMod(args ...any) (any, error) {
	if err := argc("mod", args, 2, 2); err != nil {
		return nil, err
	}
	x, ok := asFloat(args[0])
	if !ok {
		return nil, fmt.Errorf("mod: %s is not a number", describe(args[0]))
	}
	m, ok := asFloat(args[1])
	if !ok || m == 0 {
		return nil, fmt.Errorf("mod: modulus %s must be a non-zero number", describe(args[1]))
	}
	r := math.Mod(x, m)
	if r < 0 {
		r += math.Abs(m)
	}
	return r, nil
}

// dnsNamespace is the RFC 9562 DNS namespace as bytes.
const dnsNamespace = "\x6b\xa7\xb8\x10\x9d\xad\x11\xd1\x80\xb4\x00\xc0\x4f\xd4\x30\xc8"

// parseUUID parses 8-4-4-4-12 hex text into 16 raw bytes.
func parseUUID(s string) (string, bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return "", false
	}
	var out [16]byte
	j := 0
	for i := 0; i < 36; i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			continue
		}
		hi, ok1 := unhex(s[i])
		lo, ok2 := unhex(s[i+1])
		if !ok1 || !ok2 {
			return "", false
		}
		out[j] = hi<<4 | lo
		j++
		i++
	}
	return string(out[:]), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// namespaceBytes returns the raw namespace of uuid5: a UUID text as is,
// anything else as UUIDv5(DNS namespace, text).
func namespaceBytes(ns string) string {
	if b, ok := parseUUID(ns); ok {
		return b
	}
	raw, _ := parseUUID(uuidV5(dnsNamespace, ns))
	return raw
}

func fnUUID5(args ...any) (any, error) {
	if err := argc("uuid5", args, 2, 2); err != nil {
		return nil, err
	}
	ns, ok := args[0].(string)
	if !ok || ns == "" {
		return nil, fmt.Errorf("uuid5: namespace %s must be non-empty text", describe(args[0]))
	}
	return uuid5Name(namespaceBytes(ns), args[1])
}

// uuid5Name is uuid5 with a resolved namespace.
func uuid5Name(ns string, v any) (any, error) {
	name, ok := asString(v)
	if !ok {
		if v == nil {
			return nil, errors.New("uuid5: name is null")
		}
		if i, iok := asInt(v); iok {
			name = strconv.FormatInt(i, 10)
		} else {
			return nil, fmt.Errorf("uuid5: name %s must be non-empty text or an integer", describe(v))
		}
	}
	return uuidV5(ns, name), nil
}

func fnBlank(args ...any) (any, error) {
	if err := argc("blank", args, 1, 1); err != nil {
		return nil, err
	}
	return isBlank(args[0]), nil
}

func fnDefault(args ...any) (any, error) {
	if err := argc("default", args, 2, 2); err != nil {
		return nil, err
	}
	if isBlank(args[0]) {
		return args[1], nil
	}
	return args[0], nil
}

func fnJoinText(args ...any) (any, error) {
	if len(args) < 1 {
		return nil, errors.New("joinText: want a separator and values")
	}
	sep, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("joinText: separator %s is not text", describe(args[0]))
	}
	var b strings.Builder
	for _, v := range args[1:] {
		s, ok := asString(v)
		if !ok {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(s)
	}
	if b.Len() == 0 {
		return nil, nil
	}
	return b.String(), nil
}

func asMap(name string, v any) (map[string]any, error) {
	switch m := v.(type) {
	case map[string]any:
		return m, nil
	case nil:
		return nil, nil
	}
	return nil, fmt.Errorf("%s: %s is not an object", name, describe(v))
}

func fnSortedKeys(args ...any) (any, error) {
	if err := argc("sortedKeys", args, 1, 1); err != nil {
		return nil, err
	}
	m, err := asMap("sortedKeys", args[0])
	if err != nil {
		return nil, err
	}
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	out := make([]any, len(ks))
	for i, k := range ks {
		out[i] = k
	}
	return out, nil
}

func fnKeysWithPrefix(args ...any) (any, error) {
	if err := argc("keysWithPrefix", args, 2, 2); err != nil {
		return nil, err
	}
	m, err := asMap("keysWithPrefix", args[0])
	if err != nil {
		return nil, err
	}
	p, ok := args[1].(string)
	if !ok {
		return nil, fmt.Errorf("keysWithPrefix: prefix %s is not text", describe(args[1]))
	}
	var ks []string
	for k := range m {
		if strings.HasPrefix(k, p) {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	out := make([]any, len(ks))
	for i, k := range ks {
		out[i] = k
	}
	return out, nil
}

// fnPairs renders "key:text" tags. keys is a list of key names; a name
// ending in * stands for every key with that prefix, ascending. Keys whose
// value is absent or null are skipped. The tags share one allocation.
func fnPairs(args ...any) (any, error) { return pairs(nil, args) }

// statePairs is pairs reusing the sorted entries of the map an each block
// iterated, when args[0] is that map.
func statePairs(st *evalState, args ...any) (any, error) {
	if len(args) == 2 && st.sortedSrc != nil {
		if m, ok := args[0].(map[string]any); ok && reflect.ValueOf(m).UnsafePointer() == st.sortedSrc {
			return pairs(st.members, args)
		}
	}
	return pairs(nil, args)
}

// pairs implements fnPairs; sorted, when not nil, are the entries of
// args[0] in key order.
func pairs(sorted []entry, args []any) (any, error) {
	if err := argc("pairs", args, 2, 2); err != nil {
		return nil, err
	}
	m, err := asMap("pairs", args[0])
	if err != nil {
		return nil, err
	}
	var keys []string
	switch ks := args[1].(type) {
	case []any:
		keys = make([]string, len(ks))
		for i, kv := range ks {
			k, ok := kv.(string)
			if !ok {
				return nil, fmt.Errorf("pairs: key %s is not text", describe(kv))
			}
			keys[i] = k
		}
	case []string:
		keys = ks
	case nil:
	default:
		return nil, fmt.Errorf("pairs: keys %s is not a list", describe(args[1]))
	}
	var buf []byte
	var ends []int
	var matched []string
	add := func(k string, v any) {
		buf = append(buf, k...)
		buf = append(buf, ':')
		if text, _, ok := appendReading(buf, v); ok {
			buf = text
		} else {
			buf = fmt.Appendf(buf, "%v", v)
		}
		ends = append(ends, len(buf))
	}
	for _, k := range keys {
		if prefix, ok := strings.CutSuffix(k, "*"); ok && sorted != nil {
			// The keys with a prefix are one run of the sorted entries.
			i, _ := slices.BinarySearchFunc(sorted, prefix, func(e entry, p string) int { return strings.Compare(e.name, p) })
			for _, e := range sorted[i:] {
				if !strings.HasPrefix(e.name, prefix) {
					break
				}
				if e.value != nil {
					add(e.name, e.value)
				}
			}
			continue
		}
		if prefix, ok := strings.CutSuffix(k, "*"); ok {
			matched = matched[:0]
			for mk, v := range m {
				if v != nil && strings.HasPrefix(mk, prefix) {
					matched = append(matched, mk)
				}
			}
			slices.Sort(matched)
			for _, mk := range matched {
				add(mk, m[mk])
			}
			continue
		}
		if v := m[k]; v != nil {
			add(k, v)
		}
	}
	text := string(buf)
	out := make([]string, len(ends))
	prev := 0
	for i, e := range ends {
		out[i] = text[prev:e]
		prev = e
	}
	return out, nil
}

func fnJSON(args ...any) (any, error) {
	if err := argc("json", args, 1, 1); err != nil {
		return nil, err
	}
	b, err := json.Marshal(plain(args[0], 0))
	if err != nil {
		return nil, fmt.Errorf("json: %w", err)
	}
	return string(b), nil
}

func fnPlain(args ...any) (any, error) {
	if err := argc("plain", args, 1, 1); err != nil {
		return nil, err
	}
	return plain(args[0], 0), nil
}

func fnCodeList(args ...any) (any, error) {
	if err := argc("codeList", args, 2, 3); err != nil {
		return nil, err
	}
	source, ok := args[1].(string)
	if !ok || source == "" {
		return nil, fmt.Errorf("codeList: source %s must be non-empty text", describe(args[1]))
	}
	describeCodes := false
	if len(args) == 3 {
		if describeCodes, ok = args[2].(bool); !ok {
			return nil, fmt.Errorf("codeList: describe %s must be true or false", describe(args[2]))
		}
	}
	codes := appendCodeEntries(nil, source, args[0], describeCodes)
	out := make([]any, len(codes))
	for i, c := range codes {
		m := map[string]any{"CodeSource": c.source, "CodeIdentifier": c.id}
		if c.desc != "" {
			m["CodeDescription"] = c.desc
		}
		out[i] = m
	}
	return out, nil
}
