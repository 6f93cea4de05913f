package profile

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/telebridge/telebridge/schemas"
)

// assignFn converts an expression result and stores it in an object field.
// present is false when v is nil (the field stays absent).
type assignFn func(o schemas.Object, v any) (present bool, err error)

type fieldDef struct {
	kind     mkind
	required bool
	assign   assignFn
	// str is the field of a required text field, for expressions that
	// yield text without boxing (mexpr.fastStr).
	str func(schemas.Object) *string
}

// fieldTable returns the mappable fields of type t. Record ids (id) are
// optional: absent means the pipeline assigns a deterministic id. An
// Asset's whenCreated is optional: absent means the time the asset was
// first seen.
func fieldTable(t schemas.Type) map[string]fieldDef {
	req := func(k mkind, a assignFn) fieldDef { return fieldDef{kind: k, required: true, assign: a} }
	opt := func(k mkind, a assignFn) fieldDef { return fieldDef{kind: k, assign: a} }
	reqStr := func(f func(schemas.Object) *string) fieldDef {
		return fieldDef{kind: stringKind, required: true, assign: str(f), str: f}
	}
	switch t {
	case schemas.TypeAsset:
		return map[string]fieldDef{
			"id":          reqStr(func(o schemas.Object) *string { return &o.(*schemas.Asset).ID }),
			"name":        reqStr(func(o schemas.Object) *string { return &o.(*schemas.Asset).Name }),
			"ownerId":     reqStr(func(o schemas.Object) *string { return &o.(*schemas.Asset).OwnerID }),
			"whenCreated": opt(timeKind, tim(func(o schemas.Object) *time.Time { return &o.(*schemas.Asset).WhenCreated })),
			"whenUpdated": req(timeKind, tim(func(o schemas.Object) *time.Time { return &o.(*schemas.Asset).WhenUpdated })),
			"boxId":       opt(stringKind, optStr(func(o schemas.Object) **string { return &o.(*schemas.Asset).BoxID })),
			"disabled":    opt(boolKind, optBool(func(o schemas.Object) **bool { return &o.(*schemas.Asset).Disabled })),
			"note":        opt(stringKind, optStr(func(o schemas.Object) **string { return &o.(*schemas.Asset).Note })),
			"tags":        opt(tagsKind, tags(func(o schemas.Object) *[]string { return &o.(*schemas.Asset).Tags })),
		}
	case schemas.TypeLocation:
		l := func(o schemas.Object) *schemas.Location { return o.(*schemas.Location) }
		return map[string]fieldDef{
			"id":          opt(intKind, i64(func(o schemas.Object) *int64 { return &l(o).ID })),
			"assetId":     reqStr(func(o schemas.Object) *string { return &l(o).AssetID }),
			"ownerId":     reqStr(func(o schemas.Object) *string { return &l(o).OwnerID }),
			"whenCreated": req(timeKind, tim(func(o schemas.Object) *time.Time { return &l(o).WhenCreated })),
			"latitude":    req(floatKind, f64(func(o schemas.Object) *float64 { return &l(o).Latitude })),
			"longitude":   req(floatKind, f64(func(o schemas.Object) *float64 { return &l(o).Longitude })),
			"altitude":    opt(floatKind, optF64(func(o schemas.Object) **float64 { return &l(o).Altitude })),
			"speed":       opt(floatKind, optF64(func(o schemas.Object) **float64 { return &l(o).Speed })),
			"heading":     opt(floatKind, optF64(func(o schemas.Object) **float64 { return &l(o).Heading })),
			"zoneId":      opt(stringKind, optStr(func(o schemas.Object) **string { return &l(o).ZoneID })),
		}
	case schemas.TypeSensorData:
		s := func(o schemas.Object) *schemas.SensorData { return o.(*schemas.SensorData) }
		return map[string]fieldDef{
			"id":            opt(intKind, i64(func(o schemas.Object) *int64 { return &s(o).ID })),
			"assetId":       reqStr(func(o schemas.Object) *string { return &s(o).AssetID }),
			"ownerId":       reqStr(func(o schemas.Object) *string { return &s(o).OwnerID }),
			"sensorId":      reqStr(func(o schemas.Object) *string { return &s(o).SensorID }),
			"sensorType":    reqStr(func(o schemas.Object) *string { return &s(o).SensorType }),
			"whenCreated":   req(timeKind, tim(func(o schemas.Object) *time.Time { return &s(o).WhenCreated })),
			"value":         reqStr(func(o schemas.Object) *string { return &s(o).Value }),
			"type":          reqStr(func(o schemas.Object) *string { return &s(o).Type }),
			"when_received": opt(intKind, optMillis(func(o schemas.Object) **int64 { return &s(o).WhenReceived })),
		}
	case schemas.TypeReeferData:
		r := func(o schemas.Object) *schemas.ReeferData { return o.(*schemas.ReeferData) }
		return map[string]fieldDef{
			"id":          opt(intKind, i64(func(o schemas.Object) *int64 { return &r(o).ID })),
			"assetId":     reqStr(func(o schemas.Object) *string { return &r(o).AssetID }),
			"ownerId":     reqStr(func(o schemas.Object) *string { return &r(o).OwnerID }),
			"whenCreated": req(timeKind, tim(func(o schemas.Object) *time.Time { return &r(o).WhenCreated })),
			"reeferClass": reqStr(func(o schemas.Object) *string { return &r(o).ReeferClass }),
			"data":        req(dataKind, data(func(o schemas.Object) *map[string]any { return &r(o).Data })),
		}
	case schemas.TypeGensetData:
		g := func(o schemas.Object) *schemas.GensetData { return o.(*schemas.GensetData) }
		return map[string]fieldDef{
			"id":          opt(intKind, i64(func(o schemas.Object) *int64 { return &g(o).ID })),
			"assetId":     reqStr(func(o schemas.Object) *string { return &g(o).AssetID }),
			"ownerId":     reqStr(func(o schemas.Object) *string { return &g(o).OwnerID }),
			"whenCreated": req(timeKind, tim(func(o schemas.Object) *time.Time { return &g(o).WhenCreated })),
			"gensetType":  reqStr(func(o schemas.Object) *string { return &g(o).GensetType }),
			"data":        req(dataKind, data(func(o schemas.Object) *map[string]any { return &g(o).Data })),
			"boxId":       opt(stringKind, optStr(func(o schemas.Object) **string { return &g(o).BoxID })),
		}
	case schemas.TypeGtoemData:
		g := func(o schemas.Object) *schemas.GtoemData { return o.(*schemas.GtoemData) }
		return map[string]fieldDef{
			"id":            opt(intKind, i64(func(o schemas.Object) *int64 { return &g(o).ID })),
			"assetId":       reqStr(func(o schemas.Object) *string { return &g(o).AssetID }),
			"ownerId":       reqStr(func(o schemas.Object) *string { return &g(o).OwnerID }),
			"whenCreated":   req(timeKind, tim(func(o schemas.Object) *time.Time { return &g(o).WhenCreated })),
			"payloadType":   req(int32Kind, i32(func(o schemas.Object) *int32 { return &g(o).PayloadType })),
			"data":          req(dataKind, data(func(o schemas.Object) *map[string]any { return &g(o).Data })),
			"boxId":         opt(stringKind, optStr(func(o schemas.Object) **string { return &g(o).BoxID })),
			"when_received": opt(intKind, optMillis(func(o schemas.Object) **int64 { return &g(o).WhenReceived })),
		}
	}
	return nil
}

