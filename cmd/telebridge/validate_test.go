package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// validateConfig is a valid config: a MOBITO source to a Kafka sink (line
// 7) and a Trackunit source to an MQTT sink (line 8). Each test case
// breaks it in one place.
const validateConfig = `clusters: {main: {bootstrap_servers: "localhost:9092"}}
registries: {sr: {url: "http://localhost:8081"}}
sources:
  - {name: mo, cluster: main, topics: [mo-in], profile: mobito, sinks: [out]}
  - {name: tu, cluster: main, topics: [tu-in], profile: trackunit-insights, registry: sr, sinks: [mq]}
sinks:
  - {name: out, type: kafka, cluster: main, topic: "gt.{type}", types: [asset, location, sensordata, gtoemdata], key: assetId, event_id: {inject: true, field: eventId}}
  - {name: mq, type: mqtt, brokers: ["mqtt://localhost:1883"], topic: "gt/{type}"}
dead_letter: {cluster: main, topic: dlq}
`

// runValidate runs `telebridge validate` on text with env added to a
// clean environment and returns stdout, stderr and the exit code.
func runValidate(t *testing.T, text string, env ...string) (stdout, stderr string, code int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bridge.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := command("validate", "-c", path)
	var clean []string
	for _, kv := range cmd.Env {
		if !strings.HasPrefix(kv, "MQTT_SET_EVENT_ID=") && !strings.HasPrefix(kv, "KAFKA_SET_EVENT_ID=") {
			clean = append(clean, kv)
		}
	}
	cmd.Env = append(clean, env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), strings.ReplaceAll(e.String(), path, "bridge.yaml"), code
}

// TestValidateCatchesWhatRunCatches: every mistake that run would only
// find at start, or that would silently inject nothing, makes validate
// exit 2 with the file, line and key.
func TestValidateCatchesWhatRunCatches(t *testing.T) {
	if out, errOut, code := runValidate(t, validateConfig); code != 0 || errOut != "" {
		t.Fatalf("base config: exit %d\n%s%s", code, out, errOut)
	}
	for _, tc := range []struct {
		name     string
		old, new string
		env      []string
		want     string
	}{
		{"kafka key addresses no field of a routed type", "key: assetId", "key: vin", nil,
			`bridge.yaml:7: sinks[0].key: "vin" addresses no field of the types routed to this sink (asset, location, sensordata, gtoemdata)`},
		{"KAFKA_SET_EVENT_ID is not a field name", "", "", []string{"KAFKA_SET_EVENT_ID=event id"},
			"bridge.yaml:7: sinks[0].event_id: environment variable KAFKA_SET_EVENT_ID is not a field name"},
		{"MQTT_SET_EVENT_ID is not a field name", "", "", []string{"MQTT_SET_EVENT_ID=a-b"},
			"bridge.yaml:8: sinks[1].event_id: environment variable MQTT_SET_EVENT_ID is not a field name"},
		{"event_id.field clashes", "field: eventId", "field: type", nil,
			`bridge.yaml:7: sinks[0].event_id.field: "type" clashes with a field of sensordata routed to this sink`},
		{"MQTT_SET_EVENT_ID clashes", "", "", []string{"MQTT_SET_EVENT_ID=value"},
			`bridge.yaml:8: sinks[1].event_id: MQTT_SET_EVENT_ID="value" clashes with a field of sensordata routed to this sink`},
		{"KAFKA_SET_EVENT_ID clashes", "", "", []string{"KAFKA_SET_EVENT_ID=id"},
			`bridge.yaml:7: sinks[0].event_id: KAFKA_SET_EVENT_ID="id" clashes with a field of asset, location, sensordata, gtoemdata routed to this sink`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := validateConfig
			if tc.old != "" {
				text = strings.Replace(text, tc.old, tc.new, 1)
			}
			out, errOut, code := runValidate(t, text, tc.env...)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, want 2 with %q; stderr:\n%s\nstdout:\n%s", code, tc.want, errOut, out)
			}
		})
	}
}

// TestValidateWarnsAboutUnroutedTypes: a type the source's profile
// produces and none of its sinks accepts is a warning; exit stays 0.
func TestValidateWarnsAboutUnroutedTypes(t *testing.T) {
	text := strings.Replace(validateConfig, `topic: "gt/{type}"`, `topic: "gt/{type}", types: [asset, location]`, 1)
	out, errOut, code := runValidate(t, text)
	want := "warning: bridge.yaml:5: sources[1].sinks: profile trackunit-insights produces sensordata, gtoemdata, which none of the source's sinks (mq) accepts: those objects are dropped"
	if code != 0 || !strings.Contains(errOut, want) || !strings.Contains(out, "is valid") {
		t.Fatalf("exit %d, want 0 with %q; stderr:\n%s\nstdout:\n%s", code, want, errOut, out)
	}
	if n := strings.Count(errOut, "warning:"); n != 1 {
		t.Errorf("%d warnings, want 1:\n%s", n, errOut)
	}
}

// TestValidateShowsEffectiveEventID: the variable's injection is in the
// effective config, with which setting won and why.
func TestValidateShowsEffectiveEventID(t *testing.T) {
	out, errOut, code := runValidate(t, validateConfig, "KAFKA_SET_EVENT_ID=evt", "MQTT_SET_EVENT_ID=true")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	kafka := out[strings.Index(out, "  - name: out"):strings.Index(out, "  - name: mq")]
	mqtt := out[strings.Index(out, "  - name: mq"):strings.Index(out, "dead_letter:")]
	for _, want := range []string{
		`# effective: KAFKA_SET_EVENT_ID=evt names the field and wins over event_id.field "eventId": the push specification makes the variable name the field, and the environment overrides the file`,
		"inject: true\n", "field: evt\n",
	} {
		if !strings.Contains(kafka, want) {
			t.Errorf("kafka sink lacks %q:\n%s", want, kafka)
		}
	}
	for _, want := range []string{`# effective: MQTT_SET_EVENT_ID=true turns injection on under event_id.field "eventId"`, "inject: true\n", "field: eventId\n"} {
		if !strings.Contains(mqtt, want) {
			t.Errorf("mqtt sink lacks %q:\n%s", want, mqtt)
		}
	}
}
