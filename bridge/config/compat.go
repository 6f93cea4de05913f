package config

// What an Avro source does with records whose writer schema its profile's
// pinned reader schema cannot read (sources[].on_incompatible_schema).
const (
	// OnIncompatibleDeadLetter sends every such record to the dead-letter
	// topic (class incompatible-schema, with the list of incompatibilities
	// in a header) and goes on with the partition.
	OnIncompatibleDeadLetter = "dead-letter"
	// OnIncompatibleStop stops the bridge with the list of
	// incompatibilities in the error, without committing the record, so
	// nothing is lost: after a fix, the bridge resumes at that record.
	OnIncompatibleStop = "stop"
)
