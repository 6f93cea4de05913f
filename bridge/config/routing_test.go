package config

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// routed is a config whose sinks get exactly what the tests say: a MOBITO
// source (asset, location, sensordata) to sink "out" (kafka, line 8) and
// a Trackunit source to sink "mq" (mqtt, line 9).
const routed = `clusters:
  main: {bootstrap_servers: "localhost:9092"}
registries: {sr: {url: "http://localhost:8081"}}
sources:
  - {name: mo, cluster: main, topics: [mo-in], profile: mobito, sinks: [out]}
  - {name: tu, cluster: main, topics: [tu-in], profile: trackunit-insights, registry: sr, sinks: [mq]}
sinks:
  - {name: out, type: kafka, cluster: main, topic: "gt.{type}", types: [asset, location, sensordata], key: %KEY%, event_id: {inject: %INJECT%, field: %FIELD%}}
  - {name: mq, type: mqtt, brokers: ["mqtt://localhost:1883"], topic: "gt/{type}"}
dead_letter: {cluster: main, topic: dlq}
`

func routedConfig(key, inject, field string) string {
	return strings.NewReplacer("%KEY%", key, "%INJECT%", inject, "%FIELD%", field).Replace(routed)
}

// TestValidateCatchesWhatRunCatches: each mistake that the bridge would
// only find at start (or, for a clashing eventId field, never) is an
// error of Parse and Validate, naming the file, line and key.
func TestValidateCatchesWhatRunCatches(t *testing.T) {
	for _, tc := range []struct {
		name       string
		text       string
		env        map[string]string
		path, want string
		line       int
	}{
		{"key addresses no field", routedConfig("vin", "false", "eventId"), nil,
			"sinks[0].key", `"vin" addresses no field of the types routed to this sink (asset, location, sensordata): asset has no field "vin" (want one of id, name, ownerId`, 8},
		{"key addresses a field of one routed type", routedConfig("sensorId", "false", "eventId"), nil, "", "", 0},
		{"key addresses only a type the source never produces", strings.Replace(routedConfig("reeferClass", "false", "eventId"), "types: [asset, location, sensordata]", "types: [asset, location, sensordata, reeferdata]", 1), nil,
			"sinks[0].key", `"reeferClass" addresses no field of the types routed to this sink (asset, location, sensordata)`, 8},
		{"key addresses only a data member no routed type has", routedConfig("data.vin", "false", "eventId"), nil,
			"sinks[0].key", `"data.vin" addresses no field of the types routed to this sink (asset, location, sensordata)`, 8},
		{"event_id.field clashes", routedConfig("assetId", "true", "value"), nil,
			"sinks[0].event_id.field", `"value" clashes with a field of sensordata routed to this sink: the eventId would not be injected there`, 8},
		{"event_id.field id clashes with every type", routedConfig("assetId", "true", "id"), nil,
			"sinks[0].event_id.field", `"id" clashes with a field of asset, location, sensordata routed to this sink`, 8},
		{"KAFKA_SET_EVENT_ID not a field name", routedConfig("assetId", "false", "eventId"), map[string]string{EnvKafkaSetEventID: "event id!"},
			"sinks[0].event_id", "environment variable KAFKA_SET_EVENT_ID is not a field name: want an identifier such as eventId", 8},
		{"MQTT_SET_EVENT_ID not a field name", routedConfig("assetId", "false", "eventId"), map[string]string{EnvMQTTSetEventID: "a.b"},
			"sinks[1].event_id", "environment variable MQTT_SET_EVENT_ID is not a field name", 9},
		{"KAFKA_SET_EVENT_ID clashes", routedConfig("assetId", "false", "eventId"), map[string]string{EnvKafkaSetEventID: "ownerId"},
			"sinks[0].event_id", `KAFKA_SET_EVENT_ID="ownerId" clashes with a field of asset, location, sensordata routed to this sink`, 8},
		{"MQTT_SET_EVENT_ID clashes with a Trackunit type", routedConfig("assetId", "false", "eventId"), map[string]string{EnvMQTTSetEventID: "data"},
			"sinks[1].event_id", `MQTT_SET_EVENT_ID="data" clashes with a field of gtoemdata routed to this sink`, 9},
		{"MQTT_SET_EVENT_ID=true under a clashing event_id.field", strings.Replace(routedConfig("assetId", "false", "eventId"), `topic: "gt/{type}"`, `topic: "gt/{type}", event_id: {field: sensorType}`, 1),
			map[string]string{EnvMQTTSetEventID: "true"}, "sinks[1].event_id", `MQTT_SET_EVENT_ID="sensorType" clashes with a field of sensordata`, 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.text), "bridge.yaml", envMap(tc.env))
			if tc.path == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse accepted it; effective config:\n%s", c.Redacted())
			}
			var es *Errors
			if !errors.As(err, &es) {
				t.Fatalf("error %T: %v", err, err)
			}
			var fe *FieldError
			for _, e := range es.List {
				if e.Path == tc.path {
					fe = e
				}
			}
			if fe == nil || !strings.Contains(fe.Msg, tc.want) || fe.File != "bridge.yaml" || fe.Line != tc.line {
				t.Fatalf("want bridge.yaml:%d: %s: ...%s..., got:\n%v", tc.line, tc.path, tc.want, err)
			}
			if len(es.List) != 1 {
				t.Errorf("want one problem, got:\n%v", err)
			}

			// The same through Validate: a valid config, made wrong in
			// code the way the text is wrong, with the same environment.
			c = mustParse(t, routedConfig("assetId", "false", "eventId"), nil)
			if err := c.Validate(); err != nil {
				t.Fatalf("base: %v", err)
			}
			text := tc.text
			switch {
			case strings.Contains(text, "key: vin"):
				c.Sinks[0].Key = "vin"
			case strings.Contains(text, "key: reeferClass"):
				c.Sinks[0].Key = "reeferClass"
				c.Sinks[0].Types = append(c.Sinks[0].Types, TypeReeferData)
			case strings.Contains(text, "key: data.vin"):
				c.Sinks[0].Key = "data.vin"
			case strings.Contains(text, "inject: true, field: value"):
				c.Sinks[0].EventID = EventID{Inject: true, Field: "value"}
			case strings.Contains(text, "inject: true, field: id"):
				c.Sinks[0].EventID = EventID{Inject: true, Field: "id"}
			case strings.Contains(text, "field: sensorType"):
				c.Sinks[1].EventID.Field = "sensorType"
			}
			c.lookup = envMap(tc.env)
			err = c.Validate()
			if err == nil || !strings.Contains(err.Error(), "bridge.yaml:"+strconv.Itoa(tc.line)+": "+tc.path+": ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want bridge.yaml:%d: %s: ...%s...", err, tc.line, tc.path, tc.want)
			}
		})
	}
}

