package schemas

import (
	"math"
	"strconv"
	"time"
)

// ValidationError reports one missing or invalid field of an object. Field
// is the JSON member name ("latitude", "when_received"), or empty when the
// object itself is nil.
type ValidationError struct {
	Type   Type
	Field  string
	Reason string
}

// Error reads like `location: field "latitude": 91.2 is outside [-90, 90]`.
func (e *ValidationError) Error() string {
	if e.Field == "" {
		return string(e.Type) + ": " + e.Reason
	}
	return string(e.Type) + ": field " + strconv.Quote(e.Field) + ": " + e.Reason
}

func invalid(t Type, field, reason string) error {
	return &ValidationError{Type: t, Field: field, Reason: reason}
}

func nilObject(t Type) error {
	return invalid(t, "", "object is nil")
}

func checkString(t Type, field, v string) error {
	if v == "" {
		return invalid(t, field, "is required and must not be empty")
	}
	return nil
}

// checkTime rejects the zero time and years RFC 3339 cannot write.
func checkTime(t Type, field string, v time.Time) error {
	if v.IsZero() {
		return invalid(t, field, "is required and must not be the zero time")
	}
	if y := v.UTC().Year(); y < 0 || y > 9999 {
		return invalid(t, field, "year "+strconv.Itoa(y)+" is outside [0, 9999] and cannot be written as RFC 3339")
	}
	return nil
}

func checkID(t Type, id int64) error {
	if id <= 0 {
		return invalid(t, "id", "record id must be > 0, got "+strconv.FormatInt(id, 10))
	}
	return nil
}

func checkData(t Type, m map[string]any) error {
	if m == nil {
		return invalid(t, "data", "is required and must not be nil")
	}
	return nil
}

// checkFloat rejects NaN and ±Inf, and values outside [lo, hi].
func checkFloat(t Type, field string, v, lo, hi float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return invalid(t, field, strconv.FormatFloat(v, 'g', -1, 64)+" is not a finite number")
	}
	if v < lo || v > hi {
		return invalid(t, field, strconv.FormatFloat(v, 'g', -1, 64)+" is outside ["+
			strconv.FormatFloat(lo, 'g', -1, 64)+", "+strconv.FormatFloat(hi, 'g', -1, 64)+"]")
	}
	return nil
}

// firstError returns the first non-nil error.
func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Validate reports the first invalid field as a *ValidationError: an empty
// id, name or ownerId, or a zero (or year > 9999) whenCreated or
// whenUpdated. Optional fields are not checked.
func (a *Asset) Validate() error {
	if a == nil {
		return nilObject(TypeAsset)
	}
	const t = TypeAsset
	return firstError(
		checkString(t, "id", a.ID),
		checkString(t, "name", a.Name),
		checkString(t, "ownerId", a.OwnerID),
		checkTime(t, "whenCreated", a.WhenCreated),
		checkTime(t, "whenUpdated", a.WhenUpdated),
	)
}

// Validate reports the first invalid field as a *ValidationError: id <= 0,
// an empty assetId or ownerId, a zero whenCreated, latitude outside
// [-90, 90], longitude outside [-180, 180], heading outside [0, 360], or a
// NaN or infinite latitude, longitude, altitude, speed or heading.
func (l *Location) Validate() error {
	if l == nil {
		return nilObject(TypeLocation)
	}
	const t = TypeLocation
	err := firstError(
		checkID(t, l.ID),
		checkString(t, "assetId", l.AssetID),
		checkString(t, "ownerId", l.OwnerID),
		checkTime(t, "whenCreated", l.WhenCreated),
		checkFloat(t, "latitude", l.Latitude, -90, 90),
		checkFloat(t, "longitude", l.Longitude, -180, 180),
	)
	if err != nil {
		return err
	}
	if l.Altitude != nil {
		if err := checkFloat(t, "altitude", *l.Altitude, math.Inf(-1), math.Inf(1)); err != nil {
			return err
		}
	}
	if l.Speed != nil {
		if err := checkFloat(t, "speed", *l.Speed, math.Inf(-1), math.Inf(1)); err != nil {
			return err
		}
	}
	if l.Heading != nil {
		if err := checkFloat(t, "heading", *l.Heading, 0, 360); err != nil {
			return err
		}
	}
	return nil
}

// Validate reports the first invalid field as a *ValidationError: id <= 0,
// an empty assetId, ownerId, sensorId or sensorType, a zero whenCreated, or
// a type other than DECIMAL, INTEGER, BOOLEAN or STRING. An empty value is
// valid (it is text).
func (s *SensorData) Validate() error {
	if s == nil {
		return nilObject(TypeSensorData)
	}
	const t = TypeSensorData
	err := firstError(
		checkID(t, s.ID),
		checkString(t, "assetId", s.AssetID),
		checkString(t, "ownerId", s.OwnerID),
		checkString(t, "sensorId", s.SensorID),
		checkString(t, "sensorType", s.SensorType),
		checkTime(t, "whenCreated", s.WhenCreated),
	)
	if err != nil {
		return err
	}
	switch s.Type {
	case ValueDecimal, ValueInteger, ValueBoolean, ValueString:
		return nil
	case "":
		return invalid(t, "type", "is required and must not be empty")
	}
	return invalid(t, "type", strconv.Quote(s.Type)+" is not one of DECIMAL, INTEGER, BOOLEAN, STRING")
}

// Validate reports the first invalid field as a *ValidationError: id <= 0,
// an empty assetId, ownerId or reeferClass, a zero whenCreated, or a nil
// data map. The contents of data are not checked.
func (r *ReeferData) Validate() error {
	if r == nil {
		return nilObject(TypeReeferData)
	}
	const t = TypeReeferData
	return firstError(
		checkID(t, r.ID),
		checkString(t, "assetId", r.AssetID),
		checkString(t, "ownerId", r.OwnerID),
		checkTime(t, "whenCreated", r.WhenCreated),
		checkString(t, "reeferClass", r.ReeferClass),
		checkData(t, r.Data),
	)
}

// Validate reports the first invalid field as a *ValidationError: id <= 0,
// an empty assetId, ownerId or gensetType, a zero whenCreated, or a nil
// data map. The contents of data are not checked.
func (g *GensetData) Validate() error {
	if g == nil {
		return nilObject(TypeGensetData)
	}
	const t = TypeGensetData
	return firstError(
		checkID(t, g.ID),
		checkString(t, "assetId", g.AssetID),
		checkString(t, "ownerId", g.OwnerID),
		checkTime(t, "whenCreated", g.WhenCreated),
		checkString(t, "gensetType", g.GensetType),
		checkData(t, g.Data),
	)
}

// Validate reports the first invalid field as a *ValidationError: id <= 0,
// an empty assetId or ownerId, a zero whenCreated, or a nil data map. Any
// payloadType is valid; the contents of data are not checked.
func (g *GtoemData) Validate() error {
	if g == nil {
		return nilObject(TypeGtoemData)
	}
	const t = TypeGtoemData
	return firstError(
		checkID(t, g.ID),
		checkString(t, "assetId", g.AssetID),
		checkString(t, "ownerId", g.OwnerID),
		checkTime(t, "whenCreated", g.WhenCreated),
		checkData(t, g.Data),
	)
}
