package profile_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telebridge/telebridge/bridge/profile"
	"github.com/telebridge/telebridge/schemas"
)

func compileErr(t *testing.T, src string) string {
	t.Helper()
	_, err := profile.ParseMapping("m.yaml", []byte(src))
	if err == nil {
		t.Fatalf("no error for:\n%s", src)
	}
	var ces profile.CompileErrors
	if !errors.As(err, &ces) {
		t.Fatalf("error %T, want CompileErrors: %v", err, err)
	}
	return err.Error()
}

const okSensor = `
objects:
  - type: sensordata
    each: record.signals
    fields:
      assetId: record.id
      ownerId: '"acme"'
      sensorId: key
      sensorType: key
      whenCreated: kafka.timestamp
      value: text(value)
      type: valueType(value)
`

func TestMappingCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"unknown function", strings.Replace(okSensor, "text(value)", "txt(value)", 1), "m.yaml:11:14: objects[0].fields.value: unknown name txt"},
		{"unknown variable", strings.Replace(okSensor, "record.id", "recrod.id", 1), "m.yaml:6:16: objects[0].fields.assetId: unknown name recrod"},
		{"unknown kafka field", strings.Replace(okSensor, "kafka.timestamp", "kafka.time", 1), "m.yaml:10:26: objects[0].fields.whenCreated: unknown field time"},
		{"wrong type", strings.Replace(okSensor, "kafka.timestamp", "42", 1), `m.yaml:10:20: objects[0].fields.whenCreated: expression "42" has type int, want a time`},
		{"string into float", `
objects:
  - type: location
    fields:
      assetId: '"a"'
      ownerId: '"o"'
      whenCreated: kafka.timestamp
      latitude: '"12.5"'
      longitude: number(record.lon)
`, `m.yaml:8:17: objects[0].fields.latitude: expression "\"12.5\"" has type string, want a number (use number(...))`},
		{"required field missing", strings.Replace(okSensor, "      type: valueType(value)\n", "", 1), "objects[0].fields.type: required field of SensorData has no expression"},
		{"unknown object field", strings.Replace(okSensor, "sensorType: key", "sensortype: key", 1), `m.yaml:9:7: objects[0].fields.sensortype: SensorData has no field "sensortype"`},
		{"key outside each", strings.Replace(okSensor, "    each: record.signals\n", "", 1), "unknown name key (key, value and index exist only in an object with each:)"},
		{"unknown type", strings.Replace(okSensor, "sensordata", "sensor", 1), `objects[0].type: unknown object type "sensor"`},
		{"undefined var", strings.Replace(okSensor, "record.id", "vars.asset", 1), "m.yaml:6:21: objects[0].fields.assetId: unknown field asset"},
		{"block scalar position", strings.Replace(okSensor, "value: text(value)", "value: |\n        text(\n          nosuch(value))", 1), "m.yaml:13:11: objects[0].fields.value: unknown name nosuch"},
		{"syntax", strings.Replace(okSensor, "text(value)", "text(value", 1), "m.yaml:11:23: objects[0].fields.value: unexpected token EOF"},
		{"unknown top key", "object: []\n", "m.yaml:1:1: object: unknown key"},
		{"no objects", "vars:\n  a: record.x\n", "objects: required"},
		{"now disabled", strings.Replace(okSensor, "kafka.timestamp", "now()", 1), "unknown name now"},
		{"bad yaml", "objects: [\n", "m.yaml:1: invalid YAML"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := compileErr(t, tc.src); !strings.Contains(got, tc.want) {
				t.Fatalf("error:\n%s\nwant it to contain:\n%s", got, tc.want)
			}
		})
	}
}

