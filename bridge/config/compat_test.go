package config

import (
	"strings"
	"testing"
)

const compatBase = `clusters:
  k: {bootstrap_servers: "127.0.0.1:9092"}
registries:
  r: {url: "http://127.0.0.1:8081"}
sources:
  - {name: tu, cluster: k, topics: [t], profile: trackunit-insights, registry: r%s}
  - {name: mo, cluster: k, topics: [m], profile: mobito%s}
sinks:
  - {name: out, type: kafka, cluster: k, topic: out}
dead_letter: {cluster: k, topic: dlq}
`

func TestOnIncompatibleSchema(t *testing.T) {
	parse := func(tu, mo string) (*Config, error) {
		return Parse([]byte(strings.NewReplacer("%s", "").Replace(strings.Replace(strings.Replace(compatBase, "%s", tu, 1), "%s", mo, 1))), "c.yaml", envMap(nil))
	}
	c, err := parse("", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Sources[0].OnIncompatibleSchema; got != OnIncompatibleDeadLetter {
		t.Errorf("default %q, want dead-letter", got)
	}
	if got := c.Sources[1].OnIncompatibleSchema; got != "" {
		t.Errorf("JSON source got %q", got)
	}
	c, err = parse(", on_incompatible_schema: STOP", "")
	if err != nil || c.Sources[0].OnIncompatibleSchema != OnIncompatibleStop {
		t.Fatalf("stop: %v %+v", err, c)
	}
	if !strings.Contains(c.Redacted(), "on_incompatible_schema: stop") {
		t.Errorf("redacted dump lacks the key:\n%s", c.Redacted())
	}
	_, err = parse(", on_incompatible_schema: skip", "")
	if err == nil || !strings.Contains(err.Error(), "c.yaml:6: sources[0].on_incompatible_schema") || !strings.Contains(err.Error(), "dead-letter") {
		t.Fatalf("bad value: %v", err)
	}
	_, err = parse("", ", on_incompatible_schema: stop")
	if err == nil || !strings.Contains(err.Error(), "sources[1].on_incompatible_schema: not allowed with profile mobito") {
		t.Fatalf("JSON source: %v", err)
	}
}
