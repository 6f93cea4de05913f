package schemas

import (
	"fmt"
	"strings"
)

// ParseType returns the Type named by s, matched case-insensitively against
// the lower-case names ("sensordata") and so also the titles ("SensorData").
// The error for an unknown name lists the allowed names.
func ParseType(s string) (Type, error) {
	for _, t := range AllTypes() {
		if strings.EqualFold(s, string(t)) {
			return t, nil
		}
	}
	return "", fmt.Errorf("schemas: unknown object type %q (want one of %s)", s, typeList())
}

// typeList renders the allowed type names for error messages.
func typeList() string {
	return "asset, location, sensordata, reeferdata, gensetdata, gtoemdata"
}

// Valid reports whether t is one of the six object-sync types.
func (t Type) Valid() bool {
	switch t {
	case TypeAsset, TypeLocation, TypeSensorData, TypeReeferData, TypeGensetData, TypeGtoemData:
		return true
	}
	return false
}

// Title returns the type's name as in the specification: "Asset",
// "Location", "SensorData", "ReeferData", "GensetData" or "GtoemData". It
// is also the Avro record name. An unknown type returns string(t).
func (t Type) Title() string {
	switch t {
	case TypeAsset:
		return "Asset"
	case TypeLocation:
		return "Location"
	case TypeSensorData:
		return "SensorData"
	case TypeReeferData:
		return "ReeferData"
	case TypeGensetData:
		return "GensetData"
	case TypeGtoemData:
		return "GtoemData"
	}
	return string(t)
}

// HasData reports whether objects of type t carry a free-form data object
// (ReeferData, GensetData, GtoemData).
func (t Type) HasData() bool {
	return t == TypeReeferData || t == TypeGensetData || t == TypeGtoemData
}

// New returns a new zero object of type t, or an error for an unknown type.
func New(t Type) (Object, error) {
	switch t {
	case TypeAsset:
		return &Asset{}, nil
	case TypeLocation:
		return &Location{}, nil
	case TypeSensorData:
		return &SensorData{}, nil
	case TypeReeferData:
		return &ReeferData{}, nil
	case TypeGensetData:
		return &GensetData{}, nil
	case TypeGtoemData:
		return &GtoemData{}, nil
	}
	return nil, fmt.Errorf("schemas: unknown object type %q (want one of %s)", string(t), typeList())
}

// fieldKind is the JSON kind of a spec field.
type fieldKind uint8

const (
	kindString fieldKind = iota + 1
	kindInt
	kindFloat
	kindBool
	kindTime
	kindStringArray
	kindObject
)

// HasField reports whether name is a JSON member of type t, present in a
// given object or not. AppendJSON never writes its extra member (eventId
// injection) under such a name, so configuration checks use HasField to
// reject an eventId field that would be skipped.
func HasField(t Type, name string) bool {
	_, ok := fieldKindOf(t, name)
	return ok
}

// FieldNames returns the JSON member names of type t in encoding order
// (required fields first, as in the specification), or nil for an unknown
// type. The slice is freshly allocated.
func FieldNames(t Type) []string {
	switch t {
	case TypeAsset:
		return []string{"id", "name", "ownerId", "whenCreated", "whenUpdated", "boxId", "disabled", "note", "tags"}
	case TypeLocation:
		return []string{"id", "assetId", "ownerId", "whenCreated", "latitude", "longitude", "altitude", "speed", "heading", "zoneId"}
	case TypeSensorData:
		return []string{"id", "assetId", "ownerId", "sensorId", "sensorType", "whenCreated", "value", "type", "when_received"}
	case TypeReeferData:
		return []string{"id", "assetId", "ownerId", "whenCreated", "reeferClass", "data"}
	case TypeGensetData:
		return []string{"id", "assetId", "ownerId", "whenCreated", "gensetType", "data", "boxId"}
	case TypeGtoemData:
		return []string{"id", "assetId", "ownerId", "whenCreated", "payloadType", "data", "boxId", "when_received"}
	}
	return nil
}

// RequiredFieldNames returns the JSON member names the specification marks
// required for type t, in encoding order, or nil for an unknown type.
func RequiredFieldNames(t Type) []string {
	switch t {
	case TypeAsset:
		return []string{"id", "name", "ownerId", "whenCreated", "whenUpdated"}
	case TypeLocation:
		return []string{"id", "assetId", "ownerId", "whenCreated", "latitude", "longitude"}
	case TypeSensorData:
		return []string{"id", "assetId", "ownerId", "sensorId", "sensorType", "whenCreated", "value", "type"}
	case TypeReeferData:
		return []string{"id", "assetId", "ownerId", "whenCreated", "reeferClass", "data"}
	case TypeGensetData:
		return []string{"id", "assetId", "ownerId", "whenCreated", "gensetType", "data"}
	case TypeGtoemData:
		return []string{"id", "assetId", "ownerId", "whenCreated", "payloadType", "data"}
	}
	return nil
}

// fieldKindOf reports the kind of the top-level member name of type t, and
// false when t has no such member.
func fieldKindOf(t Type, name string) (fieldKind, bool) {
	// Members shared by every record type.
	if t != TypeAsset && t.Valid() {
		switch name {
		case "id":
			return kindInt, true
		case "assetId", "ownerId":
			return kindString, true
		case "whenCreated":
			return kindTime, true
		}
	}
	switch t {
	case TypeAsset:
		switch name {
		case "id", "name", "ownerId", "boxId", "note":
			return kindString, true
		case "whenCreated", "whenUpdated":
			return kindTime, true
		case "disabled":
			return kindBool, true
		case "tags":
			return kindStringArray, true
		}
	case TypeLocation:
		switch name {
		case "latitude", "longitude", "altitude", "speed", "heading":
			return kindFloat, true
		case "zoneId":
			return kindString, true
		}
	case TypeSensorData:
		switch name {
		case "sensorId", "sensorType", "value", "type":
			return kindString, true
		case "when_received":
			return kindInt, true
		}
	case TypeReeferData:
		switch name {
		case "reeferClass":
			return kindString, true
		case "data":
			return kindObject, true
		}
	case TypeGensetData:
		switch name {
		case "gensetType", "boxId":
			return kindString, true
		case "data":
			return kindObject, true
		}
	case TypeGtoemData:
		switch name {
		case "payloadType", "when_received":
			return kindInt, true
		case "boxId":
			return kindString, true
		case "data":
			return kindObject, true
		}
	}
	return 0, false
}
