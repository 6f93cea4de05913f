package config

import (
	"strings"
	"testing"
	"time"
)

const onlyWS = `
clusters:
  main: {bootstrap_servers: "localhost:9092"}
kafka_ws:
  cluster: main
  auth: {hs256_secret: "${WS_JWT_SECRET}"}
`

func TestKafkaWSOnlyAndDefaults(t *testing.T) {
	secret := strings.Repeat("s", 40)
	c := mustParse(t, onlyWS, map[string]string{"WS_JWT_SECRET": secret})
	k := c.KafkaWS
	if k == nil {
		t.Fatal("kafka_ws not decoded")
	}
	if k.Listen != DefaultKafkaWSListen || k.Auth.TenantClaim != "service" || k.Ticket.TTL != 60*time.Second ||
		k.Connection.Lifetime != 7200*time.Second || k.Connection.SendQueue != 128 || k.Connection.PingInterval != 30*time.Second ||
		k.Auth.HS256Secret.Reveal() != secret {
		t.Errorf("defaults: %+v", k)
	}
	out := c.Redacted()
	if strings.Contains(out, secret) || !strings.Contains(out, "hs256_secret: '[redacted]'") {
		t.Errorf("redacted view leaks or lacks the secret:\n%s", out)
	}
	// With only kafka_ws, sources, sinks and dead_letter are not required;
	// without it they are.
	if _, err := Parse([]byte("clusters:\n  main: {bootstrap_servers: \"localhost:9092\"}\n"), "x.yaml", envMap(nil)); err == nil ||
		!strings.Contains(err.Error(), "at least one source is required") {
		t.Errorf("no sources and no kafka_ws: %v", err)
	}
}

func TestKafkaWSFull(t *testing.T) {
	src := minimal + `
kafka_ws:
  listen: "127.0.0.1:9000"
  cluster: main
  registry: sr
  auth: {hs256_secret: "` + strings.Repeat("k", 32) + `", issuer: iss, audience: aud, tenant_claim: tenant}
  ticket: {secret: "` + strings.Repeat("t", 32) + `", ttl: 10s, spent_topic: kafka-ws.spent-tickets, spent_wait: 3s}
  connection: {lifetime: -1, jwt_expiry_limit: true, send_queue: 5, ping_interval: 1s}
  tenants:
    acme: ["shared.*", "alerts"]
`
	c := mustParse(t, src, nil)
	k := c.KafkaWS
	if k.Listen != "127.0.0.1:9000" || k.Registry != "sr" || k.Auth.Issuer != "iss" || k.Auth.Audience != "aud" || k.Auth.TenantClaim != "tenant" ||
		k.Ticket.TTL != 10*time.Second || k.Ticket.SpentTopic != "kafka-ws.spent-tickets" || k.Ticket.SpentWait != 3*time.Second || k.Connection.Lifetime != -1 || !k.Connection.JWTExpiryLimit || k.Connection.SendQueue != 5 ||
		k.Connection.PingInterval != time.Second || strings.Join(k.Tenants["acme"], ",") != "shared.*,alerts" {
		t.Errorf("decoded %+v", k)
	}
	out := c.Redacted()
	for _, s := range []string{strings.Repeat("k", 32), strings.Repeat("t", 32)} {
		if strings.Contains(out, s) {
			t.Errorf("redacted view leaks a secret:\n%s", out)
		}
	}
	if !strings.Contains(out, "spent_topic: kafka-ws.spent-tickets") || !strings.Contains(out, "spent_wait: 3s") {
		t.Errorf("spent topic not in the effective config:\n%s", out)
	}
	if !strings.Contains(out, "lifetime: -1") {
		t.Errorf("unlimited lifetime not shown as -1:\n%s", out)
	}
}

