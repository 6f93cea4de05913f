package profile

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/telebridge/telebridge/codec"
	"github.com/telebridge/telebridge/schemas"
)

// GtoemData payload types produced by the trackunit-insights profile.
const (
	// PayloadCANMessage: data holds one CANMessages entry with its
	// CanMessageData members flattened in, CanMessageValues as "values"
	// (with "valuesType" naming its union branch: CanValue, CanMinMaxValue
	// or CanAccumulatedValue in the pinned reader schema) and BinaryValue
	// as lower-case hex text.
	PayloadCANMessage int32 = 1
	// PayloadFaultCode: data holds one FaultCodes entry (CodeIdentifier,
	// CodeDescription, CodeSeverity, CodeSource, datetimeCleared in ms).
	PayloadFaultCode int32 = 2
	// PayloadAccessControl: data holds the AccessControlKeyUsage group
	// (OperatorId, KeyId, Operation, AccessType, Success).
	PayloadAccessControl int32 = 3
)

// trackunit is the trackunit-insights profile.
//
// Mapping of one Machine Insights message (every group optional except
// Metadata.MachineId), in output order:
//   - Location -> Location when Latitude and Longitude are both present and
//     not both 0. whenCreated = Location.datetime, altitude = Altitude
//     (AltitudeUnits is always metres, as object-sync's altitude is).
//     speed = the Speed insight's value when its datetime equals
//     Location.datetime (the Speed SensorData is emitted as well).
//   - Every other top-level field whose value has the insight shape (a
//     datetime member, exactly one numeric or boolean member and at most one
//     string unit member) -> SensorData: the hours fields, the ~150 machine
//     insights, and insight fields unknown to the reader schema. sensorType =
//     field name; sensorId = field name, plus ":<unit>" when the field has a
//     unit ("FuelRemaining:percent"; hours fields without a unit member get
//     "hours"). Since Trackunit units are fixed per field, sensorId is
//     stable per sensor. Doubles are DECIMAL (even when integral), longs
//     INTEGER, booleans BOOLEAN. Fields of any other shape are ignored.
//   - AdvancedSensors[i] -> SensorData: sensorId = "<Source>/<SensorId>"
//     (just SensorId without a Source) plus ":<UnitOfMeasurement>",
//     sensorType = SensorName, value NumericValue (DECIMAL) or else
//     StringValue (STRING); an entry with both gives a second SensorData
//     "<sensorId without unit>/StringValue" for the text; entries with
//     neither are skipped.
//   - CANMessages[i], FaultCodes[i], AccessControlKeyUsage -> GtoemData with
//     payloadType PayloadCANMessage, PayloadFaultCode, PayloadAccessControl.
//   - Location details -> SensorData, sensorType = sensorId without the
//     unit: "Location.Altitude:<AltitudeUnits, default metres>" when no
//     Location object carries it (the altitude-only case, Latitude and
//     Longitude both 0), any other scalar Location member "Location.<name>";
//     LocationMetadata members ("LocationMetadata.AccuracyRadius:metres",
//     "LocationMetadata.HighAccuracy", whenCreated = Location.datetime or
//     else the record time) and LocationAddress members
//     ("LocationAddress.Country", Zipcode, City, Address, GeoHash, always
//     STRING; whenCreated = LocationAddress.datetime). Null members are
//     skipped. These come after the GtoemData so that adding them did not
//     move the object index (and eventId) of any object mapped before.
//   - EquipmentHeader + Metadata -> Asset (last, only when new or changed).
//
// A data point without a datetime takes the record timestamp.
// when_received is the record timestamp. A record decoded with
// codec.BranchNames names the CanMessageValues branch; it is kept as the
// CAN message's "valuesType" member.
type trackunit struct {
	owner  string
	assets *assetCache
}

func (p *trackunit) Name() string   { return NameTrackunit }
func (p *trackunit) Format() Format { return FormatAvro }

// MessageID returns "": Machine Insights messages carry no message id.
func (p *trackunit) MessageID(*Input) string { return "" }

