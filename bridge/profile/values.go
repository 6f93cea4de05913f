package profile

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/telebridge/telebridge/schemas"
)

// numKind classifies a value as a sensor reading.
type numKind uint8

const (
	kindNone    numKind = iota // nil or not a scalar
	kindInteger                // integral number (Go integer, json.Number or text without fraction/exponent)
	kindDecimal                // any other finite number
	kindBool
	kindString
)

// asFloat converts any numeric kind, json.Number or numeric string to a
// float64. It reports false for nil, other kinds, text that is not a
// decimal number (including "NaN", "Inf" and hex floats) and non-finite
// values.
func asFloat(v any) (float64, bool) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case int:
		return float64(x), true
	case int16:
		return float64(x), true
	case int8:
		return float64(x), true
	case uint64:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint:
		return float64(x), true
	case json.Number:
		return parseDecimal(string(x))
	case string:
		return parseDecimal(x)
	default:
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// asInt converts an integral value (any integer kind, an integral float,
// json.Number or numeric string) to int64.
func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case int:
		return int64(x), true
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i, true
		}
	case string:
		if i, err := strconv.ParseInt(x, 10, 64); err == nil {
			return i, true
		}
	}
	f, ok := asFloat(v)
	if !ok || f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
		return 0, false
	}
	return int64(f), true
}

// parseDecimal parses s when it is a plain decimal number: an optional sign,
// digits with an optional fraction, and an optional exponent.
func parseDecimal(s string) (float64, bool) {
	if numberSyntax(s) == kindNone {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// numberSyntax reports kindInteger for an optionally signed run of digits
// that fits int64, kindDecimal for any other decimal number literal
// (fraction or exponent) and kindNone for anything else.
func numberSyntax(s string) numKind {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	intDigits := i - start
	if i == len(s) {
		if intDigits == 0 {
			return kindNone
		}
		if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			return kindDecimal // too large for int64
		}
		return kindInteger
	}
	fracDigits := 0
	if s[i] == '.' {
		i++
		f := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		fracDigits = i - f
	}
	if intDigits+fracDigits == 0 {
		return kindNone
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		e := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == e {
			return kindNone
		}
	}
	if i != len(s) {
		return kindNone
	}
	return kindDecimal
}

// appendFloat appends f like encoding/json: shortest representation,
// exponent form only for very small or very large magnitudes.
func appendFloat(dst []byte, f float64) []byte {
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		return strconv.AppendFloat(dst, f, 'e', -1, 64)
	}
	return strconv.AppendFloat(dst, f, 'f', -1, 64)
}

// appendReading appends the text of a scalar reading v and reports its
// SensorData type. Floats are DECIMAL even when integral, so an Avro double
// keeps one type; Go integers are INTEGER; json.Number and strings are
// classified by their text (see classifyText). Nil, non-finite floats,
// maps, slices and other kinds report ok false and append nothing.
func appendReading(dst []byte, v any) (out []byte, typ string, ok bool) {
	switch x := v.(type) {
	case bool:
		return strconv.AppendBool(dst, x), schemas.ValueBoolean, true
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return dst, "", false
		}
		return appendFloat(dst, x), schemas.ValueDecimal, true
	case float32:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return dst, "", false
		}
		return strconv.AppendFloat(dst, f, 'g', -1, 32), schemas.ValueDecimal, true
	case int64:
		return strconv.AppendInt(dst, x, 10), schemas.ValueInteger, true
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), schemas.ValueInteger, true
	case int:
		return strconv.AppendInt(dst, int64(x), 10), schemas.ValueInteger, true
	case json.Number:
		return append(dst, x...), classifyText(string(x)), true
	case string:
		return append(dst, x...), classifyText(x), true
	}
	return dst, "", false
}

// classifyText types a textual value: BOOLEAN for "true"/"false", INTEGER
// for a signed digit run that fits int64, DECIMAL for other decimal number
// literals ("12.56", "680.0", "1e3"), STRING for everything else ("OK",
// "2027-02", "NaN").
func classifyText(s string) string {
	switch s {
	case "true", "false":
		return schemas.ValueBoolean
	}
	switch numberSyntax(s) {
	case kindInteger:
		return schemas.ValueInteger
	case kindDecimal:
		return schemas.ValueDecimal
	}
	return schemas.ValueString
}