func TestRoutedTypes(t *testing.T) {
	c := mustParse(t, routedConfig("assetId", "false", "eventId"), nil)
	if got, fed := c.RoutedTypes(c.Sinks[0]); !fed || !slices.Equal(got, []string{TypeAsset, TypeLocation, TypeSensorData}) {
		t.Errorf("out: %v %v", got, fed)
	}
	if got, fed := c.RoutedTypes(c.Sinks[1]); !fed || !slices.Equal(got, []string{TypeAsset, TypeLocation, TypeSensorData, TypeGtoemData}) {
		t.Errorf("mq: %v %v", got, fed)
	}
	c.Sources = c.Sources[:1]
	if got, fed := c.RoutedTypes(c.Sinks[1]); fed || got != nil {
		t.Errorf("unfed mq: %v %v", got, fed)
	}
}

// TestUnroutedWarnings: a source whose profile produces types none of its
// sinks accepts is a warning (not an error) naming the source's sinks key
// and the lost types.
func TestUnroutedWarnings(t *testing.T) {
	text := `clusters:
  main: {bootstrap_servers: "localhost:9092"}
registries: {sr: {url: "http://localhost:8081"}}
sources:
  - name: tu
    cluster: main
    topics: [tu-in]
    profile: trackunit-insights
    registry: sr
    sinks: [a, b]
  - {name: mo, cluster: main, topics: [mo-in], profile: mobito, sinks: [b, c]}
sinks:
  - {name: a, type: kafka, cluster: main, topic: "a.{type}", types: [asset, location]}
  - {name: b, type: kafka, cluster: main, topic: "b.{type}", types: [location, sensordata, asset]}
  - {name: c, type: kafka, cluster: main, topic: "c.{type}", types: [gtoemdata]}
dead_letter: {cluster: main, topic: dlq}
`
	c := mustParse(t, text, nil)
	ws := c.Warnings()
	if len(ws) != 1 {
		t.Fatalf("warnings: %v", ws)
	}
	want := `bridge.yaml:10: sources[0].sinks: profile trackunit-insights produces gtoemdata, which none of the source's sinks (a, b) accept: those objects are dropped, counted in telebridge_objects_unrouted_total`
	if !strings.HasPrefix(ws[0].Error(), want) {
		t.Errorf("warning:\n%s\nwant prefix:\n%s", ws[0], want)
	}
	if got := c.Unrouted(c.Sources[1]); got != nil {
		t.Errorf("mobito unrouted = %v", got)
	}
	c.Sinks[1].Types = []string{TypeGtoemData}
	if got := c.Unrouted(c.Sources[1]); !slices.Equal(got, []string{TypeAsset, TypeLocation, TypeSensorData}) {
		t.Errorf("mobito unrouted = %v", got)
	}
	if ws := c.Warnings(); len(ws) != 2 || ws[1].Path != "sources[1].sinks" || !strings.Contains(ws[1].Msg, "produces asset, location, sensordata, which none of the source's sinks (b, c) accept") ||
		!strings.Contains(ws[0].Msg, "produces sensordata, which none of the source's sinks (a, b) accept") {
		t.Errorf("warnings after the change: %v", ws)
	}
	c.Sinks[0].Types = ObjectTypes()
	c.Sinks[1].Types = ObjectTypes()
	if ws := c.Warnings(); len(ws) != 0 {
		t.Errorf("every type routed, still warnings: %v", ws)
	}
}

