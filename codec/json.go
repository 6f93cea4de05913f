package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// DecodeJSON decodes a JSON value that must be a single object. Numbers are
// kept exact as json.Number; strings, booleans, null, arrays and objects
// become string, bool, nil, []any and map[string]any. Duplicate keys keep the
// last value and invalid UTF-8 is replaced by U+FFFD (encoding/json rules).
//
// Invalid JSON, trailing data after the object, and a top level that is not
// an object fail with an *Error of ClassInvalidJSON that names the 0-based
// byte offset of the problem or what was found instead.
func DecodeJSON(value []byte) (any, error) {
	start := skipSpace(value, 0)
	if start == len(value) {
		return nil, newError(ClassInvalidJSON, 0, "empty input, want a JSON object")
	}
	if value[start] != '{' {
		if kind := jsonKind(value[start]); kind != "" && json.Valid(value) {
			return nil, newError(ClassInvalidJSON, 0, "top level is a JSON %s, want an object", kind)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(value))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			// Offset counts the bytes read, including the offending one.
			return nil, newError(ClassInvalidJSON, 0, "at byte %d: %w", max(se.Offset-1, 0), err)
		case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
			return nil, newError(ClassInvalidJSON, 0, "at byte %d: unexpected end of input", len(value))
		default:
			return nil, newError(ClassInvalidJSON, 0, "%w", err)
		}
	}
	if end := skipSpace(value, int(dec.InputOffset())); end != len(value) {
		return nil, newError(ClassInvalidJSON, 0, "at byte %d: trailing data after the JSON object", end)
	}
	m, ok := v.(map[string]any)
	if !ok {
		// Unreachable given the checks above, kept so no value other than an
		// object ever escapes.
		return nil, newError(ClassInvalidJSON, 0, "top level is not a JSON object")
	}
	return m, nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func jsonKind(c byte) string {
	switch {
	case c == '[':
		return "array"
	case c == '"':
		return "string"
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "number"
	}
	return ""
}
