package schemas

// AvroRecord returns o in the native form of its AvroSchema, ready for a
// generic Avro encoder such as github.com/hamba/avro/v2's Marshal: a map
// keyed by field name holding string, int64 (long), int32 (int), float64
// (double), bool and []string values; timestamps as RFC 3339 UTC strings;
// data as its JSON text (sorted keys, as AppendJSON writes it). Absent
// optional fields are left out so the encoder writes their null default.
// A nil object yields nil. AvroRecord does not validate o.
func AvroRecord(o Object) map[string]any {
	switch x := o.(type) {
	case *Asset:
		if x == nil {
			return nil
		}
		m := map[string]any{
			"id":          x.ID,
			"name":        x.Name,
			"ownerId":     x.OwnerID,
			"whenCreated": formatTime(x.WhenCreated),
			"whenUpdated": formatTime(x.WhenUpdated),
		}
		putOpt(m, "boxId", x.BoxID)
		putOpt(m, "disabled", x.Disabled)
		putOpt(m, "note", x.Note)
		if len(x.Tags) > 0 {
			m["tags"] = x.Tags
		}
		return m
	case *Location:
		if x == nil {
			return nil
		}
		m := map[string]any{
			"id":          x.ID,
			"assetId":     x.AssetID,
			"ownerId":     x.OwnerID,
			"whenCreated": formatTime(x.WhenCreated),
			"latitude":    x.Latitude,
			"longitude":   x.Longitude,
		}
		putOpt(m, "altitude", x.Altitude)
		putOpt(m, "speed", x.Speed)
		putOpt(m, "heading", x.Heading)
		putOpt(m, "zoneId", x.ZoneID)
		return m
	case *SensorData:
		if x == nil {
			return nil
		}
		m := map[string]any{
			"id":          x.ID,
			"assetId":     x.AssetID,
			"ownerId":     x.OwnerID,
			"sensorId":    x.SensorID,
			"sensorType":  x.SensorType,
			"whenCreated": formatTime(x.WhenCreated),
			"value":       x.Value,
			"type":        x.Type,
		}
		putOpt(m, "when_received", x.WhenReceived)
		return m
	case *ReeferData:
		if x == nil {
			return nil
		}
		return map[string]any{
			"id":          x.ID,
			"assetId":     x.AssetID,
			"ownerId":     x.OwnerID,
			"whenCreated": formatTime(x.WhenCreated),
			"reeferClass": x.ReeferClass,
			"data":        string(appendMap(nil, x.Data, 0)),
		}
	case *GensetData:
		if x == nil {
			return nil
		}
		m := map[string]any{
			"id":          x.ID,
			"assetId":     x.AssetID,
			"ownerId":     x.OwnerID,
			"whenCreated": formatTime(x.WhenCreated),
			"gensetType":  x.GensetType,
			"data":        string(appendMap(nil, x.Data, 0)),
		}
		putOpt(m, "boxId", x.BoxID)
		return m
	case *GtoemData:
		if x == nil {
			return nil
		}
		m := map[string]any{
			"id":          x.ID,
			"assetId":     x.AssetID,
			"ownerId":     x.OwnerID,
			"whenCreated": formatTime(x.WhenCreated),
			"payloadType": x.PayloadType,
			"data":        string(appendMap(nil, x.Data, 0)),
		}
		putOpt(m, "boxId", x.BoxID)
		putOpt(m, "when_received", x.WhenReceived)
		return m
	}
	return nil
}

// putOpt stores *p under name when p is not nil.
func putOpt[T any](m map[string]any, name string, p *T) {
	if p != nil {
		m[name] = *p
	}
}
