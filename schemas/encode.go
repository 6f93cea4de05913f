package schemas

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// maxDataDepth bounds the nesting of data maps and arrays that AppendJSON
// descends into; deeper values (or cyclic ones) are encoded as null instead
// of overflowing the stack.
const maxDataDepth = 1000

const hexDigits = "0123456789abcdef"

// asciiSafe marks with '1' the ASCII bytes a JSON string holds as they are
// (encoding/json's safe set: control characters, '"', '\\' and the HTML
// characters '<', '>' and '&' are escaped). A constant string, so the table
// is immutable.
const asciiSafe = "00000000000000000000000000000000" + // 0x00-0x1f
	"11011101111111111111111111110101" + // 0x20-0x3f
	"11111111111111111111111111110111" + // 0x40-0x5f
	"11111111111111111111111111111111" // 0x60-0x7f

// appendString appends s as a JSON string exactly as encoding/json does with
// its default HTML escaping: '"', '\\', control characters, '<', '>', '&',
// U+2028 and U+2029 are escaped, and invalid UTF-8 bytes become \ufffd.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if asciiSafe[b] == '1' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendFloat appends f formatted as encoding/json formats a float of the
// given bit size (shortest representation; exponent form below 1e-6 and from
// 1e21). NaN and ±Inf, which JSON cannot represent, are appended as null.
func appendFloat(dst []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// appendTime appends t as a quoted RFC 3339 timestamp in UTC, with
// sub-second digits only when they are non-zero (time.RFC3339Nano).
func appendTime(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = t.UTC().AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"')
}

// appendExtra appends the injected member ,"field":"value" unless field is
// empty or names a spec field of t (which would duplicate a key).
func appendExtra(dst []byte, t Type, field, value string) []byte {
	if field == "" {
		return dst
	}
	if HasField(t, field) {
		return dst
	}
	dst = append(dst, ',')
	dst = appendString(dst, field)
	dst = append(dst, ':')
	return appendString(dst, value)
}

// appendMap appends m as a JSON object with its keys sorted, like
// encoding/json. A nil map is appended as null.
func appendMap(dst []byte, m map[string]any, depth int) []byte {
	if m == nil || depth > maxDataDepth {
		return append(dst, "null"...)
	}
	var stack [16]string
	keys := stack[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k)
		dst = append(dst, ':')
		dst = appendValue(dst, m[k], depth+1)
	}
	return append(dst, '}')
}

// appendValue appends one data-map value. Common kinds are encoded directly;
// anything else goes through encoding/json, and a value encoding/json cannot
// encode (or one nested deeper than maxDataDepth) becomes null, so the
// output is always valid JSON.
func appendValue(dst []byte, v any, depth int) []byte {
	if depth > maxDataDepth {
		return append(dst, "null"...)
	}
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...)
	case string:
		return appendString(dst, x)
	case bool:
		return strconv.AppendBool(dst, x)
	case float64:
		return appendFloat(dst, x, 64)
	case float32:
		return appendFloat(dst, float64(x), 32)
	case int:
		return strconv.AppendInt(dst, int64(x), 10)
	case int8:
		return strconv.AppendInt(dst, int64(x), 10)
	case int16:
		return strconv.AppendInt(dst, int64(x), 10)
	case int32:
		return strconv.AppendInt(dst, int64(x), 10)
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case uint:
		return strconv.AppendUint(dst, uint64(x), 10)
	case uint8:
		return strconv.AppendUint(dst, uint64(x), 10)
	case uint16:
		return strconv.AppendUint(dst, uint64(x), 10)
	case uint32:
		return strconv.AppendUint(dst, uint64(x), 10)
	case uint64:
		return strconv.AppendUint(dst, x, 10)
	case uintptr:
		return strconv.AppendUint(dst, uint64(x), 10)
	case json.Number:
		return appendNumber(dst, x)
	case []byte:
		if x == nil {
			return append(dst, "null"...)
		}
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, x)
		return append(dst, '"')
	case time.Time:
		return appendTime(dst, x)
	case map[string]any:
		return appendMap(dst, x, depth)
	case []any:
		if x == nil {
			return append(dst, "null"...)
		}
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendValue(dst, e, depth+1)
		}
		return append(dst, ']')
	case []string:
		if x == nil {
			return append(dst, "null"...)
		}
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, e)
		}
		return append(dst, ']')
	}
	b, err := json.Marshal(v)
	if err != nil {
		return append(dst, "null"...)
	}
	return append(dst, b...)
}

// appendNumber appends a json.Number: its text when it is a valid JSON
// number, 0 when empty (as encoding/json does), and otherwise the text as a
// JSON string (encoding/json would fail instead).
func appendNumber(dst []byte, n json.Number) []byte {
	s := string(n)
	if s == "" {
		return append(dst, '0')
	}
	if !isValidNumber(s) {
		return appendString(dst, s)
	}
	return append(dst, s...)
}

// isValidNumber reports whether s is a JSON number literal (RFC 8259).
func isValidNumber(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '-' {
		s = s[1:]
		if s == "" {
			return false
		}
	}
	switch {
	case s[0] == '0':
		s = s[1:]
	case '1' <= s[0] && s[0] <= '9':
		s = s[1:]
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	default:
		return false
	}
	if len(s) >= 2 && s[0] == '.' && '0' <= s[1] && s[1] <= '9' {
		s = s[2:]
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	}
	if len(s) >= 2 && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		if s[0] == '+' || s[0] == '-' {
			s = s[1:]
			if s == "" {
				return false
			}
		}
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	}
	return s == ""
}
