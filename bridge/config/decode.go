package config

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Allowed keys per mapping, in documentation order. They are functions, not
// variables, so that the package has no mutable state.
func topKeys() []string {
	return append([]string{"log", "clusters", "registries", "sources", "sinks", "dead_letter", "shutdown_timeout", "commit_interval", "instance_id", "kafka_ws"}, monitorSections()...)
}
func logKeys() []string { return []string{"level", "format"} }
func clusterKeys() []string {
	return []string{"bootstrap_servers", "security_protocol", "sasl", "tls", "client_id", "properties"}
}
func saslKeys() []string { return []string{"mechanism", "username", "password"} }
func tlsKeys() []string {
	return []string{"ca_file", "cert_file", "key_file", "key_password", "insecure_skip_verify"}
}
func registryKeys() []string {
	return []string{"url", "username", "password", "timeout", "ca_file", "insecure_skip_verify"}
}
func sourceKeys() []string {
	return []string{"name", "cluster", "topics", "group_id", "start", "profile", "mapping", "registry", "decode", "owner_id", "sinks", "max_in_flight", "on_incompatible_schema"}
}
func sinkKeys() []string {
	return append([]string{"name", "type", "cluster", "topic", "key", "acks", "types", "event_id", "retry", "delivery_timeout", "compression", "max_in_flight"}, mqttSinkKeys()...)
}
func eventIDKeys() []string    { return []string{"inject", "field"} }
func retryKeys() []string      { return []string{"max_attempts", "initial_backoff", "max_backoff"} }
func deadLetterKeys() []string { return []string{"cluster", "topic"} }

// meta records where every value came from.
type meta struct {
	rootLine   int
	lines      map[string]int      // path -> line of its key (or list item)
	set        map[string]bool     // path had a non-null value
	env        map[string][]string // path -> environment variables its value used
	bad        map[string]bool     // path had a decoding error
	sens       map[string]bool     // path, or a path below it, used a credential-like variable
	envSecrets map[string]bool     // values that came from credential-like variables
}

func newMeta() *meta {
	return &meta{
		rootLine:   1,
		lines:      map[string]int{},
		set:        map[string]bool{},
		env:        map[string][]string{},
		bad:        map[string]bool{},
		sens:       map[string]bool{},
		envSecrets: map[string]bool{},
	}
}

// line returns the line of path or of its nearest recorded ancestor.
func (m *meta) line(path string) int {
	for p := path; ; p = parent(p) {
		if l, ok := m.lines[p]; ok {
			return l
		}
		if p == "" {
			return m.rootLine
		}
	}
}

// isBad reports whether path or an ancestor failed to decode, in which case
// validation stays quiet about it to avoid a second, misleading message.
func (m *meta) isBad(path string) bool {
	for p := path; ; p = parent(p) {
		if m.bad[p] {
			return true
		}
		if p == "" {
			return false
		}
	}
}

// envVars returns the variables that path's value (or an ancestor's) used.
func (m *meta) envVars(path string) []string {
	for p := path; ; p = parent(p) {
		if v := m.env[p]; len(v) > 0 {
			return v
		}
		if p == "" {
			return nil
		}
	}
}

// sensitive reports whether path's value, or part of it, came from a
// credential-like environment variable.
func (m *meta) sensitive(path string) bool { return m.sens[path] }

// recordEnv notes that path's value used vars, marking it and its
// ancestors sensitive if any variable's name looks like a credential.
func (m *meta) recordEnv(path string, vars []string) {
	m.env[path] = vars
	if !slices.ContainsFunc(vars, sensitiveEnv) {
		return
	}
	for p := path; !m.sens[p]; p = parent(p) {
		m.sens[p] = true
		if p == "" {
			break
		}
	}
}

// show renders value for an error message: quoted, or, when it came from
// the environment, only the names of the variables it came from.
func (m *meta) show(path, value string) string {
	if vars := m.envVars(path); len(vars) > 0 {
		return "(value of " + refs(vars) + ")"
	}
	return strconv.Quote(value)
}

func (m *meta) copyEnv(from, to string) {
	if v := m.env[from]; len(v) > 0 {
		m.recordEnv(to, v)
	}
}

func refs(vars []string) string {
	out := make([]string, len(vars))
	for i, v := range vars {
		out[i] = "${" + v + "}"
	}
	return strings.Join(out, ", ")
}

