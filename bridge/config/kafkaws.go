package config

import (
	"maps"
	"net"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Defaults of the kafka_ws section.
const (
	DefaultKafkaWSListen       = ":8081"
	DefaultKafkaWSTenantClaim  = "service"
	DefaultKafkaWSTicketTTL    = 60 * time.Second
	DefaultKafkaWSLifetime     = 7200 * time.Second
	DefaultKafkaWSSendQueue    = 128
	DefaultKafkaWSPingInterval = 30 * time.Second
	DefaultKafkaWSSpentWait    = 2 * time.Second
	// MinKafkaWSSecret is the shortest accepted HS256 or ticket secret in
	// bytes (RFC 7518 asks for a key of at least the hash size).
	MinKafkaWSSecret = 32
)

// KafkaWS configures the Kafka WS endpoint (top-level key kafka_ws): a
// WebSocket server streaming Kafka topics to clients holding a ticket
// obtained with a JWT. Nil when the section is absent.
type KafkaWS struct {
	Listen     string // host:port
	TLS        KafkaWSTLS
	Cluster    string // key of Config.Clusters: where the topics are read
	Registry   string // key of Config.Registries, for Confluent Avro; optional
	Auth       KafkaWSAuth
	Ticket     KafkaWSTicket
	Connection KafkaWSConnection
	// Tenants grants each tenant topic patterns ("*" matches any run of
	// characters) beyond the topics starting with "<tenant>.".
	Tenants map[string][]string
	Line    int
}

// KafkaWSTLS enables HTTPS/WSS when both files are set.
type KafkaWSTLS struct {
	CertFile string
	KeyFile  string
}

// KafkaWSAuth says how bearer JWTs are verified: exactly one of
// HS256Secret, PublicKeyFile (PEM; RS256 or ES256) and JWKSFile.
type KafkaWSAuth struct {
	HS256Secret   Secret
	PublicKeyFile string
	JWKSFile      string
	Issuer        string // checked when set
	Audience      string // checked when set
	TenantClaim   string // default "service"
	// Leeway tolerates clock skew when checking exp and nbf (default 0).
	Leeway time.Duration
}

// KafkaWSTicket configures single-use tickets.
type KafkaWSTicket struct {
	// Secret signs tickets; instances sharing it accept each other's
	// tickets. Empty: random at start.
	Secret Secret
	TTL    time.Duration
	// SpentTopic makes tickets single use across every instance sharing
	// Secret: redemptions are written to and read back from this topic
	// of the kafka_ws cluster. Empty: single use per instance.
	SpentTopic string
	// SpentWait bounds writing and reading back a redemption; past it the
	// ticket is refused (fail closed).
	SpentWait time.Duration
}

// KafkaWSConnection limits each WebSocket connection.
type KafkaWSConnection struct {
	// Lifetime is the longest a connection lives; negative (-1 in the file)
	// means unlimited.
	Lifetime time.Duration
	// JWTExpiryLimit also closes a connection when its token expires.
	JWTExpiryLimit bool
	SendQueue      int           // messages queued per connection
	PingInterval   time.Duration // keep-alive and dead-peer detection
}

func kafkaWSKeys() []string {
	return []string{"listen", "tls", "cluster", "registry", "auth", "ticket", "connection", "tenants"}
}
func kafkaWSTLSKeys() []string { return []string{"cert_file", "key_file"} }
func kafkaWSAuthKeys() []string {
	return []string{"hs256_secret", "public_key_file", "jwks_file", "issuer", "audience", "tenant_claim", "leeway"}
}
func kafkaWSTicketKeys() []string { return []string{"secret", "ttl", "spent_topic", "spent_wait"} }
func kafkaWSConnKeys() []string {
	return []string{"lifetime", "jwt_expiry_limit", "send_queue", "ping_interval"}
}

func (d *decoder) kafkaWS(path string, n *yaml.Node) *KafkaWS {
	k := &KafkaWS{Line: d.m.lines[path]}
	if !d.object(n, path, kafkaWSKeys(), func(key, p string, v *yaml.Node) {
		switch key {
		case "listen":
			d.str(v, p, &k.Listen, strings.TrimSpace)
		case "tls":
			d.object(v, p, kafkaWSTLSKeys(), func(key, p string, v *yaml.Node) {
				switch key {
				case "cert_file":
					d.filePath(v, p, &k.TLS.CertFile)
				case "key_file":
					d.filePath(v, p, &k.TLS.KeyFile)
				}
			})
		case "cluster":
			d.str(v, p, &k.Cluster, nil)
		case "registry":
			d.str(v, p, &k.Registry, nil)
		case "auth":
			a := &k.Auth
			d.object(v, p, kafkaWSAuthKeys(), func(key, p string, v *yaml.Node) {
				switch key {
				case "hs256_secret":
					d.secret(v, p, &a.HS256Secret)
				case "public_key_file":
					d.filePath(v, p, &a.PublicKeyFile)
				case "jwks_file":
					d.filePath(v, p, &a.JWKSFile)
				case "issuer":
					d.str(v, p, &a.Issuer, nil)
				case "audience":
					d.str(v, p, &a.Audience, nil)
				case "tenant_claim":
					d.str(v, p, &a.TenantClaim, nil)
				case "leeway":
					d.duration(v, p, &a.Leeway)
				}
			})
		case "ticket":
			d.object(v, p, kafkaWSTicketKeys(), func(key, p string, v *yaml.Node) {
				switch key {
				case "secret":
					d.secret(v, p, &k.Ticket.Secret)
				case "ttl":
					d.duration(v, p, &k.Ticket.TTL)
				case "spent_topic":
					d.str(v, p, &k.Ticket.SpentTopic, strings.TrimSpace)
				case "spent_wait":
					d.duration(v, p, &k.Ticket.SpentWait)
				}
			})
		case "connection":
			c := &k.Connection
			d.object(v, p, kafkaWSConnKeys(), func(key, p string, v *yaml.Node) {
				switch key {
				case "lifetime":
					if s, ok := d.scalar(v, p); ok && strings.TrimSpace(s) == "-1" {
						c.Lifetime = -1
						return
					}
					d.duration(v, p, &c.Lifetime)
				case "jwt_expiry_limit":
					d.boolean(v, p, &c.JWTExpiryLimit)
				case "send_queue":
					d.integer(v, p, &c.SendQueue)
				case "ping_interval":
					d.duration(v, p, &c.PingInterval)
				}
			})
		case "tenants":
			k.Tenants = map[string][]string{}
			d.named(v, p, "tenant names to lists of topic patterns", func(name, p string, v *yaml.Node) {
				var pats []string
				d.strList(v, p, `e.g. ["shared.*", "alerts"]`, &pats)
				k.Tenants[name] = pats
			})
		}
	}) {
		return nil
	}
	return k
}

// kafkaWSDefaults fills the kafka_ws section's absent keys.
func (c *Config) kafkaWSDefaults(m *meta) {
	k := c.KafkaWS
	if k == nil {
		return
	}
	absent := func(path string) bool { return !m.set[path] }
	if k.Listen == "" {
		k.Listen = DefaultKafkaWSListen
	}
	if k.Auth.TenantClaim == "" {
		k.Auth.TenantClaim = DefaultKafkaWSTenantClaim
	}
	if k.Ticket.TTL == 0 && absent("kafka_ws.ticket.ttl") {
		k.Ticket.TTL = DefaultKafkaWSTicketTTL
	}
	if k.Ticket.SpentWait == 0 && absent("kafka_ws.ticket.spent_wait") {
		k.Ticket.SpentWait = DefaultKafkaWSSpentWait
	}
	if k.Connection.Lifetime == 0 && absent("kafka_ws.connection.lifetime") {
		k.Connection.Lifetime = DefaultKafkaWSLifetime
	}
	if k.Connection.SendQueue == 0 && absent("kafka_ws.connection.send_queue") {
		k.Connection.SendQueue = DefaultKafkaWSSendQueue
	}
	if k.Connection.PingInterval == 0 && absent("kafka_ws.connection.ping_interval") {
		k.Connection.PingInterval = DefaultKafkaWSPingInterval
	}
}

func (v *validator) kafkaWS() {
	k := v.c.KafkaWS
	if k == nil {
		return
	}
	const p = "kafka_ws"
	if _, port, err := net.SplitHostPort(k.Listen); err != nil || port == "" {
		v.add(p+".listen", "invalid address %s: want host:port or :port, e.g. \":8081\"", v.show(p+".listen", k.Listen))
	}
	switch {
	case k.TLS.CertFile != "" && k.TLS.KeyFile == "":
		v.add(p+".tls.key_file", "required with cert_file")
	case k.TLS.CertFile == "" && k.TLS.KeyFile != "":
		v.add(p+".tls.cert_file", "required with key_file")
	}
	v.readable(p+".tls.cert_file", k.TLS.CertFile)
	v.readable(p+".tls.key_file", k.TLS.KeyFile)
	clusters := v.clusterNames()
	v.ref(p+".cluster", k.Cluster, "cluster", clusters, clusters)
	if k.Registry != "" {
		regs := v.registryNames()
		v.ref(p+".registry", k.Registry, "registry", regs, regs)
	}

	a := k.Auth
	n := 0
	for _, set := range []bool{a.HS256Secret != "", a.PublicKeyFile != "", a.JWKSFile != ""} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		v.add(p+".auth", "required: set one of hs256_secret, public_key_file (PEM, RS256/ES256) or jwks_file to verify JWTs")
	case n > 1:
		v.add(p+".auth", "set only one of hs256_secret, public_key_file and jwks_file")
	}
	if a.HS256Secret != "" && len(a.HS256Secret) < MinKafkaWSSecret {
		v.add(p+".auth.hs256_secret", "too short: use at least %d bytes (e.g. openssl rand -hex 32)", MinKafkaWSSecret)
	}
	v.readable(p+".auth.public_key_file", a.PublicKeyFile)
	v.readable(p+".auth.jwks_file", a.JWKSFile)
	if a.Leeway < 0 || a.Leeway > 10*time.Minute {
		v.add(p+".auth.leeway", "want a duration from 0 to 10m (clock skew tolerated on exp and nbf), e.g. 30s")
	}
	if !identifierish(a.TenantClaim) {
		v.add(p+".auth.tenant_claim", "invalid claim name %s", v.show(p+".auth.tenant_claim", a.TenantClaim))
	}

	if s := k.Ticket.Secret; s != "" && len(s) < MinKafkaWSSecret {
		v.add(p+".ticket.secret", "too short: use at least %d bytes (e.g. openssl rand -hex 32), or leave it out for a random one", MinKafkaWSSecret)
	}
	v.positive(p+".ticket.ttl", int64(k.Ticket.TTL), "a duration above 0, e.g. 60s")
	if t := k.Ticket.SpentTopic; t != "" {
		if prob := topicProblem(t); prob != "" {
			v.add(p+".ticket.spent_topic", "topic %s %s", v.show(p+".ticket.spent_topic", t), prob)
		}
		if k.Ticket.Secret == "" {
			v.add(p+".ticket.secret", "required with spent_topic: the instances must share it to accept each other's tickets")
		}
	}
	if w := k.Ticket.SpentWait; w <= 0 || w > time.Minute {
		v.add(p+".ticket.spent_wait", "want a duration above 0 and at most 1m, e.g. 2s")
	}
	cn := k.Connection
	if cn.Lifetime == 0 || cn.Lifetime < 0 && cn.Lifetime != -1 {
		v.add(p+".connection.lifetime", "must be a duration above 0, e.g. 2h, or -1 for unlimited")
	}
	v.positive(p+".connection.send_queue", int64(cn.SendQueue), "an integer above 0 (messages queued per connection)")
	v.positive(p+".connection.ping_interval", int64(cn.PingInterval), "a duration above 0, e.g. 30s")

	for _, t := range slices.Sorted(maps.Keys(k.Tenants)) {
		tp := joinKey(p+".tenants", t)
		if t == "" {
			v.add(tp, "empty tenant name")
		}
		for i, pat := range k.Tenants[t] {
			ip := joinIndex(tp, i)
			if prob := topicProblem(strings.ReplaceAll(pat, "*", "x")); prob != "" {
				v.add(ip, "topic pattern %s %s (patterns are topic names where * matches anything)", v.show(ip, pat), prob)
			}
		}
	}
}