// Top-level groups with a structure of their own, never read as insights.
func isTrackunitStructural(name string) bool {
	switch name {
	case "EquipmentHeader", "Metadata", "Location", "LocationMetadata", "LocationAddress",
		"AccessControlKeyUsage", "CANMessages", "AdvancedSensors", "FaultCodes":
		return true
	}
	return false
}

// field is one record-valued top-level field.
type field struct {
	name  string
	group map[string]any
}

// readings builds the SensorData of one message: the objects live in one
// slab whose capacity is fixed up front (so pointers into it stay valid),
// and their sensorId and value texts are appended to one buffer that
// becomes a single string at the end.
type readings struct {
	slab []sensorSlot
	text []byte
}

// sensorSlot is a SensorData with the location of its texts.
type sensorSlot struct {
	sd   schemas.SensorData
	span textSpan
}

// textSpan locates the texts of one SensorData in readings.text; an empty
// id span keeps the SensorID already set.
type textSpan struct{ idStart, idEnd, valueStart, valueEnd int32 }

// add appends a SensorData for value, or returns nil when value is not a
// usable scalar (nil, NaN, a map) or the slab is full. forceString types
// the value STRING whatever its text.
func (rd *readings) add(r *tuRecord, sensorID, sensorType, unit string, value any, forceString bool, when time.Time) *schemas.SensorData {
	if len(rd.slab) == cap(rd.slab) || len(rd.text) > math.MaxInt32/2 {
		return nil
	}
	valueStart := len(rd.text)
	text, typ, ok := appendReading(rd.text, value)
	if !ok {
		return nil
	}
	if forceString {
		typ = schemas.ValueString
	}
	rd.text = text
	sp := textSpan{valueStart: int32(valueStart), valueEnd: int32(len(rd.text))}
	if unit != "" {
		sp.idStart = int32(len(rd.text))
		rd.text = append(append(append(rd.text, sensorID...), ':'), unit...)
		sp.idEnd = int32(len(rd.text))
	}
	rd.slab = rd.slab[:len(rd.slab)+1]
	slot := &rd.slab[len(rd.slab)-1]
	slot.span = sp
	sd := &slot.sd
	*sd = schemas.SensorData{
		AssetID: r.assetID, OwnerID: r.owner, SensorID: sensorID, SensorType: sensorType,
		WhenCreated: when, Type: typ, WhenReceived: r.recv,
	}
	return sd
}

// finish sets the texts of every SensorData.
func (rd *readings) finish() {
	if len(rd.slab) == 0 {
		return
	}
	text := string(rd.text)
	for i := range rd.slab {
		slot := &rd.slab[i]
		if sp := slot.span; sp.idEnd > sp.idStart {
			slot.sd.SensorID = text[sp.idStart:sp.idEnd]
		}
		slot.sd.Value = text[slot.span.valueStart:slot.span.valueEnd]
	}
}

// tuRecord is the per-call state of one Normalize.
type tuRecord struct {
	in      *Input
	assetID string
	owner   string
	boxID   *string
	now     time.Time // record timestamp, or the latest datetime in the message
	recv    *int64
}

