// Package codec turns raw Kafka record values into plain, JSON-ready Go values.
//
// It implements the Confluent wire format (ParseWire, AppendWire), a Schema
// Registry client with a per-id cache and outage-tolerant retries (Registry),
// Avro decoding with writer-to-reader schema resolution (AvroDecoder) and JSON
// decoding (DecodeJSON).
//
// Every failure caused by the input itself ("poison") is reported as an *Error
// whose Class is one of the stable Class constants; callers dead-letter those
// and move on. Any other error (context cancellation while the registry is
// unreachable) means "stop and retry later", never "skip".
//
// Decoded values use only these Go types: nil, bool, int64, float64, string,
// []byte, []any and map[string]any (plus json.Number from DecodeJSON), so they
// can be fed to encoding/json or a mapping layer without type switches on
// library-specific types.
package codec