// joinKey appends a mapping key to path: "a.b" for identifier-like keys,
// `a["x.y"]` otherwise.
func joinKey(path, key string) string {
	plain := key != ""
	for i := 0; i < len(key) && plain; i++ {
		c := key[i]
		plain = c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	if !plain {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func joinIndex(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// parent strips the last segment of a path built by joinKey or joinIndex.
func parent(p string) string {
	if strings.HasSuffix(p, "]") {
		for i := len(p) - 2; i >= 0; i-- {
			if p[i] != '[' {
				continue
			}
			inner := p[i+1 : len(p)-1]
			if _, err := strconv.Atoi(inner); err == nil {
				return p[:i]
			}
			if _, err := strconv.Unquote(inner); err == nil && strings.HasPrefix(inner, `"`) {
				return p[:i]
			}
		}
		return ""
	}
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}

// decoder walks the YAML tree against the schema, collecting every error.
type decoder struct {
	file      string
	baseDir   string
	lookup    func(string) (string, bool)
	m         *meta
	errs      []*FieldError
	budget    int
	exhausted bool
}

func (d *decoder) add(line int, path, msg string) {
	d.errs = append(d.errs, &FieldError{File: d.file, Line: line, Path: path, Msg: msg})
	d.m.bad[path] = true
}

// spend charges one node visit against the budget that bounds alias and
// merge expansion ("billion laughs").
func (d *decoder) spend(n *yaml.Node) bool {
	if d.budget <= 0 {
		if !d.exhausted {
			d.exhausted = true
			d.add(n.Line, "", "document too complex: too many alias or merge expansions")
		}
		return false
	}
	d.budget--
	return true
}

// resolve follows aliases; nil if n is nil or the budget is spent.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		if !d.spend(n) {
			return nil
		}
		n = n.Alias
	}
	if n != nil && !d.spend(n) {
		return nil
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a single value"
	default:
		return "an empty value"
	}
}

type pair struct {
	name     string
	key, val *yaml.Node
}

// pairs lists a mapping's entries with YAML merge keys (<<) applied:
// explicit keys win over merged ones, earlier merged mappings over later.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	var out, merged []pair
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !d.spend(k) {
			return out
		}
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Tag == "" || k.Tag == "!" || k.ShortTag() == "!!merge") {
			merged = append(merged, d.mergeSources(v, path)...)
			continue
		}
		rk := d.resolve(k)
		if rk == nil {
			return out
		}
		if rk.Kind != yaml.ScalarNode {
			d.add(k.Line, path, "keys must be single values, got "+kindName(rk))
			continue
		}
		if first, dup := seen[rk.Value]; dup {
			d.add(k.Line, joinKey(path, rk.Value), "duplicate key (first at line "+strconv.Itoa(first)+")")
			continue
		}
		seen[rk.Value] = k.Line
		out = append(out, pair{name: rk.Value, key: k, val: v})
	}
	for _, p := range merged {
		if _, ok := seen[p.name]; !ok {
			seen[p.name] = p.key.Line
			out = append(out, p)
		}
	}
	return out
}

func (d *decoder) mergeSources(v *yaml.Node, path string) []pair {
	rv := d.resolve(v)
	if rv == nil {
		return nil
	}
	switch rv.Kind {
	case yaml.MappingNode:
		return d.pairs(rv, path)
	case yaml.SequenceNode:
		var out []pair
		for _, e := range rv.Content {
			re := d.resolve(e)
			if re == nil {
				return out
			}
			if re.Kind != yaml.MappingNode {
				d.add(e.Line, path, "<< (merge) needs a mapping or a list of mappings, got a list containing "+kindName(re))
				continue
			}
			out = append(out, d.pairs(re, path)...)
		}
		return out
	}
	d.add(v.Line, path, "<< (merge) needs a mapping or a list of mappings, got "+kindName(rv))
	return nil
}

// object decodes a mapping whose keys must be in allowed, calling set for
// each known key. It reports false, without error, for a null value. At the
// top level, keys starting with "x-" are ignored so that they can hold YAML
// anchors for reuse below.
func (d *decoder) object(n *yaml.Node, path string, allowed []string, set func(key, path string, v *yaml.Node)) bool {
	rn := d.resolve(n)
	if isNull(rn) {
		return false
	}
	if rn.Kind != yaml.MappingNode {
		d.add(n.Line, path, "expected a mapping with keys "+strings.Join(allowed, ", ")+"; got "+kindName(rn))
		return false
	}
	for _, p := range d.pairs(rn, path) {
		kp := joinKey(path, p.name)
		if path == "" && strings.HasPrefix(p.name, "x-") {
			continue // extension keys hold YAML anchors and are otherwise ignored
		}
		if !slices.Contains(allowed, p.name) {
			msg := "unknown key"
			if s := suggest(p.name, allowed); s != "" {
				msg += "; did you mean " + strconv.Quote(s) + "?"
			}
			d.add(p.key.Line, kp, msg+" (allowed: "+strings.Join(allowed, ", ")+")")
			continue
		}
		d.m.lines[kp] = p.key.Line
		set(p.name, kp, p.val)
	}
	return true
}

