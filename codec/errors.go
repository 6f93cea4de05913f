package codec

import (
	"errors"
	"fmt"
)

// Class names a kind of poison input. Class values are written into
// dead-letter headers, so they are part of the external contract: never rename
// them, only add new ones.
type Class string

const (
	// ClassBadMagic: the value is not in the Confluent wire format (shorter
	// than 5 bytes or the first byte is not 0).
	ClassBadMagic Class = "bad-magic"
	// ClassUnknownSchema: the registry answered "schema not found" for the
	// value's schema id NotFoundAttempts times.
	ClassUnknownSchema Class = "unknown-schema-id"
	// ClassCorruptAvro: the Avro payload does not match its writer schema:
	// truncated data, invalid lengths, counts, union or enum indexes, varints
	// that overflow, values out of range for their logical type, nesting
	// deeper than the decoder allows, or trailing bytes after a complete
	// record.
	ClassCorruptAvro Class = "corrupt-avro"
	// ClassInvalidJSON: the value is not a single JSON object.
	ClassInvalidJSON Class = "invalid-json"
	// ClassUnsupportedSchema: the registry returned a schema that is not Avro
	// or cannot be parsed, or the writer schema cannot be resolved into the
	// pinned reader schema.
	ClassUnsupportedSchema Class = "unsupported-schema"
)

// Error is a poison-input failure. The same input always fails the same way,
// so retrying is pointless: dead-letter it.
type Error struct {
	// Class is the stable failure class.
	Class Class
	// SchemaID is the Confluent schema id the value carried, or 0 when it is
	// unknown or not applicable (bad magic, JSON).
	SchemaID int
	// Err is the underlying cause.
	Err error
}

// Error returns "<class>: <cause>" or "<class> (schema id N): <cause>".
func (e *Error) Error() string {
	if e.SchemaID != 0 {
		return fmt.Sprintf("%s (schema id %d): %v", e.Class, e.SchemaID, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Class, e.Err)
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// ClassOf reports the Class of the first *Error in err's chain. It returns
// false for nil and for errors that are not poison input, such as context
// cancellation during a registry outage.
func ClassOf(err error) (Class, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Class, true
	}
	return "", false
}

func newError(class Class, id int, format string, args ...any) *Error {
	return &Error{Class: class, SchemaID: id, Err: fmt.Errorf(format, args...)}
}
