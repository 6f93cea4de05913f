package profile_test

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/telebridge/telebridge/bridge/profile"
	"github.com/telebridge/telebridge/codec"
	"github.com/telebridge/telebridge/internal/fleet"
	"github.com/telebridge/telebridge/schemas"
)

const sampleMachineID = "aef8fc52-ab96-4cb2-a6b0-f2f5c337080e"

func trackunitInput(v map[string]any) *profile.Input {
	return &profile.Input{Topic: "trackunit.customer-a", Partition: 1, Offset: 7, Timestamp: ts, Value: v}
}

// sampleValue is testdata/trackunit/sample.json encoded with the reader
// schema and decoded back as the codec would hand it over.
func sampleValue(t testing.TB) map[string]any {
	t.Helper()
	s := readerSchema(t)
	plain := decodeJSONFile(t, "../../testdata/trackunit/sample.json")
	return roundTrip(t, s, s, avroNative(t, s, plain))
}

func TestTrackunitReaderSchemaFiles(t *testing.T) {
	v1, err := os.ReadFile("../../testdata/trackunit/insights-v1.avsc")
	if err != nil {
		t.Fatal(err)
	}
	if string(v1) != profile.TrackunitReaderSchema() {
		t.Fatal("testdata/trackunit/insights-v1.avsc differs from the embedded reader schema; copy bridge/profile/trackunit-insights.avsc over it")
	}
	reader := readerSchema(t)
	rec := reader.(*avro.RecordSchema)
	if rec.FullName() != "com.trackunit.machineinsights.MachineInsights" {
		t.Errorf("reader record = %s", rec.FullName())
	}
	for _, f := range rec.Fields() {
		u, ok := f.Type().(*avro.UnionSchema)
		if !ok || !u.Nullable() || u.Types()[0].Type() != avro.Null || !f.HasDefault() || f.Default() != nil {
			t.Errorf("field %s is not optional with default null", f.Name())
		}
	}
	v2, err := os.ReadFile("../../testdata/trackunit/insights-v2.avsc")
	if err != nil {
		t.Fatal(err)
	}
	writer := parseSchema(t, string(v2))
	if err := avro.NewSchemaCompatibility().Compatible(reader, writer); err != nil {
		t.Errorf("v2 writer is not readable by the v1 reader: %v", err)
	}
}

