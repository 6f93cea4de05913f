package profile

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/telebridge/telebridge/schemas"
)

// mobito is the mobito profile (MOBITO Push API, one JSON object per
// vehicle snapshot).
//
// Mapping of one message (vin and fleet_id required):
//   - Location from latitude/longitude (both required for a Location),
//     altitude and heading (numbers or numeric strings; heading reduced to
//     [0, 360)). whenCreated = the record timestamp (the feed carries no
//     position time).
//   - Every other top-level member -> SensorData with sensorId = sensorType
//     = member name, whenCreated = the record timestamp. The value keeps the
//     feed's text ("680.0" stays "680.0"); type is derived from each value
//     on its own: BOOLEAN for booleans and "true"/"false", INTEGER for
//     integral numbers and digit strings that fit int64 ("207", 5), DECIMAL
//     for other numeric text and floats ("12.56", "680.0"), STRING for
//     everything else ("OK", "2027-02"); objects and arrays become STRING
//     holding their compact JSON; null members and members with an empty
//     name are skipped. Types are not
//     forced stable per sensor: a member sent as "47" and later "47.5"
//     moves from INTEGER to DECIMAL, so consumers should treat INTEGER as a
//     subset of DECIMAL.
//   - vin, fleet_id, brand, model, series and basic_* (construction facts)
//     -> Asset (last, only when new or changed): id = MobitoAssetID(vin),
//     name = vin, ownerId = fleet_id, note "<brand> <model>", tags
//     "brand:", "model:", "series:" and "basic_<x>:<value>", whenCreated =
//     basic_construction_date (RFC 3339 or epoch ms; an unparseable date
//     falls back to the time the asset was first seen), whenUpdated = the
//     record timestamp. A feed that omits these facts in some messages
//     re-emits the asset whenever they come and go.
//   - dtc_data and check_control_messages (lists inside a string,
//     "[3178A, B7F34E]", "[955 Tire pressure notification]"; a JSON array
//     is accepted too) -> one GtoemData per entry, payloadType
//     PayloadFaultCode like Trackunit's fault codes: data {CodeIdentifier,
//     CodeSource: the member name} and, for a check-control message
//     "<code> <text>", CodeDescription = text. Entries are split at commas
//     and trimmed; empty ones are skipped. whenCreated = the record
//     timestamp. The list also stays a STRING SensorData with the text as
//     sent, so an empty list ("[]", nothing active) is still visible. The
//     GtoemData come after all SensorData, in member-name order, then
//     entry order.
//   - uuid (the message id) is not an object field: MessageID returns it
//     and the pipeline carries it with every object derived from the
//     message (sinks.SourceRef.MessageID: a Kafka header, an MQTT user
//     property, the delivery history). Record ids are assigned by the
//     pipeline.
type mobito struct {
	assets *assetCache
	// layout is the sorted member names of a recent message. Messages of
	// one feed mostly share their member set, so sortedMembers can reuse
	// it instead of sorting; it only ever holds a correct sorted list, so
	// output order never depends on it.
	layout atomic.Pointer[[]string]
}

// member is one top-level member of a message.
type member struct {
	name  string
	value any
}

// sortedMembers appends the members of m to buf in name order. When m has
// exactly the member names of the cached layout it costs one lookup per
// member; otherwise it sorts and caches the new layout.
func (p *mobito) sortedMembers(m map[string]any, buf []member) []member {
	if l := p.layout.Load(); l != nil && len(*l) == len(m) {
		out := buf
		for _, k := range *l {
			v, ok := m[k]
			if !ok {
				out = nil
				break
			}
			out = append(out, member{k, v})
		}
		if out != nil {
			return out
		}
	}
	out := buf[:0]
	for k, v := range m {
		out = append(out, member{k, v})
	}
	slices.SortFunc(out, func(a, b member) int { return strings.Compare(a.name, b.name) })
	// Cache a copy whose names share one allocation and none of the input.
	size := 0
	for _, mb := range out {
		size += len(mb.name)
	}
	var all strings.Builder
	all.Grow(size)
	for _, mb := range out {
		all.WriteString(mb.name)
	}
	text := all.String()
	names := make([]string, len(out))
	off := 0
	for i, mb := range out {
		names[i] = text[off : off+len(mb.name)]
		off += len(mb.name)
	}
	p.layout.Store(&names)
	return out
}