// named decodes a mapping with free-form keys (cluster names, properties).
func (d *decoder) named(n *yaml.Node, path, what string, set func(name, path string, v *yaml.Node)) {
	rn := d.resolve(n)
	if isNull(rn) {
		return
	}
	if rn.Kind != yaml.MappingNode {
		d.add(n.Line, path, "expected a mapping of "+what+"; got "+kindName(rn))
		return
	}
	for _, p := range d.pairs(rn, path) {
		kp := joinKey(path, p.name)
		d.m.lines[kp] = p.key.Line
		set(p.name, kp, p.val)
	}
}

// list decodes a sequence, calling item for each element.
func (d *decoder) list(n *yaml.Node, path, example string, item func(i int, path string, v *yaml.Node)) bool {
	rn := d.resolve(n)
	if isNull(rn) {
		return false
	}
	if rn.Kind != yaml.SequenceNode {
		d.add(n.Line, path, "expected a list ("+example+"); got "+kindName(rn))
		return false
	}
	d.m.set[path] = true
	for i, e := range rn.Content {
		ip := joinIndex(path, i)
		d.m.lines[ip] = e.Line
		item(i, ip, e)
	}
	return true
}

// scalar returns the expanded value of a scalar; false for null, on a type
// error or on an expansion error (both reported).
func (d *decoder) scalar(n *yaml.Node, path string) (string, bool) {
	rn := d.resolve(n)
	if isNull(rn) {
		return "", false
	}
	if rn.Kind != yaml.ScalarNode {
		d.add(n.Line, path, "expected a single value; got "+kindName(rn))
		return "", false
	}
	x := expand(rn.Value, d.lookup)
	if len(x.vars) > 0 {
		d.m.recordEnv(path, x.vars)
		for _, name := range x.vars {
			if sensitiveEnv(name) {
				d.m.envSecrets[x.value] = true
				if v, ok := d.lookup(name); ok {
					d.m.envSecrets[v] = true
				}
			}
		}
	}
	for _, e := range x.errs {
		d.add(n.Line, path, e)
	}
	if len(x.errs) > 0 {
		return "", false
	}
	d.m.set[path] = true
	return x.value, true
}

func (d *decoder) str(n *yaml.Node, path string, dst *string, canon func(string) string) {
	if v, ok := d.scalar(n, path); ok {
		if canon != nil {
			v = canon(v)
		}
		*dst = v
	}
}

func (d *decoder) secret(n *yaml.Node, path string, dst *Secret) {
	if v, ok := d.scalar(n, path); ok {
		*dst = Secret(v)
	}
}

// filePath decodes a file name, resolving a relative one against the directory of
// the configuration file.
func (d *decoder) filePath(n *yaml.Node, path string, dst *string) {
	if v, ok := d.scalar(n, path); ok {
		if v != "" && d.baseDir != "" && !filepath.IsAbs(v) {
			v = filepath.Join(d.baseDir, v)
		}
		*dst = v
	}
}

func (d *decoder) integer(n *yaml.Node, path string, dst *int) {
	v, ok := d.scalar(n, path)
	if !ok {
		return
	}
	i, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		d.add(n.Line, path, "expected an integer; got "+d.m.show(path, v))
		return
	}
	*dst = i
}

// maxAttempts reads a retry.max_attempts: an integer of at least 1, or
// "unlimited" (UnlimitedAttempts).
func (d *decoder) maxAttempts(n *yaml.Node, path string, dst *int) {
	v, ok := d.scalar(n, path)
	if !ok {
		return
	}
	v = strings.TrimSpace(v)
	if strings.EqualFold(v, UnlimitedText) {
		*dst = UnlimitedAttempts
		return
	}
	i, err := strconv.Atoi(v)
	if err != nil || i < 1 {
		d.add(n.Line, path, "expected an integer of at least 1 (1 means no retry) or "+UnlimitedText+"; got "+d.m.show(path, v))
		return
	}
	*dst = i
}

