// Package config loads, validates and prints telebridge's single YAML
// configuration file.
//
// Loading is strict: the file is decoded through yaml.Node so that an unknown
// or misspelled key, a value of the wrong type, an unset environment variable
// and every semantic problem found by Validate are reported together, each
// naming the file, line and key path, for example
//
//	bridge.yaml:14: sources[0].grup_id: unknown key; did you mean "group_id"? (allowed: name, cluster, ...)
//
// Environment references (${NAME}, ${NAME:-default}, $$ for a literal $) are
// expanded in every scalar value after YAML parsing, so a secret containing
// YAML-special characters needs no quoting. Map keys are never expanded.
//
// Secrets (SASL, TLS key and registry passwords) have type Secret, which
// prints as "[redacted]" through fmt, encoding/json, YAML, text and slog
// encoders; Config.Redacted and Config.String print the effective
// configuration without secrets, and error messages never contain the value
// of an expanded environment variable.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/telebridge/telebridge/bridge/profile"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Security protocols accepted in clusters.<name>.security_protocol. Input is
// case-insensitive and normalised to these spellings.
const (
	ProtocolPlaintext     = "PLAINTEXT"
	ProtocolSSL           = "SSL"
	ProtocolSASLPlaintext = "SASL_PLAINTEXT"
	ProtocolSASLSSL       = "SASL_SSL"
)

// SASL mechanisms accepted in clusters.<name>.sasl.mechanism (default PLAIN).
const (
	MechanismPlain       = "PLAIN"
	MechanismSCRAMSHA256 = "SCRAM-SHA-256"
	MechanismSCRAMSHA512 = "SCRAM-SHA-512"
)

// Source profiles. ProfileTrackunitInsights decodes Avro through a schema
// registry; ProfileMobito decodes JSON.
const (
	ProfileTrackunitInsights = "trackunit-insights"
	ProfileMobito            = "mobito"
	// ProfileMapping runs the declarative mapping file in
	// sources[].mapping; its format (json or avro) comes from the file.
	ProfileMapping = "mapping"
)

// Where a source starts reading (sources[].start).
const (
	// StartCommitted resumes from the group's committed offsets, or the
	// earliest offset of partitions that have none.
	StartCommitted = "committed"
	// StartEarliest resets the group to the beginning of every partition at
	// startup.
	StartEarliest = "earliest"
	// StartLatest resets the group to the end of every partition at startup.
	StartLatest = "latest"
)

// Avro decode modes (sources[].decode), for Avro profiles only.
const (
	// DecodePinned resolves every record from its writer schema into the
	// profile's reader schema.
	DecodePinned = "pinned"
	// DecodeWriter decodes with the writer schema, so new fields flow through.
	DecodeWriter = "writer"
)

// SinkKafka is the sinks[].type of Kafka push sinks (SinkMQTT: mqtt.go).
const SinkKafka = "kafka"

// Object-sync types a sink can receive (sinks[].types, {type} in topics).
const (
	TypeAsset      = "asset"
	TypeLocation   = "location"
	TypeSensorData = "sensordata"
	TypeReeferData = "reeferdata"
	TypeGensetData = "gensetdata"
	TypeGtoemData  = "gtoemdata"
)

// Defaults applied by Load and Parse to keys that are absent (or, for
// strings, empty).
const (
	DefaultLogLevel        = "info"
	DefaultLogFormat       = "console"
	DefaultClientID        = "telebridge"
	DefaultRegistryTimeout = 10 * time.Second
	DefaultSourceInFlight  = 2000
	DefaultSinkInFlight    = 10000
	DefaultEventIDField    = "eventId"
	DefaultMaxAttempts     = 5
	DefaultInitialBackoff  = 200 * time.Millisecond
	DefaultMaxBackoff      = 30 * time.Second
	DefaultDeliveryTimeout = 30 * time.Second
	DefaultShutdownTimeout = 30 * time.Second
	DefaultCommitInterval  = time.Second
	DefaultAcks            = "all"
	DefaultCompression     = "none"
	DefaultGroupIDPrefix   = "telebridge-"
	TopicTypePlaceholder   = "{type}" // in sinks[].topic, replaced by the object type
)

// Internal limits and markers.
const (
	maxTopicLength = 249
	redactedText   = "[redacted]"
	aliasBudget    = 200_000
	maxSuggestLen  = 64
	minScrubLen    = 6
	maxErrors      = 100
)

// Profiles returns the source profiles this build understands.
func Profiles() []string { return []string{ProfileTrackunitInsights, ProfileMobito, ProfileMapping} }

// ObjectTypes returns the object-sync type names in their canonical order.
func ObjectTypes() []string {
	return []string{TypeAsset, TypeLocation, TypeSensorData, TypeReeferData, TypeGensetData, TypeGtoemData}
}