func (p *mobito) Name() string   { return NameMobito }
func (p *mobito) Format() Format { return FormatJSON }

// MessageID returns the message's uuid, or "" when it has none.
func (p *mobito) MessageID(in *Input) string {
	if in == nil {
		return ""
	}
	m, _ := in.Value.(map[string]any)
	id, _ := asString(m["uuid"])
	return id
}

// mobitoKind says how a top-level member is used.
type mobitoKind uint8

const (
	mobitoSensor mobitoKind = iota
	mobitoSkip              // identity or position: mapped elsewhere
	mobitoFact              // asset fact
)

func mobitoMember(k string) mobitoKind {
	switch k {
	case "vin", "fleet_id", "uuid", "latitude", "longitude", "altitude", "heading":
		return mobitoSkip
	case "brand", "model", "series":
		return mobitoFact
	}
	if strings.HasPrefix(k, "basic_") {
		return mobitoFact
	}
	return mobitoSensor
}

func (p *mobito) fail(field, format string, args ...any) error {
	return &MappingError{Profile: NameMobito, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// requiredString returns the non-empty string member k of m.
func (p *mobito) requiredString(m map[string]any, k string) (string, error) {
	v := m[k]
	if s, ok := asString(v); ok {
		return s, nil
	}
	if v == nil {
		return "", p.fail(k, "is required but missing")
	}
	if s, ok := v.(string); ok && s == "" {
		return "", p.fail(k, "is required but empty")
	}
	return "", p.fail(k, "is %T, want a non-empty string", v)
}

// Normalize maps one MOBITO message. It fails with a *MappingError when the
// value is not a JSON object, vin or fleet_id is missing or not a string,
// latitude, longitude, altitude or heading is not a number (or a coordinate
// is out of range), or the record timestamp is zero.
func (p *mobito) Normalize(in *Input, dst []schemas.Object) ([]schemas.Object, error) {
	if in == nil {
		return dst, p.fail(fieldRoot, "no input")
	}
	m, ok := in.Value.(map[string]any)
	if !ok {
		return dst, p.fail(fieldRoot, "is %T, want a JSON object (map[string]any)", in.Value)
	}
	vin, err := p.requiredString(m, "vin")
	if err != nil {
		return dst, err
	}
	owner, err := p.requiredString(m, "fleet_id")
	if err != nil {
		return dst, err
	}
	if in.Timestamp.IsZero() {
		return dst, p.fail(fieldTimestamp, "is zero; MOBITO messages carry no time of their own")
	}
	now := in.Timestamp.UTC()
	recv := new(int64)
	*recv = now.UnixMilli()
	assetID := MobitoAssetID(vin)

	loc, err := p.location(m, assetID, owner, now)
	if err != nil {
		return dst, err
	}
	start := len(dst)
	if loc != nil {
		dst = append(dst, loc)
	}

	var memberBuf [128]member
	members := p.sortedMembers(m, memberBuf[:0])

	// One slab for every SensorData; at most one per key, so it never
	// grows and pointers into it stay valid.
	slab := make([]schemas.SensorData, 0, len(members))
	h := fnvOffset.str(vin).str(owner)
	var created time.Time
	var facts int
	var scratch [64]byte
	var codes []mobitoCode
	for _, mb := range members {
		k, v := mb.name, mb.value
		if k == "" {
			continue // no name, no sensor
		}
		switch mobitoMember(k) {
		case mobitoSkip:
			continue
		case mobitoFact:
			if v == nil {
				continue
			}
			facts++
			h = h.str(k)
			text, _, ok := appendReading(scratch[:0], v)
			if !ok {
				text = fmt.Appendf(scratch[:0], "%v", v)
			}
			h = h.bytes(text)
			if k == "basic_construction_date" {
				if t, err := asTime(v); err == nil {
					created = t
				}
			}
			continue
		}
		if v == nil {
			continue
		}
		value, typ, err := mobitoValue(v)
		if err != nil {
			clear(dst[start:])
			return dst[:start], &MappingError{Profile: NameMobito, Field: k, Msg: "cannot render value", Err: err}
		}
		if isMobitoCodeList(k) {
			codes = appendCodes(codes, k, v)
			typ = schemas.ValueString
		}
		slab = slab[:len(slab)+1]
		sd := &slab[len(slab)-1]
		*sd = schemas.SensorData{
			AssetID: assetID, OwnerID: owner, SensorID: k, SensorType: k,
			WhenCreated: now, Value: value, Type: typ, WhenReceived: recv,
		}
		dst = append(dst, sd)
	}

	if len(codes) > 0 {
		slab := make([]schemas.GtoemData, len(codes))
		for i, c := range codes {
			data := map[string]any{"CodeIdentifier": c.id, "CodeSource": c.source}
			if c.desc != "" {
				data["CodeDescription"] = c.desc
			}
			slab[i] = schemas.GtoemData{AssetID: assetID, OwnerID: owner, WhenCreated: now,
				PayloadType: PayloadFaultCode, Data: data, WhenReceived: recv}
			dst = append(dst, &slab[i])
		}
	}

	if emit, firstSeen := p.assets.observe(assetID, uint64(h), now); emit {
		if created.IsZero() {
			created = firstSeen
		}
		dst = append(dst, p.asset(m, members, facts, assetID, vin, owner, created, now))
	}
	return dst, nil
}

// isMobitoCodeList reports whether member k is a list of fault codes.
func isMobitoCodeList(k string) bool { return k == "dtc_data" || k == "check_control_messages" }

// mobitoCode is one entry of a fault-code list.
type mobitoCode struct{ source, id, desc string }

// appendCodes appends the entries of the code list v (member k): a string
// "[a, b]" (brackets optional) or a JSON array. A check-control entry
// "955 Tire pressure notification" splits into code and description.
func appendCodes(dst []mobitoCode, k string, v any) []mobitoCode {
	return appendCodeEntries(dst, k, v, k == "check_control_messages")
}

// appendCodeEntries appends the entries of the code list v from source:
// a string "[a, b]" (brackets optional) or an array. With describe, an
// entry "955 Tire pressure notification" splits into code and
// description (splitDesc).
func appendCodeEntries(dst []mobitoCode, k string, v any, splitDesc bool) []mobitoCode {
	var entries []string
	switch x := v.(type) {
	case string:
		t := strings.TrimSpace(x)
		t = strings.TrimSuffix(strings.TrimPrefix(t, "["), "]")
		entries = strings.Split(t, ",")
	case []any:
		for _, e := range x {
			if e == nil {
				continue
			}
			if str, ok := e.(string); ok {
				entries = append(entries, str)
				continue
			}
			text, _, err := mobitoValue(e)
			if err == nil {
				entries = append(entries, text)
			}
		}
	default:
		return dst
	}
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		c := mobitoCode{source: k, id: e}
		if splitDesc {
			if code, desc, ok := strings.Cut(e, " "); ok && isCode(code) {
				c.id, c.desc = code, strings.TrimSpace(desc)
			}
		}
		dst = append(dst, c)
	}
	return dst
}

// isCode reports whether s looks like a check-control code: ASCII letters
// and digits with at least one digit.
func isCode(s string) bool {
	digit := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		default:
			return false
		}
	}
	return digit
}

