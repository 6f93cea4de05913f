package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad checks that no input makes Parse panic, that every failure is an
// *Errors, that a success validates and renders, and that neither error
// messages nor Redacted ever contain the value of a credential-named
// environment variable, nor errors the value of any variable.
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob(examples + "*.yaml")
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{
		minimal,
		secretConfig,
		"",
		"log: *a\n",
		"x-a: &a {level: info}\nlog: {<<: [*a, *a]}\n",
		"clusters: {main: {bootstrap_servers: \"${BROKERS}\", properties: {\"${X}\": \"${API_TOKEN}\"}}}\n",
		"sources: [{name: \"${NAME_SECRET}\", topics: [\"${TOPIC}\"]}]\nsinks: [{name: \"${SINK_KEY}\", type: kafka, topic: \"${T}\"}]\n",
		"commit_interval: ${PASSWORD}\nshutdown_timeout: ${X}\n",
		"? [a]\n: b\n",
		"---\n---\n",
		"a: !!binary aGVsbG8=\nlog: {level: !!int 3}\n",
		"registries: {r: {url: \"https://u:${SR_SECRET}@h\"}}\n",
	} {
		f.Add([]byte(s))
	}
	const marker = "Zq9Ex"
	lookup := func(name string) (string, bool) {
		switch {
		case strings.HasPrefix(name, "UNSET"):
			return "", false
		case sensitiveEnv(name):
			return marker + "-secret-" + name, true
		default:
			return marker + "-plain", true
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.yaml", lookup)
		clean := !strings.Contains(string(data), marker)
		if err != nil {
			if c != nil {
				t.Fatal("config returned with an error")
			}
			var es *Errors
			if !errors.As(err, &es) || len(es.List) == 0 {
				t.Fatalf("error %T %v is not a non-empty *Errors", err, err)
			}
			if clean && strings.Contains(err.Error(), marker) {
				t.Fatalf("error shows an environment value:\n%s", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("loaded config does not validate: %v", err)
		}
		out := c.Redacted()
		if clean && strings.Contains(out, marker+"-secret") {
			t.Fatalf("Redacted shows a credential:\n%s", out)
		}
		for _, cl := range c.Clusters {
			_ = cl.KafkaConfig()
		}
	})
}