// ProfileIsAvro reports whether profile decodes Avro through a registry
// (and so needs sources[].registry and accepts sources[].decode).
func ProfileIsAvro(profile string) bool { return profile == ProfileTrackunitInsights }

// Config is a loaded configuration with defaults applied. Paths in errors
// and in Line/Pos use the YAML key names: "sources[0].group_id",
// "clusters.main.sasl.password", `clusters.main.properties["socket.timeout.ms"]`.
type Config struct {
	Log             Log
	Clusters        map[string]*Cluster // by name (the YAML key)
	Registries      map[string]*Registry
	Sources         []*Source
	Sinks           []*Sink
	DeadLetter      DeadLetter
	ShutdownTimeout time.Duration // drain-and-commit budget on SIGINT/SIGTERM
	CommitInterval  time.Duration // how often finished offsets are committed
	// InstanceID is this instance's stable name, used as every source's
	// group.instance.id (static group membership, KIP-345): a restarted
	// instance with the same name takes its partitions back without a
	// rebalance. "" means dynamic membership. InstanceIDFrom says where
	// the value came from (one of the InstanceIDFrom* constants).
	InstanceID     string
	InstanceIDFrom string
	KafkaWS        *KafkaWS // the Kafka WS endpoint; nil when not configured
	HTTP           HTTP     // health, metrics, API and dashboard listener
	History        History  // delivery history of every attempt

	// File is the name the configuration was loaded from ("" if none).
	File string

	meta *meta
	// lookup is the environment Parse expanded ${NAME} with; Validate and
	// EventIDInjection read MQTT_SET_EVENT_ID and KAFKA_SET_EVENT_ID
	// through it. nil means os.LookupEnv.
	lookup func(string) (string, bool)
}

// Log configures logging.
type Log struct {
	Level  string // debug, info, warn or error
	Format string // console or json
}

// Cluster is a named Kafka connection used by sources, sinks and the
// dead-letter topic.
type Cluster struct {
	Name             string
	BootstrapServers []string // host:port entries
	SecurityProtocol string   // one of the Protocol* constants
	SASL             *SASL    // non-nil iff SecurityProtocol is SASL_*
	TLS              *TLS     // optional, only with SSL or SASL_SSL
	ClientID         string
	// Properties are extra librdkafka properties; keys that would override
	// security or settings telebridge manages are rejected by Validate.
	Properties Properties
	Line       int // line of the cluster's key in the file (0 if unknown)
}

// SASL holds SASL credentials.
type SASL struct {
	Mechanism string // one of the Mechanism* constants
	Username  string
	Password  Secret
}

// TLS configures TLS towards brokers. Relative file paths are resolved
// against the configuration file's directory when loaded from a file.
type TLS struct {
	CAFile             string
	CertFile           string
	KeyFile            string
	KeyPassword        Secret
	InsecureSkipVerify bool
}

// Registry is a named Confluent-compatible schema registry.
type Registry struct {
	Name               string
	URL                string // http or https, without credentials
	Username           string // basic auth, together with Password
	Password           Secret
	Timeout            time.Duration // per request
	CAFile             string        // https only
	InsecureSkipVerify bool          // https only
	Line               int
}

// Source consumes topics from one cluster and decodes them with a profile.
type Source struct {
	Name        string
	Cluster     string // key of Config.Clusters
	Topics      []string
	GroupID     string
	Start       string // one of the Start* constants
	Profile     string // one of Profiles()
	Registry    string // key of Config.Registries; Avro profiles only
	Decode      string // one of the Decode* constants; "" for JSON profiles
	OwnerID     string // owner of all objects; "" means the source topic's name
	Mapping     string // mapping file of profile mapping, relative paths resolved against the config file
	Sinks       []string
	MaxInFlight int // records per partition before the partition is paused
	Line        int

	// OnIncompatibleSchema is one of the OnIncompatible* constants; "" for
	// JSON profiles.
	OnIncompatibleSchema string

	// compiled is the mapping compiled by validation (profile mapping).
	compiled *profile.Mapping
}

// CompiledMapping returns the mapping of a profile mapping source as
// compiled when the configuration was validated, or nil.
func (s *Source) CompiledMapping() *profile.Mapping { return s.compiled }

// Sink pushes normalised objects somewhere. Type selects which fields apply:
// SinkKafka uses Cluster, Key, Acks and Compression; SinkMQTT uses MQTT.
type Sink struct {
	Name            string
	Type            string
	Cluster         string // key of Config.Clusters
	Topic           string // may contain {type}; see TopicFor
	Key             string // dotted payload field path used as Kafka key; "" spreads evenly
	Acks            string // all, 1 or 0
	Types           []string
	EventID         EventID
	Retry           Retry
	DeliveryTimeout time.Duration // per attempt (librdkafka message.timeout.ms)
	Compression     string        // none, gzip, snappy, lz4 or zstd
	MaxInFlight     int           // messages awaiting acknowledgement
	MQTT            *MQTTSink     // settings of type mqtt sinks (nil for kafka)
	Line            int
}