// mobitoValue renders one signal value and its type.
func mobitoValue(v any) (string, string, error) {
	switch x := v.(type) {
	case string:
		return x, classifyText(x), nil
	case json.Number:
		return string(x), classifyText(string(x)), nil
	case bool:
		if x {
			return "true", schemas.ValueBoolean, nil
		}
		return "false", schemas.ValueBoolean, nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			text, _, _ := appendReading(nil, int64(x))
			return string(text), schemas.ValueInteger, nil
		}
	case float32:
		return mobitoValue(float64(x))
	case map[string]any, []any:
		b, err := json.Marshal(x)
		if err != nil {
			return "", "", err
		}
		return string(b), schemas.ValueString, nil
	}
	text, typ, ok := appendReading(nil, v)
	if !ok {
		return "", "", fmt.Errorf("unsupported value %v (%T)", v, v)
	}
	return string(text), typ, nil
}

// location maps latitude/longitude/altitude/heading; nil when latitude or
// longitude is missing (null or "").
func (p *mobito) location(m map[string]any, assetID, owner string, now time.Time) (*schemas.Location, error) {
	latV, lonV := m["latitude"], m["longitude"]
	if isBlank(latV) || isBlank(lonV) {
		return nil, nil
	}
	lat, err := p.number(m, "latitude")
	if err != nil {
		return nil, err
	}
	lon, err := p.number(m, "longitude")
	if err != nil {
		return nil, err
	}
	if lat < -90 || lat > 90 {
		return nil, p.fail("latitude", "%v is outside [-90, 90]", lat)
	}
	if lon < -180 || lon > 180 {
		return nil, p.fail("longitude", "%v is outside [-180, 180]", lon)
	}
	loc := &schemas.Location{AssetID: assetID, OwnerID: owner, WhenCreated: now, Latitude: lat, Longitude: lon}
	if !isBlank(m["altitude"]) {
		alt, err := p.number(m, "altitude")
		if err != nil {
			return nil, err
		}
		loc.Altitude = &alt
	}
	if !isBlank(m["heading"]) {
		hd, err := p.number(m, "heading")
		if err != nil {
			return nil, err
		}
		if hd = math.Mod(hd, 360); hd < 0 {
			hd += 360
		}
		loc.Heading = &hd
	}
	return loc, nil
}