func (d *decoder) boolean(n *yaml.Node, path string, dst *bool) {
	v, ok := d.scalar(n, path)
	if !ok {
		return
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		*dst = true
	case "false":
		*dst = false
	default:
		d.add(n.Line, path, "expected true or false; got "+d.m.show(path, v))
	}
}

func (d *decoder) duration(n *yaml.Node, path string, dst *time.Duration) {
	v, ok := d.scalar(n, path)
	if !ok {
		return
	}
	t, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil {
		d.add(n.Line, path, "expected a duration with a unit such as \"250ms\", \"30s\" or \"1m\"; got "+d.m.show(path, v))
		return
	}
	*dst = t
}

func (d *decoder) strList(n *yaml.Node, path, example string, dst *[]string) {
	out := []string{}
	if d.list(n, path, example, func(_ int, ip string, v *yaml.Node) {
		s, _ := d.scalar(v, ip)
		out = append(out, s)
	}) {
		*dst = out
	}
}

// servers decodes bootstrap_servers: a comma-separated string or a list.
func (d *decoder) servers(n *yaml.Node, path string, dst *[]string) {
	rn := d.resolve(n)
	if rn != nil && rn.Kind == yaml.SequenceNode {
		d.strList(n, path, `e.g. ["host1:9092", "host2:9092"]`, dst)
		return
	}
	if v, ok := d.scalar(n, path); ok {
		parts := strings.Split(v, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		*dst = parts
	}
}

func (d *decoder) config(root *yaml.Node) *Config {
	c := &Config{Clusters: map[string]*Cluster{}, Registries: map[string]*Registry{}}
	d.m.rootLine = max(root.Line, 1)
	d.object(root, "", topKeys(), func(k, p string, v *yaml.Node) {
		switch k {
		case "log":
			d.object(v, p, logKeys(), func(k, p string, v *yaml.Node) {
				switch k {
				case "level":
					d.str(v, p, &c.Log.Level, strings.ToLower)
				case "format":
					d.str(v, p, &c.Log.Format, strings.ToLower)
				}
			})
		case "clusters":
			d.named(v, p, "cluster names to connections", func(name, p string, v *yaml.Node) {
				c.Clusters[name] = d.cluster(name, p, v)
			})
		case "registries":
			d.named(v, p, "registry names to registries", func(name, p string, v *yaml.Node) {
				c.Registries[name] = d.registry(name, p, v)
			})
		case "sources":
			d.list(v, p, "one mapping per source", func(_ int, p string, v *yaml.Node) {
				c.Sources = append(c.Sources, d.source(p, v))
			})
		case "sinks":
			d.list(v, p, "one mapping per sink", func(_ int, p string, v *yaml.Node) {
				c.Sinks = append(c.Sinks, d.sink(p, v))
			})
		case "dead_letter":
			c.DeadLetter.Line = d.m.lines[p]
			d.object(v, p, deadLetterKeys(), func(k, p string, v *yaml.Node) {
				switch k {
				case "cluster":
					d.str(v, p, &c.DeadLetter.Cluster, nil)
				case "topic":
					d.str(v, p, &c.DeadLetter.Topic, nil)
				}
			})
		case "shutdown_timeout":
			d.duration(v, p, &c.ShutdownTimeout)
		case "commit_interval":
			d.duration(v, p, &c.CommitInterval)
		case "instance_id":
			d.str(v, p, &c.InstanceID, nil)
			c.InstanceIDFrom = InstanceIDFromConfig
		case "kafka_ws":
			c.KafkaWS = d.kafkaWS(p, v)
		}
		if isMonitorSection(k) {
			d.monitorSection(c, k, p, v)
		}
	})
	return c
}

func (d *decoder) cluster(name, path string, n *yaml.Node) *Cluster {
	cl := &Cluster{Name: name, Line: d.m.lines[path]}
	d.object(n, path, clusterKeys(), func(k, p string, v *yaml.Node) {
		switch k {
		case "bootstrap_servers":
			d.servers(v, p, &cl.BootstrapServers)
		case "security_protocol":
			d.str(v, p, &cl.SecurityProtocol, strings.ToUpper)
		case "sasl":
			s := &SASL{}
			if d.object(v, p, saslKeys(), func(k, p string, v *yaml.Node) {
				switch k {
				case "mechanism":
					d.str(v, p, &s.Mechanism, strings.ToUpper)
				case "username":
					d.str(v, p, &s.Username, nil)
				case "password":
					d.secret(v, p, &s.Password)
				}
			}) {
				cl.SASL = s
			}
		case "tls":
			t := &TLS{}
			if d.object(v, p, tlsKeys(), func(k, p string, v *yaml.Node) {
				switch k {
				case "ca_file":
					d.filePath(v, p, &t.CAFile)
				case "cert_file":
					d.filePath(v, p, &t.CertFile)
				case "key_file":
					d.filePath(v, p, &t.KeyFile)
				case "key_password":
					d.secret(v, p, &t.KeyPassword)
				case "insecure_skip_verify":
					d.boolean(v, p, &t.InsecureSkipVerify)
				}
			}) {
				cl.TLS = t
			}
		case "client_id":
			d.str(v, p, &cl.ClientID, nil)
		case "properties":
			props := Properties{}
			d.named(v, p, "librdkafka property names to values", func(key, p string, v *yaml.Node) {
				if s, ok := d.scalar(v, p); ok {
					props[key] = s
				}
			})
			cl.Properties = props
		}
	})
	return cl
}

func (d *decoder) registry(name, path string, n *yaml.Node) *Registry {
	r := &Registry{Name: name, Line: d.m.lines[path]}
	d.object(n, path, registryKeys(), func(k, p string, v *yaml.Node) {
		switch k {
		case "url":
			d.str(v, p, &r.URL, strings.TrimSpace)
		case "username":
			d.str(v, p, &r.Username, nil)
		case "password":
			d.secret(v, p, &r.Password)
		case "timeout":
			d.duration(v, p, &r.Timeout)
		case "ca_file":
			d.filePath(v, p, &r.CAFile)
		case "insecure_skip_verify":
			d.boolean(v, p, &r.InsecureSkipVerify)
		}
	})
	return r
}

func (d *decoder) source(path string, n *yaml.Node) *Source {
	s := &Source{Line: d.m.lines[path]}
	d.object(n, path, sourceKeys(), func(k, p string, v *yaml.Node) {
		switch k {
		case "name":
			d.str(v, p, &s.Name, nil)
		case "cluster":
			d.str(v, p, &s.Cluster, nil)
		case "topics":
			d.strList(v, p, "e.g. [topic-a, topic-b]", &s.Topics)
		case "group_id":
			d.str(v, p, &s.GroupID, nil)
		case "start":
			d.str(v, p, &s.Start, strings.ToLower)
		case "profile":
			d.str(v, p, &s.Profile, strings.ToLower)
		case "registry":
			d.str(v, p, &s.Registry, nil)
		case "decode":
			d.str(v, p, &s.Decode, strings.ToLower)
		case "owner_id":
			d.str(v, p, &s.OwnerID, nil)
		case "mapping":
			d.filePath(v, p, &s.Mapping)
		case "sinks":
			d.strList(v, p, "e.g. [gt-kafka]", &s.Sinks)
		case "max_in_flight":
			d.integer(v, p, &s.MaxInFlight)
		case "on_incompatible_schema":
			d.str(v, p, &s.OnIncompatibleSchema, strings.ToLower)
		}
	})
	return s
}

func canonAcks(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "-1" {
		return "all"
	}
	return s
}

func (d *decoder) sink(path string, n *yaml.Node) *Sink {
	s := &Sink{Line: d.m.lines[path]}
	d.object(n, path, sinkKeys(), func(k, p string, v *yaml.Node) {
		switch k {
		case "name":
			d.str(v, p, &s.Name, nil)
		case "type":
			d.str(v, p, &s.Type, strings.ToLower)
		case "cluster":
			d.str(v, p, &s.Cluster, nil)
		case "topic":
			d.str(v, p, &s.Topic, nil)
		case "key":
			d.str(v, p, &s.Key, nil)
		case "acks":
			d.str(v, p, &s.Acks, canonAcks)
		case "types":
			d.strList(v, p, "e.g. [asset, location]", &s.Types)
			for i := range s.Types {
				s.Types[i] = strings.ToLower(s.Types[i])
			}
		case "event_id":
			d.object(v, p, eventIDKeys(), func(k, p string, v *yaml.Node) {
				switch k {
				case "inject":
					d.boolean(v, p, &s.EventID.Inject)
				case "field":
					d.str(v, p, &s.EventID.Field, nil)
				}
			})
		case "retry":
			d.object(v, p, retryKeys(), func(k, p string, v *yaml.Node) {
				switch k {
				case "max_attempts":
					d.maxAttempts(v, p, &s.Retry.MaxAttempts)
				case "initial_backoff":
					d.duration(v, p, &s.Retry.InitialBackoff)
				case "max_backoff":
					d.duration(v, p, &s.Retry.MaxBackoff)
				}
			})
		case "delivery_timeout":
			d.duration(v, p, &s.DeliveryTimeout)
		case "compression":
			d.str(v, p, &s.Compression, strings.ToLower)
		case "max_in_flight":
			d.integer(v, p, &s.MaxInFlight)
		default:
			d.mqttSinkKey(s, k, p, v)
		}
	})
	return s
}

// applyDefaults fills absent keys (and empty strings) with their defaults.
// An explicitly given zero number or duration is kept for Validate to reject.
func (c *Config) applyDefaults() {
	m := c.meta
	if m == nil {
		m = newMeta()
	}
	absent := func(path string) bool { return !m.set[path] }
	str := func(dst *string, def string) {
		if *dst == "" {
			*dst = def
		}
	}
	num := func(path string, dst *int, def int) {
		if *dst == 0 && absent(path) {
			*dst = def
		}
	}
	dur := func(path string, dst *time.Duration, def time.Duration) {
		if *dst == 0 && absent(path) {
			*dst = def
		}
	}
	str(&c.Log.Level, DefaultLogLevel)
	str(&c.Log.Format, DefaultLogFormat)
	for _, cl := range c.Clusters {
		if cl == nil {
			continue
		}
		str(&cl.SecurityProtocol, ProtocolPlaintext)
		if cl.SASL != nil {
			str(&cl.SASL.Mechanism, MechanismPlain)
		}
		str(&cl.ClientID, DefaultClientID)
	}
	for name, r := range c.Registries {
		if r != nil {
			dur(joinKey(joinKey("registries", name), "timeout"), &r.Timeout, DefaultRegistryTimeout)
		}
	}
	var sinkNames []string
	for _, s := range c.Sinks {
		if s != nil {
			sinkNames = append(sinkNames, s.Name)
		}
	}
	for i, s := range c.Sources {
		if s == nil {
			continue
		}
		p := joinIndex("sources", i)
		if s.GroupID == "" && s.Name != "" {
			s.GroupID = DefaultGroupIDPrefix + s.Name
			m.copyEnv(p+".name", p+".group_id")
		}
		str(&s.Start, StartCommitted)
		if s.Profile == ProfileMapping {
			// The format comes from the mapping file, compiled by validate.
		} else if ProfileIsAvro(s.Profile) {
			str(&s.Decode, DecodePinned)
			str(&s.OnIncompatibleSchema, OnIncompatibleDeadLetter)
		}
		num(p+".max_in_flight", &s.MaxInFlight, DefaultSourceInFlight)
		if len(s.Sinks) == 0 && absent(p+".sinks") && len(sinkNames) > 0 {
			s.Sinks = slices.Clone(sinkNames)
			for j := range c.Sinks {
				m.copyEnv(joinIndex("sinks", j)+".name", joinIndex(p+".sinks", j))
			}
		}
	}
	for i, s := range c.Sinks {
		if s == nil {
			continue
		}
		p := joinIndex("sinks", i)
		str(&s.Acks, DefaultAcks)
		str(&s.Compression, DefaultCompression)
		str(&s.EventID.Field, DefaultEventIDField)
		num(p+".retry.max_attempts", &s.Retry.MaxAttempts, DefaultMaxAttempts)
		dur(p+".retry.initial_backoff", &s.Retry.InitialBackoff, DefaultInitialBackoff)
		dur(p+".retry.max_backoff", &s.Retry.MaxBackoff, DefaultMaxBackoff)
		dur(p+".delivery_timeout", &s.DeliveryTimeout, DefaultDeliveryTimeout)
		num(p+".max_in_flight", &s.MaxInFlight, DefaultSinkInFlight)
		if len(s.Types) == 0 && absent(p+".types") {
			s.Types = ObjectTypes()
		}
		c.applyMQTTDefaults(p, s)
	}
	c.kafkaWSDefaults(m)
	dur("shutdown_timeout", &c.ShutdownTimeout, DefaultShutdownTimeout)
	dur("commit_interval", &c.CommitInterval, DefaultCommitInterval)
	c.applyMonitorDefaults(m)
}
