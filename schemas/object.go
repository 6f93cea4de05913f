package schemas

import "strconv"

// This file implements Object for the six types. AppendJSON writes members
// in struct field order, exactly as encoding/json would encode the struct
// (see the package comment for the deviations on values encoding/json
// rejects). A nil receiver is encoded as null.
//
// AppendJSON's extra member (eventId injection) is written last, after the
// spec fields, and is skipped when extraField equals any spec field name of
// the type, present or not (for example "id" or "boxId"), so the output
// never contains a duplicate key and never overrides object data.

var (
	_ Object = (*Asset)(nil)
	_ Object = (*Location)(nil)
	_ Object = (*SensorData)(nil)
	_ Object = (*ReeferData)(nil)
	_ Object = (*GensetData)(nil)
	_ Object = (*GtoemData)(nil)
)

// ObjectType returns TypeAsset.
func (a *Asset) ObjectType() Type { return TypeAsset }

// AssetKey returns the asset's own id ("" for a nil Asset).
func (a *Asset) AssetKey() string {
	if a == nil {
		return ""
	}
	return a.ID
}

// RecordID returns 0, false: Asset ids are strings.
func (a *Asset) RecordID() (int64, bool) { return 0, false }

// SetRecordID is a no-op: Asset ids are strings.
func (a *Asset) SetRecordID(int64) {}

// AppendJSON appends the Asset's JSON encoding to dst; see Object.
func (a *Asset) AppendJSON(dst []byte, extraField, extraValue string) []byte {
	if a == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, a.ID)
	dst = append(dst, `,"name":`...)
	dst = appendString(dst, a.Name)
	dst = append(dst, `,"ownerId":`...)
	dst = appendString(dst, a.OwnerID)
	dst = append(dst, `,"whenCreated":`...)
	dst = appendTime(dst, a.WhenCreated)
	dst = append(dst, `,"whenUpdated":`...)
	dst = appendTime(dst, a.WhenUpdated)
	if a.BoxID != nil {
		dst = append(dst, `,"boxId":`...)
		dst = appendString(dst, *a.BoxID)
	}
	if a.Disabled != nil {
		dst = append(dst, `,"disabled":`...)
		dst = strconv.AppendBool(dst, *a.Disabled)
	}
	if a.Note != nil {
		dst = append(dst, `,"note":`...)
		dst = appendString(dst, *a.Note)
	}
	if len(a.Tags) > 0 {
		dst = append(dst, `,"tags":[`...)
		for i, t := range a.Tags {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, t)
		}
		dst = append(dst, ']')
	}
	dst = appendExtra(dst, TypeAsset, extraField, extraValue)
	return append(dst, '}')
}

// ObjectType returns TypeLocation.
func (l *Location) ObjectType() Type { return TypeLocation }

// AssetKey returns assetId ("" for a nil Location).
func (l *Location) AssetKey() string {
	if l == nil {
		return ""
	}
	return l.AssetID
}

// RecordID returns the record id and true (0, true for a nil Location).
func (l *Location) RecordID() (int64, bool) {
	if l == nil {
		return 0, true
	}
	return l.ID, true
}

// SetRecordID sets the record id; a no-op on a nil Location.
func (l *Location) SetRecordID(id int64) {
	if l != nil {
		l.ID = id
	}
}

// AppendJSON appends the Location's JSON encoding to dst; see Object.
// NaN or infinite coordinates (rejected by Validate) are written as null.
func (l *Location) AppendJSON(dst []byte, extraField, extraValue string) []byte {
	if l == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, `{"id":`...)
	dst = strconv.AppendInt(dst, l.ID, 10)
	dst = append(dst, `,"assetId":`...)
	dst = appendString(dst, l.AssetID)
	dst = append(dst, `,"ownerId":`...)
	dst = appendString(dst, l.OwnerID)
	dst = append(dst, `,"whenCreated":`...)
	dst = appendTime(dst, l.WhenCreated)
	dst = append(dst, `,"latitude":`...)
	dst = appendFloat(dst, l.Latitude, 64)
	dst = append(dst, `,"longitude":`...)
	dst = appendFloat(dst, l.Longitude, 64)
	if l.Altitude != nil {
		dst = append(dst, `,"altitude":`...)
		dst = appendFloat(dst, *l.Altitude, 64)
	}
	if l.Speed != nil {
		dst = append(dst, `,"speed":`...)
		dst = appendFloat(dst, *l.Speed, 64)
	}
	if l.Heading != nil {
		dst = append(dst, `,"heading":`...)
		dst = appendFloat(dst, *l.Heading, 64)
	}
	if l.ZoneID != nil {
		dst = append(dst, `,"zoneId":`...)
		dst = appendString(dst, *l.ZoneID)
	}
	dst = appendExtra(dst, TypeLocation, extraField, extraValue)
	return append(dst, '}')
}