// number parses member k as a finite number.
func (p *mobito) number(m map[string]any, k string) (float64, error) {
	v := m[k]
	f, ok := asFloat(v)
	if !ok {
		if s, isStr := v.(string); isStr {
			return 0, p.fail(k, "invalid number %q", s)
		}
		return 0, p.fail(k, "invalid number %v (%T)", v, v)
	}
	return f, nil
}

func isBlank(v any) bool {
	if v == nil {
		return true
	}
	s, ok := v.(string)
	return ok && s == ""
}

// asset builds the vehicle Asset from the facts among the sorted members.
func (p *mobito) asset(m map[string]any, members []member, facts int, id, vin, owner string, created, now time.Time) *schemas.Asset {
	a := &schemas.Asset{ID: id, Name: vin, OwnerID: owner, WhenCreated: created, WhenUpdated: now}
	brand, _ := asString(m["brand"])
	model, _ := asString(m["model"])
	if note := joinNonEmpty(brand, model); note != "" {
		a.Note = &note
	}
	if facts == 0 {
		return a
	}
	a.Tags = make([]string, 0, facts)
	for _, k := range []string{"brand", "model", "series"} {
		if text, ok := factText(m[k]); ok {
			a.Tags = append(a.Tags, k+":"+text)
		}
	}
	for _, mb := range members {
		if k := mb.name; strings.HasPrefix(k, "basic_") {
			if text, ok := factText(mb.value); ok {
				a.Tags = append(a.Tags, k+":"+text)
			}
		}
	}
	return a
}

// factText renders an asset fact for a tag.
func factText(v any) (string, bool) {
	if v == nil {
		return "", false
	}
	if text, _, ok := appendReading(nil, v); ok {
		return string(text), true
	}
	return fmt.Sprint(v), true
}
