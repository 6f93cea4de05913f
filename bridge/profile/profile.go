// Package profile normalises decoded source records into object-sync objects
// (schemas.Asset, Location, SensorData, GtoemData).
//
// A Profile knows one source feed: "trackunit-insights" (Trackunit Machine
// Insights, Avro via a Confluent Schema Registry) and "mobito" (MOBITO Push
// API, JSON). It receives the plain Go values the codec package produces
// (map[string]any, []any, nil, bool, int64, float64, string, []byte,
// json.Number) and is liberal about numbers: every integer and float kind,
// json.Number and numeric strings are accepted where a number is expected.
//
// Output order is deterministic for a given input. The Asset, when emitted, is
// always the LAST object: assets are emitted only when first seen or changed
// (a per-profile LRU cache), and keeping them last means the index, and so the
// pipeline-assigned record id and eventId, of every other object does not
// depend on the cache state when a record is redelivered.
//
// Objects derived from one record share memory (one SensorData slab, one
// text buffer, one when_received value, the input's strings): treat them as
// read-only apart from SetRecordID.
//
// Profiles are safe for concurrent use by several partition workers; their
// only shared state is the asset-change cache (behind a mutex) and, for
// mobito, a lock-free cache of the last member layout.
package profile

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/telebridge/telebridge/codec"
	"github.com/telebridge/telebridge/schemas"
)

// Input is one decoded source record.
type Input struct {
	Topic     string
	Partition int32
	Offset    int64
	// Timestamp is the Kafka record timestamp. It is the receive time of
	// every object (when_received) and the fallback for missing data-point
	// times.
	Timestamp time.Time
	Key       []byte
	// Value is the decoded value: map[string]any for both feeds.
	Value any
	// Headers are the Kafka record headers; the pipeline fills them only
	// for a mapping that reads kafka.headers (Mapping.UsesHeaders).
	Headers []Header
}

// Format is the wire format a profile expects from the codec.
type Format string

// Formats.
const (
	FormatAvro Format = "avro"
	FormatJSON Format = "json"
)

// Profile names.
const (
	NameTrackunit = "trackunit-insights"
	NameMobito    = "mobito"
)

// Profile normalises one source feed.
type Profile interface {
	// Name is the profile name passed to New.
	Name() string
	// Format is the input format the codec must decode.
	Format() Format
	// Types lists every object type Normalize can produce, in canonical
	// order (TypesOf of the profile's name). Routing uses it to tell which
	// types no sink accepts.
	Types() []schemas.Type
	// Normalize appends the objects derived from in to dst, in a
	// deterministic order (the Asset, if any, last). Record ids that the
	// source does not supply are left 0; the pipeline assigns deterministic
	// ids from source coordinates and object index. A returned error means
	// the record is poison (cannot produce required fields); it is always a
	// *MappingError naming the field path, and dst is returned unchanged.
	Normalize(in *Input, dst []schemas.Object) ([]schemas.Object, error)
	// MessageID returns the feed's own id of the message in in (MOBITO's
	// uuid), or "" when the feed or the message has none. The pipeline
	// carries it with every object derived from the message, so users can
	// trace an object back to the provider's message.
	MessageID(in *Input) string
}

// Options configures a profile.
type Options struct {
	// OwnerID is the ownerId of every object of the trackunit-insights
	// profile; empty means the source topic name (Trackunit uses one topic
	// per customer). The mobito profile takes the owner from fleet_id and
	// ignores OwnerID.
	OwnerID string
	// MaxAssets bounds the asset-change cache (least recently used assets
	// are forgotten and re-emitted when seen again). Zero or negative means
	// DefaultMaxAssets.
	MaxAssets int
	// Mapping is the compiled mapping of profile "mapping" (LoadMapping);
	// required for that profile, ignored by the others.
	Mapping *Mapping
}

// DefaultMaxAssets is the asset-change cache bound used when
// Options.MaxAssets is not positive.
const DefaultMaxAssets = 100000

// Names lists the profile names New accepts.
func Names() []string { return []string{NameTrackunit, NameMobito} }

