package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMappingSourceExample(t *testing.T) {
	c, err := Load("../../testdata/config/traccar-mapping.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	s := c.Sources[0]
	if s.Profile != ProfileMapping || !strings.HasSuffix(s.Mapping, filepath.Join("testdata", "mappings", "traccar.yaml")) {
		t.Fatalf("source %+v", s)
	}
	if s.CompiledMapping() == nil {
		t.Fatal("mapping not compiled by validation")
	}
	if !strings.Contains(c.Redacted(), "mapping: ") {
		t.Fatalf("redacted config lacks the mapping key:\n%s", c.Redacted())
	}
}

func TestMappingSourceErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := func(extra string) string {
		return `clusters:
  main: {bootstrap_servers: "localhost:9092"}
sources:
  - name: feed
    cluster: main
    topics: [feed]
    profile: mapping
` + extra + `sinks:
  - name: out
    type: kafka
    cluster: main
    topic: out
dead_letter: {cluster: main, topic: dlq}
`
	}
	write("m.yaml", `objects:
  - type: location
    fields:
      assetId: record.id
      ownerId: record.owner
      whenCreated: kafka.timestamp
      latitude: nosuch(record.lat)
      longitude: number(record.lon)
`)
	for _, tc := range []struct{ name, extra, want string }{
		{"compile error at FILE:LINE:COL", "    mapping: m.yaml\n", filepath.Join(dir, "m.yaml") + ":7:17: sources[0].mapping: objects[0].fields.latitude: unknown name nosuch"},
		{"missing mapping", "", "sources[0].mapping: required with profile mapping"},
		{"unreadable", "    mapping: nosuch.yaml\n", "sources[0].mapping: cannot read"},
		{"decode not allowed", "    mapping: ok.yaml\n    decode: writer\n", "sources[0].decode: not allowed with profile mapping"},
		{"registry with json", "    mapping: ok.yaml\n    registry: r\n", "sources[0].registry: not allowed: mapping"},
		{"avro needs registry", "    mapping: avro.yaml\n", "sources[0].registry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			write("ok.yaml", strings.Replace(readFile(t, filepath.Join(dir, "m.yaml")), "nosuch(", "number(", 1))
			write("avro.yaml", "format: avro\n"+readFile(t, filepath.Join(dir, "ok.yaml")))
			write("c.yaml", cfg(tc.extra))
			_, err := Load(filepath.Join(dir, "c.yaml"), func(string) (string, bool) { return "", false })
			var es *Errors
			if !errors.As(err, &es) {
				t.Fatalf("error %v, want *Errors", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error:\n%v\nwant it to contain:\n%s", err, tc.want)
			}
		})
	}
	write("c.yaml", strings.Replace(cfg(""), "profile: mapping", "profile: mobito\n    mapping: m.yaml", 1))
	if _, err := Load(filepath.Join(dir, "c.yaml"), func(string) (string, bool) { return "", false }); err == nil || !strings.Contains(err.Error(), "sources[0].mapping: only allowed with profile mapping") {
		t.Fatalf("error %v", err)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