func runMapping(t *testing.T, src string, value any) ([]schemas.Object, error) {
	t.Helper()
	m, err := profile.ParseMapping("m.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	p := profile.NewMapping(m, profile.Options{})
	return p.Normalize(&profile.Input{Topic: "t", Offset: 9, Timestamp: time.UnixMilli(1700000000000), Value: value}, nil)
}

func jsonValue(t *testing.T, s string) any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMappingRuntimeFailures(t *testing.T) {
	src := `
objects:
  - type: location
    fields:
      assetId: record.id
      ownerId: '"o"'
      whenCreated: time(record.ts, "s")
      latitude: number(record.lat)
      longitude: number(record.lon)
`
	objs, err := runMapping(t, src, jsonValue(t, `{"id":"a1","ts":1700000000,"lat":"55.5","lon":12}`))
	if err != nil || len(objs) != 1 {
		t.Fatalf("objs %v err %v", objs, err)
	}
	l := objs[0].(*schemas.Location)
	if l.Latitude != 55.5 || l.Longitude != 12 || !l.WhenCreated.Equal(time.Unix(1700000000, 0)) {
		t.Fatalf("location %+v", l)
	}
	for _, tc := range []struct{ in, want string }{
		{`{"id":"a1","ts":1700000000,"lat":"abc","lon":12}`, `mapping: field "objects[0].fields.latitude": expression "number(record.lat)" (m.yaml:8:17): number: "abc" is not a number`},
		{`{"ts":1700000000,"lat":1,"lon":12}`, `field "objects[0].fields.assetId": expression "record.id" (m.yaml:5:16): yielded null, but assetId is required`},
		{`{"id":"a1","ts":"yesterday","lat":1,"lon":2}`, `objects[0].fields.whenCreated`},
		{`[1,2]`, `objects[0].fields.assetId`},
	} {
		objs, err := runMapping(t, src, jsonValue(t, tc.in))
		var me *profile.MappingError
		if !errors.As(err, &me) || len(objs) != 0 {
			t.Fatalf("%s: objs %v err %v, want a *MappingError", tc.in, objs, err)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%s: error\n%v\nwant it to contain\n%s", tc.in, err, tc.want)
		}
	}
}

func TestMappingEachAndAssets(t *testing.T) {
	src := `
vars:
  id: uuid5("example.com", record.serial)
objects:
  - type: asset
    fields:
      id: vars.id
      name: record.serial
      ownerId: '"acme"'
      whenUpdated: kafka.timestamp
      tags: '["model:" + record.model]'
  - type: sensordata
    each: record.signals
    when: key != "skip"
    fields:
      assetId: vars.id
      ownerId: '"acme"'
      sensorId: key
      sensorType: key
      whenCreated: kafka.timestamp
      value: text(value)
      type: valueType(value)
  - type: gtoemdata
    each: record.frames
    fields:
      assetId: vars.id
      ownerId: '"acme"'
      whenCreated: time(value.t, "ms")
      payloadType: integer(value.type)
      data: value
      id: 1000 + index
`
	m, err := profile.ParseMapping("m.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	p := profile.NewMapping(m, profile.Options{})
	in := func(model string) *profile.Input {
		return &profile.Input{Topic: "t", Timestamp: time.UnixMilli(1700000000000), Value: jsonValue(t,
			`{"serial":"S1","model":"`+model+`","signals":{"b":"1.5","a":true,"skip":1},"frames":[{"t":1700000000001,"type":"3","x":[1]}]}`)}
	}
	objs, err := p.Normalize(in("X"), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := encodeAll(objs)
	want := []string{
		`{"id":0,"assetId":"` + uuid5(t) + `","ownerId":"acme","sensorId":"a","sensorType":"a","whenCreated":"2023-11-14T22:13:20Z","value":"true","type":"BOOLEAN"}`,
		`{"id":0,"assetId":"` + uuid5(t) + `","ownerId":"acme","sensorId":"b","sensorType":"b","whenCreated":"2023-11-14T22:13:20Z","value":"1.5","type":"DECIMAL"}`,
		`{"id":1000,"assetId":"` + uuid5(t) + `","ownerId":"acme","whenCreated":"2023-11-14T22:13:20.001Z","payloadType":3,"data":{"t":1700000000001,"type":"3","x":[1]}}`,
		`{"id":"` + uuid5(t) + `","name":"S1","ownerId":"acme","whenCreated":"2023-11-14T22:13:20Z","whenUpdated":"2023-11-14T22:13:20Z","tags":["model:X"]}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Same asset again: not re-emitted; changed: emitted.
	if objs, _ := p.Normalize(in("X"), nil); len(objs) != 3 {
		t.Fatalf("unchanged asset re-emitted: %v", encodeAll(objs))
	}
	if objs, _ := p.Normalize(in("Y"), nil); len(objs) != 4 || objs[3].ObjectType() != schemas.TypeAsset {
		t.Fatalf("changed asset not emitted: %v", encodeAll(objs))
	}
}

// uuid5 is UUIDv5(UUIDv5(DNS, "example.com"), "S1"), computed
// independently with Python's uuid module.
func uuid5(t *testing.T) string {
	t.Helper()
	return "7fc833bb-7f30-5a7a-84d4-ee2f8052869d"
}

func TestMappingSchemaFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "r.avsc"), []byte(`{"type":"record","name":"R","fields":[{"name":"a","type":"string"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	src := "format: avro\nschema: r.avsc\n" + okSensor
	path := filepath.Join(dir, "m.yaml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := profile.LoadMapping(path)
	if err != nil {
		t.Fatal(err)
	}
	if m.Format() != profile.FormatAvro || !strings.Contains(m.ReaderSchema(), `"name":"R"`) {
		t.Fatalf("format %s schema %q", m.Format(), m.ReaderSchema())
	}
	if got := compileErr(t, "format: json\nschema: nosuch.avsc\n"+okSensor); !strings.Contains(got, "cannot read the reader schema") {
		t.Fatal(got)
	}
}