func TestTrackunitSample(t *testing.T) {
	p := newProfile(t, profile.NameTrackunit, profile.Options{})
	if p.Name() != "trackunit-insights" || p.Format() != profile.FormatAvro {
		t.Fatalf("Name/Format = %s/%s", p.Name(), p.Format())
	}
	objs, err := p.Normalize(trackunitInput(sampleValue(t)), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkObjects(t, objs)
	const owner = "trackunit.customer-a"
	ms := func(n int64) time.Time { return time.UnixMilli(n).UTC() }
	recv := ts.UnixMilli()

	// Location first.
	loc, ok := objs[0].(*schemas.Location)
	if !ok || loc.AssetID != sampleMachineID || loc.OwnerID != owner || loc.Latitude != 55.6761254 ||
		loc.Longitude != 12.5715523 || loc.Altitude == nil || *loc.Altitude != 31.3 ||
		!loc.WhenCreated.Equal(ms(1741082370000)) || loc.Heading != nil || loc.Speed != nil {
		t.Errorf("objs[0] = %+v, want the Location", objs[0])
	}

	// Then the insights and hours in field-name order, then AdvancedSensors.
	type sd struct{ id, typ, value, sensorType string }
	want := []sd{
		{"AmbientAirTemperature:celsius", "DECIMAL", "6.5", ""},
		{"BatteryVoltage:volt", "DECIMAL", "13.92", ""},
		{"CumulativeIdleHours:hours", "DECIMAL", "801.78", ""},
		{"CumulativeIdleNonOperatingHours:hours", "DECIMAL", "256.57", ""},
		{"CumulativeMovingHours:hours", "DECIMAL", "481.07", ""},
		{"CumulativeOperatingHours:hours", "DECIMAL", "3207.11", ""},
		{"CumulativeProductiveHours:hours", "DECIMAL", "1924.27", ""},
		{"DefRemaining:percent", "DECIMAL", "71", ""},
		{"Distance:km", "DECIMAL", "3132.03", ""},
		{"EngineCoolantTemperature:celsius", "DECIMAL", "88.2", ""},
		{"EngineLoad:percent", "DECIMAL", "63.5", ""},
		{"EngineOilPressure:bar", "DECIMAL", "4.12", ""},
		{"EngineSpeed:rpm", "DECIMAL", "1650", ""},
		{"EngineStatus", "BOOLEAN", "true", ""},
		{"ExternalPowerVoltage:volt", "DECIMAL", "13.2", ""},
		{"FuelConsumptionRate:litre/hour", "DECIMAL", "17.4", ""},
		{"FuelRemaining:percent", "DECIMAL", "44.4", ""},
		{"FuelUsedTotal:litre", "DECIMAL", "44899.5", ""},
		{"HydraulicOilPressure:bar", "DECIMAL", "212.4", ""},
		{"IgnitionStatus", "BOOLEAN", "true", ""},
		{"ParkingBrakeEngaged", "BOOLEAN", "false", ""},
		{"Speed:km/h", "DECIMAL", "6.5", ""},
		{"MODBUS/101:percent", "DECIMAL", "87.5", "Hydraulic tank level"},
		{"BLUETOOTH_TAG/202", "STRING", "HAMMER", "Attachment tag"},
	}
	var got []sd
	for _, o := range objs[1:] {
		s, ok := o.(*schemas.SensorData)
		if !ok {
			break
		}
		got = append(got, sd{s.SensorID, s.Type, s.Value, s.SensorType})
		if s.AssetID != sampleMachineID || s.OwnerID != owner || s.WhenReceived == nil || *s.WhenReceived != recv {
			t.Errorf("%s: asset/owner/when_received = %s/%s/%v", s.SensorID, s.AssetID, s.OwnerID, s.WhenReceived)
		}
		if name, _, _ := strings.Cut(s.SensorID, ":"); s.SensorType != name && !strings.Contains(s.SensorID, "/") {
			t.Errorf("%s: sensorType %s, want %s", s.SensorID, s.SensorType, name)
		}
		switch s.SensorID {
		case "FuelRemaining:percent":
			if !s.WhenCreated.Equal(ms(1741082389000)) {
				t.Errorf("FuelRemaining whenCreated = %v", s.WhenCreated)
			}
		case "MODBUS/101:percent":
			if !s.WhenCreated.Equal(ms(1741082360000)) {
				t.Errorf("advanced sensor whenCreated = %v", s.WhenCreated)
			}
		}
	}
	for i := range want {
		if want[i].sensorType == "" {
			want[i].sensorType, _, _ = strings.Cut(want[i].id, ":")
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("SensorData:\n got %v\nwant %v", got, want)
	}

	// Then GtoemData: CAN message, fault code, access control.
	g := ofType[*schemas.GtoemData](objs)
	if len(g) != 3 {
		t.Fatalf("%d GtoemData, want 3", len(g))
	}
	if first := 1 + len(want); objs[first] != schemas.Object(g[0]) {
		t.Errorf("objs[%d] = %T, want the CAN GtoemData right after the SensorData", first, objs[first])
	}

	// Then the location details, after every object of the first mapping
	// version (their indexes, and so eventIds, did not move).
	wantDetails := []sd{
		{"LocationMetadata.AccuracyRadius:metres", "DECIMAL", "7.9", "LocationMetadata.AccuracyRadius"},
		{"LocationMetadata.HighAccuracy", "BOOLEAN", "true", "LocationMetadata.HighAccuracy"},
		{"LocationAddress.Address", "STRING", "Site road 12", "LocationAddress.Address"},
		{"LocationAddress.City", "STRING", "Copenhagen", "LocationAddress.City"},
		{"LocationAddress.Country", "STRING", "DK", "LocationAddress.Country"},
		{"LocationAddress.Zipcode", "STRING", "1550", "LocationAddress.Zipcode"},
	}
	var gotDetails []sd
	for _, o := range objs[1+len(want)+len(g) : len(objs)-1] {
		s := o.(*schemas.SensorData)
		gotDetails = append(gotDetails, sd{s.SensorID, s.Type, s.Value, s.SensorType})
		if !s.WhenCreated.Equal(ms(1741082370000)) || s.AssetID != sampleMachineID || s.WhenReceived == nil {
			t.Errorf("%s: whenCreated %v, asset %s", s.SensorID, s.WhenCreated, s.AssetID)
		}
	}
	if !slices.Equal(gotDetails, wantDetails) {
		t.Errorf("location details:\n got %v\nwant %v", gotDetails, wantDetails)
	}
	can := g[0]
	if can.PayloadType != profile.PayloadCANMessage || !can.WhenCreated.Equal(ms(1741082340000)) ||
		can.BoxID == nil || *can.BoxID != "TU92244101" || can.WhenReceived == nil || *can.WhenReceived != recv {
		t.Errorf("CAN GtoemData = %+v", *can)
	}
	wantCAN := `{"CanId":419369729,"CanType":"Can B","CapturingPeriod":60,"Counter":118,"ParsedValue":251.5,` +
		`"SourceAddress":1,"UnitOfMeasurement":"bar","VariableId":1002,"VariableName":"Hydraulic pump pressure",` +
		`"BinaryValue":"0a1b2c3d4e5f6071","values":{"MaxValue":251.5,"MinValue":201.2}}`
	if gotJSON := dataJSON(can); gotJSON != canonical(t, wantCAN) {
		t.Errorf("CAN data = %s\nwant %s", gotJSON, canonical(t, wantCAN))
	}
	if g[1].PayloadType != profile.PayloadFaultCode || dataJSON(g[1]) != canonical(t,
		`{"CodeDescription":"Engine coolant temperature high - most severe","CodeIdentifier":"110-0","CodeSeverity":"90","CodeSource":"Engine ECU"}`) {
		t.Errorf("fault GtoemData = %+v data %s", *g[1], dataJSON(g[1]))
	}
	if g[2].PayloadType != profile.PayloadAccessControl || !g[2].WhenCreated.Equal(ms(1741082100000)) || dataJSON(g[2]) != canonical(t,
		`{"AccessType":"KEY_CARD","KeyId":"key-017","Operation":"UNLOCK","OperatorId":"operator-04","Success":true}`) {
		t.Errorf("access GtoemData = %+v data %s", *g[2], dataJSON(g[2]))
	}

	// Asset last.
	a, ok := objs[len(objs)-1].(*schemas.Asset)
	if !ok {
		t.Fatalf("last object is %T, want *Asset", objs[len(objs)-1])
	}
	wantTags := []string{"oem:Red Tractors", "model:F6000", "serialNumber:RT-F6000-118822", "pin:RED6000X0118822",
		"externalReference:SITE-Cop-01", "unitId:3644425"}
	if a.ID != sampleMachineID || a.Name != "Tractor 007" || a.OwnerID != owner ||
		!a.WhenCreated.Equal(ms(1682582400000)) || !a.WhenUpdated.Equal(ts) || a.BoxID == nil || *a.BoxID != "TU92244101" ||
		a.Note == nil || *a.Note != "Red Tractors F6000" || !slices.Equal(a.Tags, wantTags) || a.Disabled != nil {
		t.Errorf("Asset = %+v", *a)
	}
	if n := 1 + len(want) + len(g) + len(wantDetails) + 1; n != len(objs) {
		t.Errorf("%d objects, want %d", len(objs), n)
	}
}

func dataJSON(g *schemas.GtoemData) string {
	b := g.AppendJSON(nil, "", "")
	i := bytes.Index(b, []byte(`"data":`))
	rest := b[i+len(`"data":`):]
	depth := 0
	for j, c := range rest {
		switch c {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return string(rest[:j+1])
			}
		}
	}
	return string(rest)
}

// canonical re-encodes a JSON object with sorted keys.
func canonical(t testing.TB, s string) string {
	m := decodeJSON(t, []byte(s))
	g := schemas.GtoemData{Data: m}
	return dataJSON(&g)
}

func TestTrackunitJSONRendering(t *testing.T) {
	// The profile takes the plain JSON rendering as well (json.Number,
	// hex text for bytes): the same objects, with number text as sent.
	objs, err := newProfile(t, profile.NameTrackunit, profile.Options{OwnerID: "owner-1"}).
		Normalize(trackunitInput(decodeJSONFile(t, "../../testdata/trackunit/sample.json")), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkObjects(t, objs)
	if len(objs) != 35 {
		t.Errorf("%d objects, want 35", len(objs))
	}
	s := sensors(objs)
	if d := s["DefRemaining:percent"]; d == nil || d.Value != "71.0" || d.Type != schemas.ValueDecimal || d.OwnerID != "owner-1" {
		t.Errorf("DefRemaining = %+v", d)
	}
}

func TestTrackunitNewInsightField(t *testing.T) {
	// A writer schema with a field the reader does not know becomes
	// SensorData both when decoded with the writer schema (decode: writer)
	// and when resolved into the pinned reader schema with the options the
	// bridge uses (decode: pinned); without KeepUnknownFields plain Avro
	// resolution drops it.
	v2, err := os.ReadFile("../../testdata/trackunit/insights-v2.avsc")
	if err != nil {
		t.Fatal(err)
	}
	writer := parseSchema(t, string(v2))
	reader := readerSchema(t)
	native := fleet.New(fleet.Config{Machines: 1, Seed: 3}).NextTrackunit()
	native["HydraulicOilTemperature"] = map[string]any{"com.trackunit.machineinsights.TemperatureReading": map[string]any{
		"Temperature": 61.5, "TemperatureUnit": "celsius", "datetime": ts.UnixMilli() - 5000}}
	native["UnknownShape"] = map[string]any{"a": 1} // not in the writer schema: ignored by the encoder
	payload, err := avro.Marshal(writer, native)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		reader avro.Schema
		opts   []codec.DecodeOption
		want   bool
	}{
		{"decode writer", nil, profile.TrackunitDecodeOptions(), true},
		{"decode pinned", reader, profile.TrackunitDecodeOptions(), true},
		{"plain Avro resolution", reader, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := codec.NewPlan(writer, tc.reader, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			v, err := plan.Decode(payload)
			if err != nil {
				t.Fatal(err)
			}
			objs, err := newProfile(t, profile.NameTrackunit, profile.Options{}).Normalize(trackunitInput(v.(map[string]any)), nil)
			if err != nil {
				t.Fatal(err)
			}
			checkObjects(t, objs)
			s := sensors(objs)["HydraulicOilTemperature:celsius"]
			if !tc.want {
				if s != nil {
					t.Fatalf("new field mapped without KeepUnknownFields: %+v", s)
				}
				return
			}
			if s == nil || s.Value != "61.5" || s.Type != schemas.ValueDecimal || s.SensorType != "HydraulicOilTemperature" ||
				!s.WhenCreated.Equal(ts.Add(-5*time.Second)) {
				t.Fatalf("new insight field: %+v", s)
			}
			if sensors(objs)["AmbientAirTemperature:celsius"] != nil {
				t.Error("field removed by the writer still mapped")
			}
		})
	}
}

func TestTrackunitCANValuesBranch(t *testing.T) {
	// Through the codec with BranchNames, a plain and an accumulated CAN
	// value stay distinguishable ("valuesType").
	s := readerSchema(t)
	msg := func(branch string, values map[string]any) map[string]any {
		return map[string]any{
			"Metadata": map[string]any{"com.trackunit.machineinsights.Metadata": map[string]any{"MachineId": "m-1"}},
			"CANMessages": map[string]any{"array": []any{map[string]any{
				"datetime": int64(1000), "VariableId": map[string]any{"long": int64(7)},
				"CanMessageValues": map[string]any{"com.trackunit.machineinsights." + branch: values},
			}}},
		}
	}
	plan, err := codec.NewPlan(s, s, profile.TrackunitDecodeOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		branch string
		values map[string]any
		want   string
	}{
		{"CanValue", map[string]any{"value": 12.5}, `{"VariableId":7,"values":{"value":12.5},"valuesType":"CanValue"}`},
		{"CanAccumulatedValue", map[string]any{"value": 12.5}, `{"VariableId":7,"values":{"value":12.5},"valuesType":"CanAccumulatedValue"}`},
		{"CanMinMaxValue", map[string]any{"MinValue": 1.0, "MaxValue": 2.0}, `{"VariableId":7,"values":{"MaxValue":2,"MinValue":1},"valuesType":"CanMinMaxValue"}`},
	} {
		b, err := avro.Marshal(s, msg(tc.branch, tc.values))
		if err != nil {
			t.Fatal(err)
		}
		v, err := plan.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := newProfile(t, profile.NameTrackunit, profile.Options{}).Normalize(trackunitInput(v.(map[string]any)), nil)
		if err != nil {
			t.Fatal(err)
		}
		checkObjects(t, objs)
		g := ofType[*schemas.GtoemData](objs)
		if len(g) != 1 || dataJSON(g[0]) != canonical(t, tc.want) {
			t.Errorf("%s: %d GtoemData, data %s, want %s", tc.branch, len(g), dataJSON(g[0]), tc.want)
		}
	}
}

func TestTrackunitLocationSpeedAndExtras(t *testing.T) {
	loc := func(extra map[string]any) map[string]any {
		g := map[string]any{"Latitude": 55.0, "Longitude": 12.0, "datetime": int64(5000)}
		for k, v := range extra {
			g[k] = v
		}
		return g
	}
	tests := []struct {
		name      string
		location  map[string]any
		speedAt   int64
		wantSpeed *float64
		wantExtra map[string]string
	}{
		{"speed at the location time", loc(nil), 5000, ptr(6.5), nil},
		{"speed at another time", loc(nil), 5001, nil, nil},
		{"a member the reader lacks", loc(map[string]any{"Heading": 271.5, "Fix": "3D"}), 1, nil,
			map[string]string{"Location.Heading": "271.5", "Location.Fix": "3D"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]any{
				"Metadata": map[string]any{"MachineId": "m-1"},
				"Location": tc.location,
				"Speed":    map[string]any{"Value": 6.5, "Unit": "km/h", "datetime": tc.speedAt},
			}
			objs, err := newProfile(t, profile.NameTrackunit, profile.Options{}).Normalize(trackunitInput(m), nil)
			if err != nil {
				t.Fatal(err)
			}
			checkObjects(t, objs)
			l := ofType[*schemas.Location](objs)
			if len(l) != 1 {
				t.Fatalf("%d Locations", len(l))
			}
			if (l[0].Speed == nil) != (tc.wantSpeed == nil) || (l[0].Speed != nil && *l[0].Speed != *tc.wantSpeed) {
				t.Errorf("speed = %v, want %v", l[0].Speed, tc.wantSpeed)
			}
			got := sensors(objs)
			if got["Speed:km/h"] == nil {
				t.Error("Speed SensorData missing")
			}
			if len(got) != 1+len(tc.wantExtra) {
				t.Errorf("sensors %v, want Speed and %v", got, tc.wantExtra)
			}
			for id, v := range tc.wantExtra {
				if got[id] == nil || got[id].Value != v || !got[id].WhenCreated.Equal(time.UnixMilli(5000)) {
					t.Errorf("%s = %+v, want %s at the location time", id, got[id], v)
				}
			}
		})
	}
}