// ObjectType returns TypeSensorData.
func (s *SensorData) ObjectType() Type { return TypeSensorData }

// AssetKey returns assetId ("" for a nil SensorData).
func (s *SensorData) AssetKey() string {
	if s == nil {
		return ""
	}
	return s.AssetID
}

// RecordID returns the record id and true (0, true for a nil SensorData).
func (s *SensorData) RecordID() (int64, bool) {
	if s == nil {
		return 0, true
	}
	return s.ID, true
}

// SetRecordID sets the record id; a no-op on a nil SensorData.
func (s *SensorData) SetRecordID(id int64) {
	if s != nil {
		s.ID = id
	}
}

// AppendJSON appends the SensorData's JSON encoding to dst; see Object.
func (s *SensorData) AppendJSON(dst []byte, extraField, extraValue string) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, `{"id":`...)
	dst = strconv.AppendInt(dst, s.ID, 10)
	dst = append(dst, `,"assetId":`...)
	dst = appendString(dst, s.AssetID)
	dst = append(dst, `,"ownerId":`...)
	dst = appendString(dst, s.OwnerID)
	dst = append(dst, `,"sensorId":`...)
	dst = appendString(dst, s.SensorID)
	dst = append(dst, `,"sensorType":`...)
	dst = appendString(dst, s.SensorType)
	dst = append(dst, `,"whenCreated":`...)
	dst = appendTime(dst, s.WhenCreated)
	dst = append(dst, `,"value":`...)
	dst = appendString(dst, s.Value)
	dst = append(dst, `,"type":`...)
	dst = appendString(dst, s.Type)
	if s.WhenReceived != nil {
		dst = append(dst, `,"when_received":`...)
		dst = strconv.AppendInt(dst, *s.WhenReceived, 10)
	}
	dst = appendExtra(dst, TypeSensorData, extraField, extraValue)
	return append(dst, '}')
}

// ObjectType returns TypeReeferData.
func (r *ReeferData) ObjectType() Type { return TypeReeferData }

// AssetKey returns assetId ("" for a nil ReeferData).
func (r *ReeferData) AssetKey() string {
	if r == nil {
		return ""
	}
	return r.AssetID
}

// RecordID returns the record id and true (0, true for a nil ReeferData).
func (r *ReeferData) RecordID() (int64, bool) {
	if r == nil {
		return 0, true
	}
	return r.ID, true
}

// SetRecordID sets the record id; a no-op on a nil ReeferData.
func (r *ReeferData) SetRecordID(id int64) {
	if r != nil {
		r.ID = id
	}
}

// AppendJSON appends the ReeferData's JSON encoding to dst; see Object.
// Data is encoded with sorted keys; a nil Data (rejected by Validate) is
// written as null.
func (r *ReeferData) AppendJSON(dst []byte, extraField, extraValue string) []byte {
	if r == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, `{"id":`...)
	dst = strconv.AppendInt(dst, r.ID, 10)
	dst = append(dst, `,"assetId":`...)
	dst = appendString(dst, r.AssetID)
	dst = append(dst, `,"ownerId":`...)
	dst = appendString(dst, r.OwnerID)
	dst = append(dst, `,"whenCreated":`...)
	dst = appendTime(dst, r.WhenCreated)
	dst = append(dst, `,"reeferClass":`...)
	dst = appendString(dst, r.ReeferClass)
	dst = append(dst, `,"data":`...)
	dst = appendMap(dst, r.Data, 0)
	dst = appendExtra(dst, TypeReeferData, extraField, extraValue)
	return append(dst, '}')
}

