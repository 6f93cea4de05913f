package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("hunter2")
	type wrapper struct{ P Secret }
	outs := map[string]string{
		"%s":     fmt.Sprintf("%s", s),
		"%v":     fmt.Sprintf("%v", s),
		"%+v":    fmt.Sprintf("%+v", s),
		"%#v":    fmt.Sprintf("%#v", s),
		"%q":     fmt.Sprintf("%q", s),
		"%x":     fmt.Sprintf("%x", s),
		"%X":     fmt.Sprintf("%X", s),
		"%d":     fmt.Sprintf("%d", s),
		"struct": fmt.Sprintf("%v %+v %#v", wrapper{s}, wrapper{s}, &wrapper{s}),
		"String": s.String(),
		"Go":     s.GoString(),
		"Print":  fmt.Sprint(s, []Secret{s}, map[string]Secret{"k": s}),
	}
	j, _ := json.Marshal(wrapper{s})
	outs["json"] = string(j)
	y, _ := yaml.Marshal(wrapper{s})
	outs["yaml"] = string(y)
	txt, _ := s.MarshalText()
	outs["text"] = string(txt)
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "p", s)
	outs["slog"] = buf.String()
	for name, out := range outs {
		if strings.Contains(out, "hunter2") || strings.Contains(out, fmt.Sprintf("%x", "hunter2")) {
			t.Errorf("%s leaks: %s", name, out)
		}
		if !strings.Contains(out, "[redacted]") && !strings.Contains(out, fmt.Sprintf("%x", "[redacted]")) {
			t.Errorf("%s does not say [redacted]: %s", name, out)
		}
	}
	if s.Reveal() != "hunter2" {
		t.Error("Reveal")
	}
	if Secret("").String() != "" || fmt.Sprint(Secret("")) != "" {
		t.Error("an empty secret should print empty")
	}
}

func TestPropertiesRedactSecretKeys(t *testing.T) {
	p := Properties{"socket.timeout.ms": "6000", "sasl.oauthbearer.client.secret": "hunter2", "https.client.key.password": "hunter3"}
	j, _ := json.Marshal(p)
	y, _ := yaml.Marshal(map[string]Properties{"p": p})
	for _, out := range []string{p.String(), fmt.Sprintf("%v %+v %#v %s", p, p, p, p), string(j), string(y), p.LogValue().String()} {
		if strings.Contains(out, "hunter") {
			t.Errorf("leak: %s", out)
		}
		if !strings.Contains(out, "6000") {
			t.Errorf("non-secret property hidden: %s", out)
		}
	}
	if p["sasl.oauthbearer.client.secret"] != "hunter2" {
		t.Error("indexing must return the real value")
	}
}

// secretConfig has known secret values in every place a secret can be:
// Secret fields (from the environment and literal), secret-looking
// properties, and credential-named variables used in plain fields.
const secretConfig = `
clusters:
  cloud:
    bootstrap_servers: "pkc-1.example.cloud:9092"
    security_protocol: SASL_SSL
    sasl: {username: "${CLOUD_API_KEY}", password: "${CLOUD_API_SECRET}"}
    tls: {cert_file: "@CERT@", key_file: "@KEY@", key_password: literal-key-pass-77, insecure_skip_verify: true}
    properties:
      socket.timeout.ms: "6000"
      https.client.key.password: literal-prop-pass-88
  own:
    bootstrap_servers: "own:9092"
    security_protocol: SASL_PLAINTEXT
    sasl: {mechanism: SCRAM-SHA-256, username: bridge, password: literal-own-pass-99}
registries:
  sr:
    url: https://sr.example.cloud
    username: ${SR_KEY}
    password: ${SR_SECRET}
sources:
  - name: tu
    cluster: cloud
    topics: [machine-insights]
    profile: trackunit-insights
    registry: sr
    owner_id: "owner-${OWNER_TOKEN}"
sinks:
  - {name: out, type: kafka, cluster: own, topic: "gt.{type}"}
dead_letter: {cluster: own, topic: dlq}
`

