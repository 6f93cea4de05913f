package schemas

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// dataPrefix starts a field path into an object's data map.
const dataPrefix = "data."

// FieldValue resolves a payload field path of o, as used for Kafka keys, and
// renders the value as a key string: strings as-is (not UTF-8-sanitised
// as AppendJSON does), numbers as their JSON
// text (as AppendJSON writes them), bools as "true"/"false", timestamps as
// RFC 3339 UTC (their JSON string value), []byte as its base64 text.
//
// path is a top-level JSON member name ("assetId", "ownerId", "id",
// "sensorId", "when_received", ...) or, for types with data, a dotted path
// into the data map ("data.x", "data.a.b"; each segment is one map key, so
// keys containing '.' cannot be addressed). The result is false when o is
// nil, the path does not exist, the optional field is absent, or the value
// is not a scalar (null, objects, arrays, NaN or infinite floats).
// Top-level names are resolved without reflection or allocation beyond
// number formatting. On an Asset, "assetId" resolves to its id, so a key
// of assetId puts an asset and its records on the same partition.
func FieldValue(o Object, path string) (string, bool) {
	switch x := o.(type) {
	case *Asset:
		if x == nil {
			return "", false
		}
		switch path {
		case "id", "assetId":
			// An Asset's own id is the assetId of every record about it,
			// so keying by assetId keeps an asset and its records on one
			// partition.
			return x.ID, true
		case "name":
			return x.Name, true
		case "ownerId":
			return x.OwnerID, true
		case "whenCreated":
			return formatTime(x.WhenCreated), true
		case "whenUpdated":
			return formatTime(x.WhenUpdated), true
		case "boxId":
			return optString(x.BoxID)
		case "disabled":
			if x.Disabled == nil {
				return "", false
			}
			return strconv.FormatBool(*x.Disabled), true
		case "note":
			return optString(x.Note)
		}
	case *Location:
		if x == nil {
			return "", false
		}
		switch path {
		case "id":
			return strconv.FormatInt(x.ID, 10), true
		case "assetId":
			return x.AssetID, true
		case "ownerId":
			return x.OwnerID, true
		case "whenCreated":
			return formatTime(x.WhenCreated), true
		case "latitude":
			return formatFloat(x.Latitude, 64)
		case "longitude":
			return formatFloat(x.Longitude, 64)
		case "altitude":
			return optFloat(x.Altitude)
		case "speed":
			return optFloat(x.Speed)
		case "heading":
			return optFloat(x.Heading)
		case "zoneId":
			return optString(x.ZoneID)
		}
	case *SensorData:
		if x == nil {
			return "", false
		}
		switch path {
		case "id":
			return strconv.FormatInt(x.ID, 10), true
		case "assetId":
			return x.AssetID, true
		case "ownerId":
			return x.OwnerID, true
		case "sensorId":
			return x.SensorID, true
		case "sensorType":
			return x.SensorType, true
		case "whenCreated":
			return formatTime(x.WhenCreated), true
		case "value":
			return x.Value, true
		case "type":
			return x.Type, true
		case "when_received":
			return optInt(x.WhenReceived)
		}
	case *ReeferData:
		if x == nil {
			return "", false
		}
		switch path {
		case "id":
			return strconv.FormatInt(x.ID, 10), true
		case "assetId":
			return x.AssetID, true
		case "ownerId":
			return x.OwnerID, true
		case "whenCreated":
			return formatTime(x.WhenCreated), true
		case "reeferClass":
			return x.ReeferClass, true
		}
		return dataValue(x.Data, path)
	case *GensetData:
		if x == nil {
			return "", false
		}
		switch path {
		case "id":
			return strconv.FormatInt(x.ID, 10), true
		case "assetId":
			return x.AssetID, true
		case "ownerId":
			return x.OwnerID, true
		case "whenCreated":
			return formatTime(x.WhenCreated), true
		case "gensetType":
			return x.GensetType, true
		case "boxId":
			return optString(x.BoxID)
		}
		return dataValue(x.Data, path)
	case *GtoemData:
		if x == nil {
			return "", false
		}
		switch path {
		case "id":
			return strconv.FormatInt(x.ID, 10), true
		case "assetId":
			return x.AssetID, true
		case "ownerId":
			return x.OwnerID, true
		case "whenCreated":
			return formatTime(x.WhenCreated), true
		case "payloadType":
			return strconv.FormatInt(int64(x.PayloadType), 10), true
		case "boxId":
			return optString(x.BoxID)
		case "when_received":
			return optInt(x.WhenReceived)
		}
		return dataValue(x.Data, path)
	}
	return "", false
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func formatFloat(f float64, bits int) (string, bool) {
	var buf [32]byte
	b := appendFloat(buf[:0], f, bits)
	if string(b) == "null" {
		return "", false
	}
	return string(b), true
}

func optString(p *string) (string, bool) {
	if p == nil {
		return "", false
	}
	return *p, true
}

func optFloat(p *float64) (string, bool) {
	if p == nil {
		return "", false
	}
	return formatFloat(*p, 64)
}

func optInt(p *int64) (string, bool) {
	if p == nil {
		return "", false
	}
	return strconv.FormatInt(*p, 10), true
}

// dataValue resolves "data.a.b" in m and renders the scalar found there.
func dataValue(m map[string]any, path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, dataPrefix)
	if !ok {
		return "", false
	}
	var v any = m
	for {
		key, tail, more := strings.Cut(rest, ".")
		switch mm := v.(type) {
		case map[string]any:
			if v, ok = mm[key]; !ok {
				return "", false
			}
		case map[string]string:
			s, ok := mm[key]
			if !ok || more {
				return "", false
			}
			return s, true
		default:
			return "", false
		}
		if !more {
			return scalarString(v)
		}
		rest = tail
	}
}

