package config

import (
	"cmp"
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Redacted returns the effective configuration (defaults applied) as YAML
// in the file's layout, with every secret replaced by "[redacted]": Secret
// fields, properties whose key looks like a credential (password, secret,
// token, key, ...), values that came from environment variables whose name
// looks like a credential (PASS, SECRET, TOKEN, KEY, CRED, PRIVATE, AUTH),
// and any value equal to one of those secrets or, for secrets of 6 or more
// bytes, containing one. Credentials embedded in a registry URL are
// removed. Safe to log.
//
// The same view is what encoding/json and YAML encoders produce for a
// Config. Usernames and other plain fields print normally when their own
// structs (SASL, Registry, ...) are printed directly; only Secret fields
// and secret-looking properties are redacted there.
func (c *Config) Redacted() string {
	if c == nil {
		return "null\n"
	}
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(c.redactedNode()); err != nil {
		return "# configuration cannot be rendered\n"
	}
	_ = enc.Close()
	return b.String()
}

// String returns Redacted, so that printing a *Config with %v or %s never
// reveals a secret.
func (c *Config) String() string { return c.Redacted() }

// MarshalYAML encodes the redacted view (see Redacted).
func (c Config) MarshalYAML() (any, error) {
	return (&c).redactedNode(), nil
}

// MarshalJSON encodes the redacted view (see Redacted) with the file's keys.
func (c Config) MarshalJSON() ([]byte, error) {
	var v any
	if err := (&c).redactedNode().Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

func (c *Config) redactedNode() *yaml.Node {
	r := &redactor{c: c, m: c.meta, secrets: c.secretValues()}
	if r.m == nil {
		r.m = newMeta()
	}
	return r.config(c)
}

// secretValues lists every secret value the configuration holds, longest
// first, for scrubbing messages and output.
func (c *Config) secretValues() []string {
	var out []string
	if c.meta != nil {
		for v := range c.meta.envSecrets {
			out = append(out, v)
		}
	}
	for _, cl := range c.Clusters {
		if cl == nil {
			continue
		}
		if cl.SASL != nil {
			out = append(out, cl.SASL.Password.Reveal())
		}
		if cl.TLS != nil {
			out = append(out, cl.TLS.KeyPassword.Reveal())
		}
		for k, v := range cl.Properties {
			if secretKey(k) {
				out = append(out, v)
			}
		}
	}
	out = append(out, c.mqttSecrets()...)
	for _, r := range c.Registries {
		if r != nil {
			out = append(out, r.Password.Reveal())
			if u, err := url.Parse(r.URL); err == nil && u.User != nil {
				if p, ok := u.User.Password(); ok {
					out = append(out, p)
				}
			}
		}
	}
	out = append(out, c.kafkaWSSecrets()...)
	out = slices.DeleteFunc(out, func(s string) bool { return s == "" })
	slices.SortFunc(out, func(a, b string) int { return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b)) })
	return slices.Compact(out)
}

type redactor struct {
	c       *Config
	m       *meta
	secrets []string
}

func (r *redactor) hidden(path, value string) bool {
	if r.m.sensitive(path) {
		return true
	}
	for _, s := range r.secrets {
		if value == s || len(s) >= minScrubLen && strings.Contains(value, s) {
			return true
		}
	}
	return false
}

func plain(tag, value string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
}

func (r *redactor) str(path, value string) *yaml.Node {
	if r.hidden(path, value) {
		return plain("!!str", redactedText)
	}
	n := &yaml.Node{}
	n.SetString(value)
	return n
}

func (r *redactor) typed(path, tag, value string) *yaml.Node {
	if r.hidden(path, value) {
		return plain("!!str", redactedText)
	}
	return plain(tag, value)
}

func (r *redactor) num(path string, n int) *yaml.Node {
	return r.typed(path, "!!int", strconv.Itoa(n))
}

// maxAttempts prints a retry.max_attempts: the number, or unlimited.
func (r *redactor) maxAttempts(path string, n int) *yaml.Node {
	if n == UnlimitedAttempts {
		return r.typed(path, "!!str", UnlimitedText)
	}
	return r.num(path, n)
}

func (r *redactor) flag(path string, b bool) *yaml.Node {
	return r.typed(path, "!!bool", strconv.FormatBool(b))
}

func (r *redactor) dur(path string, d time.Duration) *yaml.Node {
	return r.typed(path, "!!str", d.String())
}

