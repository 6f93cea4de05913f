package profile_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telebridge/telebridge/bridge/profile"
	"github.com/telebridge/telebridge/schemas"
)

const sampleVINAssetID = "5d186ab2-c29f-5a27-b96a-325df5e684ce" // Python uuid.uuid5(ns, "EXAMPLE0607M29923")

func mobitoInput(v map[string]any) *profile.Input {
	return &profile.Input{Topic: "mobito.prod", Partition: 2, Offset: 42, Timestamp: ts, Value: v}
}

func TestMobitoSample(t *testing.T) {
	sample := decodeJSONFile(t, "../../testdata/mobito/sample.json")
	p := newProfile(t, profile.NameMobito, profile.Options{})
	if p.Name() != "mobito" || p.Format() != profile.FormatJSON {
		t.Fatalf("Name/Format = %s/%s", p.Name(), p.Format())
	}
	objs, err := p.Normalize(mobitoInput(sample), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkObjects(t, objs)

	loc, ok := objs[0].(*schemas.Location)
	if !ok {
		t.Fatalf("first object is %T, want *Location", objs[0])
	}
	wantLoc := schemas.Location{ID: 1, AssetID: sampleVINAssetID, OwnerID: "ExampleFleetId", WhenCreated: ts,
		Latitude: 36.82235111111111, Longitude: 21.719039166666665, Altitude: ptr(11.0), Heading: ptr(338.0)}
	if loc.ID != wantLoc.ID || loc.AssetID != wantLoc.AssetID || loc.OwnerID != wantLoc.OwnerID ||
		!loc.WhenCreated.Equal(wantLoc.WhenCreated) || loc.Latitude != wantLoc.Latitude ||
		loc.Longitude != wantLoc.Longitude || *loc.Altitude != 11 || *loc.Heading != 338 || loc.Speed != nil {
		t.Errorf("Location = %+v, want %+v", *loc, wantLoc)
	}

	asset, ok := objs[len(objs)-1].(*schemas.Asset)
	if !ok {
		t.Fatalf("last object is %T, want *Asset", objs[len(objs)-1])
	}
	if asset.ID != sampleVINAssetID || asset.ID != profile.MobitoAssetID("EXAMPLE0607M29923") ||
		asset.Name != "EXAMPLE0607M29923" || asset.OwnerID != "ExampleFleetId" ||
		!asset.WhenCreated.Equal(time.Date(2023, 2, 16, 0, 0, 0, 0, time.UTC)) || !asset.WhenUpdated.Equal(ts) ||
		asset.Note == nil || *asset.Note != "BMW 118i" || asset.BoxID != nil {
		t.Errorf("Asset = %+v", *asset)
	}
	wantTags := []string{"brand:BMW", "model:118i", "series:1",
		"basic_body_type:Sports Hatch", "basic_color_code:C3N", "basic_construction_date:2023-02-16T00:00:00Z",
		"basic_country_code:GR", "basic_engine:B38C", "basic_has_Navi:true", "basic_has_sun_roof:false",
		"basic_head_unit:HU_MGU", "basic_model_key:7K31", "basic_model_range:F40", "basic_propulsion_type:BE"}
	if !slices.Equal(asset.Tags, wantTags) {
		t.Errorf("Tags = %q\nwant %q", asset.Tags, wantTags)
	}

	got := sensors(objs)
	for _, tc := range []struct{ field, value, typ string }{
		{"battery_voltage", "12.56", schemas.ValueDecimal},
		{"number_of_doors", "5", schemas.ValueInteger},
		{"fuel_level", "47", schemas.ValueInteger},
		{"tire_pressure_front_left", "207", schemas.ValueInteger},
		{"avg_distance_short_term", "680.0", schemas.ValueDecimal},
		{"mileage", "14312.0", schemas.ValueDecimal},
		{"vehicle_is_locked", "UNLOCKED", schemas.ValueString},
		{"vehicle_check_status_date", "2027-02", schemas.ValueString},
		{"legal_inspection_date", "01.04.2027 00:00:00 UTC", schemas.ValueString},
		{"dtc_data", "[3178A, B7F34E, 804070, 804081, 800ABF, B7F500, 31796, 31790, B7F8C6]", schemas.ValueString},
		{"check_control_messages", "[955 Tire pressure notification]", schemas.ValueString},
		{"extra_equipment", "01CB,01DF,01DZ,0230,0249,026M,02PA,02TF,02VB", schemas.ValueString},
		{"position_can_be_trusted", "true", schemas.ValueBoolean},
		{"doors_front_left_is_open", "false", schemas.ValueBoolean},
		{"power", "100", schemas.ValueInteger},
		{"teleservice_status", "Initial status", schemas.ValueString},
	} {
		sd := got[tc.field]
		if sd == nil {
			t.Errorf("no SensorData for %s", tc.field)
			continue
		}
		if sd.Value != tc.value || sd.Type != tc.typ || sd.SensorType != tc.field ||
			sd.AssetID != sampleVINAssetID || sd.OwnerID != "ExampleFleetId" || !sd.WhenCreated.Equal(ts) ||
			sd.WhenReceived == nil || *sd.WhenReceived != ts.UnixMilli() {
			t.Errorf("%s = %+v, want value %q type %s", tc.field, *sd, tc.value, tc.typ)
		}
	}
	for field := range sample {
		_, isSensor := got[field]
		excluded := strings.HasPrefix(field, "basic_") || slices.Contains([]string{"vin", "fleet_id", "uuid",
			"brand", "model", "series", "latitude", "longitude", "altitude", "heading"}, field)
		if isSensor == excluded {
			t.Errorf("member %s: sensor %v, excluded %v", field, isSensor, excluded)
		}
	}
	nSensors := len(ofType[*schemas.SensorData](objs))
	if n := nSensors; n+2+10 != len(objs) {
		t.Errorf("%d objects, %d sensors: want Location + sensors + 10 fault codes + Asset", len(objs), n)
	}

	// The fault-code lists: one GtoemData per code after the SensorData,
	// check_control_messages first (member-name order).
	var codes []string
	for i, o := range objs[1+nSensors : len(objs)-1] {
		g, ok := o.(*schemas.GtoemData)
		if !ok {
			t.Fatalf("object %d is %T, want *GtoemData", 1+nSensors+i, o)
		}
		if g.PayloadType != profile.PayloadFaultCode || g.AssetID != sampleVINAssetID || g.OwnerID != "ExampleFleetId" ||
			!g.WhenCreated.Equal(ts) || g.WhenReceived == nil || *g.WhenReceived != ts.UnixMilli() || g.BoxID != nil {
			t.Errorf("fault code %d = %+v", i, *g)
		}
		codes = append(codes, dataJSON(g))
	}
	wantCodes := []string{`{"CodeDescription":"Tire pressure notification","CodeIdentifier":"955","CodeSource":"check_control_messages"}`}
	for _, c := range []string{"3178A", "B7F34E", "804070", "804081", "800ABF", "B7F500", "31796", "31790", "B7F8C6"} {
		wantCodes = append(wantCodes, `{"CodeIdentifier":"`+c+`","CodeSource":"dtc_data"}`)
	}
	if !slices.Equal(codes, wantCodes) {
		t.Errorf("fault codes:\n got %q\nwant %q", codes, wantCodes)
	}
	if id := p.MessageID(mobitoInput(sample)); id != "31f460d8-92eb-427a-9487-3611c2670608" {
		t.Errorf("MessageID = %q, want the sample's uuid", id)
	}

	// The same record decoded without UseNumber (float64 numbers) maps the
	// same way.
	var floats map[string]any
	b, _ := json.Marshal(sample)
	if err := json.Unmarshal(b, &floats); err != nil {
		t.Fatal(err)
	}
	objs2, err := newProfile(t, profile.NameMobito, profile.Options{}).Normalize(mobitoInput(floats), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkObjects(t, objs2)
	if len(objs2) != len(objs) {
		t.Fatalf("float64 decoding: %d objects, want %d", len(objs2), len(objs))
	}
	for i := range objs {
		a, b := objs[i].AppendJSON(nil, "", ""), objs2[i].AppendJSON(nil, "", "")
		if string(a) != string(b) {
			t.Errorf("object %d differs:\n%s\n%s", i, a, b)
		}
	}
}

func TestMobitoDeterministicOrder(t *testing.T) {
	sample := decodeJSONFile(t, "../../testdata/mobito/sample.json")
	var first []byte
	for i := range 5 {
		objs, err := newProfile(t, profile.NameMobito, profile.Options{}).Normalize(mobitoInput(sample), nil)
		if err != nil {
			t.Fatal(err)
		}
		var out []byte
		for _, o := range objs {
			out = o.AppendJSON(out, "", "")
		}
		if i == 0 {
			first = out
		} else if string(out) != string(first) {
			t.Fatal("output differs between runs")
		}
	}
}

func TestMobitoAssetEmission(t *testing.T) {
	sample := decodeJSONFile(t, "../../testdata/mobito/sample.json")
	p := newProfile(t, profile.NameMobito, profile.Options{MaxAssets: 2})
	with := func(k string, v any) map[string]any {
		m := make(map[string]any, len(sample))
		for key, val := range sample {
			m[key] = val
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	steps := []struct {
		name      string
		value     map[string]any
		wantAsset bool
	}{
		{"first seen", sample, true},
		{"unchanged", sample, false},
		{"signal changed", with("battery_voltage", "12.1"), false},
		{"brand changed", with("brand", "MINI"), true},
		{"unchanged after change", with("brand", "MINI"), false},
		{"construction fact changed", with("basic_has_sun_roof", true), true},
		{"second vehicle", with("vin", "VIN2"), true},
		{"third vehicle evicts the first", with("vin", "VIN3"), true},
		{"first vehicle again", with("basic_has_sun_roof", true), true},
	}
	var created time.Time
	for i, s := range steps {
		in := mobitoInput(s.value)
		in.Timestamp = ts.Add(time.Duration(i) * time.Minute)
		objs, err := p.Normalize(in, nil)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		assets := ofType[*schemas.Asset](objs)
		if got := len(assets) == 1; got != s.wantAsset {
			t.Fatalf("%s: asset emitted %v, want %v", s.name, got, s.wantAsset)
		}
		if s.wantAsset {
			if objs[len(objs)-1] != schemas.Object(assets[0]) {
				t.Errorf("%s: asset is not the last object", s.name)
			}
			if !assets[0].WhenUpdated.Equal(in.Timestamp) {
				t.Errorf("%s: whenUpdated %v, want %v", s.name, assets[0].WhenUpdated, in.Timestamp)
			}
		}
		if i == 0 {
			created = assets[0].WhenCreated
		}
	}
	// whenCreated without basic_construction_date: first seen, kept on change.
	q := newProfile(t, profile.NameMobito, profile.Options{})
	for i, brand := range []string{"BMW", "MINI"} {
		m := with("basic_construction_date", nil)
		m["brand"] = brand
		in := mobitoInput(m)
		in.Timestamp = ts.Add(time.Duration(i) * time.Hour)
		objs, err := q.Normalize(in, nil)
		if err != nil {
			t.Fatal(err)
		}
		a := ofType[*schemas.Asset](objs)
		if len(a) != 1 || !a[0].WhenCreated.Equal(ts) {
			t.Fatalf("brand %s: assets %v, want whenCreated %v", brand, a, ts)
		}
	}
	if !created.Equal(time.Date(2023, 2, 16, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("whenCreated = %v", created)
	}
}

func TestMobitoLocation(t *testing.T) {
	base := map[string]any{"vin": "V1", "fleet_id": "F1"}
	tests := []struct {
		name    string
		members map[string]any
		want    *schemas.Location // nil: no Location
	}{
		{"strings", map[string]any{"latitude": "55.5", "longitude": "-3.25"},
			&schemas.Location{Latitude: 55.5, Longitude: -3.25}},
		{"json numbers and heading wrap", map[string]any{"latitude": json.Number("1"), "longitude": json.Number("2e0"), "heading": "-10", "altitude": 7.5},
			&schemas.Location{Latitude: 1, Longitude: 2, Heading: ptr(350.0), Altitude: ptr(7.5)}},
		{"heading 360", map[string]any{"latitude": "1", "longitude": "2", "heading": "360.0"},
			&schemas.Location{Latitude: 1, Longitude: 2, Heading: ptr(0.0)}},
		{"missing longitude", map[string]any{"latitude": "1"}, nil},
		{"null latitude", map[string]any{"latitude": nil, "longitude": "2"}, nil},
		{"empty latitude", map[string]any{"latitude": "", "longitude": "2"}, nil},
		{"empty altitude ignored", map[string]any{"latitude": "1", "longitude": "2", "altitude": ""},
			&schemas.Location{Latitude: 1, Longitude: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]any{}
			for k, v := range base {
				m[k] = v
			}
			for k, v := range tc.members {
				m[k] = v
			}
			objs, err := newProfile(t, profile.NameMobito, profile.Options{}).Normalize(mobitoInput(m), nil)
			if err != nil {
				t.Fatal(err)
			}
			checkObjects(t, objs)
			locs := ofType[*schemas.Location](objs)
			if tc.want == nil {
				if len(locs) != 0 {
					t.Fatalf("got Location %+v, want none", *locs[0])
				}
				return
			}
			if len(locs) != 1 {
				t.Fatalf("got %d Locations, want 1", len(locs))
			}
			l := locs[0]
			if l.Latitude != tc.want.Latitude || l.Longitude != tc.want.Longitude ||
				!eqPtr(l.Heading, tc.want.Heading) || !eqPtr(l.Altitude, tc.want.Altitude) {
				t.Errorf("Location = %+v, want %+v", *l, *tc.want)
			}
		})
	}
}

func eqPtr(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func TestMobitoSensorTypes(t *testing.T) {
	m := map[string]any{
		"vin": "V1", "fleet_id": "F1",
		"int_number": json.Number("-12"), "dec_number": json.Number("1.5e3"), "float_int": 3.0, "float_dec": 2.25,
		"true_text": "true", "True_text": "True", "nan_text": "NaN", "hex_text": "0x1F", "plus": "+4",
		"huge": "123456789012345678901234", "bool": false, "obj": map[string]any{"b": 1.0, "a": "x"},
		"arr": []any{"x", json.Number("2")}, "empty": "", "null": nil,
	}
	objs, err := newProfile(t, profile.NameMobito, profile.Options{}).Normalize(mobitoInput(m), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkObjects(t, objs)
	got := sensors(objs)
	want := map[string][2]string{
		"int_number": {"-12", schemas.ValueInteger}, "dec_number": {"1.5e3", schemas.ValueDecimal},
		"float_int": {"3", schemas.ValueInteger}, "float_dec": {"2.25", schemas.ValueDecimal},
		"true_text": {"true", schemas.ValueBoolean}, "True_text": {"True", schemas.ValueString},
		"nan_text": {"NaN", schemas.ValueString}, "hex_text": {"0x1F", schemas.ValueString},
		"plus": {"+4", schemas.ValueInteger}, "huge": {"123456789012345678901234", schemas.ValueDecimal},
		"bool": {"false", schemas.ValueBoolean}, "obj": {`{"a":"x","b":1}`, schemas.ValueString},
		"arr": {`["x",2]`, schemas.ValueString}, "empty": {"", schemas.ValueString},
	}
	if len(got) != len(want) {
		t.Errorf("%d sensors, want %d (null skipped)", len(got), len(want))
	}
	for k, w := range want {
		sd := got[k]
		if sd == nil || sd.Value != w[0] || sd.Type != w[1] {
			t.Errorf("%s = %+v, want %q %s", k, sd, w[0], w[1])
		}
	}
}

func TestMobitoErrors(t *testing.T) {
	good := func(extra ...any) map[string]any {
		m := map[string]any{"vin": "V1", "fleet_id": "F1", "latitude": "1", "longitude": "2"}
		for i := 0; i+1 < len(extra); i += 2 {
			if extra[i+1] == nil {
				delete(m, extra[i].(string))
			} else {
				m[extra[i].(string)] = extra[i+1]
			}
		}
		return m
	}
	tests := []struct {
		name  string
		in    *profile.Input
		field string
	}{
		{"nil input", nil, "(root)"},
		{"not an object", &profile.Input{Timestamp: ts, Value: []any{}}, "(root)"},
		{"missing vin", mobitoInput(good("vin", nil)), "vin"},
		{"empty vin", mobitoInput(good("vin", "")), "vin"},
		{"vin not a string", mobitoInput(good("vin", 12.0)), "vin"},
		{"missing fleet_id", mobitoInput(good("fleet_id", nil)), "fleet_id"},
		{"bad latitude", mobitoInput(good("latitude", "north")), "latitude"},
		{"latitude NaN text", mobitoInput(good("latitude", "NaN")), "latitude"},
		{"latitude out of range", mobitoInput(good("latitude", "91")), "latitude"},
		{"longitude out of range", mobitoInput(good("longitude", "-180.5")), "longitude"},
		{"bad altitude", mobitoInput(good("altitude", "high")), "altitude"},
		{"bad heading", mobitoInput(good("heading", true)), "heading"},
		{"zero timestamp", &profile.Input{Value: good()}, "(record timestamp)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newProfile(t, profile.NameMobito, profile.Options{})
			dst := make([]schemas.Object, 1, 8)
			out, err := p.Normalize(tc.in, dst)
			mappingError(t, err, tc.field)
			if len(out) != 1 {
				t.Errorf("dst grew to %d on error", len(out))
			}
			if !strings.Contains(err.Error(), "mobito") || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("error %q does not name profile and field", err)
			}
		})
	}
	// A poison record leaves the asset cache alone: the next good record
	// still emits the asset.
	p := newProfile(t, profile.NameMobito, profile.Options{})
	if _, err := p.Normalize(mobitoInput(good("latitude", "bad")), nil); err == nil {
		t.Fatal("want error")
	}
	objs, err := p.Normalize(mobitoInput(good()), nil)
	if err != nil || len(ofType[*schemas.Asset](objs)) != 1 {
		t.Fatalf("after poison: %v, %d assets", err, len(ofType[*schemas.Asset](objs)))
	}
}

func TestMobitoMemberOrderCache(t *testing.T) {
	// One profile sees alternating member sets (same size, different
	// names; fewer; more): each output equals a fresh profile's.
	sample := decodeJSONFile(t, "../../testdata/mobito/sample.json")
	variant := func(drop, add string) map[string]any {
		m := make(map[string]any, len(sample)+1)
		for k, v := range sample {
			if k != drop {
				m[k] = v
			}
		}
		if add != "" {
			m[add] = "1"
		}
		return m
	}
	inputs := []map[string]any{
		sample, variant("fuel_level", "aaa_first"), sample, variant("fuel_level", ""),
		variant("", "zzz_last"), variant("", "zzz_last"), sample,
	}
	shared := newProfile(t, profile.NameMobito, profile.Options{})
	for i, m := range inputs {
		got, err := shared.Normalize(mobitoInput(m), nil)
		if err != nil {
			t.Fatal(err)
		}
		want, err := newProfile(t, profile.NameMobito, profile.Options{}).Normalize(mobitoInput(m), nil)
		if err != nil {
			t.Fatal(err)
		}
		// Assets differ with the cache state; compare everything else.
		got, want = got[:len(ofType[*schemas.SensorData](got))+1], want[:len(ofType[*schemas.SensorData](want))+1]
		if len(got) != len(want) {
			t.Fatalf("input %d: %d objects, want %d", i, len(got), len(want))
		}
		for j := range got {
			if a, b := got[j].AppendJSON(nil, "", ""), want[j].AppendJSON(nil, "", ""); string(a) != string(b) {
				t.Fatalf("input %d object %d:\n%s\n%s", i, j, a, b)
			}
		}
	}
}

func TestMobitoFaultCodeLists(t *testing.T) {
	tests := []struct {
		name  string
		field string
		value any
		want  []string // data of each GtoemData
	}{
		{"empty list", "dtc_data", "[]", nil},
		{"blank", "dtc_data", "  ", nil},
		{"one digit code stays text", "dtc_data", "[12345]", []string{`{"CodeIdentifier":"12345","CodeSource":"dtc_data"}`}},
		{"no brackets, spaces, empty entries", "dtc_data", " 3178A ,, B7F34E ", []string{
			`{"CodeIdentifier":"3178A","CodeSource":"dtc_data"}`, `{"CodeIdentifier":"B7F34E","CodeSource":"dtc_data"}`}},
		{"JSON array", "dtc_data", []any{"3178A", json.Number("31796"), nil}, []string{
			`{"CodeIdentifier":"3178A","CodeSource":"dtc_data"}`, `{"CodeIdentifier":"31796","CodeSource":"dtc_data"}`}},
		{"several check-control messages", "check_control_messages", "[955 Tire pressure notification, 61 Washer fluid low]", []string{
			`{"CodeDescription":"Tire pressure notification","CodeIdentifier":"955","CodeSource":"check_control_messages"}`,
			`{"CodeDescription":"Washer fluid low","CodeIdentifier":"61","CodeSource":"check_control_messages"}`}},
		{"check-control free text", "check_control_messages", "[Service due]", []string{
			`{"CodeIdentifier":"Service due","CodeSource":"check_control_messages"}`}},
		{"check-control code alone", "check_control_messages", "[955]", []string{
			`{"CodeIdentifier":"955","CodeSource":"check_control_messages"}`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]any{"vin": "V1", "fleet_id": "F", tc.field: tc.value}
			objs, err := newProfile(t, profile.NameMobito, profile.Options{}).Normalize(mobitoInput(m), nil)
			if err != nil {
				t.Fatal(err)
			}
			checkObjects(t, objs)
			var got []string
			for _, g := range ofType[*schemas.GtoemData](objs) {
				got = append(got, dataJSON(g))
			}
			var want []string
			for _, w := range tc.want {
				want = append(want, canonical(t, w))
			}
			if !slices.Equal(got, want) {
				t.Errorf("got  %q\nwant %q", got, want)
			}
			// The list itself stays a STRING SensorData.
			if sd := sensors(objs)[tc.field]; sd == nil || sd.Type != schemas.ValueString {
				t.Errorf("SensorData %s = %+v, want STRING", tc.field, sd)
			}
			if _, ok := objs[len(objs)-1].(*schemas.Asset); !ok {
				t.Errorf("last object is %T, want the Asset", objs[len(objs)-1])
			}
		})
	}
	p := newProfile(t, profile.NameMobito, profile.Options{})
	for _, v := range []any{nil, "x", map[string]any{"vin": "V"}, map[string]any{"uuid": 5.0}, map[string]any{"uuid": ""}} {
		if id := p.MessageID(&profile.Input{Value: v}); id != "" {
			t.Errorf("MessageID(%v) = %q, want empty", v, id)
		}
	}
	if id := p.MessageID(nil); id != "" {
		t.Errorf("MessageID(nil) = %q", id)
	}
	if id := newProfile(t, profile.NameTrackunit, profile.Options{}).MessageID(trackunitInput(map[string]any{"uuid": "u"})); id != "" {
		t.Errorf("trackunit MessageID = %q, want empty", id)
	}
}
