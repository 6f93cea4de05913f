package schemas

import "embed"

// schemaFiles holds the schema documents; embed.FS is read-only.
//
//go:embed jsonschema/*.json avro/*.avsc
var schemaFiles embed.FS

// JSONSchema returns the JSON Schema (draft 2020-12) document of type t, or
// nil for an unknown type. The schema requires exactly the specification's
// required fields, checks date-time formats, int64/int32 ranges, coordinate
// ranges and the SensorData type enum, and allows additional members (such
// as an injected eventId). The returned slice is a fresh copy.
func JSONSchema(t Type) []byte {
	if !t.Valid() {
		return nil
	}
	b, err := schemaFiles.ReadFile("jsonschema/" + string(t) + ".json")
	if err != nil {
		return nil
	}
	return b
}

// AvroSchema returns the Avro schema (record io.telebridge.objectsync.<Title>)
// of type t, or "" for an unknown type. Field names and required-ness match
// the JSON encoding; optional fields are ["null", T] with default null;
// date-time fields are strings holding RFC 3339 UTC text (as in the JSON);
// ids are long and payloadType int; the free-form data object is a string
// holding its JSON text (see AvroRecord).
func AvroSchema(t Type) string {
	if !t.Valid() {
		return ""
	}
	b, err := schemaFiles.ReadFile("avro/" + string(t) + ".avsc")
	if err != nil {
		return ""
	}
	return string(b)
}
