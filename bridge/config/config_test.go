package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const examples = "../../testdata/config/"

// envMap returns a lookupEnv backed by m.
func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// exampleEnv holds every variable the example files reference without a
// default; the secret values are checked for leaks in redact_test.go.
func exampleEnv() map[string]string {
	return map[string]string{
		"TRACKUNIT_KAFKA_KEY":    "TUAPIKEY42",
		"TRACKUNIT_KAFKA_SECRET": "tu-kafka-s3cret:#{}'\"",
		"TRACKUNIT_SR_KEY":       "SRAPIKEY43",
		"TRACKUNIT_SR_SECRET":    "sr-s3cret & *alias",
		"MOBITO_USERNAME":        "mobito-user",
		"MOBITO_PASSWORD":        "mobito-pa$$word ${NOT_EXPANDED}",
		"OWN_KAFKA_PASSWORD":     "own-s3cret\nsecond line",
	}
}

// minimal is a small valid configuration used as a base by many tests.
const minimal = `
clusters:
  main: {bootstrap_servers: "localhost:9092"}
registries:
  sr: {url: "http://localhost:8081"}
sources:
  - {name: tu, cluster: main, topics: [tu-in], profile: trackunit-insights, registry: sr}
  - {name: mo, cluster: main, topics: [mo-in], profile: mobito}
sinks:
  - {name: out, type: kafka, cluster: main, topic: "gt.{type}"}
dead_letter: {cluster: main, topic: dlq}
`