func TestTrackunitShapes(t *testing.T) {
	base := func() map[string]any {
		return map[string]any{"Metadata": map[string]any{"MachineId": "m-1"}}
	}
	tests := []struct {
		name   string
		fields map[string]any
		want   map[string][2]string // sensorId -> value, type
	}{
		{"value and unit", map[string]any{"NewThing": map[string]any{"Reading": 1.5, "Unit": "bar", "datetime": int64(1)}},
			map[string][2]string{"NewThing:bar": {"1.5", "DECIMAL"}}},
		{"long value", map[string]any{"Count": map[string]any{"Value": int64(12), "datetime": int64(1)}},
			map[string][2]string{"Count": {"12", "INTEGER"}}},
		{"hours without unit", map[string]any{"CumulativeEngineHours": map[string]any{"Hour": 10.0, "datetime": int64(1)}},
			map[string][2]string{"CumulativeEngineHours:hours": {"10", "DECIMAL"}}},
		{"unit chosen by name", map[string]any{"X": map[string]any{"V": 2.0, "SomeUnit": "km", "Label": "l", "datetime": int64(1)}},
			map[string][2]string{"X:km": {"2", "DECIMAL"}}},
		{"null value skipped", map[string]any{"X": map[string]any{"V": nil, "Unit": "km", "datetime": int64(1)}}, nil},
		{"two values ignored", map[string]any{"X": map[string]any{"A": 1.0, "B": 2.0, "datetime": int64(1)}}, nil},
		{"no datetime ignored", map[string]any{"X": map[string]any{"A": 1.0}}, nil},
		{"nested ignored", map[string]any{"X": map[string]any{"A": 1.0, "N": map[string]any{}, "datetime": int64(1)}}, nil},
		{"ambiguous strings ignored", map[string]any{"X": map[string]any{"A": 1.0, "B": "b", "C": "c", "datetime": int64(1)}}, nil},
		{"scalar top-level ignored", map[string]any{"X": 3.0}, nil},
		{"NaN skipped", map[string]any{"X": map[string]any{"A": nan(), "datetime": int64(1)}}, nil},
		{"null datetime takes record time", map[string]any{"X": map[string]any{"A": true, "datetime": nil}},
			map[string][2]string{"X": {"true", "BOOLEAN"}}},
		{"structural groups are not insights", map[string]any{"LocationMetadata": map[string]any{"AccuracyRadius": 2.0, "datetime": int64(1)}},
			map[string][2]string{"LocationMetadata.AccuracyRadius:metres": {"2", "DECIMAL"}}},
		{"altitude only", map[string]any{"Location": map[string]any{"Latitude": 0.0, "Longitude": 0.0, "Altitude": 30.0, "datetime": int64(1)}},
			map[string][2]string{"Location.Altitude:metres": {"30", "DECIMAL"}}},
		{"altitude only with units", map[string]any{"Location": map[string]any{"Latitude": 0.0, "Longitude": 0.0, "Altitude": 30.5, "AltitudeUnits": "metres", "datetime": int64(1)}},
			map[string][2]string{"Location.Altitude:metres": {"30.5", "DECIMAL"}}},
		{"nothing known of the location", map[string]any{"Location": map[string]any{"Latitude": 0.0, "Longitude": 0.0, "Altitude": nil, "datetime": int64(1)}}, nil},
		{"location without coordinates", map[string]any{"Location": map[string]any{"Altitude": 30.0, "datetime": int64(1)}},
			map[string][2]string{"Location.Altitude:metres": {"30", "DECIMAL"}}},
		{"lone coordinate kept", map[string]any{"Location": map[string]any{"Latitude": 55.5, "datetime": int64(1)}},
			map[string][2]string{"Location.Latitude": {"55.5", "DECIMAL"}}},
		{"address members are text", map[string]any{"LocationAddress": map[string]any{"Zipcode": "01550", "GeoHash": "u3buz", "City": nil, "datetime": int64(1)}},
			map[string][2]string{"LocationAddress.Zipcode": {"01550", "STRING"}, "LocationAddress.GeoHash": {"u3buz", "STRING"}}},
		{"advanced sensor with number and text", map[string]any{"AdvancedSensors": []any{map[string]any{"SensorId": int64(9), "Source": "MODBUS",
			"UnitOfMeasurement": "bar", "NumericValue": 2.5, "StringValue": "HIGH", "datetime": int64(1)}}},
			map[string][2]string{"MODBUS/9:bar": {"2.5", "DECIMAL"}, "MODBUS/9/StringValue": {"HIGH", "STRING"}}},
		{"advanced sensor source without id", map[string]any{"AdvancedSensors": []any{map[string]any{"StringValue": "on", "Source": "CAN1", "datetime": int64(1)}}},
			map[string][2]string{"CAN1/AdvancedSensors[0]": {"on", "STRING"}}},
		{"advanced sensor without value", map[string]any{"AdvancedSensors": []any{map[string]any{"SensorId": int64(1), "datetime": int64(1)}}}, nil},
		{"advanced sensor without id", map[string]any{"AdvancedSensors": []any{map[string]any{"NumericValue": 1.0, "datetime": int64(1)}}},
			map[string][2]string{"AdvancedSensors[0]": {"1", "DECIMAL"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := base()
			for k, v := range tc.fields {
				m[k] = v
			}
			objs, err := newProfile(t, profile.NameTrackunit, profile.Options{}).Normalize(trackunitInput(m), nil)
			if err != nil {
				t.Fatal(err)
			}
			checkObjects(t, objs)
			if n := len(ofType[*schemas.Location](objs)); n != 0 {
				t.Errorf("%d Locations, want 0", n)
			}
			got := sensors(objs)
			if len(got) != len(tc.want) {
				t.Errorf("sensors %v, want %v", got, tc.want)
			}
			for id, w := range tc.want {
				s := got[id]
				if s == nil || s.Value != w[0] || s.Type != w[1] {
					t.Errorf("%s = %+v, want %v", id, s, w)
				}
			}
			// The asset comes last, alone when nothing else maps.
			if _, ok := objs[len(objs)-1].(*schemas.Asset); !ok {
				t.Errorf("last object is %T", objs[len(objs)-1])
			}
		})
	}
}

func TestTrackunitAssetEmission(t *testing.T) {
	f := fleet.New(fleet.Config{Machines: 3, Seed: 9})
	p := newProfile(t, profile.NameTrackunit, profile.Options{OwnerID: "customer-a"})
	s := readerSchema(t)
	assets := map[string]int{}
	for i := range 30 {
		v := roundTrip(t, s, s, f.NextTrackunit())
		in := trackunitInput(v)
		in.Timestamp = f.Now()
		objs, err := p.Normalize(in, nil)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		for j, a := range ofType[*schemas.Asset](objs) {
			assets[a.ID]++
			if objs[len(objs)-1] != schemas.Object(a) || j > 0 {
				t.Error("asset not last or more than one")
			}
			if a.OwnerID != "customer-a" {
				t.Errorf("ownerId = %s", a.OwnerID)
			}
		}
	}
	if len(assets) != 3 {
		t.Fatalf("assets %v, want 3 machines once each", assets)
	}
	for id, n := range assets {
		if n != 1 {
			t.Errorf("asset %s emitted %d times, want once", id, n)
		}
	}

	// A changed header re-emits, keeping whenCreated (first seen) when the
	// install date is unknown; an evicted asset is re-emitted.
	q := newProfile(t, profile.NameTrackunit, profile.Options{MaxAssets: 1})
	msg := func(id, model string) map[string]any {
		return map[string]any{"Metadata": map[string]any{"MachineId": id}, "EquipmentHeader": map[string]any{"Model": model}}
	}
	steps := []struct {
		v    map[string]any
		emit bool
	}{
		{msg("a", "F1"), true}, {msg("a", "F1"), false}, {msg("a", "F2"), true},
		{msg("b", "F1"), true}, {msg("a", "F2"), true},
	}
	for i, st := range steps {
		in := trackunitInput(st.v)
		in.Timestamp = ts.Add(time.Duration(i) * time.Hour)
		objs, err := q.Normalize(in, nil)
		if err != nil {
			t.Fatal(err)
		}
		a := ofType[*schemas.Asset](objs)
		if (len(a) == 1) != st.emit {
			t.Fatalf("step %d: emitted %d, want %v", i, len(a), st.emit)
		}
		if i == 2 && (!a[0].WhenCreated.Equal(ts) || !a[0].WhenUpdated.Equal(in.Timestamp) || a[0].Name != "a") {
			t.Errorf("changed asset = %+v, want whenCreated %v", *a[0], ts)
		}
	}
}

func TestTrackunitErrors(t *testing.T) {
	good := func() map[string]any {
		return map[string]any{"Metadata": map[string]any{"MachineId": "m-1"}}
	}
	with := func(k string, v any) map[string]any {
		m := good()
		m[k] = v
		return m
	}
	tests := []struct {
		name  string
		in    *profile.Input
		field string
	}{
		{"nil input", nil, "(root)"},
		{"not a record", &profile.Input{Topic: "t", Timestamp: ts, Value: "x"}, "(root)"},
		{"no Metadata", trackunitInput(map[string]any{}), "Metadata.MachineId"},
		{"no MachineId", trackunitInput(with("Metadata", map[string]any{"UnitId": int64(1)})), "Metadata.MachineId"},
		{"empty MachineId", trackunitInput(with("Metadata", map[string]any{"MachineId": ""})), "Metadata.MachineId"},
		{"MachineId not a string", trackunitInput(with("Metadata", map[string]any{"MachineId": int64(5)})), "Metadata.MachineId"},
		{"Metadata not a record", trackunitInput(with("Metadata", []any{})), "Metadata"},
		{"UnitId not an integer", trackunitInput(with("Metadata", map[string]any{"MachineId": "m", "UnitId": "x"})), "Metadata.UnitId"},
		{"EquipmentHeader not a record", trackunitInput(with("EquipmentHeader", "x")), "EquipmentHeader"},
		{"bad install date", trackunitInput(with("EquipmentHeader", map[string]any{"UnitInstallDateTime": "soon"})), "EquipmentHeader.UnitInstallDateTime"},
		{"latitude not a number", trackunitInput(with("Location", map[string]any{"Latitude": "north", "Longitude": 1.0})), "Location.Latitude"},
		{"longitude out of range", trackunitInput(with("Location", map[string]any{"Latitude": 1.0, "Longitude": 200.0})), "Location.Longitude"},
		{"bad altitude", trackunitInput(with("Location", map[string]any{"Latitude": 1.0, "Longitude": 1.0, "Altitude": "high"})), "Location.Altitude"},
		{"bad location datetime", trackunitInput(with("Location", map[string]any{"Latitude": 1.0, "Longitude": 1.0, "datetime": "yesterday"})), "Location.datetime"},
		{"datetime out of range", trackunitInput(with("FuelRemaining", map[string]any{"Percent": 1.0, "datetime": int64(1) << 62})), "FuelRemaining.datetime"},
		{"CANMessages not an array", trackunitInput(with("CANMessages", map[string]any{})), "CANMessages"},
		{"CAN entry not a record", trackunitInput(with("CANMessages", []any{map[string]any{}, "x"})), "CANMessages[1]"},
		{"fault entry bad datetime", trackunitInput(with("FaultCodes", []any{map[string]any{"datetime": true}})), "FaultCodes[0].datetime"},
		{"advanced sensor not a record", trackunitInput(with("AdvancedSensors", []any{1.0})), "AdvancedSensors[0]"},
		{"access control not a record", trackunitInput(with("AccessControlKeyUsage", "x")), "AccessControlKeyUsage"},
		{"no owner", &profile.Input{Timestamp: ts, Value: good()}, "(record topic)"},
		{"no time at all", &profile.Input{Topic: "t", Value: good()}, "(record timestamp)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newProfile(t, profile.NameTrackunit, profile.Options{})
			dst := make([]schemas.Object, 1, 8)
			out, err := p.Normalize(tc.in, dst)
			mappingError(t, err, tc.field)
			if len(out) != 1 {
				t.Errorf("dst grew to %d on error", len(out))
			}
			if !strings.Contains(err.Error(), "trackunit-insights") {
				t.Errorf("error %q does not name the profile", err)
			}
		})
	}
	// A poison record leaves the asset cache alone.
	p := newProfile(t, profile.NameTrackunit, profile.Options{})
	if _, err := p.Normalize(trackunitInput(with("CANMessages", "x")), nil); err == nil {
		t.Fatal("want error")
	}
	objs, err := p.Normalize(trackunitInput(good()), nil)
	if err != nil || len(ofType[*schemas.Asset](objs)) != 1 {
		t.Fatalf("after poison: %v, %d assets", err, len(ofType[*schemas.Asset](objs)))
	}
}