func (r *redactor) list(path string, items []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
	for i, s := range items {
		n.Content = append(n.Content, r.str(joinIndex(path, i), s))
	}
	return n
}

// opt is str for optional values: empty ones are left out.
func (r *redactor) opt(path, value string) *yaml.Node {
	if value == "" {
		return nil
	}
	return r.str(path, value)
}

func secretNode(s Secret) *yaml.Node { return plain("!!str", s.String()) }

func optSecret(s Secret) *yaml.Node {
	if s == "" {
		return nil
	}
	return secretNode(s)
}

// mapping builds a mapping node from key, value pairs; nil values are
// skipped.
func mapping(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(kv); i += 2 {
		v, _ := kv[i+1].(*yaml.Node)
		if v == nil {
			continue
		}
		k := &yaml.Node{}
		k.SetString(kv[i].(string))
		n.Content = append(n.Content, k, v)
	}
	return n
}

func (r *redactor) config(c *Config) *yaml.Node {
	clusters := mapping()
	for _, name := range slices.Sorted(maps.Keys(c.Clusters)) {
		k := &yaml.Node{}
		k.SetString(name)
		clusters.Content = append(clusters.Content, k, r.cluster(joinKey("clusters", name), c.Clusters[name]))
	}
	registries := mapping()
	for _, name := range slices.Sorted(maps.Keys(c.Registries)) {
		k := &yaml.Node{}
		k.SetString(name)
		registries.Content = append(registries.Content, k, r.registry(joinKey("registries", name), c.Registries[name]))
	}
	sources := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for i, s := range c.Sources {
		sources.Content = append(sources.Content, r.source(joinIndex("sources", i), s))
	}
	sinks := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for i, s := range c.Sinks {
		sinks.Content = append(sinks.Content, r.sink(joinIndex("sinks", i), s))
	}
	httpNode, historyNode := r.monitorNodes(c)
	return mapping(
		"log", mapping("level", r.str("log.level", c.Log.Level), "format", r.str("log.format", c.Log.Format)),
		"clusters", clusters,
		"registries", registries,
		"sources", sources,
		"sinks", sinks,
		"dead_letter", mapping(
			"cluster", r.str("dead_letter.cluster", c.DeadLetter.Cluster),
			"topic", r.str("dead_letter.topic", c.DeadLetter.Topic)),
		"shutdown_timeout", r.dur("shutdown_timeout", c.ShutdownTimeout),
		"commit_interval", r.dur("commit_interval", c.CommitInterval),
		"instance_id", commented(r.str("instance_id", c.InstanceID), c.instanceIDNote()),
		"kafka_ws", r.kafkaWS(c.KafkaWS),
		"http", httpNode,
		"history", historyNode,
	)
}

func (r *redactor) cluster(p string, cl *Cluster) *yaml.Node {
	if cl == nil {
		return plain("!!null", "null")
	}
	var sasl, tlsNode, props *yaml.Node
	if s := cl.SASL; s != nil {
		sp := p + ".sasl"
		sasl = mapping(
			"mechanism", r.str(sp+".mechanism", s.Mechanism),
			"username", r.str(sp+".username", s.Username),
			"password", secretNode(s.Password))
	}
	if t := cl.TLS; t != nil {
		tp := p + ".tls"
		tlsNode = mapping(
			"ca_file", r.opt(tp+".ca_file", t.CAFile),
			"cert_file", r.opt(tp+".cert_file", t.CertFile),
			"key_file", r.opt(tp+".key_file", t.KeyFile),
			"key_password", optSecret(t.KeyPassword),
			"insecure_skip_verify", r.flag(tp+".insecure_skip_verify", t.InsecureSkipVerify))
	}
	if len(cl.Properties) > 0 {
		props = mapping()
		for _, k := range slices.Sorted(maps.Keys(cl.Properties)) {
			kp := joinKey(p+".properties", k)
			v := r.str(kp, cl.Properties[k])
			if secretKey(k) {
				v = plain("!!str", redactedText)
			}
			kn := &yaml.Node{}
			kn.SetString(k)
			props.Content = append(props.Content, kn, v)
		}
	}
	return mapping(
		"bootstrap_servers", r.str(p+".bootstrap_servers", strings.Join(cl.BootstrapServers, ",")),
		"security_protocol", r.str(p+".security_protocol", cl.SecurityProtocol),
		"sasl", sasl,
		"tls", tlsNode,
		"client_id", r.str(p+".client_id", cl.ClientID),
		"properties", props)
}