// produces declares every object type the profile called name can
// produce (tests hold each profile to it over its samples); ok is false for
// an unknown name.
func produces(name string) (types []schemas.Type, ok bool) {
	switch name {
	case NameTrackunit:
		// Asset (Metadata), Location, SensorData (insights, CAN values,
		// advanced sensors, location details) and GtoemData (CAN
		// messages, fault codes, access-control events).
		return []schemas.Type{schemas.TypeAsset, schemas.TypeLocation, schemas.TypeSensorData, schemas.TypeGtoemData}, true
	case NameMobito:
		// Asset (from the VIN), Location, SensorData and GtoemData
		// (one per dtc_data / check_control_messages code).
		return []schemas.Type{schemas.TypeAsset, schemas.TypeLocation, schemas.TypeSensorData, schemas.TypeGtoemData}, true
	}
	return nil, false
}

// TypesOf lists the object types the profile called name can produce, in
// canonical order, without building the profile. An unknown name is an
// error listing the allowed names.
func TypesOf(name string) ([]schemas.Type, error) {
	ts, ok := produces(name)
	if !ok {
		return nil, fmt.Errorf("profile: unknown profile %q (allowed: %s)", name, strings.Join(Names(), ", "))
	}
	return ts, nil
}

// Types implements Profile.
func (p *trackunit) Types() []schemas.Type { ts, _ := produces(NameTrackunit); return ts }

// Types implements Profile.
func (p *mobito) Types() []schemas.Type { ts, _ := produces(NameMobito); return ts }

// New returns the profile called name. An unknown name is an error listing
// the allowed names.
func New(name string, opts Options) (Profile, error) {
	maxAssets := opts.MaxAssets
	if maxAssets <= 0 {
		maxAssets = DefaultMaxAssets
	}
	switch name {
	case NameTrackunit:
		return &trackunit{owner: opts.OwnerID, assets: newAssetCache(maxAssets)}, nil
	case NameMobito:
		return &mobito{assets: newAssetCache(maxAssets)}, nil
	case NameMapping:
		if opts.Mapping == nil {
			return nil, fmt.Errorf("profile: profile %q needs a mapping file (Options.Mapping from LoadMapping)", name)
		}
		return NewMapping(opts.Mapping, opts), nil
	}
	return nil, fmt.Errorf("profile: unknown profile %q (allowed: %s)", name, strings.Join(Names(), ", "))
}

//go:embed trackunit-insights.avsc
var trackunitSchema string

// TrackunitReaderSchema returns the pinned Avro reader schema of the
// trackunit-insights profile (record com.trackunit.machineinsights.MachineInsights).
// Writer schemas from the registry are resolved into it. Decoded with
// TrackunitDecodeOptions, fields the writer adds still reach the profile,
// so insight-shaped ones become SensorData in both decode modes.
func TrackunitReaderSchema() string { return trackunitSchema }

// TrackunitDecodeOptions are the codec options the trackunit-insights
// profile expects, in both decode modes: codec.KeepUnknownFields (new
// writer fields are mapped, not dropped, when the writer is resolved into
// the pinned reader schema) and codec.BranchNames (a CAN message's plain
// and accumulated value stay distinguishable).
func TrackunitDecodeOptions() []codec.DecodeOption {
	return []codec.DecodeOption{codec.KeepUnknownFields(), codec.BranchNames()}
}

// MappingError reports a record that cannot be mapped: a required field is
// missing or a field has a value of the wrong kind. Such a record is poison
// and belongs in the dead-letter topic.
type MappingError struct {
	// Profile is the profile name.
	Profile string
	// Field is the source field path ("Metadata.MachineId", "latitude",
	// "CANMessages[2]"); "(root)" for the record value itself and
	// "(record timestamp)" for the Kafka timestamp.
	Field string
	// Msg says what is wrong with the field.
	Msg string
	// Err is the underlying cause, or nil.
	Err error
}

// Error reads like `mobito: field "latitude": invalid number "abc"`.
func (e *MappingError) Error() string {
	s := e.Profile + ": field " + strconv.Quote(e.Field) + ": " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying cause.
func (e *MappingError) Unwrap() error { return e.Err }

const (
	fieldRoot      = "(root)"
	fieldTimestamp = "(record timestamp)"
)