func TestTrackunitZeroTimestampUsesLatestDatetime(t *testing.T) {
	m := map[string]any{
		"Metadata":      map[string]any{"MachineId": "m-1"},
		"FuelRemaining": map[string]any{"Percent": 50.0, "Unit": "percent", "datetime": int64(2000)},
		"FaultCodes":    []any{map[string]any{"CodeIdentifier": "1-2", "datetime": int64(9000)}},
	}
	objs, err := newProfile(t, profile.NameTrackunit, profile.Options{}).
		Normalize(&profile.Input{Topic: "t", Value: m}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkObjects(t, objs)
	a := objs[len(objs)-1].(*schemas.Asset)
	if !a.WhenUpdated.Equal(time.UnixMilli(9000)) {
		t.Errorf("whenUpdated = %v, want the latest datetime", a.WhenUpdated)
	}
	if s := sensors(objs)["FuelRemaining:percent"]; s.WhenReceived != nil {
		t.Errorf("when_received = %d, want omitted without a record timestamp", *s.WhenReceived)
	}
}

func TestTrackunitFleetRoundTrip(t *testing.T) {
	f := fleet.New(fleet.Config{Machines: 4, Seed: 42})
	p := newProfile(t, profile.NameTrackunit, profile.Options{})
	s := readerSchema(t)
	counts := map[schemas.Type]int{}
	var altitudeOnly int
	for i := range 400 {
		b, err := f.NextTrackunitAvro(1)
		if err != nil {
			t.Fatal(err)
		}
		var generic any
		if err := avro.Unmarshal(s, b[5:], &generic); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		v := codecValue(s, generic).(map[string]any)
		in := trackunitInput(v)
		in.Timestamp = f.Now()
		objs, err := p.Normalize(in, nil)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		checkObjects(t, objs)
		locs := ofType[*schemas.Location](objs)
		if l, ok := v["Location"].(map[string]any); ok {
			if l["Latitude"] == 0.0 && l["Longitude"] == 0.0 {
				altitudeOnly++
				if len(locs) != 0 {
					t.Errorf("message %d: altitude-only location mapped", i)
				}
				if l["Altitude"] != nil && sensors(objs)["Location.Altitude:metres"] == nil {
					t.Errorf("message %d: altitude-only reading lost", i)
				}
			} else if len(locs) != 1 {
				t.Errorf("message %d: %d Locations", i, len(locs))
			}
		}
		for _, o := range objs {
			counts[o.ObjectType()]++
		}
	}
	t.Logf("objects: %v, altitude-only locations: %d", counts, altitudeOnly)
	if counts[schemas.TypeAsset] != 4 || counts[schemas.TypeLocation] < 300 || counts[schemas.TypeSensorData] < 4000 ||
		counts[schemas.TypeGtoemData] < 50 || altitudeOnly == 0 {
		t.Errorf("unexpected mix %v (altitude-only %d)", counts, altitudeOnly)
	}
}

func TestConcurrentNormalize(t *testing.T) {
	s := readerSchema(t)
	f := fleet.New(fleet.Config{Machines: 8, Vehicles: 8, Seed: 5})
	var tu, mo []map[string]any
	for range 64 {
		tu = append(tu, roundTrip(t, s, s, f.NextTrackunit()))
		mo = append(mo, decodeJSON(t, f.NextMobitoJSON()))
	}
	ptu := newProfile(t, profile.NameTrackunit, profile.Options{MaxAssets: 4})
	pmo := newProfile(t, profile.NameMobito, profile.Options{MaxAssets: 4})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			var dst []schemas.Object
			for i := range 200 {
				var err error
				if dst, err = ptu.Normalize(trackunitInput(tu[(i+w)%len(tu)]), dst[:0]); err != nil {
					t.Error(err)
					return
				}
				if dst, err = pmo.Normalize(mobitoInput(mo[(i+w)%len(mo)]), dst[:0]); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestNew(t *testing.T) {
	if got := profile.Names(); !slices.Equal(got, []string{"trackunit-insights", "mobito"}) {
		t.Errorf("Names() = %v", got)
	}
	_, err := profile.New("generic-x", profile.Options{})
	if err == nil || !strings.Contains(err.Error(), "trackunit-insights, mobito") || !strings.Contains(err.Error(), "generic-x") {
		t.Errorf("New(unknown) error = %v", err)
	}
	for _, n := range profile.Names() {
		p, err := profile.New(n, profile.Options{MaxAssets: -1})
		if err != nil || p.Name() != n {
			t.Errorf("New(%s) = %v, %v", n, p, err)
		}
	}
}