// toText converts a result for a text field: text as is, json.Number its
// text, booleans and numbers their shortest text.
func toText(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return string(x), nil
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "", fmt.Errorf("%v is not a finite number", x)
		}
		return string(appendFloat(nil, x)), nil
	}
	return "", fmt.Errorf("got %s, want text", describe(v))
}

func toFloat(v any) (float64, error) {
	if f, ok := asFloat(v); ok {
		return f, nil
	}
	return 0, fmt.Errorf("got %s, want a number", describe(v))
}

func toInt(v any) (int64, error) {
	if t, ok := v.(time.Time); ok {
		return t.UnixMilli(), nil
	}
	if i, ok := asInt(v); ok {
		return i, nil
	}
	return 0, fmt.Errorf("got %s, want an integer", describe(v))
}

func toTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		if y := x.UTC().Year(); y < 1 || y > 9999 {
			return time.Time{}, fmt.Errorf("year %d is outside 1..9999", y)
		}
		return x.UTC(), nil
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s is not RFC 3339 (use time(v, layout) for other formats)", describe(v))
		}
		return toTime(t)
	}
	return time.Time{}, fmt.Errorf(`got %s, want a time (use time(v) or time(v, "ms"))`, describe(v))
}

func str(f func(schemas.Object) *string) assignFn {
	return func(o schemas.Object, v any) (bool, error) {
		if v == nil {
			return false, nil
		}
		s, err := toText(v)
		if err != nil {
			return false, err
		}
		if s == "" {
			return false, nil
		}
		*f(o) = s
		return true, nil
	}
}