func (p *trackunit) fail(field, format string, args ...any) error {
	return &MappingError{Profile: NameTrackunit, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Normalize maps one Machine Insights message. It fails with a
// *MappingError when the value is not a record, Metadata.MachineId is
// missing, a known field has the wrong kind, a coordinate or datetime is
// not a valid number or time, or neither the record timestamp nor any
// datetime in the message gives a time for the Asset.
func (p *trackunit) Normalize(in *Input, dst []schemas.Object) ([]schemas.Object, error) {
	if in == nil {
		return dst, p.fail(fieldRoot, "no input")
	}
	m, ok := in.Value.(map[string]any)
	if !ok {
		return dst, p.fail(fieldRoot, "is %T, want a record (map[string]any)", in.Value)
	}
	meta, err := p.group(m, "Metadata")
	if err != nil {
		return dst, err
	}
	machineID, ok := asString(meta["MachineId"])
	if !ok {
		if v := meta["MachineId"]; v != nil {
			return dst, p.fail("Metadata.MachineId", "is %T, want a non-empty string", v)
		}
		return dst, p.fail("Metadata.MachineId", "is required but missing")
	}
	header, err := p.group(m, "EquipmentHeader")
	if err != nil {
		return dst, err
	}
	r := tuRecord{in: in, assetID: machineID, owner: p.owner, now: in.Timestamp.UTC()}
	if r.owner == "" {
		r.owner = in.Topic
	}
	if r.owner == "" {
		return dst, p.fail("(record topic)", "ownerId: no Options.OwnerID and the topic name is empty")
	}
	if !in.Timestamp.IsZero() {
		ms := in.Timestamp.UnixMilli()
		r.recv = &ms
	} else {
		r.now = latestDatetime(m)
		if r.now.IsZero() {
			return dst, p.fail(fieldTimestamp, "is zero and the message carries no datetime")
		}
	}
	if tsn, ok := asString(meta["TelematicSerialNumber"]); ok {
		r.boxID = &tsn
	}

	// Prepare the asset before producing anything, so a poison record
	// leaves the asset cache untouched.
	facts, sum, err := p.assetFacts(&r, header, meta)
	if err != nil {
		return dst, err
	}

	start := len(dst)
	dst, err = p.normalizeData(&r, m, dst)
	if err != nil {
		clear(dst[start:])
		return dst[:start], err
	}
	if emit, firstSeen := p.assets.observe(machineID, sum, r.now); emit {
		dst = append(dst, facts.build(&r, firstSeen))
	}
	return dst, nil
}

// group returns the record-valued top-level field name, nil when absent.
func (p *trackunit) group(m map[string]any, name string) (map[string]any, error) {
	switch g := m[name].(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return g, nil
	default:
		return nil, p.fail(name, "is %T, want a record", g)
	}
}

// normalizeData appends Location, SensorData and GtoemData objects.
func (p *trackunit) normalizeData(r *tuRecord, m map[string]any, dst []schemas.Object) ([]schemas.Object, error) {
	loc, err := p.location(r, m)
	if err != nil {
		return dst, err
	}
	if loc != nil {
		loc.Speed = p.speedAt(r, m, loc.WhenCreated)
		dst = append(dst, loc)
	}

	// Insight-shaped fields, in name order, then AdvancedSensors.
	var fieldBuf [64]field
	fields := fieldBuf[:0]
	for k, v := range m {
		if g, ok := v.(map[string]any); ok && k != "" && !isTrackunitStructural(k) {
			fields = append(fields, field{k, g})
		}
	}
	slices.SortFunc(fields, func(a, b field) int { return strings.Compare(a.name, b.name) })
	adv, err := p.array(m, "AdvancedSensors")
	if err != nil {
		return dst, err
	}
	rd := readings{
		// An advanced sensor may give a number and a text.
		slab: make([]sensorSlot, 0, len(fields)+2*len(adv)),
		text: make([]byte, 0, 24*(len(fields)+len(adv))),
	}
	for _, f := range fields {
		k, g := f.name, f.group
		value, unit, dt, ok := insightShape(g)
		if !ok || value == nil {
			continue
		}
		when, err := p.timeOf(r, dt, k)
		if err != nil {
			return dst, err
		}
		if unit == "" && strings.HasSuffix(k, "Hours") {
			unit = "hours"
		}
		if sd := rd.add(r, k, k, unit, value, false, when); sd != nil {
			dst = append(dst, sd)
		}
	}
	if dst, err = p.advancedSensors(r, &rd, adv, dst); err != nil {
		return dst, err
	}
	rd.finish()

	if dst, err = p.gtoemArray(r, m, "CANMessages", PayloadCANMessage, dst); err != nil {
		return dst, err
	}
	if dst, err = p.gtoemArray(r, m, "FaultCodes", PayloadFaultCode, dst); err != nil {
		return dst, err
	}
	ac, err := p.group(m, "AccessControlKeyUsage")
	if err != nil {
		return dst, err
	}
	if ac != nil {
		g, err := p.gtoem(r, ac, "AccessControlKeyUsage", PayloadAccessControl)
		if err != nil {
			return dst, err
		}
		dst = append(dst, g)
	}
	return p.locationDetails(r, m, loc != nil, dst)
}

// Location members mapped to the Location object or its altitude reading.
func isLocationMember(name string) bool {
	switch name {
	case "Latitude", "Longitude", "Altitude", "AltitudeUnits", "datetime":
		return true
	}
	return false
}

// locationDetails appends the SensorData of the Location details (see the
// mapping on trackunit): the altitude and position members no Location
// object carries, LocationMetadata and LocationAddress.
func (p *trackunit) locationDetails(r *tuRecord, m map[string]any, located bool, dst []schemas.Object) ([]schemas.Object, error) {
	lg, err := p.group(m, "Location")
	if err != nil {
		return dst, err
	}
	meta, err := p.group(m, "LocationMetadata")
	if err != nil {
		return dst, err
	}
	addr, err := p.group(m, "LocationAddress")
	if err != nil {
		return dst, err
	}
	if lg == nil && meta == nil && addr == nil {
		return dst, nil
	}
	rd := readings{
		slab: make([]sensorSlot, 0, len(lg)+len(meta)+len(addr)),
		text: make([]byte, 0, 32*(len(lg)+len(meta)+len(addr))),
	}
	locTime := r.now
	if lg != nil {
		if locTime, err = p.pointTime(r, lg, "Location"); err != nil {
			return dst, err
		}
		if !located {
			if v := lg["Altitude"]; v != nil {
				if _, ok := asFloat(v); !ok {
					return dst, p.fail("Location.Altitude", "%v (%T) is not a finite number", v, v)
				}
				unit, ok := asString(lg["AltitudeUnits"])
				if !ok {
					unit = "metres"
				}
				if sd := rd.add(r, "Location.Altitude", "Location.Altitude", unit, v, false, locTime); sd != nil {
					dst = append(dst, sd)
				}
			}
		}
		var keys [8]string
		for _, k := range sortedKeys(lg, keys[:0]) {
			v := lg[k]
			switch {
			case isLocationMember(k) && (located || k != "Latitude" && k != "Longitude"):
				continue
			case k == "Latitude" || k == "Longitude":
				// No Location object: a lone coordinate is kept; both 0
				// is the documented "position unknown" and is not.
				if lat, lon := lg["Latitude"], lg["Longitude"]; lat != nil && lon != nil {
					if f, _ := asFloat(lat); f == 0 {
						if g, _ := asFloat(lon); g == 0 {
							continue
						}
					}
				}
			}
			if sd := rd.add(r, "Location."+k, "Location."+k, "", v, false, locTime); sd != nil {
				dst = append(dst, sd)
			}
		}
	}
	if meta != nil {
		var keys [4]string
		for _, k := range sortedKeys(meta, keys[:0]) {
			if k == "datetime" {
				continue
			}
			unit := ""
			if k == "AccuracyRadius" {
				unit = "metres"
			}
			name := "LocationMetadata." + k
			if sd := rd.add(r, name, name, unit, meta[k], false, locTime); sd != nil {
				dst = append(dst, sd)
			}
		}
	}
	if addr != nil {
		when, err := p.pointTime(r, addr, "LocationAddress")
		if err != nil {
			return dst, err
		}
		var keys [8]string
		for _, k := range sortedKeys(addr, keys[:0]) {
			if k == "datetime" {
				continue
			}
			name := "LocationAddress." + k
			if sd := rd.add(r, name, name, "", addr[k], true, when); sd != nil {
				dst = append(dst, sd)
			}
		}
	}
	rd.finish()
	return dst, nil
}

// sortedKeys appends the non-empty member names of g to buf, sorted.
func sortedKeys(g map[string]any, buf []string) []string {
	for k := range g {
		if k != "" && k != codec.BranchKey {
			buf = append(buf, k)
		}
	}
	slices.Sort(buf)
	return buf
}

// speedAt returns the value of the Speed insight when its datetime is
// exactly when, the time of the Location.
func (p *trackunit) speedAt(r *tuRecord, m map[string]any, when time.Time) *float64 {
	g, ok := m["Speed"].(map[string]any)
	if !ok {
		return nil
	}
	value, _, dt, ok := insightShape(g)
	if !ok || dt == nil || scalarKind(value) == kindBool {
		return nil
	}
	t, err := asTime(dt)
	if err != nil || !t.Equal(when) {
		return nil
	}
	f, ok := asFloat(value)
	if !ok {
		return nil
	}
	return &f
}

// location maps the Location group; nil when there is no usable position.
func (p *trackunit) location(r *tuRecord, m map[string]any) (*schemas.Location, error) {
	g, err := p.group(m, "Location")
	if g == nil || err != nil {
		return nil, err
	}
	latV, lonV := g["Latitude"], g["Longitude"]
	if latV == nil || lonV == nil {
		return nil, nil
	}
	lat, ok := asFloat(latV)
	if !ok {
		return nil, p.fail("Location.Latitude", "%v (%T) is not a finite number", latV, latV)
	}
	lon, ok := asFloat(lonV)
	if !ok {
		return nil, p.fail("Location.Longitude", "%v (%T) is not a finite number", lonV, lonV)
	}
	if lat == 0 && lon == 0 {
		return nil, nil // altitude only
	}
	if lat < -90 || lat > 90 {
		return nil, p.fail("Location.Latitude", "%v is outside [-90, 90]", lat)
	}
	if lon < -180 || lon > 180 {
		return nil, p.fail("Location.Longitude", "%v is outside [-180, 180]", lon)
	}
	when, err := p.pointTime(r, g, "Location")
	if err != nil {
		return nil, err
	}
	loc := &schemas.Location{AssetID: r.assetID, OwnerID: r.owner, WhenCreated: when, Latitude: lat, Longitude: lon}
	if v := g["Altitude"]; v != nil {
		alt, ok := asFloat(v)
		if !ok {
			return nil, p.fail("Location.Altitude", "%v (%T) is not a finite number", v, v)
		}
		loc.Altitude = &alt
	}
	return loc, nil
}

// pointTime returns the datetime of data point g (field path name), or the
// record time when g has none.
func (p *trackunit) pointTime(r *tuRecord, g map[string]any, name string) (time.Time, error) {
	return p.timeOf(r, g["datetime"], name)
}

// timeOf converts the datetime value dt of data point name, or returns the
// record time when dt is nil.
func (p *trackunit) timeOf(r *tuRecord, dt any, name string) (time.Time, error) {
	t, err := asTime(dt)
	if err != nil {
		return time.Time{}, &MappingError{Profile: NameTrackunit, Field: name + ".datetime", Msg: "invalid time", Err: err}
	}
	if t.IsZero() {
		return r.now, nil
	}
	return t, nil
}

// advancedSensors maps the AdvancedSensors array.
func (p *trackunit) advancedSensors(r *tuRecord, rd *readings, arr []any, dst []schemas.Object) ([]schemas.Object, error) {
	var idBuf [24]byte
	for i, e := range arr {
		g, ok := e.(map[string]any)
		if !ok {
			return dst, p.fail("AdvancedSensors["+strconv.Itoa(i)+"]", "is %T, want a record", e)
		}
		value, forceString := g["NumericValue"], false
		text := g["StringValue"]
		if value == nil {
			value, forceString, text = text, true, nil
		}
		if value == nil {
			continue
		}
		when, err := p.pointTime(r, g, "AdvancedSensors["+strconv.Itoa(i)+"]")
		if err != nil {
			return dst, err
		}
		name, _ := asString(g["SensorName"])
		var id string
		if n, ok := asInt(g["SensorId"]); ok {
			id = string(strconv.AppendInt(idBuf[:0], n, 10))
		} else if s, ok := asString(g["SensorId"]); ok {
			id = s
		} else if name != "" {
			id = name
		} else {
			id = "AdvancedSensors[" + strconv.Itoa(i) + "]"
		}
		if name == "" {
			name = "AdvancedSensor"
		}
		if src, ok := asString(g["Source"]); ok {
			id = src + "/" + id
		}
		unit, _ := asString(g["UnitOfMeasurement"])
		if sd := rd.add(r, id, name, unit, value, forceString, when); sd != nil {
			dst = append(dst, sd)
		}
		if text != nil {
			// Both values sent: the text follows the number.
			if sd := rd.add(r, id+"/StringValue", name, "", text, true, when); sd != nil {
				dst = append(dst, sd)
			}
		}
	}
	return dst, nil
}

// array returns the array-valued top-level field name, nil when absent.
func (p *trackunit) array(m map[string]any, name string) ([]any, error) {
	switch a := m[name].(type) {
	case nil:
		return nil, nil
	case []any:
		return a, nil
	default:
		return nil, p.fail(name, "is %T, want an array", a)
	}
}

// gtoemArray maps each entry of the array field name to a GtoemData.
func (p *trackunit) gtoemArray(r *tuRecord, m map[string]any, name string, payload int32, dst []schemas.Object) ([]schemas.Object, error) {
	arr, err := p.array(m, name)
	if err != nil {
		return dst, err
	}
	for i, e := range arr {
		path := name + "[" + strconv.Itoa(i) + "]"
		g, ok := e.(map[string]any)
		if !ok {
			return dst, p.fail(path, "is %T, want a record", e)
		}
		obj, err := p.gtoem(r, g, path, payload)
		if err != nil {
			return dst, err
		}
		dst = append(dst, obj)
	}
	return dst, nil
}

// gtoem maps one data point g (field path path) to a GtoemData whose data
// is a JSON-ready copy of g without datetime and nil members. For CAN
// messages CanMessageData is flattened and CanMessageValues renamed
// "values".
func (p *trackunit) gtoem(r *tuRecord, g map[string]any, path string, payload int32) (*schemas.GtoemData, error) {
	when, err := p.pointTime(r, g, path)
	if err != nil {
		return nil, err
	}
	data := make(map[string]any, len(g)+6)
	for k, v := range g {
		if v == nil || k == "datetime" {
			continue
		}
		if payload == PayloadCANMessage {
			switch k {
			case "CanMessageData":
				if cm, ok := v.(map[string]any); ok {
					for k2, v2 := range cm {
						if v2 != nil {
							data[k2] = plain(v2, 1)
						}
					}
					continue
				}
			case "CanMessageValues":
				if cv, ok := v.(map[string]any); ok {
					if b, ok := cv[codec.BranchKey].(string); ok {
						data["valuesType"] = b
						vals := make(map[string]any, len(cv))
						for k2, v2 := range cv {
							if k2 != codec.BranchKey {
								vals[k2] = plain(v2, 2)
							}
						}
						data["values"] = vals
						continue
					}
				}
				data["values"] = plain(v, 1)
				continue
			}
		}
		data[k] = plain(v, 1)
	}
	return &schemas.GtoemData{
		AssetID: r.assetID, OwnerID: r.owner, WhenCreated: when, PayloadType: payload,
		Data: data, BoxID: r.boxID, WhenReceived: r.recv,
	}, nil
}

// insightShape reports whether g has the shape of a machine insight: a
// datetime member, at most one numeric or boolean member (the value, nil
// when the writer sent null) and string members of which one is the unit
// (the only one, or the only one whose name contains "unit"). Any map,
// array or bytes member disqualifies g.
func insightShape(g map[string]any) (value any, unit string, datetime any, ok bool) {
	var strs, named int
	var anyStr, namedStr string
	hasDatetime := false
	for k, v := range g {
		if k == "datetime" {
			datetime, hasDatetime = v, true
			continue
		}
		if k == codec.BranchKey {
			continue
		}
		switch scalarKind(v) {
		case kindBool, kindInteger, kindDecimal:
			if value != nil {
				return nil, "", nil, false
			}
			value = v
		case kindString:
			s, _ := asString(v)
			strs++
			anyStr = s
			if hasUnitName(k) {
				named++
				namedStr = s
			}
		default:
			if v != nil {
				return nil, "", nil, false
			}
		}
	}
	switch {
	case !hasDatetime:
		return nil, "", nil, false
	case strs <= 1:
		unit = anyStr
	case named == 1:
		unit = namedStr
	default:
		return nil, "", nil, false
	}
	return value, unit, datetime, true
}

// hasUnitName reports whether k contains "unit", ignoring ASCII case.
func hasUnitName(k string) bool {
	for i := 0; i+4 <= len(k); i++ {
		if (k[i]|0x20) == 'u' && (k[i+1]|0x20) == 'n' && (k[i+2]|0x20) == 'i' && (k[i+3]|0x20) == 't' {
			return true
		}
	}
	return false
}

// latestDatetime is the latest valid datetime of any top-level group or
// array entry in m, or the zero time.
func latestDatetime(m map[string]any) time.Time {
	var latest time.Time
	consider := func(v any) {
		if g, ok := v.(map[string]any); ok {
			if t, err := asTime(g["datetime"]); err == nil && t.After(latest) {
				latest = t
			}
		}
	}
	for _, v := range m {
		if a, ok := v.([]any); ok {
			for _, e := range a {
				consider(e)
			}
			continue
		}
		consider(v)
	}
	return latest
}

// tuAsset holds the asset facts of one message.
type tuAsset struct {
	name, oem, model, serial, pin, extRef string
	unitID                                int64
	hasUnitID                             bool
	install                               time.Time
}

// assetFacts reads the asset facts of the message and their content
// fingerprint, without allocating.
func (p *trackunit) assetFacts(r *tuRecord, header, meta map[string]any) (tuAsset, uint64, error) {
	var f tuAsset
	var err error
	if f.install, err = asTime(header["UnitInstallDateTime"]); err != nil {
		return f, 0, &MappingError{Profile: NameTrackunit, Field: "EquipmentHeader.UnitInstallDateTime", Msg: "invalid time", Err: err}
	}
	equipmentID, _ := asString(header["EquipmentID"])
	f.serial, _ = asString(header["SerialNumber"])
	f.oem, _ = asString(header["OEMName"])
	f.model, _ = asString(header["Model"])
	f.pin, _ = asString(header["PIN"])
	f.extRef, _ = asString(meta["ExternalReferenceNumber"])
	if v := meta["UnitId"]; v != nil {
		if f.unitID, f.hasUnitID = asInt(v); !f.hasUnitID {
			return f, 0, p.fail("Metadata.UnitId", "%v (%T) is not an integer", v, v)
		}
	}
	switch {
	case equipmentID != "":
		f.name = equipmentID
	case f.serial != "":
		f.name = f.serial
	case r.boxID != nil:
		f.name = *r.boxID
	default:
		f.name = r.assetID
	}
	h := fnvOffset.str(r.assetID).str(f.name).str(r.owner).opt(r.boxID).
		str(f.oem).str(f.model).str(f.serial).str(f.pin).str(f.extRef)
	if f.hasUnitID {
		h = h.int(f.unitID)
	}
	h = h.int(f.install.UnixMilli())
	return f, uint64(h), nil
}

// build returns the Asset: note "<OEMName> <Model>", tags "oem:", "model:",
// "serialNumber:", "pin:", "externalReference:", "unitId:" for the facts
// present, whenCreated UnitInstallDateTime or else firstSeen.
func (f *tuAsset) build(r *tuRecord, firstSeen time.Time) *schemas.Asset {
	a := &schemas.Asset{ID: r.assetID, Name: f.name, OwnerID: r.owner, WhenCreated: f.install,
		WhenUpdated: r.now, BoxID: r.boxID}
	if a.WhenCreated.IsZero() {
		a.WhenCreated = firstSeen
	}
	if note := joinNonEmpty(f.oem, f.model); note != "" {
		a.Note = &note
	}
	a.Tags = appendTag(a.Tags, "oem", f.oem)
	a.Tags = appendTag(a.Tags, "model", f.model)
	a.Tags = appendTag(a.Tags, "serialNumber", f.serial)
	a.Tags = appendTag(a.Tags, "pin", f.pin)
	a.Tags = appendTag(a.Tags, "externalReference", f.extRef)
	if f.hasUnitID {
		a.Tags = appendTag(a.Tags, "unitId", strconv.FormatInt(f.unitID, 10))
	}
	return a
}

// joinNonEmpty joins the non-empty parts with single spaces.
func joinNonEmpty(parts ...string) string {
	var s string
	for _, part := range parts {
		if part == "" {
			continue
		}
		if s != "" {
			s += " "
		}
		s += part
	}
	return s
}

// appendTag appends "key:value" when value is not empty.
func appendTag(tags []string, key, value string) []string {
	if value == "" {
		return tags
	}
	return append(tags, key+":"+value)
}