func TestKafkaWSErrors(t *testing.T) {
	base := "clusters:\n  main: {bootstrap_servers: \"localhost:9092\"}\nkafka_ws:\n"
	cases := []struct{ body, want string }{
		{"  cluster: main\n", "kafka_ws.auth: required: set one of hs256_secret"},
		{"  cluster: nope\n  auth: {hs256_secret: " + strings.Repeat("x", 32) + "}\n", `kafka_ws.cluster: unknown cluster "nope"`},
		{"  cluster: main\n  registry: sr\n  auth: {hs256_secret: " + strings.Repeat("x", 32) + "}\n", `kafka_ws.registry: unknown registry "sr"`},
		{"  cluster: main\n  auth: {hs256_secret: short}\n", "kafka_ws.auth.hs256_secret: too short"},
		{"  cluster: main\n  auth: {hs256_secret: " + strings.Repeat("x", 32) + ", jwks_file: x.json}\n", "set only one of"},
		{"  cluster: main\n  auth: {jwks_file: /no/such/jwks.json}\n", "kafka_ws.auth.jwks_file: cannot read"},
		{"  cluster: main\n  auth: {hs256_secret: " + strings.Repeat("x", 32) + "}\n  connection: {lifetime: 0s}\n", "kafka_ws.connection.lifetime: must be a duration above 0"},
		{"  cluster: main\n  auth: {hs256_secret: " + strings.Repeat("x", 32) + "}\n  connection: {lifetime: -2s}\n", "or -1 for unlimited"},
		{"  cluster: main\n  auth: {hs256_secret: " + strings.Repeat("x", 32) + "}\n  connection: {send_queue: 0}\n", "kafka_ws.connection.send_queue: must be an integer above 0"},
		{"  cluster: main\n  auth: {hs256_secret: " + strings.Repeat("x", 32) + "}\n  listen: nope\n", "kafka_ws.listen: invalid address"},
		{"  cluster: main\n  auth: {hs256_secret: " + strings.Repeat("x", 32) + "}\n  tls: {cert_file: c.pem}\n", "kafka_ws.tls.key_file: required with cert_file"},
		{"  cluster: main\n  auth: {hs256_secret: " + strings.Repeat("x", 32) + "}\n  tenants: {acme: [\"bad topic\"]}\n", "kafka_ws.tenants.acme[0]: topic pattern"},
		{"  cluster: main\n  auth: {hs256_secret: " + strings.Repeat("x", 32) + "}\n  ticket: {ttl: 0s}\n", "kafka_ws.ticket.ttl: must be a duration above 0"},
		{"  cluster: main\n  auth: {hs256_secret: " + strings.Repeat("x", 32) + "}\n  ticket: {spent_topic: spent}\n", "kafka_ws.ticket.secret: required with spent_topic"},
		{"  cluster: main\n  auth: {hs256_secret: " + strings.Repeat("x", 32) + "}\n  ticket: {secret: " + strings.Repeat("t", 32) + ", spent_topic: \"bad topic\"}\n", "kafka_ws.ticket.spent_topic: topic"},
		{"  cluster: main\n  auth: {hs256_secret: " + strings.Repeat("x", 32) + "}\n  ticket: {spent_wait: 0s}\n", "kafka_ws.ticket.spent_wait: want a duration above 0"},
		{"  cluster: main\n  auth: {hs256_secret: " + strings.Repeat("x", 32) + ", tenant_clam: x}\n", `kafka_ws.auth.tenant_clam: unknown key; did you mean "tenant_claim"?`},
		{"  cluster: main\n  auth: {hs256_secret: " + strings.Repeat("x", 32) + "}\n  listn: x\n", `kafka_ws.listn: unknown key; did you mean "listen"?`},
		{"  cluster: main\n  auth: {hs256_secret: " + strings.Repeat("x", 32) + ", leeway: 11m}\n", "kafka_ws.auth.leeway: want a duration from 0 to 10m"},
		{"  cluster: main\n  auth: {hs256_secret: " + strings.Repeat("x", 32) + ", leeway: -1s}\n", "kafka_ws.auth.leeway: want a duration from 0 to 10m"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(base+c.body), "ws.yaml", envMap(nil))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\n got %v\nwant %q", c.body, err, c.want)
		}
	}
}
