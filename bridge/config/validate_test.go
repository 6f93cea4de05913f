package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestValidateMutations(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, []byte("pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	sasl := func(c *Config) *Cluster {
		cl := c.Clusters["main"]
		cl.SecurityProtocol = ProtocolSASLSSL
		cl.SASL = &SASL{Mechanism: MechanismPlain, Username: "u", Password: "p"}
		return cl
	}
	tests := []struct {
		name   string
		mutate func(c *Config)
		path   string
		msg    string // substring
	}{
		// clusters
		{"no clusters", func(c *Config) { c.Clusters = nil }, "clusters", "at least one cluster is required"},
		{"nil cluster", func(c *Config) { c.Clusters["x"] = nil }, "clusters.x", "is empty"},
		{"cluster name", func(c *Config) { c.Clusters["Main"] = c.Clusters["main"] }, "clusters.Main", "invalid cluster name"},
		{"no bootstrap", func(c *Config) { c.Clusters["main"].BootstrapServers = nil }, "clusters.main.bootstrap_servers", "required: host:port"},
		{"empty bootstrap entry", func(c *Config) { c.Clusters["main"].BootstrapServers = []string{"a:1", ""} }, "clusters.main.bootstrap_servers", "empty broker address"},
		{"bootstrap no port", func(c *Config) { c.Clusters["main"].BootstrapServers = []string{"a"} }, "clusters.main.bootstrap_servers", `invalid broker address "a"`},
		{"bootstrap port 0", func(c *Config) { c.Clusters["main"].BootstrapServers = []string{"a:0"} }, "clusters.main.bootstrap_servers", "invalid broker address"},
		{"bootstrap port text", func(c *Config) { c.Clusters["main"].BootstrapServers = []string{"a:kafka"} }, "clusters.main.bootstrap_servers", "invalid broker address"},
		{"bootstrap no host", func(c *Config) { c.Clusters["main"].BootstrapServers = []string{":9092"} }, "clusters.main.bootstrap_servers", "invalid broker address"},
		{"bad protocol", func(c *Config) { c.Clusters["main"].SecurityProtocol = "TLS" }, "clusters.main.security_protocol", "(allowed: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)"},
		{"sasl missing", func(c *Config) { c.Clusters["main"].SecurityProtocol = ProtocolSASLSSL }, "clusters.main.sasl", "required with security_protocol SASL_SSL"},
		{"sasl forbidden", func(c *Config) { sasl(c).SecurityProtocol = ProtocolSSL }, "clusters.main.sasl", "not allowed with security_protocol SSL"},
		{"sasl mechanism", func(c *Config) { sasl(c).SASL.Mechanism = "GSSAPI" }, "clusters.main.sasl.mechanism", "(allowed: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)"},
		{"sasl username", func(c *Config) { sasl(c).SASL.Username = "" }, "clusters.main.sasl.username", "required with SASL"},
		{"sasl password", func(c *Config) { sasl(c).SASL.Password = "" }, "clusters.main.sasl.password", "required with SASL"},
		{"tls without tls protocol", func(c *Config) { sasl(c).SecurityProtocol = ProtocolSASLPlaintext; c.Clusters["main"].TLS = &TLS{} }, "clusters.main.tls", "does not use TLS"},
		{"cert without key", func(c *Config) { sasl(c).TLS = &TLS{CertFile: ca} }, "clusters.main.tls.key_file", "client certificates need both"},
		{"key without cert", func(c *Config) { sasl(c).TLS = &TLS{KeyFile: ca} }, "clusters.main.tls.cert_file", "client certificates need both"},
		{"key password alone", func(c *Config) { sasl(c).TLS = &TLS{KeyPassword: "x"} }, "clusters.main.tls.key_password", "only allowed with key_file"},
		{"ca file missing", func(c *Config) { sasl(c).TLS = &TLS{CAFile: missing} }, "clusters.main.tls.ca_file", "cannot read \"" + missing + "\": no such file or directory"},
		{"ca file is dir", func(c *Config) { sasl(c).TLS = &TLS{CAFile: dir} }, "clusters.main.tls.ca_file", "is a directory"},
		{"client id", func(c *Config) { c.Clusters["main"].ClientID = "" }, "clusters.main.client_id", "must not be empty"},
		{"property sasl.password", func(c *Config) { c.Clusters["main"].Properties = Properties{"sasl.password": "x"} }, `clusters.main.properties["sasl.password"]`, "use clusters.main.sasl.password instead"},
		{"property sasl.jaas.config", func(c *Config) { c.Clusters["main"].Properties = Properties{"sasl.jaas.config": "x"} }, `clusters.main.properties["sasl.jaas.config"]`, "use clusters.main.sasl (mechanism, username, password)"},
		{"property ssl.*", func(c *Config) { c.Clusters["main"].Properties = Properties{"ssl.cipher.suites": "x"} }, `clusters.main.properties["ssl.cipher.suites"]`, "use clusters.main.tls instead"},
		{"property verification", func(c *Config) {
			c.Clusters["main"].Properties = Properties{"enable.ssl.certificate.verification": "false"}
		}, `clusters.main.properties["enable.ssl.certificate.verification"]`, "tls.insecure_skip_verify"},
		{"property security", func(c *Config) { c.Clusters["main"].Properties = Properties{"Security.Protocol": "ssl"} }, `clusters.main.properties["Security.Protocol"]`, "use clusters.main.security_protocol instead"},
		{"property bootstrap", func(c *Config) { c.Clusters["main"].Properties = Properties{"metadata.broker.list": "a:1"} }, `clusters.main.properties["metadata.broker.list"]`, "bootstrap_servers"},
		{"property group.id", func(c *Config) { c.Clusters["main"].Properties = Properties{"group.id": "g"} }, `clusters.main.properties["group.id"]`, "use sources[].group_id instead"},
		{"property auto commit", func(c *Config) { c.Clusters["main"].Properties = Properties{"enable.auto.commit": "true"} }, `clusters.main.properties["enable.auto.commit"]`, "committed only after delivery"},
		{"property offset store", func(c *Config) { c.Clusters["main"].Properties = Properties{"enable.auto.offset.store": "true"} }, `clusters.main.properties["enable.auto.offset.store"]`, "commit_interval"},
		{"property acks", func(c *Config) { c.Clusters["main"].Properties = Properties{"acks": "1"} }, `clusters.main.properties.acks`, "use sinks[].acks"},
		{"property idempotence", func(c *Config) { c.Clusters["main"].Properties = Properties{"enable.idempotence": "false"} }, `clusters.main.properties["enable.idempotence"]`, "use sinks[].acks"},
		{"property partitioner", func(c *Config) { c.Clusters["main"].Properties = Properties{"partitioner": "random"} }, `clusters.main.properties.partitioner`, "use sinks[].key"},
		{"property client.id", func(c *Config) { c.Clusters["main"].Properties = Properties{"client.id": "x"} }, `clusters.main.properties["client.id"]`, "client_id"},
		// registries
		{"registry nil", func(c *Config) { c.Registries["sr"] = nil }, "registries.sr", "is empty"},
		{"registry url missing", func(c *Config) { c.Registries["sr"].URL = "" }, "registries.sr.url", "required"},
		{"registry url scheme", func(c *Config) { c.Registries["sr"].URL = "ftp://x" }, "registries.sr.url", "scheme must be http or https"},
		{"registry url no host", func(c *Config) { c.Registries["sr"].URL = "https:///p" }, "registries.sr.url", "has no host"},
		{"registry url relative", func(c *Config) { c.Registries["sr"].URL = "localhost:8081" }, "registries.sr.url", ""},
		{"registry url credentials", func(c *Config) { c.Registries["sr"].URL = "https://u:hunter2@x" }, "registries.sr.url", "must not contain credentials"},
		{"registry url query", func(c *Config) { c.Registries["sr"].URL = "https://x/?k=v" }, "registries.sr.url", "query"},
		{"registry url invalid", func(c *Config) { c.Registries["sr"].URL = "http://[::1" }, "registries.sr.url", "not a valid URL"},
		{"registry user alone", func(c *Config) { c.Registries["sr"].Username = "u" }, "registries.sr.password", "basic auth needs both"},
		{"registry password alone", func(c *Config) { c.Registries["sr"].Password = "p" }, "registries.sr.username", "basic auth needs both"},
		{"registry timeout", func(c *Config) { c.Registries["sr"].Timeout = 0 }, "registries.sr.timeout", "above 0"},
		{"registry ca with http", func(c *Config) { c.Registries["sr"].CAFile = ca }, "registries.sr.ca_file", "only allowed with an https url"},
		{"registry insecure with http", func(c *Config) { c.Registries["sr"].InsecureSkipVerify = true }, "registries.sr.insecure_skip_verify", "only allowed with an https url"},
		{"registry ca missing", func(c *Config) { c.Registries["sr"].URL = "https://x"; c.Registries["sr"].CAFile = missing }, "registries.sr.ca_file", "cannot read"},
		{"registry name", func(c *Config) { c.Registries["S R"] = &Registry{URL: "http://x", Timeout: 1} }, `registries["S R"]`, "invalid registry name"},
		// sources
		{"no sources", func(c *Config) { c.Sources = nil }, "sources", "at least one source is required"},
		{"nil source", func(c *Config) { c.Sources[1] = nil }, "sources[1]", "is empty"},
		{"source name missing", func(c *Config) { c.Sources[0].Name = "" }, "sources[0].name", "required"},
		{"source name invalid", func(c *Config) { c.Sources[0].Name = "Trackunit" }, "sources[0].name", `invalid source name "Trackunit"`},
		{"source name duplicate", func(c *Config) { c.Sources[1].Name = "tu" }, "sources[1].name", "duplicate: sources[0] has the same name"},
		{"source cluster missing", func(c *Config) { c.Sources[0].Cluster = "" }, "sources[0].cluster", "required: the name of a cluster (defined: main)"},
		{"source cluster unknown", func(c *Config) { c.Sources[0].Cluster = "mian" }, "sources[0].cluster", `unknown cluster "mian"; did you mean "main"? (defined: main)`},
		{"source topics missing", func(c *Config) { c.Sources[0].Topics = nil }, "sources[0].topics", "required"},
		{"source topic invalid", func(c *Config) { c.Sources[0].Topics = []string{"a b"} }, "sources[0].topics[0]", `topic "a b" contains characters`},
		{"source topic dot", func(c *Config) { c.Sources[0].Topics = []string{".."} }, "sources[0].topics[0]", `may not be`},
		{"source topic long", func(c *Config) { c.Sources[0].Topics = []string{strings.Repeat("t", 250)} }, "sources[0].topics[0]", "longer than 249"},
		{"source topic empty", func(c *Config) { c.Sources[0].Topics = []string{""} }, "sources[0].topics[0]", "required: a Kafka topic name"},
		{"source topic duplicate", func(c *Config) { c.Sources[0].Topics = []string{"a", "a"} }, "sources[0].topics[1]", `duplicate topic "a"`},
		{"group id empty", func(c *Config) { c.Sources[0].GroupID = "" }, "sources[0].group_id", "must not be empty"},
		{"group id shared", func(c *Config) { c.Sources[1].GroupID = c.Sources[0].GroupID }, "sources[1].group_id", "also used by sources[0]"},
		{"start", func(c *Config) { c.Sources[0].Start = "beginning" }, "sources[0].start", "(allowed: committed, earliest, latest)"},
		{"profile missing", func(c *Config) { c.Sources[0].Profile = "" }, "sources[0].profile", "required (allowed: trackunit-insights, mobito, mapping)"},
		{"profile unknown", func(c *Config) { c.Sources[0].Profile = "trackunit" }, "sources[0].profile", "invalid value"},
		{"registry required", func(c *Config) { c.Sources[0].Registry = "" }, "sources[0].registry", "required: the name of a registry (defined: sr)"},
		{"registry unknown", func(c *Config) { c.Sources[0].Registry = "rs" }, "sources[0].registry", `unknown registry "rs"`},
		{"registry forbidden", func(c *Config) { c.Sources[1].Registry = "sr" }, "sources[1].registry", "not allowed with profile mobito"},
		{"decode forbidden", func(c *Config) { c.Sources[1].Decode = DecodeWriter }, "sources[1].decode", "not allowed with profile mobito"},
		{"decode invalid", func(c *Config) { c.Sources[0].Decode = "reader" }, "sources[0].decode", "(allowed: pinned, writer)"},
		{"source sinks empty", func(c *Config) { c.Sources[0].Sinks = nil }, "sources[0].sinks", "omit sinks to route to every sink (defined: out)"},
		{"source sink unknown", func(c *Config) { c.Sources[0].Sinks = []string{"ot"} }, "sources[0].sinks[0]", `unknown sink "ot"; did you mean "out"? (defined: out)`},
		{"source sink duplicate", func(c *Config) { c.Sources[0].Sinks = []string{"out", "out"} }, "sources[0].sinks[1]", "duplicate sink"},
		{"source in flight", func(c *Config) { c.Sources[0].MaxInFlight = -1 }, "sources[0].max_in_flight", "above 0"},
		// sinks
		{"no sinks", func(c *Config) { c.Sinks = nil }, "sinks", "at least one sink is required"},
		{"nil sink", func(c *Config) { c.Sinks = append(c.Sinks, nil) }, "sinks[1]", "is empty"},
		{"sink name", func(c *Config) { c.Sinks[0].Name = "" }, "sinks[0].name", "required"},
		{"sink name duplicate", func(c *Config) { s := *c.Sinks[0]; c.Sinks = append(c.Sinks, &s) }, "sinks[1].name", "duplicate"},
		{"sink type missing", func(c *Config) { c.Sinks[0].Type = "" }, "sinks[0].type", "required (allowed: kafka, mqtt)"},
		{"sink type unsupported", func(c *Config) { c.Sinks[0].Type = "ws" }, "sinks[0].type", `unsupported sink type "ws"; allowed: kafka, mqtt`},
		{"sink cluster", func(c *Config) { c.Sinks[0].Cluster = "nope" }, "sinks[0].cluster", `unknown cluster "nope" (defined: main)`},
		{"sink topic missing", func(c *Config) { c.Sinks[0].Topic = "" }, "sinks[0].topic", "required"},
		{"sink placeholder", func(c *Config) { c.Sinks[0].Topic = "gt.{kind}" }, "sinks[0].topic", `unknown placeholder in topic "gt.{kind}" (allowed: {type})`},
		{"sink placeholder open", func(c *Config) { c.Sinks[0].Topic = "gt.{type" }, "sinks[0].topic", "unterminated {"},
		{"sink topic chars", func(c *Config) { c.Sinks[0].Topic = "gt/{type}" }, "sinks[0].topic", `topic "gt/asset" contains characters`},
		{"sink key", func(c *Config) { c.Sinks[0].Key = "data..x" }, "sinks[0].key", "invalid payload field path"},
		{"sink key digit", func(c *Config) { c.Sinks[0].Key = "1x" }, "sinks[0].key", "invalid payload field path"},
		{"sink acks", func(c *Config) { c.Sinks[0].Acks = "2" }, "sinks[0].acks", "(allowed: all, 1, 0)"},
		{"sink types empty", func(c *Config) { c.Sinks[0].Types = nil }, "sinks[0].types", "omit types to receive all"},
		{"sink type unknown", func(c *Config) { c.Sinks[0].Types = []string{"assets"} }, "sinks[0].types[0]", `did you mean "asset"?`},
		{"sink type duplicate", func(c *Config) { c.Sinks[0].Types = []string{"asset", "asset"} }, "sinks[0].types[1]", "duplicate type"},
		{"event id field", func(c *Config) { c.Sinks[0].EventID.Field = "event id" }, "sinks[0].event_id.field", "invalid field name"},
		{"event id field empty", func(c *Config) { c.Sinks[0].EventID.Field = "" }, "sinks[0].event_id.field", "invalid field name"},
		{"retry attempts", func(c *Config) { c.Sinks[0].Retry.MaxAttempts = 0 }, "sinks[0].retry.max_attempts", "at least 1"},
		{"retry initial", func(c *Config) { c.Sinks[0].Retry.InitialBackoff = 0 }, "sinks[0].retry.initial_backoff", "above 0"},
		{"retry max below initial", func(c *Config) { c.Sinks[0].Retry.MaxBackoff = 1 }, "sinks[0].retry.max_backoff", "must not be below initial_backoff (200ms)"},
		{"retry max zero", func(c *Config) { c.Sinks[0].Retry.MaxBackoff = 0 }, "sinks[0].retry.max_backoff", "above 0"},
		{"delivery timeout", func(c *Config) { c.Sinks[0].DeliveryTimeout = -1 }, "sinks[0].delivery_timeout", "above 0"},
		{"compression", func(c *Config) { c.Sinks[0].Compression = "brotli" }, "sinks[0].compression", "(allowed: none, gzip, snappy, lz4, zstd)"},
		{"sink in flight", func(c *Config) { c.Sinks[0].MaxInFlight = 0 }, "sinks[0].max_in_flight", "above 0"},
		{"sink loop", func(c *Config) { c.Sinks[0].Topic = "tu-in" }, "sinks[0].topic", `writes to topic "tu-in", which sources[0] consumes`},
		{"sink loop via template", func(c *Config) { c.Sources[1].Topics = []string{"gt.location"} }, "sinks[0].topic", `writes to topic "gt.location", which sources[1] consumes`},
		{"sink loop via same brokers", func(c *Config) {
			c.Clusters["alias"] = &Cluster{BootstrapServers: []string{"localhost:9092"}, SecurityProtocol: ProtocolPlaintext, ClientID: "x"}
			c.Sinks[0].Cluster, c.Sinks[0].Topic = "alias", "mo-in"
		}, "sinks[0].topic", "this would loop"},
		// dead letter and globals
		{"dead letter missing", func(c *Config) {
			c.DeadLetter = DeadLetter{}
			delete(c.meta.set, "dead_letter.cluster")
			delete(c.meta.set, "dead_letter.topic")
		}, "dead_letter", "required: set cluster and topic"},
		{"dead letter cluster", func(c *Config) { c.DeadLetter.Cluster = "" }, "dead_letter.cluster", "required"},
		{"dead letter topic", func(c *Config) { c.DeadLetter.Topic = "dl q" }, "dead_letter.topic", "contains characters"},
		{"dead letter loop", func(c *Config) { c.DeadLetter.Topic = "mo-in" }, "dead_letter.topic", "is consumed by sources[1]"},
		{"shutdown timeout", func(c *Config) { c.ShutdownTimeout = 0 }, "shutdown_timeout", "above 0"},
		{"commit interval", func(c *Config) { c.CommitInterval = -1 }, "commit_interval", "above 0"},
		{"log level", func(c *Config) { c.Log.Level = "trace" }, "log.level", "(allowed: debug, info, warn, error)"},
		{"log format", func(c *Config) { c.Log.Format = "" }, "log.format", "required (allowed: console, json)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, minimal, nil)
			if err := c.Validate(); err != nil {
				t.Fatalf("base config invalid: %v", err)
			}
			tt.mutate(c)
			err := c.Validate()
			var es *Errors
			if !errors.As(err, &es) {
				t.Fatalf("Validate() = %v, want *Errors", err)
			}
			for _, fe := range es.List {
				if fe.Path == tt.path && strings.Contains(fe.Msg, tt.msg) {
					if fe.File != "bridge.yaml" || fe.Line == 0 {
						t.Errorf("error %q has no position", fe.Error())
					}
					return
				}
			}
			t.Errorf("want an error at %s containing %q, got:\n%v", tt.path, tt.msg, err)
		})
	}
}