// TestEventIDInjectionPrecedence: the variable names the field and wins
// over event_id.field; true uses event_id.field; false leaves the file's
// choice. The effective configuration shows the injection and why.
func TestEventIDInjectionPrecedence(t *testing.T) {
	for _, tc := range []struct {
		inject, field string
		env           map[string]string
		want          string // effective field, "" none
		printed       []string
	}{
		{"false", "eventId", nil, "", []string{"inject: false\n", "field: eventId\n"}},
		{"true", "evt", nil, "evt", []string{"inject: true\n", "field: evt\n"}},
		{"true", "evt", map[string]string{EnvKafkaSetEventID: "myEventId"}, "myEventId",
			[]string{`# effective: KAFKA_SET_EVENT_ID=myEventId names the field and wins over event_id.field "evt": the push specification makes the variable name the field, and the environment overrides the file`, "inject: true\n", "field: myEventId\n"}},
		{"false", "eventId", map[string]string{EnvKafkaSetEventID: "eventId"}, "eventId",
			[]string{"# effective: KAFKA_SET_EVENT_ID=eventId turns injection on and names the field", "inject: true\n", "field: eventId\n"}},
		{"false", "evt", map[string]string{EnvKafkaSetEventID: "TRUE"}, "evt",
			[]string{`# effective: KAFKA_SET_EVENT_ID=TRUE turns injection on under event_id.field "evt"`, "inject: true\n", "field: evt\n"}},
		{"true", "evt", map[string]string{EnvKafkaSetEventID: "false"}, "evt",
			[]string{`# effective: KAFKA_SET_EVENT_ID="false" does not turn injection off; event_id.inject: true decides`, "inject: true\n"}},
		{"false", "evt", map[string]string{EnvKafkaSetEventID: "no"}, "",
			[]string{`# effective: KAFKA_SET_EVENT_ID="no" leaves injection off`, "inject: false\n"}},
		// The MQTT variable does not touch a Kafka sink.
		{"false", "eventId", map[string]string{EnvMQTTSetEventID: "mqttEvt"}, "", []string{"inject: false\n"}},
	} {
		c := mustParse(t, routedConfig("assetId", tc.inject, tc.field), tc.env)
		inj, err := c.EventIDInjection(c.Sinks[0])
		if err != nil || inj.Field != tc.want {
			t.Errorf("%+v: injection %+v, %v; want field %q", tc, inj, err, tc.want)
		}
		out := c.Redacted()
		i := strings.Index(out, "  - name: out")
		j := strings.Index(out, "  - name: mq")
		block := out[i:j]
		for _, p := range tc.printed {
			if !strings.Contains(block, p) {
				t.Errorf("%+v: effective config lacks %q:\n%s", tc, p, block)
			}
		}
		// The effective config parses back to the same injection.
		back, err := Parse([]byte(out), "back.yaml", envMap(tc.env))
		if err != nil {
			t.Fatalf("effective config does not parse: %v\n%s", err, out)
		}
		if inj2, _ := back.EventIDInjection(back.Sinks[0]); inj2.Field != inj.Field {
			t.Errorf("%+v: round trip injects %q, want %q", tc, inj2.Field, inj.Field)
		}
	}
}

// TestUnroutedWarningHidesEnvironmentValues: a sink name that came from the
// environment is not shown in the warning, as in errors.
func TestUnroutedWarningHidesEnvironmentValues(t *testing.T) {
	text := `clusters:
  main: {bootstrap_servers: "localhost:9092"}
sources:
  - {name: mo, cluster: main, topics: [mo-in], profile: mobito, sinks: ["${SINK}"]}
sinks:
  - {name: "${SINK}", type: kafka, cluster: main, topic: "gt.{type}", types: [location]}
dead_letter: {cluster: main, topic: dlq}
`
	c := mustParse(t, text, map[string]string{"SINK": "hidden-sink"})
	ws := c.Warnings()
	if len(ws) != 1 || strings.Contains(ws[0].Error(), "hidden-sink") || !strings.Contains(ws[0].Error(), "bridge.yaml:4: sources[0].sinks: profile mobito produces asset, sensordata, gtoemdata, which none of the source's sinks (value of ${SINK}) accepts") {
		t.Errorf("warnings: %v", ws)
	}
}
