// Package schemas holds the object-sync types that telebridge pushes (Asset,
// Location, SensorData, ReeferData, GensetData, GtoemData), their JSON
// encoding, validation of required fields, and the embedded JSON Schema and
// Avro documents that describe them.
//
// Field names, types and required fields follow the Globe Tracker push
// specification exactly (note SensorData/GtoemData `when_received`, snake
// case). Timestamps are encoded as RFC 3339 in UTC; absent optional fields
// are omitted.
//
// # JSON encoding
//
// Object.AppendJSON is a hand-written encoder that appends to a caller's
// buffer without allocating for the fixed-shape types. For every value
// encoding/json can encode (with UTC timestamps) its output is byte-for-byte
// what json.Marshal writes for the same struct: members in struct order,
// HTML-safe string escaping, invalid UTF-8 replaced by \ufffd, shortest
// float formatting, data map keys sorted. Where encoding/json would fail or
// differ, AppendJSON still writes valid JSON:
//   - NaN and ±Inf floats are written as null (Validate rejects them in
//     the typed fields);
//   - timestamps are converted to UTC first;
//   - in data maps, an invalid json.Number is written as a JSON string, a
//     value encoding/json cannot encode (channels, cycles) becomes null,
//     and nesting deeper than 1000 levels becomes null;
//   - a nil receiver is written as null.
//
// Data map values may be nil, bool, string, any Go integer or float kind,
// json.Number, []byte (base64), time.Time, []any, []string and
// map[string]any; anything else is encoded with encoding/json.
//
// # Validation and schemas
//
// Validate returns a *ValidationError naming the first missing or invalid
// field. JSONSchema and AvroSchema return the embedded schema documents,
// whose field names and required fields match the Go struct tags; the
// package tests check all three against each other and check encoded
// objects against the JSON Schema.
package schemas

import "time"

// Type names one object-sync type. Its string form is the lower-case name
// used in topic templates ({type}) and headers.
type Type string

// The object-sync types.
const (
	TypeAsset      Type = "asset"
	TypeLocation   Type = "location"
	TypeSensorData Type = "sensordata"
	TypeReeferData Type = "reeferdata"
	TypeGensetData Type = "gensetdata"
	TypeGtoemData  Type = "gtoemdata"
)

// AllTypes lists every object-sync type in a stable order.
func AllTypes() []Type {
	return []Type{TypeAsset, TypeLocation, TypeSensorData, TypeReeferData, TypeGensetData, TypeGtoemData}
}

// Object is one object-sync object ready to be pushed.
type Object interface {
	// ObjectType reports which object-sync type this is.
	ObjectType() Type
	// AssetKey is the asset the object belongs to: the Asset's own id, or
	// assetId for the record types.
	AssetKey() string
	// RecordID returns the int64 id of a record type and whether the type
	// has one (Asset ids are strings and return false).
	RecordID() (int64, bool)
	// SetRecordID sets the int64 id of a record type; a no-op for Asset.
	SetRecordID(id int64)
	// Validate reports the first missing or invalid required field,
	// naming it, or nil.
	Validate() error
	// AppendJSON appends the object's JSON encoding to dst. When
	// extraField is not empty, a string member extraField:extraValue is
	// appended after the object's own fields (used for eventId injection).
	AppendJSON(dst []byte, extraField, extraValue string) []byte
}

// Asset represents an asset in the system.
type Asset struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	OwnerID     string    `json:"ownerId"`
	WhenCreated time.Time `json:"whenCreated"`
	WhenUpdated time.Time `json:"whenUpdated"`
	BoxID       *string   `json:"boxId,omitempty"`
	Disabled    *bool     `json:"disabled,omitempty"`
	Note        *string   `json:"note,omitempty"`
	Tags        []string  `json:"tags,omitempty"`
}

// Location represents a GPS location record.
type Location struct {
	ID          int64     `json:"id"`
	AssetID     string    `json:"assetId"`
	OwnerID     string    `json:"ownerId"`
	WhenCreated time.Time `json:"whenCreated"`
	Latitude    float64   `json:"latitude"`
	Longitude   float64   `json:"longitude"`
	Altitude    *float64  `json:"altitude,omitempty"`
	Speed       *float64  `json:"speed,omitempty"`
	Heading     *float64  `json:"heading,omitempty"`
	ZoneID      *string   `json:"zoneId,omitempty"`
}

// SensorData represents one sensor reading of an asset.
type SensorData struct {
	ID          int64     `json:"id"`
	AssetID     string    `json:"assetId"`
	OwnerID     string    `json:"ownerId"`
	SensorID    string    `json:"sensorId"`
	SensorType  string    `json:"sensorType"`
	WhenCreated time.Time `json:"whenCreated"`
	// Value is the reading as text ("12.5", "true", "OK").
	Value string `json:"value"`
	// Type is the data type of Value: DECIMAL, INTEGER, BOOLEAN or STRING.
	Type string `json:"type"`
	// WhenReceived is Unix milliseconds when the data was received.
	WhenReceived *int64 `json:"when_received,omitempty"`
}

// Sensor value data types used in SensorData.Type.
const (
	ValueDecimal = "DECIMAL"
	ValueInteger = "INTEGER"
	ValueBoolean = "BOOLEAN"
	ValueString  = "STRING"
)

// ReeferData represents reefer (refrigerated container) data.
type ReeferData struct {
	ID          int64          `json:"id"`
	AssetID     string         `json:"assetId"`
	OwnerID     string         `json:"ownerId"`
	WhenCreated time.Time      `json:"whenCreated"`
	ReeferClass string         `json:"reeferClass"`
	Data        map[string]any `json:"data"`
}

// GensetData represents generator set data.
type GensetData struct {
	ID          int64          `json:"id"`
	AssetID     string         `json:"assetId"`
	OwnerID     string         `json:"ownerId"`
	WhenCreated time.Time      `json:"whenCreated"`
	GensetType  string         `json:"gensetType"`
	Data        map[string]any `json:"data"`
	BoxID       *string        `json:"boxId,omitempty"`
}

// GtoemData represents GTOEM (Globe Tracker OEM) data.
type GtoemData struct {
	ID           int64          `json:"id"`
	AssetID      string         `json:"assetId"`
	OwnerID      string         `json:"ownerId"`
	WhenCreated  time.Time      `json:"whenCreated"`
	PayloadType  int32          `json:"payloadType"`
	Data         map[string]any `json:"data"`
	BoxID        *string        `json:"boxId,omitempty"`
	WhenReceived *int64         `json:"when_received,omitempty"`
}