func TestValidateConfigBuiltInCode(t *testing.T) {
	var nilCfg *Config
	if err := nilCfg.Validate(); err == nil {
		t.Error("nil config validated")
	}
	c := &Config{
		Log:      Log{Level: "info", Format: "json"},
		Clusters: map[string]*Cluster{"k": {BootstrapServers: []string{"k:9092"}, SecurityProtocol: ProtocolPlaintext, ClientID: "c"}},
		Sources:  []*Source{{Name: "m", Cluster: "k", Topics: []string{"in"}, GroupID: "g", Start: StartLatest, Profile: ProfileMobito, Sinks: []string{"o"}, MaxInFlight: 1}},
		Sinks: []*Sink{{Name: "o", Type: SinkKafka, Cluster: "k", Topic: "out", Acks: "1", Types: []string{TypeAsset},
			EventID: EventID{Field: "id"}, Retry: Retry{MaxAttempts: 1, InitialBackoff: 1, MaxBackoff: 1}, DeliveryTimeout: 1, Compression: "gzip", MaxInFlight: 1}},
		DeadLetter:      DeadLetter{Cluster: "k", Topic: "dlq"},
		ShutdownTimeout: 1,
		CommitInterval:  1,
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	c.Sinks[0].Acks = "most"
	err := c.Validate()
	if err == nil || err.Error() != `sinks[0].acks: invalid value "most" (allowed: all, 1, 0)` {
		t.Errorf("err = %v", err)
	}
}

func TestFieldErrorFormat(t *testing.T) {
	tests := []struct {
		e    FieldError
		want string
	}{
		{FieldError{File: "b.yaml", Line: 3, Path: "a.b", Msg: "m"}, "b.yaml:3: a.b: m"},
		{FieldError{File: "b.yaml", Path: "a", Msg: "m"}, "b.yaml: a: m"},
		{FieldError{Line: 3, Path: "a", Msg: "m"}, "line 3: a: m"},
		{FieldError{Msg: "m"}, "m"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	es := &Errors{List: []*FieldError{&tests[0].e, &tests[3].e}}
	if es.Error() != "b.yaml:3: a.b: m\nm" {
		t.Errorf("Errors.Error() = %q", es.Error())
	}
	var fe *FieldError
	if !errors.As(error(es), &fe) || fe.Path != "a.b" {
		t.Errorf("errors.As through Errors failed")
	}
}

func TestSuggest(t *testing.T) {
	keys := sourceKeys()
	tests := []struct{ in, want string }{
		{"grup_id", "group_id"},
		{"groupId", "group_id"},
		{"group-id", "group_id"},
		{"GROUP_ID", "group_id"},
		{"tpoics", "topics"},
		{"nmae", "name"},
		{"max_inflight", "max_in_flight"},
		{"colour", ""},
		{"x", ""},
		{"", ""},
		{strings.Repeat("a", 100), ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.in, keys); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if d := editDistance("kitten", "sitting"); d != 3 {
		t.Errorf("editDistance = %d", d)
	}
}

func TestManagedProperty(t *testing.T) {
	const p = "clusters.c"
	tests := map[string]string{
		"bootstrap.servers":                     p + ".bootstrap_servers",
		"security.protocol":                     p + ".security_protocol",
		"sasl.mechanism":                        p + ".sasl.mechanism",
		"sasl.mechanisms":                       p + ".sasl.mechanism",
		"sasl.username":                         p + ".sasl.username",
		"SASL.PASSWORD":                         p + ".sasl.password",
		"sasl.oauthbearer.client.secret":        p + ".sasl (mechanism, username, password)",
		"ssl.ca.location":                       p + ".tls.ca_file",
		"ssl.certificate.location":              p + ".tls.cert_file",
		"ssl.key.location":                      p + ".tls.key_file",
		"ssl.key.password":                      p + ".tls.key_password",
		"ssl.endpoint.identification.algorithm": p + ".tls.insecure_skip_verify",
		"ssl.keystore.password":                 p + ".tls",
		"client.id":                             p + ".client_id",
		"group.id":                              "sources[].group_id",
		"auto.offset.reset":                     "sources[].start",
		"request.required.acks":                 "sinks[].acks (acks: all enables the idempotent producer)",
		"message.timeout.ms":                    "sinks[].delivery_timeout",
		"delivery.timeout.ms":                   "sinks[].delivery_timeout",
		"compression.codec":                     "sinks[].compression",
		"compression.type":                      "sinks[].compression",
		"socket.timeout.ms":                     "",
		"linger.ms":                             "",
		"statistics.interval.ms":                "",
	}
	for key, want := range tests {
		if got := managedProperty(p, key); got != want {
			t.Errorf("managedProperty(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestNamedMapErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{"clusters: [a]\n", "clusters: expected a mapping of cluster names to connections; got a list"},
		{"registries: r\n", "registries: expected a mapping of registry names to registries; got a single value"},
		{"clusters: {c: {bootstrap_servers: \"a:1\", properties: [x]}}\n", "clusters.c.properties: expected a mapping of librdkafka property names to values; got a list"},
		{"clusters: {c: {bootstrap_servers: {a: 1}}}\n", "clusters.c.bootstrap_servers: expected a single value; got a mapping"},
		{"clusters: {c: {bootstrap_servers: [\"a:1\", [b]]}}\n", "clusters.c.bootstrap_servers[1]: expected a single value; got a list"},
		{"clusters: {c: {bootstrap_servers: \"a:1\", sasl: [x]}}\n", "clusters.c.sasl: expected a mapping with keys mechanism, username, password; got a list"},
	}
	for _, tt := range tests {
		got := parseErrs(t, tt.src, nil)
		if !slices.ContainsFunc(got, func(g string) bool { return strings.Contains(g, tt.want) }) {
			t.Errorf("%q: missing %q in\n%s", tt.src, tt.want, strings.Join(got, "\n"))
		}
	}
}