// ObjectType returns TypeGensetData.
func (g *GensetData) ObjectType() Type { return TypeGensetData }

// AssetKey returns assetId ("" for a nil GensetData).
func (g *GensetData) AssetKey() string {
	if g == nil {
		return ""
	}
	return g.AssetID
}

// RecordID returns the record id and true (0, true for a nil GensetData).
func (g *GensetData) RecordID() (int64, bool) {
	if g == nil {
		return 0, true
	}
	return g.ID, true
}

// SetRecordID sets the record id; a no-op on a nil GensetData.
func (g *GensetData) SetRecordID(id int64) {
	if g != nil {
		g.ID = id
	}
}

// AppendJSON appends the GensetData's JSON encoding to dst; see Object.
// Data is encoded with sorted keys; a nil Data (rejected by Validate) is
// written as null.
func (g *GensetData) AppendJSON(dst []byte, extraField, extraValue string) []byte {
	if g == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, `{"id":`...)
	dst = strconv.AppendInt(dst, g.ID, 10)
	dst = append(dst, `,"assetId":`...)
	dst = appendString(dst, g.AssetID)
	dst = append(dst, `,"ownerId":`...)
	dst = appendString(dst, g.OwnerID)
	dst = append(dst, `,"whenCreated":`...)
	dst = appendTime(dst, g.WhenCreated)
	dst = append(dst, `,"gensetType":`...)
	dst = appendString(dst, g.GensetType)
	dst = append(dst, `,"data":`...)
	dst = appendMap(dst, g.Data, 0)
	if g.BoxID != nil {
		dst = append(dst, `,"boxId":`...)
		dst = appendString(dst, *g.BoxID)
	}
	dst = appendExtra(dst, TypeGensetData, extraField, extraValue)
	return append(dst, '}')
}

// ObjectType returns TypeGtoemData.
func (g *GtoemData) ObjectType() Type { return TypeGtoemData }

// AssetKey returns assetId ("" for a nil GtoemData).
func (g *GtoemData) AssetKey() string {
	if g == nil {
		return ""
	}
	return g.AssetID
}

// RecordID returns the record id and true (0, true for a nil GtoemData).
func (g *GtoemData) RecordID() (int64, bool) {
	if g == nil {
		return 0, true
	}
	return g.ID, true
}

// SetRecordID sets the record id; a no-op on a nil GtoemData.
func (g *GtoemData) SetRecordID(id int64) {
	if g != nil {
		g.ID = id
	}
}

// AppendJSON appends the GtoemData's JSON encoding to dst; see Object.
// Data is encoded with sorted keys; a nil Data (rejected by Validate) is
// written as null.
func (g *GtoemData) AppendJSON(dst []byte, extraField, extraValue string) []byte {
	if g == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, `{"id":`...)
	dst = strconv.AppendInt(dst, g.ID, 10)
	dst = append(dst, `,"assetId":`...)
	dst = appendString(dst, g.AssetID)
	dst = append(dst, `,"ownerId":`...)
	dst = appendString(dst, g.OwnerID)
	dst = append(dst, `,"whenCreated":`...)
	dst = appendTime(dst, g.WhenCreated)
	dst = append(dst, `,"payloadType":`...)
	dst = strconv.AppendInt(dst, int64(g.PayloadType), 10)
	dst = append(dst, `,"data":`...)
	dst = appendMap(dst, g.Data, 0)
	if g.BoxID != nil {
		dst = append(dst, `,"boxId":`...)
		dst = appendString(dst, *g.BoxID)
	}
	if g.WhenReceived != nil {
		dst = append(dst, `,"when_received":`...)
		dst = strconv.AppendInt(dst, *g.WhenReceived, 10)
	}
	dst = appendExtra(dst, TypeGtoemData, extraField, extraValue)
	return append(dst, '}')
}
