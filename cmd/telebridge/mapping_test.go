package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"
)

func runMappingCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

// TestMappingGolden runs every shipped mapping on its sample input through
// `telebridge mapping test` and compares with the golden output
// (regenerate: see testdata/mappings/README.md).
func TestMappingGolden(t *testing.T) {
	dir := "../../testdata/mappings"
	for _, name := range []string{"traccar", "reefer", "genset", "mobito"} {
		t.Run(name, func(t *testing.T) {
			input := filepath.Join(dir, name+".json")
			if name == "mobito" {
				input = "../../testdata/mobito/sample.json"
			}
			// Inputs are named as in the golden files.
			rel, _ := filepath.Rel(dir, input)
			wd, _ := os.Getwd()
			t.Chdir(dir)
			defer t.Chdir(wd)
			got, err := runMappingCLI(t, "mapping", "test", "-m", name+".yaml", "--timestamp", "2024-03-20T14:30:05Z", "--topic", name, "--header", "owner=acme", rel)
			if err != nil {
				t.Fatalf("mapping test: %v\n%s", err, got)
			}
			want, err := os.ReadFile(name + ".golden")
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Fatalf("output differs from %s.golden:\n%s", name, got)
			}
			if strings.Contains(got, "INVALID") || strings.Contains(got, "FAILED") {
				t.Fatalf("invalid objects:\n%s", got)
			}
		})
	}
}

func TestMappingTestFailures(t *testing.T) {
	dir := t.TempDir()
	mapping := filepath.Join(dir, "m.yaml")
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("m.yaml", `
objects:
  - type: location
    fields:
      assetId: record.id
      ownerId: '"o"'
      whenCreated: kafka.timestamp
      latitude: number(record.lat)
      longitude: number(record.lon)
`)
	good := write("good.json", `{"id":"a","lat":1,"lon":2}
{"id":"b","lat":"3.5","lon":"4"}`)
	out, err := runMappingCLI(t, "mapping", "test", "-m", mapping, good)
	if err != nil || strings.Count(out, "# Location") != 2 || !strings.Contains(out, `"latitude": 3.5`) {
		t.Fatalf("err %v\n%s", err, out)
	}
	bad := write("bad.json", `{"id":"a","lat":"north","lon":2}`)
	out, err = runMappingCLI(t, "mapping", "test", "-m", mapping, bad)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(out, `# FAILED (would be dead-lettered, class mapping): mapping: field "objects[0].fields.latitude"`) {
		t.Fatalf("err %v\n%s", err, out)
	}
	invalid := write("invalid.json", `{"id":"a","lat":91,"lon":2}`)
	out, err = runMappingCLI(t, "mapping", "test", "-m", mapping, invalid)
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(out, "# INVALID: location: field \"latitude\"") {
		t.Fatalf("err %v\n%s", err, out)
	}
	write("m.yaml", "objects:\n  - type: location\n    fields:\n      assetId: recrod.id\n")
	_, err = runMappingCLI(t, "mapping", "test", "-m", mapping, good)
	if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), "m.yaml:4:16: objects[0].fields.assetId: unknown name recrod") {
		t.Fatalf("err %v", err)
	}
}

func TestMappingTestAvro(t *testing.T) {
	dir := t.TempDir()
	schemaText := `{"type":"record","name":"Pos","fields":[{"name":"id","type":"string"},{"name":"lat","type":"double"},{"name":"lon","type":"double"},{"name":"ts","type":"long"}]}`
	schemaFile := filepath.Join(dir, "pos.avsc")
	if err := os.WriteFile(schemaFile, []byte(schemaText), 0o600); err != nil {
		t.Fatal(err)
	}
	body, err := avro.Marshal(avro.MustParse(schemaText), map[string]any{"id": "u1", "lat": 55.5, "lon": 12.25, "ts": int64(1710945000000)})
	if err != nil {
		t.Fatal(err)
	}
	raw := filepath.Join(dir, "pos.bin")
	framed := filepath.Join(dir, "pos.wire")
	if err := os.WriteFile(raw, body, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(framed, append([]byte{0, 0, 0, 0, 7}, body...), 0o600); err != nil {
		t.Fatal(err)
	}
	mapping := filepath.Join(dir, "m.yaml")
	if err := os.WriteFile(mapping, []byte(`format: avro
objects:
  - type: location
    fields:
      assetId: record.id
      ownerId: '"o"'
      whenCreated: time(record.ts, "ms")
      latitude: record.lat
      longitude: record.lon
`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{raw}, {"--confluent", framed}} {
		out, err := runMappingCLI(t, append([]string{"mapping", "test", "-m", mapping, "--schema", schemaFile}, args...)...)
		if err != nil || !strings.Contains(out, `"latitude": 55.5`) || !strings.Contains(out, `"whenCreated": "2024-03-20T14:30:00Z"`) {
			t.Fatalf("%v: err %v\n%s", args, err, out)
		}
	}
	if _, err := runMappingCLI(t, "mapping", "test", "-m", mapping, raw); err == nil || !strings.Contains(err.Error(), "--format avro needs --schema") {
		t.Fatalf("err %v", err)
	}
	if _, err := runMappingCLI(t, "mapping", "test", "-m", mapping, "--schema", schemaFile, "--confluent", raw); err == nil {
		t.Fatal("a file without the wire header was accepted with --confluent")
	}
}