// secretSource returns secretConfig with @CERT@ and @KEY@ pointing at files.
func secretSource(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"cert.pem", "key.pem"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("pem"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return strings.NewReplacer("@CERT@", filepath.Join(dir, "cert.pem"), "@KEY@", filepath.Join(dir, "key.pem")).Replace(secretConfig)
}

func secretEnv() map[string]string {
	return map[string]string{
		"CLOUD_API_KEY":    "env-api-key-11",
		"CLOUD_API_SECRET": "env-api-secret-22: #{}",
		"SR_KEY":           "env-sr-key-33",
		"SR_SECRET":        "env-sr-secret-44",
		"OWNER_TOKEN":      "env-owner-token-55",
	}
}

func secretValuesForTest() []string {
	out := []string{"literal-key-pass-77", "literal-prop-pass-88", "literal-own-pass-99"}
	for _, v := range secretEnv() {
		out = append(out, v)
	}
	return out
}

func assertNoSecrets(t *testing.T, what, out string) {
	t.Helper()
	for _, s := range secretValuesForTest() {
		if strings.Contains(out, s) {
			t.Errorf("%s contains secret %q:\n%s", what, s, out)
		}
	}
}

func TestNoSecretInRedactedOrPrinted(t *testing.T) {
	c := mustParse(t, secretSource(t), secretEnv())
	if c.Clusters["cloud"].SASL.Password.Reveal() != secretEnv()["CLOUD_API_SECRET"] {
		t.Fatal("secret not loaded")
	}
	red := c.Redacted()
	assertNoSecrets(t, "Redacted", red)
	assertNoSecrets(t, "String", c.String())
	assertNoSecrets(t, "fmt", fmt.Sprintf("%v %+v %#v %s", c, c, c, c))
	assertNoSecrets(t, "fmt value", fmt.Sprintf("%v %+v %#v", *c, *c, *c))
	y, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	assertNoSecrets(t, "yaml", string(y))
	j, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	assertNoSecrets(t, "json", string(j))
	if !strings.Contains(string(j), `"bootstrap_servers":"pkc-1.example.cloud:9092"`) {
		t.Errorf("json lacks the effective configuration: %s", j)
	}
	// Printing the parts directly never shows a Secret field or a
	// secret-looking property (usernames are plain strings there).
	passwords := []string{"literal-key-pass-77", "literal-prop-pass-88", "literal-own-pass-99", secretEnv()["CLOUD_API_SECRET"], secretEnv()["SR_SECRET"]}
	var parts strings.Builder
	for _, cl := range c.Clusters {
		fmt.Fprintf(&parts, "%v %+v %#v %+v %+v\n", *cl, *cl, *cl, *cl.SASL, cl.Properties)
		if cl.TLS != nil {
			fmt.Fprintf(&parts, "%+v %#v\n", *cl.TLS, *cl.TLS)
		}
	}
	fmt.Fprintf(&parts, "%+v %#v\n", *c.Registries["sr"], *c.Registries["sr"])
	for _, p := range passwords {
		if strings.Contains(parts.String(), p) {
			t.Errorf("printing parts leaks %q:\n%s", p, parts.String())
		}
	}
	// Non-secrets stay visible.
	for _, want := range []string{"pkc-1.example.cloud:9092", "socket.timeout.ms: \"6000\"", "username: bridge", "machine-insights", "insecure_skip_verify: true"} {
		if !strings.Contains(red, want) {
			t.Errorf("Redacted lacks %q:\n%s", want, red)
		}
	}
	if strings.Count(red, "[redacted]") < 8 {
		t.Errorf("expected every secret redacted:\n%s", red)
	}
}

func TestNoSecretInErrors(t *testing.T) {
	// The same secrets, misused so that validation has to talk about them.
	bad := strings.NewReplacer(
		"topics: [machine-insights]", "topics: [\"${CLOUD_API_SECRET}\"]",
		"profile: trackunit-insights", "profile: ${SR_SECRET}",
		"owner_id: \"owner-${OWNER_TOKEN}\"", "start: \"${OWNER_TOKEN}\"",
		"topic: dlq", "topic: literal-own-pass-99/x",
		"url: https://sr.example.cloud", "url: \"https://user:${SR_SECRET}@sr.example.cloud\"",
		"security_protocol: SASL_PLAINTEXT", "security_protocol: ${CLOUD_API_KEY}",
	).Replace(secretSource(t))
	bad += "commit_interval: ${SR_KEY}\n"
	bad += "shutdown_timeout: literal-key-pass-77\n"
	_, err := Parse([]byte(bad), "bridge.yaml", envMap(secretEnv()))
	if err == nil {
		t.Fatal("want errors")
	}
	msg := err.Error()
	assertNoSecrets(t, "errors", msg)
	for _, want := range []string{
		"sources[0].topics[0]: topic (value of ${CLOUD_API_SECRET})",
		"sources[0].profile: invalid value (value of ${SR_SECRET})",
		"sources[0].start: invalid value (value of ${OWNER_TOKEN})",
		"registries.sr.url: must not contain credentials",
		"clusters.own.security_protocol: invalid value (value of ${CLOUD_API_KEY})",
		"commit_interval: expected a duration",
		"shutdown_timeout: expected a duration",
		`dead_letter.topic: topic "[redacted]/x" contains characters`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("errors lack %q:\n%s", want, msg)
		}
	}
}