func optStr(f func(schemas.Object) **string) assignFn {
	return func(o schemas.Object, v any) (bool, error) {
		if v == nil {
			return false, nil
		}
		s, err := toText(v)
		if err != nil {
			return false, err
		}
		*f(o) = &s
		return true, nil
	}
}

func f64(f func(schemas.Object) *float64) assignFn {
	return func(o schemas.Object, v any) (bool, error) {
		if v == nil {
			return false, nil
		}
		x, err := toFloat(v)
		if err != nil {
			return false, err
		}
		*f(o) = x
		return true, nil
	}
}

func optF64(f func(schemas.Object) **float64) assignFn {
	return func(o schemas.Object, v any) (bool, error) {
		if v == nil {
			return false, nil
		}
		x, err := toFloat(v)
		if err != nil {
			return false, err
		}
		*f(o) = &x
		return true, nil
	}
}

func i64(f func(schemas.Object) *int64) assignFn {
	return func(o schemas.Object, v any) (bool, error) {
		if v == nil {
			return false, nil
		}
		x, err := toInt(v)
		if err != nil {
			return false, err
		}
		*f(o) = x
		return true, nil
	}
}

func i32(f func(schemas.Object) *int32) assignFn {
	return func(o schemas.Object, v any) (bool, error) {
		if v == nil {
			return false, nil
		}
		x, err := toInt(v)
		if err != nil {
			return false, err
		}
		if x < math.MinInt32 || x > math.MaxInt32 {
			return false, fmt.Errorf("%d does not fit a 32-bit integer", x)
		}
		*f(o) = int32(x)
		return true, nil
	}
}

// optMillis stores epoch milliseconds; a time converts to its milliseconds.
func optMillis(f func(schemas.Object) **int64) assignFn {
	return func(o schemas.Object, v any) (bool, error) {
		if v == nil {
			return false, nil
		}
		x, err := toInt(v)
		if err != nil {
			return false, err
		}
		*f(o) = &x
		return true, nil
	}
}

func tim(f func(schemas.Object) *time.Time) assignFn {
	return func(o schemas.Object, v any) (bool, error) {
		if v == nil {
			return false, nil
		}
		t, err := toTime(v)
		if err != nil {
			return false, err
		}
		if t.IsZero() {
			return false, nil
		}
		*f(o) = t
		return true, nil
	}
}

func optBool(f func(schemas.Object) **bool) assignFn {
	return func(o schemas.Object, v any) (bool, error) {
		var b bool
		switch x := v.(type) {
		case nil:
			return false, nil
		case bool:
			b = x
		case string:
			switch x {
			case "true":
				b = true
			case "false":
			default:
				return false, fmt.Errorf("got %s, want a boolean", describe(v))
			}
		default:
			return false, fmt.Errorf("got %s, want a boolean", describe(v))
		}
		*f(o) = &b
		return true, nil
	}
}

func tags(f func(schemas.Object) *[]string) assignFn {
	return func(o schemas.Object, v any) (bool, error) {
		var out []string
		switch x := v.(type) {
		case nil:
			return false, nil
		case []string:
			out = x
		case []any:
			out = make([]string, 0, len(x))
			for i, e := range x {
				if e == nil {
					continue
				}
				s, err := toText(e)
				if err != nil {
					return false, fmt.Errorf("element %d: %w", i, err)
				}
				out = append(out, s)
			}
		default:
			return false, fmt.Errorf("got %s, want a list of text", describe(v))
		}
		if len(out) == 0 {
			return false, nil
		}
		*f(o) = out
		return true, nil
	}
}

// data stores a JSON-ready copy of an object (see plain).
func data(f func(schemas.Object) *map[string]any) assignFn {
	return func(o schemas.Object, v any) (bool, error) {
		switch x := v.(type) {
		case nil:
			return false, nil
		case map[string]any:
			*f(o) = plain(x, 0).(map[string]any)
			return true, nil
		}
		return false, fmt.Errorf("got %s, want an object", describe(v))
	}
}