func identifierish(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

func (r *redactor) kafkaWS(k *KafkaWS) *yaml.Node {
	if k == nil {
		return nil
	}
	const p = "kafka_ws"
	tenants := mapping()
	for _, t := range slices.Sorted(maps.Keys(k.Tenants)) {
		key := &yaml.Node{}
		key.SetString(t)
		tenants.Content = append(tenants.Content, key, r.list(joinKey(p+".tenants", t), k.Tenants[t]))
	}
	lifetime := r.dur(p+".connection.lifetime", k.Connection.Lifetime)
	if k.Connection.Lifetime < 0 {
		lifetime = plain("!!int", "-1")
	}
	var tls *yaml.Node
	if k.TLS.CertFile != "" || k.TLS.KeyFile != "" {
		tls = mapping("cert_file", r.opt(p+".tls.cert_file", k.TLS.CertFile), "key_file", r.opt(p+".tls.key_file", k.TLS.KeyFile))
	}
	return mapping(
		"listen", r.str(p+".listen", k.Listen),
		"tls", tls,
		"cluster", r.str(p+".cluster", k.Cluster),
		"registry", r.opt(p+".registry", k.Registry),
		"auth", mapping(
			"hs256_secret", optSecret(k.Auth.HS256Secret),
			"public_key_file", r.opt(p+".auth.public_key_file", k.Auth.PublicKeyFile),
			"jwks_file", r.opt(p+".auth.jwks_file", k.Auth.JWKSFile),
			"issuer", r.opt(p+".auth.issuer", k.Auth.Issuer),
			"audience", r.opt(p+".auth.audience", k.Auth.Audience),
			"tenant_claim", r.str(p+".auth.tenant_claim", k.Auth.TenantClaim),
			"leeway", r.dur(p+".auth.leeway", k.Auth.Leeway)),
		"ticket", mapping(
			"secret", optSecret(k.Ticket.Secret),
			"ttl", r.dur(p+".ticket.ttl", k.Ticket.TTL),
			"spent_topic", r.opt(p+".ticket.spent_topic", k.Ticket.SpentTopic),
			"spent_wait", r.dur(p+".ticket.spent_wait", k.Ticket.SpentWait)),
		"connection", mapping(
			"lifetime", lifetime,
			"jwt_expiry_limit", r.flag(p+".connection.jwt_expiry_limit", k.Connection.JWTExpiryLimit),
			"send_queue", r.num(p+".connection.send_queue", k.Connection.SendQueue),
			"ping_interval", r.dur(p+".connection.ping_interval", k.Connection.PingInterval)),
		"tenants", tenants,
	)
}

// kafkaWSSecrets lists the section's secret values for scrubbing.
func (c *Config) kafkaWSSecrets() []string {
	if c.KafkaWS == nil {
		return nil
	}
	return []string{c.KafkaWS.Auth.HS256Secret.Reveal(), c.KafkaWS.Ticket.Secret.Reveal()}
}

// onlyKafkaWS reports whether the file configures the Kafka WS endpoint
// and no bridge pipeline (no sources and no sinks), so that sources, sinks
// and dead_letter are not required.
func (c *Config) onlyKafkaWS() bool {
	return c.KafkaWS != nil && len(c.Sources) == 0 && len(c.Sinks) == 0
}