func TestRedactedRoundTrip(t *testing.T) {
	for _, name := range []string{"trackunit-confluent-cloud.yaml", "mobito-sasl-ssl-plain.yaml", "both.yaml"} {
		c, err := Load(examples+name, envMap(exampleEnv()))
		if err != nil {
			t.Fatal(err)
		}
		red := c.Redacted()
		assertNoSecretsIn(t, name, red, exampleEnv())
		again, err := Parse([]byte(red), "", envMap(nil))
		if err != nil {
			t.Fatalf("%s: Redacted output does not load: %v\n%s", name, err, red)
		}
		// Line comments say where a value came from, which a second
		// load of the printed value cannot know.
		if got := lineComments.ReplaceAllString(again.Redacted(), ""); got != lineComments.ReplaceAllString(red, "") {
			t.Errorf("%s: round trip differs:\n%s\nvs\n%s", name, got, red)
		}
	}
}

// lineComments matches a YAML line comment after a value.
var lineComments = regexp.MustCompile(`(?m) +#[^\n]*$`)

func assertNoSecretsIn(t *testing.T, what, out string, env map[string]string) {
	t.Helper()
	for k, v := range env {
		if sensitiveEnv(k) && strings.Contains(out, v) {
			t.Errorf("%s contains the value of %s:\n%s", what, k, out)
		}
	}
}

func TestRedactedEdgeCases(t *testing.T) {
	var nilCfg *Config
	if nilCfg.Redacted() != "null\n" {
		t.Error("nil config")
	}
	c := &Config{
		Clusters:   map[string]*Cluster{"x": nil},
		Registries: map[string]*Registry{"r": {URL: "https://u:pw-secret-1@h/?token=tok-secret-2", Password: "pw-secret-1"}, "bad": {URL: "http://[::1"}},
		Sources:    []*Source{nil},
		Sinks:      []*Sink{nil},
	}
	out := c.Redacted()
	for _, s := range []string{"pw-secret-1", "tok-secret-2", "u:"} {
		if strings.Contains(out, s) {
			t.Errorf("leak %q:\n%s", s, out)
		}
	}
	// A value equal to a short secret is hidden; values containing it are not.
	c = mustParse(t, strings.Replace(minimal, `main: {bootstrap_servers: "localhost:9092"}`,
		`main: {bootstrap_servers: "localhost:9092", security_protocol: SASL_PLAINTEXT, sasl: {username: dlq, password: dlq}}`, 1), nil)
	out = c.Redacted()
	for _, want := range []string{"username: '[redacted]'", "password: '[redacted]'", "topic: '[redacted]'", "- name: tu"} {
		if !strings.Contains(out, want) {
			t.Errorf("Redacted lacks %q:\n%s", want, out)
		}
	}
}
