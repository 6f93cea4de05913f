// Package compat decides whether Avro schemas are compatible, exactly as
// the schema resolution section of the Avro specification defines it, and
// applies Confluent Schema Registry's compatibility levels (BACKWARD,
// FORWARD, FULL, their _TRANSITIVE variants, NONE) to a history of
// versions.
//
// Unlike a yes/no check it reports every incompatibility, each with a type
// (the names Apache Avro and Confluent use), a JSON pointer into the reader
// and the writer schema, and a sentence for people. Schemas are parsed from
// their JSON text by Parse, which remembers where every element was
// written: parse errors name a line and column, and findings can be mapped
// back to a line and column of the schema file (Schema.Position), which the
// report writers use for SARIF annotations.
//
// Typical use:
//
//	cand, err := compat.Parse(newText)
//	old, err := compat.Parse(oldText)
//	rep, err := compat.CheckLevel(compat.Backward, cand, []compat.Version{{Label: "v1", Schema: old}})
//	if !rep.Compatible { ... rep.Findings() ... }
//
// Check, CheckLevel and the report writers never modify their inputs and
// are safe for concurrent use.
package compat