func (r *redactor) registry(p string, reg *Registry) *yaml.Node {
	if reg == nil {
		return plain("!!null", "null")
	}
	u := reg.URL
	if parsed, err := url.Parse(u); err != nil {
		u = redactedText // unparseable: it might hold credentials
	} else if parsed.User != nil || parsed.RawQuery != "" {
		parsed.User = nil
		if parsed.RawQuery != "" {
			parsed.RawQuery = redactedText
		}
		u = parsed.String()
	}
	return mapping(
		"url", r.str(p+".url", u),
		"username", r.opt(p+".username", reg.Username),
		"password", optSecret(reg.Password),
		"timeout", r.dur(p+".timeout", reg.Timeout),
		"ca_file", r.opt(p+".ca_file", reg.CAFile),
		"insecure_skip_verify", r.flag(p+".insecure_skip_verify", reg.InsecureSkipVerify))
}

func (r *redactor) source(p string, s *Source) *yaml.Node {
	if s == nil {
		return plain("!!null", "null")
	}
	return mapping(
		"name", r.str(p+".name", s.Name),
		"cluster", r.str(p+".cluster", s.Cluster),
		"topics", r.list(p+".topics", s.Topics),
		"group_id", r.str(p+".group_id", s.GroupID),
		"start", r.str(p+".start", s.Start),
		"profile", r.str(p+".profile", s.Profile),
		"mapping", r.opt(p+".mapping", s.Mapping),
		"registry", r.opt(p+".registry", s.Registry),
		"decode", r.opt(p+".decode", s.Decode),
		"on_incompatible_schema", r.opt(p+".on_incompatible_schema", s.OnIncompatibleSchema),
		"owner_id", r.opt(p+".owner_id", s.OwnerID),
		"sinks", r.list(p+".sinks", s.Sinks),
		"max_in_flight", r.num(p+".max_in_flight", s.MaxInFlight))
}

func (r *redactor) sink(p string, s *Sink) *yaml.Node {
	if s == nil {
		return plain("!!null", "null")
	}
	if s.Type == SinkMQTT {
		return r.mqttSink(p, s)
	}
	return mapping(
		"name", r.str(p+".name", s.Name),
		"type", r.str(p+".type", s.Type),
		"cluster", r.str(p+".cluster", s.Cluster),
		"topic", r.str(p+".topic", s.Topic),
		"key", r.opt(p+".key", s.Key),
		"acks", r.str(p+".acks", s.Acks),
		"types", r.list(p+".types", s.Types),
		"event_id", r.eventID(p, s),
		"retry", r.retry(p, s),
		"delivery_timeout", r.dur(p+".delivery_timeout", s.DeliveryTimeout),
		"compression", r.str(p+".compression", s.Compression),
		"max_in_flight", r.num(p+".max_in_flight", s.MaxInFlight))
}

// eventID prints a sink's event_id block as the bridge applies it: when
// MQTT_SET_EVENT_ID or KAFKA_SET_EVENT_ID is involved, inject and field are
// the effective values and a comment says which setting won and why.
func (r *redactor) eventID(p string, s *Sink) *yaml.Node {
	inject, field := s.EventID.Inject, s.EventID.Field
	inj, err := r.c.EventIDInjection(s)
	if err == nil && inj.Env != "" {
		inject, field = true, inj.Field
	}
	n := mapping(
		"inject", r.flag(p+".event_id.inject", inject),
		"field", r.str(p+".event_id.field", field))
	if err == nil && inj.Why != "" && len(n.Content) > 0 {
		n.Content[0].HeadComment = "effective: " + scrub(inj.Why, r.secrets)
	}
	return n
}

// retry prints a sink's retry block.
func (r *redactor) retry(p string, s *Sink) *yaml.Node {
	return mapping(
		"max_attempts", r.maxAttempts(p+".retry.max_attempts", s.Retry.MaxAttempts),
		"initial_backoff", r.dur(p+".retry.initial_backoff", s.Retry.InitialBackoff),
		"max_backoff", r.dur(p+".retry.max_backoff", s.Retry.MaxBackoff))
}

// commented sets n's line comment.
func commented(n *yaml.Node, comment string) *yaml.Node {
	n.LineComment = comment
	return n
}