// scalarString renders a data-map scalar as its key string; false for null,
// objects, arrays, and NaN or infinite floats.
func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return formatFloat(x, 64)
	case float32:
		return formatFloat(float64(x), 32)
	case int:
		return strconv.FormatInt(int64(x), 10), true
	case int8:
		return strconv.FormatInt(int64(x), 10), true
	case int16:
		return strconv.FormatInt(int64(x), 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint:
		return strconv.FormatUint(uint64(x), 10), true
	case uint8:
		return strconv.FormatUint(uint64(x), 10), true
	case uint16:
		return strconv.FormatUint(uint64(x), 10), true
	case uint32:
		return strconv.FormatUint(uint64(x), 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case uintptr:
		return strconv.FormatUint(uint64(x), 10), true
	case json.Number:
		if x == "" {
			return "0", true
		}
		return string(x), true
	case []byte:
		if x == nil {
			return "", false
		}
		return base64.StdEncoding.EncodeToString(x), true
	case time.Time:
		return formatTime(x), true
	case map[string]any, []any, []string:
		return "", false
	}
	// Anything else: whatever encoding/json writes, when that is a scalar.
	b, err := json.Marshal(v)
	if err != nil || len(b) == 0 {
		return "", false
	}
	switch b[0] {
	case '{', '[', 'n':
		return "", false
	case '"':
		var s string
		if json.Unmarshal(b, &s) != nil {
			return "", false
		}
		return s, true
	}
	return string(b), true
}

// ValidFieldPath reports whether path can address a scalar of type t for
// FieldValue: a top-level member of t that is not an array or object, or
// "data.<key>[.<key>...]" with non-empty keys for types with data. The
// error names the path and lists the allowed names.
func ValidFieldPath(t Type, path string) error {
	if !t.Valid() {
		return fmt.Errorf("schemas: unknown object type %q (want one of %s)", string(t), typeList())
	}
	if rest, ok := strings.CutPrefix(path, dataPrefix); ok && t.HasData() {
		for seg := range strings.SplitSeq(rest, ".") {
			if seg == "" {
				return fmt.Errorf("schemas: %s field path %q has an empty key segment", t, path)
			}
		}
		return nil
	}
	kind, ok := fieldKindOf(t, path)
	switch {
	case !ok:
		return fmt.Errorf("schemas: %s has no field %q (want one of %s%s)", t, path, scalarFieldList(t), dataHint(t))
	case kind == kindObject:
		return fmt.Errorf("schemas: %s field %q is an object, not a scalar; address a member as data.<key>", t, path)
	case kind == kindStringArray:
		return fmt.Errorf("schemas: %s field %q is an array, not a scalar", t, path)
	}
	return nil
}

func scalarFieldList(t Type) string {
	var names []string
	for _, n := range FieldNames(t) {
		if k, _ := fieldKindOf(t, n); k != kindObject && k != kindStringArray {
			names = append(names, n)
		}
	}
	return strings.Join(names, ", ")
}

func dataHint(t Type) string {
	if t.HasData() {
		return ", data.<key>"
	}
	return ""
}