// EventID controls injection of the deterministic eventId into payloads.
type EventID struct {
	Inject bool
	Field  string
}

// UnlimitedAttempts is Retry.MaxAttempts for `max_attempts: unlimited`:
// failed deliveries are retried until they succeed, so the sink
// dead-letters nothing. It has the value of sinks.UnlimitedAttempts.
const UnlimitedAttempts = -1

// UnlimitedText is how max_attempts spells UnlimitedAttempts.
const UnlimitedText = "unlimited"

// Retry is the exponential backoff policy for failed deliveries.
type Retry struct {
	// MaxAttempts counts every attempt, the first included, or is
	// UnlimitedAttempts. Attempts that fail because the destination is
	// unreachable do not count.
	MaxAttempts    int
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
}

// DeadLetter is where poison input and undeliverable objects go.
type DeadLetter struct {
	Cluster string
	Topic   string
	Line    int
}

// TopicFor returns the topic for objectType: Topic with every {type}
// replaced by objectType.
func (s *Sink) TopicFor(objectType string) string {
	return strings.ReplaceAll(s.Topic, TopicTypePlaceholder, objectType)
}

// Accepts reports whether the sink receives objects of objectType.
func (s *Sink) Accepts(objectType string) bool {
	for _, t := range s.Types {
		if t == objectType {
			return true
		}
	}
	return false
}

// Line returns the line of the key at path (for example "sources[0].topics"),
// or of its nearest ancestor present in the file; 0 if unknown.
func (c *Config) Line(path string) int {
	if c == nil || c.meta == nil {
		return 0
	}
	return c.meta.line(path)
}

// Pos returns "file:line" for path, for citing the configuration in runtime
// errors; it degrades to the file name alone, or "", when unknown.
func (c *Config) Pos(path string) string {
	if c == nil {
		return ""
	}
	l := c.Line(path)
	switch {
	case c.File != "" && l > 0:
		return c.File + ":" + strconv.Itoa(l)
	case l > 0:
		return "line " + strconv.Itoa(l)
	default:
		return c.File
	}
}

// Load reads the file at path and returns its configuration, parsed as by
// Parse. lookupEnv resolves ${NAME} references; nil means os.LookupEnv. A
// read failure is returned wrapped; content problems as *Errors.
func Load(path string, lookupEnv func(string) (string, bool)) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(data, path, lookupEnv)
}

// Parse decodes data strictly, expands environment references, applies
// defaults and validates the result. filename is used in error messages and
// as the base for relative file paths (the working directory when it is
// ""). lookupEnv nil means os.LookupEnv.
//
// On failure it returns a nil Config and an *Errors holding every problem
// found (syntax, unknown keys, types, unset variables, validation), sorted
// by line.
func Parse(data []byte, filename string, lookupEnv func(string) (string, bool)) (*Config, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	m := newMeta()
	root, synErr := parseYAML(data, filename)
	if synErr != nil {
		return nil, &Errors{List: []*FieldError{synErr}}
	}
	d := &decoder{file: filename, lookup: lookupEnv, m: m, budget: aliasBudget}
	if filename != "" {
		d.baseDir = filepath.Dir(filename)
	}
	c := d.config(root)
	c.File = filename
	c.meta = m
	c.lookup = lookupEnv
	c.applyInstanceID(lookupEnv, os.Hostname) // before the defaults that use it
	c.applyDefaults()
	all := append(d.errs, c.validate()...)
	if len(all) > 0 {
		return nil, c.finish(all)
	}
	return c, nil
}

// parseYAML parses exactly one YAML document. An empty input yields an empty
// mapping so that validation reports what is required.
func parseYAML(data []byte, filename string) (root *yaml.Node, fe *FieldError) {
	defer func() {
		// The YAML library converts its own panics into errors; this is a
		// last guard so that no input can crash the caller.
		if r := recover(); r != nil {
			root, fe = nil, &FieldError{File: filename, Msg: fmt.Sprintf("invalid YAML: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: 1, Column: 1}, nil
		}
		return nil, yamlError(filename, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &FieldError{File: filename, Line: extra.Line, Msg: "more than one YAML document; the configuration must be a single document"}
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(filename, err)
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0], nil
	}
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: 1, Column: 1}, nil
}

// yamlError turns "yaml: line 3: msg" into a FieldError at line 3.
func yamlError(filename string, err error) *FieldError {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(rest, ": "); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				line, msg = n, rest[i+2:]
			}
		}
	}
	return &FieldError{File: filename, Line: line, Msg: "invalid YAML: " + msg}
}