func mustParse(t *testing.T, src string, env map[string]string) *Config {
	t.Helper()
	c, err := Parse([]byte(src), "bridge.yaml", envMap(env))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

// parseErrs parses src and returns the problems as strings.
func parseErrs(t *testing.T, src string, env map[string]string) []string {
	t.Helper()
	c, err := Parse([]byte(src), "bridge.yaml", envMap(env))
	if err == nil {
		t.Fatalf("Parse succeeded, want errors; config:\n%s", c.Redacted())
	}
	if c != nil {
		t.Errorf("Parse returned a config with an error")
	}
	var es *Errors
	if !errors.As(err, &es) {
		t.Fatalf("error %T is not *Errors: %v", err, err)
	}
	out := make([]string, len(es.List))
	for i, e := range es.List {
		out[i] = e.Error()
	}
	return out
}

func TestExamplesLoadAndValidate(t *testing.T) {
	for _, name := range []string{"trackunit-confluent-cloud.yaml", "mobito-sasl-ssl-plain.yaml", "both.yaml"} {
		t.Run(name, func(t *testing.T) {
			c, err := Load(examples+name, envMap(exampleEnv()))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if ws := c.Warnings(); len(ws) != 0 {
				t.Errorf("warnings (every type a source produces must reach a sink): %v", ws)
			}
			if c.File != examples+name {
				t.Errorf("File = %q", c.File)
			}
			for _, s := range c.Sources {
				if s.Line == 0 || c.Line(joinIndex("sources", slices.Index(c.Sources, s))+".name") == 0 {
					t.Errorf("source %s has no line", s.Name)
				}
			}
		})
	}
}

func TestExampleContents(t *testing.T) {
	env := exampleEnv()
	tu, err := Load(examples+"trackunit-confluent-cloud.yaml", envMap(env))
	if err != nil {
		t.Fatal(err)
	}
	cl := tu.Clusters["trackunit"]
	if got := cl.SASL.Password.Reveal(); got != env["TRACKUNIT_KAFKA_SECRET"] {
		t.Errorf("password = %q, want the raw environment value", got)
	}
	if got := tu.Registries["trackunit"].Username; got != env["TRACKUNIT_SR_KEY"] {
		t.Errorf("registry username = %q", got)
	}
	if got := tu.Sources[0].Topics; !reflect.DeepEqual(got, []string{"trackunit.machine-insights.customer-1234"}) {
		t.Errorf("topics = %q (default of ${TRACKUNIT_TOPIC:-...})", got)
	}
	if got := tu.Clusters["own"].BootstrapServers; !reflect.DeepEqual(got, []string{"kafka-1.internal:9092", "kafka-2.internal:9092"}) {
		t.Errorf("bootstrap list = %q", got)
	}

	mo, err := Load(examples+"mobito-sasl-ssl-plain.yaml", envMap(env))
	if err != nil {
		t.Fatal(err)
	}
	if got := mo.Clusters["mobito"].SecurityProtocol; got != ProtocolSASLSSL {
		t.Errorf("security_protocol = %q, want normalised SASL_SSL", got)
	}
	if got := mo.Clusters["mobito"].SASL.Password.Reveal(); got != env["MOBITO_PASSWORD"] {
		t.Errorf("password %q: environment values must not be expanded again", got)
	}
	want := filepath.Join(filepath.Dir(examples+"x"), "certs", "ca.pem")
	if got := mo.Clusters["own"].TLS.CAFile; got != want {
		t.Errorf("ca_file = %q, want %q (relative to the config file)", got, want)
	}
	if got := mo.Sources[0].GroupID; got != "telebridge-mobito" {
		t.Errorf("group_id default = %q", got)
	}

	both, err := Load(examples+"both.yaml", envMap(env))
	if err != nil {
		t.Fatal(err)
	}
	if got := both.Sources[0].Sinks; !reflect.DeepEqual(got, []string{"all-types", "per-type"}) {
		t.Errorf("default sinks = %q", got)
	}
	per := both.Sinks[1]
	if per.Cluster != "own" || per.Compression != "lz4" || per.Key != "" || per.Acks != "1" || per.Retry.MaxAttempts != 8 {
		t.Errorf("merged sink = %+v", per)
	}
	if per.TopicFor(TypeLocation) != "globe-tracker.events.location" || !per.Accepts(TypeGtoemData) {
		t.Errorf("per-type topic/types wrong: %q %v", per.TopicFor(TypeLocation), per.Types)
	}
	if both.Sinks[0].TopicFor(TypeAsset) != "globe-tracker.events" {
		t.Errorf("all-types topic = %q", both.Sinks[0].TopicFor(TypeAsset))
	}
}

func TestInvalidExamples(t *testing.T) {
	env := map[string]string{"TRACKUNIT_USERNAME": "u"}
	tests := []struct {
		file string
		want []string // every error, in order
	}{
		{"invalid-unknown-key.yaml", []string{
			`invalid-unknown-key.yaml:10: sources[0].grup_id: unknown key; did you mean "group_id"? (allowed: name, cluster, topics, group_id, start, profile, mapping, registry, decode, owner_id, sinks, max_in_flight, on_incompatible_schema)`,
			`invalid-unknown-key.yaml:16: sinks[0].retry.max_attemps: unknown key; did you mean "max_attempts"? (allowed: max_attempts, initial_backoff, max_backoff)`,
			`invalid-unknown-key.yaml:18: shutdown_timout: unknown key; did you mean "shutdown_timeout"? (allowed: log, clusters, registries, sources, sinks, dead_letter, shutdown_timeout, commit_interval, instance_id, kafka_ws, http, history)`,
		}},
		{"invalid-missing-env.yaml", []string{
			`invalid-missing-env.yaml:8: clusters.trackunit.sasl.password: environment variable TRACKUNIT_PASSWORD is not set (use ${TRACKUNIT_PASSWORD:-default} to give a default)`,
		}},
		{"invalid-bad-enum.yaml", []string{
			`invalid-bad-enum.yaml:2: log.level: invalid value "verbose" (allowed: debug, info, warn, error)`,
			`invalid-bad-enum.yaml:6: clusters.main.security_protocol: invalid value "SASL_TLS"; did you mean "SASL_SSL"? (allowed: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)`,
			`invalid-bad-enum.yaml:11: sources[0].profile: invalid value "mobitto"; did you mean "mobito"? (allowed: trackunit-insights, mobito, mapping)`,
			`invalid-bad-enum.yaml:12: sources[0].start: invalid value "earlist"; did you mean "earliest"? (allowed: committed, earliest, latest)`,
			`invalid-bad-enum.yaml:15: sinks[0].type: unsupported sink type "amqp"; allowed: kafka, mqtt`,
			`invalid-bad-enum.yaml:22: sinks[1].acks: invalid value "two" (allowed: all, 1, 0)`,
			`invalid-bad-enum.yaml:23: sinks[1].compression: invalid value "brotli" (allowed: none, gzip, snappy, lz4, zstd)`,
			`invalid-bad-enum.yaml:24: sinks[1].types[1]: invalid value "locations"; did you mean "location"? (allowed: asset, location, sensordata, reeferdata, gensetdata, gtoemdata)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := Load(examples+tt.file, envMap(env))
			if err == nil {
				t.Fatal("Load succeeded")
			}
			got := strings.Split(err.Error(), "\n")
			for i := range got {
				got[i] = strings.TrimPrefix(got[i], examples)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestLoadReadError(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.yaml"), nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want fs.ErrNotExist", err)
	}
	var es *Errors
	if errors.As(err, &es) {
		t.Errorf("a read failure is not a content error")
	}
}

func TestLoadNilLookupUsesEnvironment(t *testing.T) {
	t.Setenv("TELEBRIDGE_TEST_TOPIC", "from-env")
	p := filepath.Join(t.TempDir(), "bridge.yaml")
	src := strings.Replace(minimal, "dlq", `"${TELEBRIDGE_TEST_TOPIC}"`, 1)
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.DeadLetter.Topic != "from-env" {
		t.Errorf("topic = %q", c.DeadLetter.Topic)
	}
}

func TestDefaults(t *testing.T) {
	c := mustParse(t, minimal, nil)
	check := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("log.level", c.Log.Level, "info")
	check("log.format", c.Log.Format, "console")
	cl := c.Clusters["main"]
	check("security_protocol", cl.SecurityProtocol, ProtocolPlaintext)
	check("client_id", cl.ClientID, "telebridge")
	check("sasl", cl.SASL, (*SASL)(nil))
	check("registry timeout", c.Registries["sr"].Timeout, 10*time.Second)
	tu, mo := c.Sources[0], c.Sources[1]
	check("group_id", tu.GroupID, "telebridge-tu")
	check("start", tu.Start, StartCommitted)
	check("decode avro", tu.Decode, DecodePinned)
	check("decode json", mo.Decode, "")
	check("source sinks", tu.Sinks, []string{"out"})
	check("source max_in_flight", tu.MaxInFlight, 2000)
	s := c.Sinks[0]
	check("acks", s.Acks, "all")
	check("types", s.Types, ObjectTypes())
	check("event_id", s.EventID, EventID{Inject: false, Field: "eventId"})
	check("retry", s.Retry, Retry{MaxAttempts: 5, InitialBackoff: 200 * time.Millisecond, MaxBackoff: 30 * time.Second})
	check("delivery_timeout", s.DeliveryTimeout, 30*time.Second)
	check("compression", s.Compression, "none")
	check("sink max_in_flight", s.MaxInFlight, 10000)
	check("shutdown_timeout", c.ShutdownTimeout, 30*time.Second)
	check("commit_interval", c.CommitInterval, time.Second)
	check("sasl mechanism default", mustParse(t, strings.Replace(minimal, `main: {bootstrap_servers: "localhost:9092"}`,
		`main: {bootstrap_servers: "localhost:9092", security_protocol: SASL_PLAINTEXT, sasl: {username: u, password: p}}`, 1), nil).
		Clusters["main"].SASL.Mechanism, MechanismPlain)
}

func TestNormalisation(t *testing.T) {
	src := strings.Replace(minimal, `main: {bootstrap_servers: "localhost:9092"}`,
		`main: {bootstrap_servers: " a:1 , b:2 ", security_protocol: sasl_ssl, sasl: {mechanism: scram-sha-256, username: u, password: p}}`, 1)
	src = strings.Replace(src, `topic: "gt.{type}"}`, `topic: "gt.{type}", acks: -1, compression: ZSTD, types: [Asset]}`, 1)
	src += "log: {level: DEBUG, format: JSON}\n"
	c := mustParse(t, src, nil)
	cl := c.Clusters["main"]
	if !reflect.DeepEqual(cl.BootstrapServers, []string{"a:1", "b:2"}) || cl.SecurityProtocol != "SASL_SSL" || cl.SASL.Mechanism != "SCRAM-SHA-256" {
		t.Errorf("cluster not normalised: %+v %+v", cl, *cl.SASL)
	}
	s := c.Sinks[0]
	if s.Acks != "all" || s.Compression != "zstd" || !reflect.DeepEqual(s.Types, []string{"asset"}) {
		t.Errorf("sink not normalised: acks=%q compression=%q types=%q", s.Acks, s.Compression, s.Types)
	}
	if c.Log.Level != "debug" || c.Log.Format != "json" {
		t.Errorf("log = %+v", c.Log)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string // appended to minimal unless it starts with "!"
		want []string
	}{
		{"unknown top-level key", "logs: {}\n",
			[]string{`bridge.yaml:11: logs: unknown key; did you mean "log"? (allowed: log, clusters, registries, sources, sinks, dead_letter, shutdown_timeout, commit_interval, instance_id, kafka_ws, http, history)`}},
		{"camelCase key", "!sources:\n  - {name: a, cluster: main, topics: [t], profile: mobito, groupId: g}\n",
			[]string{`bridge.yaml:2: sources[0].groupId: unknown key; did you mean "group_id"?`}},
		{"no suggestion for distant key", "log: {colour: red}\n",
			[]string{`bridge.yaml:11: log.colour: unknown key (allowed: level, format)`}},
		{"x- keys are ignored at the top level only", "x-anchors: {a: 1}\nlog: {x-y: 1}\n",
			[]string{`bridge.yaml:12: log.x-y: unknown key (allowed: level, format)`}},
		{"mapping expected", "log: debug\n",
			[]string{`bridge.yaml:11: log: expected a mapping with keys level, format; got a single value`}},
		{"list expected", "!sources: {name: a}\n",
			[]string{`bridge.yaml:1: sources: expected a list (one mapping per source); got a mapping`}},
		{"scalar expected", "shutdown_timeout: [1s]\n",
			[]string{`bridge.yaml:11: shutdown_timeout: expected a single value; got a list`}},
		{"bad duration", "commit_interval: 10\n",
			[]string{`bridge.yaml:11: commit_interval: expected a duration with a unit such as "250ms", "30s" or "1m"; got "10"`}},
		{"bad integer", "!sinks:\n  - {name: o, type: kafka, cluster: main, topic: t, max_in_flight: lots}\n",
			[]string{`bridge.yaml:2: sinks[0].max_in_flight: expected an integer; got "lots"`}},
		{"bad bool", "!clusters:\n  main: {bootstrap_servers: \"a:1\", security_protocol: SSL, tls: {insecure_skip_verify: yes}}\n",
			[]string{`bridge.yaml:2: clusters.main.tls.insecure_skip_verify: expected true or false; got "yes"`}},
		{"duplicate key", "commit_interval: 1s\ncommit_interval: 2s\n",
			[]string{`bridge.yaml:12: commit_interval: duplicate key (first at line 11)`}},
		{"property value must be scalar", "!clusters:\n  main:\n    bootstrap_servers: \"a:1\"\n    properties: {socket.timeout.ms: [1]}\n",
			[]string{`bridge.yaml:4: clusters.main.properties["socket.timeout.ms"]: expected a single value; got a list`}},
		{"bad merge", "!x-a: &a [1]\nlog: {<<: *a}\n",
			[]string{`bridge.yaml:1: log: << (merge) needs a mapping or a list of mappings, got a list containing a single value`}},
		{"non-scalar key", "!? [a]\n: b\n",
			[]string{`bridge.yaml:1: keys must be single values, got a list`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := minimal[1:] + tt.src
			if rest, ok := strings.CutPrefix(tt.src, "!"); ok {
				src = rest
			}
			got := parseErrs(t, src, nil)
			for _, w := range tt.want {
				if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, w) }) {
					t.Errorf("missing error %q in:\n%s", w, strings.Join(got, "\n"))
				}
			}
		})
	}
}

func TestAllErrorsSortedByLine(t *testing.T) {
	src := `clusters:
  main:
    bootstrap_servers: "localhost"
    sasl: {username: u, password: p}
sources:
  - name: Bad
    cluster: mian
    topics: []
    profile: mobito
    max_in_flight: 0
sinks:
  - {name: out, type: kafka, cluster: main, topic: "a/b"}
commit_interval: fast
`
	got := parseErrs(t, src, nil)
	want := []string{
		`bridge.yaml:1: dead_letter: required: set cluster and topic for poison input and undeliverable objects`,
		`bridge.yaml:3: clusters.main.bootstrap_servers: invalid broker address "localhost": want host:port, e.g. broker1:9092`,
		`bridge.yaml:4: clusters.main.sasl: not allowed with security_protocol PLAINTEXT: use SASL_SSL (or SASL_PLAINTEXT) to authenticate, or remove sasl`,
		`bridge.yaml:6: sources[0].name: invalid source name "Bad": use lowercase letters, digits, _ and -`,
		`bridge.yaml:7: sources[0].cluster: unknown cluster "mian"; did you mean "main"? (defined: main)`,
		`bridge.yaml:8: sources[0].topics: required: one or more topics to consume`,
		`bridge.yaml:10: sources[0].max_in_flight: must be an integer above 0 (records per partition before it is paused)`,
		`bridge.yaml:12: sinks[0].topic: topic "a/b" contains characters other than letters, digits, '.', '_' and '-'`,
		`bridge.yaml:13: commit_interval: expected a duration with a unit such as "250ms", "30s" or "1m"; got "fast"`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSyntaxErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"bad indentation", "log:\n  level: info\n bad: 1\n", "bridge.yaml:2: invalid YAML: did not find expected key"},
		{"unclosed flow", "sources: [a\n", "bridge.yaml:1: invalid YAML: did not find expected ',' or ']'"},
		{"two documents", minimal + "---\nlog: {}\n", "bridge.yaml:12: more than one YAML document"},
		{"tab indentation", "log:\n\tlevel: info\n", "invalid YAML: "},
		{"unknown alias", "log: *nope\n", "invalid YAML: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseErrs(t, tt.src, nil)
			if len(got) != 1 || !strings.Contains(got[0], tt.want) {
				t.Errorf("got %q, want one error containing %q", got, tt.want)
			}
		})
	}
}

func TestEmptyDocumentReportsRequiredSections(t *testing.T) {
	for _, src := range []string{"", "# only a comment\n", "~\n", "{}\n"} {
		got := parseErrs(t, src, nil)
		for _, w := range []string{"clusters: at least one cluster", "sources: at least one source", "sinks: at least one sink", "dead_letter: required"} {
			if !slices.ContainsFunc(got, func(g string) bool { return strings.Contains(g, w) }) {
				t.Errorf("%q: missing %q in %q", src, w, got)
			}
		}
	}
	got := parseErrs(t, "- a\n", nil)
	if len(got) != 1 || !strings.Contains(got[0], "expected a mapping with keys log, clusters") {
		t.Errorf("top-level list: %q", got)
	}
}

func TestAliasesAndMerges(t *testing.T) {
	src := `
x-cluster: &cl {bootstrap_servers: "localhost:9092"}
x-topics: &topics [a, b]
clusters:
  main: *cl
  other:
    <<: *cl
    client_id: other
sources:
  - {name: s, cluster: main, topics: *topics, profile: mobito}
sinks:
  - {name: out, type: kafka, cluster: other, topic: "gt.{type}"}
dead_letter: {cluster: main, topic: dlq}
`
	c := mustParse(t, src, nil)
	if got := c.Sources[0].Topics; !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("aliased topics = %q", got)
	}
	if c.Clusters["other"].ClientID != "other" || c.Clusters["other"].BootstrapServers[0] != "localhost:9092" {
		t.Errorf("merged cluster = %+v", c.Clusters["other"])
	}
}

func TestAliasBombIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("x-0: &a0 {level: info}\n")
	for i := 1; i <= 40; i++ {
		b.WriteString("x-" + strconv.Itoa(i) + ": &a" + strconv.Itoa(i) + " {<<: [*a" + strconv.Itoa(i-1) + ", *a" + strconv.Itoa(i-1) + "]}\n")
	}
	b.WriteString("log: *a40\n")
	got := parseErrs(t, b.String(), nil)
	if !slices.ContainsFunc(got, func(g string) bool { return strings.Contains(g, "document too complex") }) {
		t.Errorf("want a complexity error, got %d errors: %q", len(got), got[:min(3, len(got))])
	}
}

func TestLineAndPos(t *testing.T) {
	c := mustParse(t, minimal[1:], nil)
	tests := []struct {
		path string
		line int
		pos  string
	}{
		{"clusters.main", 2, "bridge.yaml:2"},
		{"clusters.main.bootstrap_servers", 2, "bridge.yaml:2"},
		{"sources[1]", 7, "bridge.yaml:7"},
		{"sources[1].group_id", 7, "bridge.yaml:7"}, // defaulted: line of its source
		{"sinks[0].topic", 9, "bridge.yaml:9"},
		{"dead_letter", 10, "bridge.yaml:10"},
		{"shutdown_timeout", 1, "bridge.yaml:1"},
	}
	for _, tt := range tests {
		if got := c.Line(tt.path); got != tt.line {
			t.Errorf("Line(%q) = %d, want %d", tt.path, got, tt.line)
		}
		if got := c.Pos(tt.path); got != tt.pos {
			t.Errorf("Pos(%q) = %q, want %q", tt.path, got, tt.pos)
		}
	}
	if c.Clusters["main"].Line != 2 || c.Sources[1].Line != 7 || c.Sinks[0].Line != 9 || c.DeadLetter.Line != 10 {
		t.Errorf("entity lines: %d %d %d %d", c.Clusters["main"].Line, c.Sources[1].Line, c.Sinks[0].Line, c.DeadLetter.Line)
	}
	var built *Config
	if built.Pos("x") != "" || (&Config{}).Line("x") != 0 || (&Config{File: "f.yaml"}).Pos("x") != "f.yaml" {
		t.Error("Pos/Line without metadata")
	}
}

func TestPaths(t *testing.T) {
	tests := []struct{ path, parent string }{
		{"a", ""},
		{"a.b", "a"},
		{"a[3]", "a"},
		{`a["x.y"]`, "a"},
		{`a["x[1]"].b`, `a["x[1]"]`},
		{`a["x]"]`, "a"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := parent(tt.path); got != tt.parent {
			t.Errorf("parent(%q) = %q, want %q", tt.path, got, tt.parent)
		}
	}
	if got := joinKey("p", "socket.timeout.ms"); got != `p["socket.timeout.ms"]` {
		t.Errorf("joinKey = %q", got)
	}
	if got := joinKey("", "log"); got != "log" {
		t.Errorf("joinKey = %q", got)
	}
}

func TestTooManyErrorsAreCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString(minimal + "log:\n")
	for i := range 150 {
		b.WriteString("  bad_" + strconv.Itoa(i) + ": 1\n")
	}
	got := parseErrs(t, b.String(), nil)
	if len(got) != maxErrors+1 || !strings.HasPrefix(got[maxErrors], "bridge.yaml: and 50 more problems") {
		t.Errorf("got %d errors, last %q", len(got), got[len(got)-1])
	}
}

func TestRetryMaxAttemptsUnlimited(t *testing.T) {
	for _, spelling := range []string{"unlimited", "Unlimited", `"${ATTEMPTS}"`} {
		src := strings.Replace(minimal, `topic: "gt.{type}"}`, `topic: "gt.{type}", retry: {max_attempts: `+spelling+`}}`, 1)
		c := mustParse(t, src, map[string]string{"ATTEMPTS": "unlimited"})
		if got := c.Sinks[0].Retry.MaxAttempts; got != UnlimitedAttempts {
			t.Fatalf("%s: max_attempts = %d, want UnlimitedAttempts", spelling, got)
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("%s: Validate: %v", spelling, err)
		}
		red := c.Redacted()
		if !strings.Contains(red, "max_attempts: unlimited") {
			t.Fatalf("%s: effective config does not show unlimited:\n%s", spelling, red)
		}
		again, err := Parse([]byte(red), "", envMap(nil))
		if err != nil || again.Sinks[0].Retry.MaxAttempts != UnlimitedAttempts {
			t.Fatalf("%s: effective config does not load back as unlimited: %v", spelling, err)
		}
	}
	// The MQTT sink shares the retry block.
	mq := strings.Replace(minimal, `topic: "gt.{type}"}`, `topic: "gt.{type}"}
  - {name: mq, type: mqtt, brokers: ["mqtt://localhost:1883"], topic: "tb/{type}", retry: {max_attempts: unlimited}}`, 1)
	c := mustParse(t, mq, nil)
	if err := c.Validate(); err != nil {
		t.Fatalf("mqtt sink: Validate: %v", err)
	}
	if got := c.Sinks[1].Retry.MaxAttempts; got != UnlimitedAttempts {
		t.Fatalf("mqtt sink: max_attempts = %d, want UnlimitedAttempts", got)
	}
	if red := c.Redacted(); strings.Count(red, "max_attempts: unlimited") != 1 {
		t.Fatalf("mqtt sink: effective config:\n%s", red)
	}
	for _, bad := range []string{"0", "-1", "endless", "2.5"} {
		src := strings.Replace(minimal, `topic: "gt.{type}"}`, `topic: "gt.{type}", retry: {max_attempts: `+bad+`}}`, 1)
		got := parseErrs(t, src[1:], nil)
		want := `bridge.yaml:9: sinks[0].retry.max_attempts: expected an integer of at least 1 (1 means no retry) or unlimited; got "` + bad + `"`
		if !slices.Contains(got, want) {
			t.Errorf("max_attempts %s: errors %q, want %q", bad, got, want)
		}
	}
}