// scalarKind classifies v for insight-shape detection.
func scalarKind(v any) numKind {
	switch x := v.(type) {
	case nil:
		return kindNone
	case bool:
		return kindBool
	case float64:
		return kindDecimal
	case float32:
		return kindDecimal
	case int64, int32, int:
		return kindInteger
	case json.Number:
		if numberSyntax(string(x)) == kindNone {
			return kindString
		}
		return kindDecimal
	case string:
		return kindString
	}
	return kindNone
}

// Bounds of a datetime in Unix milliseconds that RFC 3339 can write (years
// 0001 to 9999).
const (
	minMillis = -62135596800000
	maxMillis = 253402300799999
)

// asTime converts a data-point time: Unix epoch milliseconds as any numeric
// kind or numeric text, an RFC 3339 string (a codec rendering of a logical
// type), or a time.Time. It returns the zero time and nil for nil, and an
// error for anything else or a time outside years 1..9999.
func asTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case nil:
		return time.Time{}, nil
	case time.Time:
		if y := x.UTC().Year(); y < 1 || y > 9999 {
			return time.Time{}, fmt.Errorf("year %d is out of range", y)
		}
		return x.UTC(), nil
	case string:
		if numberSyntax(x) == kindNone {
			t, err := time.Parse(time.RFC3339Nano, x)
			if err != nil {
				return time.Time{}, fmt.Errorf("%q is neither epoch milliseconds nor RFC 3339", x)
			}
			return asTime(t)
		}
	}
	ms, ok := asInt(v)
	if !ok {
		if f, fok := asFloat(v); fok && f > minMillis && f < maxMillis {
			ms, ok = int64(f), true
		}
	}
	if !ok {
		return time.Time{}, fmt.Errorf("%v (%T) is not epoch milliseconds", v, v)
	}
	if ms < minMillis || ms > maxMillis {
		return time.Time{}, fmt.Errorf("%d ms is outside years 1..9999", ms)
	}
	return time.UnixMilli(ms).UTC(), nil
}

// maxPlainDepth bounds the nesting copied by plain.
const maxPlainDepth = 32

// plain returns a JSON-ready deep copy of a decoded value for a GtoemData
// data map: []byte becomes lower-case hex text, time.Time RFC 3339 text,
// non-finite floats and values nested deeper than maxPlainDepth null, other
// integer kinds int64 and unknown kinds their fmt text.
func plain(v any, depth int) any {
	if depth > maxPlainDepth {
		return nil
	}
	switch x := v.(type) {
	case nil, string, bool, int64, json.Number:
		return x
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return x
	case float32:
		return plain(float64(x), depth)
	case int32:
		return int64(x)
	case int:
		return int64(x)
	case []byte:
		return hex.EncodeToString(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = plain(e, depth+1)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = plain(e, depth+1)
		}
		return s
	}
	return fmt.Sprint(v)
}

// asString returns v when it is a non-empty string (or json.Number text).
func asString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, x != ""
	case json.Number:
		return string(x), x != ""
	}
	return "", false
}

// fnv64 is an FNV-1a accumulator for asset fingerprints.
type fnv64 uint64

const (
	fnvOffset fnv64 = 14695981039346656037
	fnvPrime  fnv64 = 1099511628211
)

// str mixes s followed by a separator, so ("ab","c") and ("a","bc") differ.
func (h fnv64) str(s string) fnv64 {
	for i := 0; i < len(s); i++ {
		h ^= fnv64(s[i])
		h *= fnvPrime
	}
	h ^= 0xff
	h *= fnvPrime
	return h
}

// opt mixes an optional string, distinguishing absent from empty.
func (h fnv64) opt(s *string) fnv64 {
	if s == nil {
		h ^= 0xfe
		h *= fnvPrime
		return h
	}
	return h.str(*s)
}

// int mixes the 8 bytes of n.
func (h fnv64) int(n int64) fnv64 {
	for i := 0; i < 8; i++ {
		h ^= fnv64(byte(n >> (8 * i)))
		h *= fnvPrime
	}
	return h
}

// bytes mixes b followed by a separator, like str.
func (h fnv64) bytes(b []byte) fnv64 {
	for _, c := range b {
		h ^= fnv64(c)
		h *= fnvPrime
	}
	h ^= 0xff
	h *= fnvPrime
	return h
}
