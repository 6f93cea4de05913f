package kafkaws

import (
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// This file holds the few JavaScript conversions that dojot's filters rely
// on (dojot's kafka-ws is Node.js): Number(string), String(number) and
// truthiness. They follow ECMAScript's StringToNumber and Number::toString.

// jsWhite reports whether r is StrWhiteSpaceChar (WhiteSpace or
// LineTerminator), which Number() trims.
func jsWhite(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// jsNumber is JavaScript's Number(s) for a string: NaN (ok false) when s is
// not a StringNumericLiteral. A blank string is 0; "0x1F", "0o17", "0b101"
// (no sign), "Infinity", "+5", ".5", "5." and "1e3" are numbers.
func jsNumber(s string) float64 {
	s = strings.TrimFunc(s, jsWhite)
	if s == "" {
		return 0
	}
	if len(s) > 2 && s[0] == '0' {
		base := 0
		switch s[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 0 {
			var n big.Int
			for _, c := range s[2:] {
				d := digitVal(c)
				if d < 0 || d >= base {
					return math.NaN()
				}
			}
			n.SetString(s[2:], base)
			f, _ := new(big.Float).SetInt(&n).Float64()
			return f
		}
	}
	sign := 1.0
	body := s
	if body[0] == '+' || body[0] == '-' {
		if body[0] == '-' {
			sign = -1
		}
		body = body[1:]
	}
	if body == "Infinity" {
		return sign * math.Inf(1)
	}
	if !decimalLiteral(body) {
		return math.NaN()
	}
	f, err := strconv.ParseFloat(body, 64)
	if err != nil && !isRangeErr(err) {
		return math.NaN()
	}
	return sign * f
}

func digitVal(c rune) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// decimalLiteral reports whether s is StrUnsignedDecimalLiteral without
// "Infinity": digits with an optional fraction (either part may be empty,
// not both) and an optional exponent.
func decimalLiteral(s string) bool {
	i, digits := 0, 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		e := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			e++
		}
		if e == 0 {
			return false
		}
	}
	return i == len(s)
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// jsNumberString is JavaScript's String(f) (Number::toString with radix
// 10): the shortest digits that round-trip, in plain notation from 1e-7 to
// 1e21 and exponent notation ("1e+21", "1.5e-7") outside.
func jsNumberString(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	}
	neg := f < 0
	if neg {
		f = -f
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±xx
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	k := len(digits)
	n := x + 1 // position of the decimal point
	var out string
	switch {
	case k <= n && n <= 21:
		out = digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		out = digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		out = "0." + strings.Repeat("0", -n) + digits
	default:
		sign := "+"
		if n-1 < 0 {
			sign = "-"
		}
		ex := n - 1
		if ex < 0 {
			ex = -ex
		}
		out = digits[:1]
		if k > 1 {
			out += "." + digits[1:]
		}
		out += "e" + sign + strconv.Itoa(ex)
	}
	if neg {
		return "-" + out
	}
	return out
}

// jsToNumber is Number(v) for a message value after flattening (a
// primitive, or an empty array or object).
func jsToNumber(v any) float64 {
	switch x := v.(type) {
	case nil:
		return 0
	case bool:
		if x {
			return 1
		}
		return 0
	case string:
		return jsNumber(x)
	case []any:
		return 0 // String([]) is ""
	case map[string]any:
		return math.NaN() // "[object Object]"
	}
	if f, ok := floatOf(v); ok {
		return f
	}
	return math.NaN()
}

// jsToString is String(v) for a message value after flattening.
func jsToString(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	case string:
		return x
	case []any:
		return ""
	case map[string]any:
		return "[object Object]"
	}
	if f, ok := floatOf(v); ok {
		return jsNumberString(f)
	}
	return ""
}

// jsTruthy is JavaScript truthiness of a message value: false for null, false,
// 0, NaN and "".
func jsTruthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case []any, map[string]any:
		return true
	}
	if f, ok := floatOf(v); ok {
		return f != 0 && !math.IsNaN(f)
	}
	return true
}

// floatOf returns a JSON or Avro number as the double JavaScript would hold.
func floatOf(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil && !isRangeErr(err) {
			return 0, false
		}
		return f, true
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case int32:
		return float64(x), true
	}
	return 0, false
}

// isNumberValue is a JSON or Avro number.
func isNumberValue(v any) bool {
	_, ok := floatOf(v)
	return ok
}
