package config

import (
	"errors"
	"fmt"
	"github.com/telebridge/telebridge/bridge/profile"
	"io/fs"
	"maps"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Validate checks the configuration without connecting anywhere: required
// keys, allowed values, references between clusters, registries, sources
// and sinks, topic names, that TLS and CA files exist and are readable,
// that a Kafka key path addresses a field of a type routed to its sink, and
// the eventId injection the MQTT_SET_EVENT_ID and KAFKA_SET_EVENT_ID
// environment variables turn on (read as the bridge reads them, see
// EventIDInjection), which must not clash with a field of a routed type.
// It returns nil or an *Errors listing every problem with its key path and
// what is allowed. Load and Parse already call it; call it again after
// changing a Config in code. It does not apply defaults.
func (c *Config) Validate() error {
	if c == nil {
		return &Errors{List: []*FieldError{{Msg: "no configuration"}}}
	}
	if errs := c.validate(); len(errs) > 0 {
		return c.finish(errs)
	}
	return nil
}

type validator struct {
	c    *Config
	m    *meta
	errs []*FieldError
}

func (c *Config) validate() []*FieldError {
	v := &validator{c: c, m: c.meta}
	if v.m == nil {
		v.m = newMeta()
		v.m.rootLine = 0
	}
	v.log()
	v.clusters()
	v.registries()
	v.sources()
	v.sinks()
	v.routing()
	v.deadLetter()
	v.kafkaWS()
	v.positive("shutdown_timeout", int64(c.ShutdownTimeout), "a duration above 0, e.g. 30s")
	v.positive("commit_interval", int64(c.CommitInterval), "a duration above 0, e.g. 1s")
	if c.InstanceID != "" {
		if p := topicProblem(c.InstanceID); p != "" {
			where := "instance_id"
			if c.InstanceIDFrom == InstanceIDFromEnv {
				where += " (from " + InstanceIDEnv + ")"
			}
			v.add("instance_id", "%s %s %s (Kafka's rule for group.instance.id); give each instance a name such as its pod name", where, v.show("instance_id", c.InstanceID), p)
		}
	}
	v.loops()
	v.monitor()
	return v.errs
}

// add records a problem at path unless decoding already reported one there.
func (v *validator) add(path, format string, args ...any) {
	if v.m.isBad(path) {
		return
	}
	v.errs = append(v.errs, &FieldError{File: v.c.File, Line: v.m.line(path), Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) show(path, value string) string { return v.m.show(path, value) }

// enum checks value against allowed, suggesting the closest match.
func (v *validator) enum(path, value string, allowed []string) bool {
	if value == "" {
		v.add(path, "required (allowed: %s)", strings.Join(allowed, ", "))
		return false
	}
	if slices.Contains(allowed, value) {
		return true
	}
	msg := "invalid value " + v.show(path, value)
	if len(v.m.envVars(path)) == 0 {
		if s := suggest(value, allowed); s != "" {
			msg += "; did you mean " + strconv.Quote(s) + "?"
		}
	}
	v.add(path, "%s (allowed: %s)", msg, strings.Join(allowed, ", "))
	return false
}

// ref checks that value names one of defined (what: "cluster", ...).
func (v *validator) ref(path, value, what string, defined []string, shown []string) bool {
	if value == "" {
		v.add(path, "required: the name of a %s (defined: %s)", what, orNone(shown))
		return false
	}
	if slices.Contains(defined, value) {
		return true
	}
	msg := "unknown " + what + " " + v.show(path, value)
	if len(v.m.envVars(path)) == 0 {
		if s := suggest(value, defined); s != "" {
			if i := slices.Index(defined, s); i >= 0 && i < len(shown) && shown[i] == s {
				msg += "; did you mean " + strconv.Quote(s) + "?"
			}
		}
	}
	v.add(path, "%s (defined: %s)", msg, orNone(shown))
	return false
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

func (v *validator) positive(path string, n int64, want string) {
	if n <= 0 {
		v.add(path, "must be %s", want)
	}
}

// name checks a source, sink, cluster or registry name.
func (v *validator) name(path, name, what string) bool {
	if name == "" {
		v.add(path, "required: a %s name of lowercase letters, digits, _ and -", what)
		return false
	}
	if !validName(name) {
		v.add(path, "invalid %s name %s: use lowercase letters, digits, _ and -", what, v.show(path, name))
		return false
	}
	return true
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// topicProblem returns why t is not a legal Kafka topic name, or "".
func topicProblem(t string) string {
	switch {
	case t == "":
		return "is empty"
	case t == "." || t == "..":
		return "may not be \".\" or \"..\""
	case len(t) > maxTopicLength:
		return "is longer than " + strconv.Itoa(maxTopicLength) + " characters"
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return "contains characters other than letters, digits, '.', '_' and '-'"
		}
	}
	return ""
}

func (v *validator) topic(path, t string) bool {
	if t == "" {
		v.add(path, "required: a Kafka topic name")
		return false
	}
	if p := topicProblem(t); p != "" {
		v.add(path, "topic %s %s", v.show(path, t), p)
		return false
	}
	return true
}

func identifier(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// fieldPath reports whether s is a dotted payload path such as data.vin.
func fieldPath(s string) bool {
	for _, seg := range strings.Split(s, ".") {
		if !identifier(seg) {
			return false
		}
	}
	return true
}

// readable checks that a file exists and can be opened for reading.
func (v *validator) readable(path, name string) {
	if name == "" {
		return
	}
	f, err := os.Open(name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		v.add(path, "cannot read %s: %v", v.show(path, name), err)
		return
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		v.add(path, "%s is a directory, not a file", v.show(path, name))
	}
}

func (v *validator) log() {
	v.enum("log.level", v.c.Log.Level, []string{"debug", "info", "warn", "error"})
	v.enum("log.format", v.c.Log.Format, []string{"console", "json"})
}

func protocols() []string {
	return []string{ProtocolPlaintext, ProtocolSSL, ProtocolSASLPlaintext, ProtocolSASLSSL}
}

func (v *validator) clusters() {
	if len(v.c.Clusters) == 0 {
		v.add("clusters", "at least one cluster is required (a name mapped to bootstrap_servers and security settings)")
	}
	for _, name := range slices.Sorted(maps.Keys(v.c.Clusters)) {
		p := joinKey("clusters", name)
		cl := v.c.Clusters[name]
		if cl == nil {
			v.add(p, "is empty: set bootstrap_servers")
			continue
		}
		if !validName(name) {
			v.add(p, "invalid cluster name %q: use lowercase letters, digits, _ and -", name)
		}
		v.cluster(p, cl)
	}
}

func (v *validator) cluster(p string, cl *Cluster) {
	bs := p + ".bootstrap_servers"
	if len(cl.BootstrapServers) == 0 {
		v.add(bs, "required: host:port of one or more brokers, as a comma-separated string or a list")
	}
	for i, hp := range cl.BootstrapServers {
		ip := bs
		if _, ok := v.m.lines[joinIndex(bs, i)]; ok {
			ip = joinIndex(bs, i)
		}
		if hp == "" {
			v.add(ip, "empty broker address: want host:port")
			continue
		}
		host, port, err := net.SplitHostPort(hp)
		n, perr := strconv.Atoi(port)
		if err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			v.add(ip, "invalid broker address %s: want host:port, e.g. broker1:9092", v.show(ip, hp))
		}
	}
	proto := cl.SecurityProtocol
	okProto := v.enum(p+".security_protocol", proto, protocols())
	isSASL := proto == ProtocolSASLPlaintext || proto == ProtocolSASLSSL
	usesTLS := proto == ProtocolSSL || proto == ProtocolSASLSSL
	switch {
	case okProto && isSASL && cl.SASL == nil:
		v.add(p+".sasl", "required with security_protocol %s: set mechanism (%s), username and password", proto, strings.Join(mechanisms(), ", "))
	case okProto && !isSASL && cl.SASL != nil:
		v.add(p+".sasl", "not allowed with security_protocol %s: use SASL_SSL (or SASL_PLAINTEXT) to authenticate, or remove sasl", proto)
	case cl.SASL != nil:
		sp := p + ".sasl"
		v.enum(sp+".mechanism", cl.SASL.Mechanism, mechanisms())
		if cl.SASL.Username == "" {
			v.add(sp+".username", "required with SASL")
		}
		if cl.SASL.Password == "" {
			v.add(sp+".password", "required with SASL (use ${VAR} to read it from the environment)")
		}
	}
	if t := cl.TLS; t != nil {
		tp := p + ".tls"
		if okProto && !usesTLS {
			v.add(tp, "not allowed with security_protocol %s, which does not use TLS: use SSL or SASL_SSL, or remove tls", proto)
		} else {
			switch {
			case t.CertFile != "" && t.KeyFile == "":
				v.add(tp+".key_file", "required with cert_file: client certificates need both cert_file and key_file")
			case t.KeyFile != "" && t.CertFile == "":
				v.add(tp+".cert_file", "required with key_file: client certificates need both cert_file and key_file")
			}
			if t.KeyPassword != "" && t.KeyFile == "" {
				v.add(tp+".key_password", "only allowed with key_file")
			}
			v.readable(tp+".ca_file", t.CAFile)
			v.readable(tp+".cert_file", t.CertFile)
			v.readable(tp+".key_file", t.KeyFile)
		}
	}
	if cl.ClientID == "" {
		v.add(p+".client_id", "must not be empty")
	}
	for _, key := range slices.Sorted(maps.Keys(cl.Properties)) {
		if use := managedProperty(p, key); use != "" {
			v.add(joinKey(p+".properties", key), "not allowed: it overrides a setting telebridge manages; use %s instead", use)
		}
	}
}

func mechanisms() []string {
	return []string{MechanismPlain, MechanismSCRAMSHA256, MechanismSCRAMSHA512}
}

// managedProperty returns the configuration field to use instead of the
// librdkafka property key, or "" if the property may be set freely.
func managedProperty(clusterPath, key string) string {
	k := strings.ToLower(strings.TrimSpace(key))
	switch k {
	case "bootstrap.servers", "metadata.broker.list":
		return clusterPath + ".bootstrap_servers"
	case "security.protocol":
		return clusterPath + ".security_protocol"
	case "sasl.mechanism", "sasl.mechanisms":
		return clusterPath + ".sasl.mechanism"
	case "sasl.username":
		return clusterPath + ".sasl.username"
	case "sasl.password":
		return clusterPath + ".sasl.password"
	case "ssl.ca.location":
		return clusterPath + ".tls.ca_file"
	case "ssl.certificate.location":
		return clusterPath + ".tls.cert_file"
	case "ssl.key.location":
		return clusterPath + ".tls.key_file"
	case "ssl.key.password":
		return clusterPath + ".tls.key_password"
	case "ssl.endpoint.identification.algorithm", "enable.ssl.certificate.verification":
		return clusterPath + ".tls.insecure_skip_verify"
	case "client.id":
		return clusterPath + ".client_id"
	case "group.id":
		return "sources[].group_id"
	case "group.instance.id":
		return "instance_id"
	case "auto.offset.reset":
		return "sources[].start"
	case "enable.auto.commit", "enable.auto.offset.store":
		return "commit_interval (offsets are committed only after delivery)"
	case "acks", "request.required.acks", "enable.idempotence":
		return "sinks[].acks (acks: all enables the idempotent producer)"
	case "partitioner":
		return "sinks[].key"
	case "message.timeout.ms", "delivery.timeout.ms":
		return "sinks[].delivery_timeout"
	case "compression.codec", "compression.type":
		return "sinks[].compression"
	}
	switch {
	case strings.HasPrefix(k, "sasl."):
		return clusterPath + ".sasl (mechanism, username, password)"
	case strings.HasPrefix(k, "ssl."):
		return clusterPath + ".tls"
	}
	return ""
}

func (v *validator) registries() {
	for _, name := range slices.Sorted(maps.Keys(v.c.Registries)) {
		p := joinKey("registries", name)
		r := v.c.Registries[name]
		if r == nil {
			v.add(p, "is empty: set url")
			continue
		}
		if !validName(name) {
			v.add(p, "invalid registry name %q: use lowercase letters, digits, _ and -", name)
		}
		v.registry(p, r)
	}
}

func (v *validator) registry(p string, r *Registry) {
	up := p + ".url"
	https := false
	// The URL is never echoed: it could carry credentials.
	switch u, err := url.Parse(r.URL); {
	case r.URL == "":
		v.add(up, "required: the registry's http:// or https:// URL")
	case err != nil:
		v.add(up, "not a valid URL: want http(s)://host[:port][/path]")
	case u.User != nil:
		v.add(up, "must not contain credentials: use username and password")
	case u.Scheme != "http" && u.Scheme != "https":
		v.add(up, "scheme must be http or https")
	case u.Host == "":
		v.add(up, "has no host: want http(s)://host[:port][/path]")
	case u.RawQuery != "" || u.Fragment != "" || strings.Contains(r.URL, "?"):
		v.add(up, "must not contain a query or fragment")
	default:
		https = u.Scheme == "https"
	}
	switch {
	case r.Username != "" && r.Password == "":
		v.add(p+".password", "required with username (basic auth needs both)")
	case r.Username == "" && r.Password != "":
		v.add(p+".username", "required with password (basic auth needs both)")
	}
	v.positive(p+".timeout", int64(r.Timeout), "a duration above 0, e.g. 10s")
	if r.URL != "" && !https && !v.m.isBad(up) {
		if r.CAFile != "" {
			v.add(p+".ca_file", "only allowed with an https url")
		}
		if r.InsecureSkipVerify {
			v.add(p+".insecure_skip_verify", "only allowed with an https url")
		}
	}
	v.readable(p+".ca_file", r.CAFile)
}

func (v *validator) clusterNames() []string  { return slices.Sorted(maps.Keys(v.c.Clusters)) }
func (v *validator) registryNames() []string { return slices.Sorted(maps.Keys(v.c.Registries)) }

// sinkNames returns the sinks' names and their displayable form (names
// that came from the environment are not shown).
func (v *validator) sinkNames() (names, shown []string) {
	for i, s := range v.c.Sinks {
		if s == nil || s.Name == "" {
			continue
		}
		names = append(names, s.Name)
		if vars := v.m.envVars(joinIndex("sinks", i) + ".name"); len(vars) > 0 {
			shown = append(shown, "(value of "+refs(vars)+")")
		} else {
			shown = append(shown, s.Name)
		}
	}
	return names, shown
}

func (v *validator) sources() {
	if len(v.c.Sources) == 0 && !v.c.onlyKafkaWS() {
		v.add("sources", "at least one source is required (or only a kafka_ws section)")
	}
	names := map[string]int{}
	groups := map[[2]string]int{}
	clusters := v.clusterNames()
	regs := v.registryNames()
	sinkNames, sinkShown := v.sinkNames()
	for i, s := range v.c.Sources {
		p := joinIndex("sources", i)
		if s == nil {
			v.add(p, "is empty")
			continue
		}
		if v.name(p+".name", s.Name, "source") {
			if j, dup := names[s.Name]; dup {
				v.add(p+".name", "duplicate: sources[%d] has the same name", j)
			} else {
				names[s.Name] = i
			}
		}
		v.ref(p+".cluster", s.Cluster, "cluster", clusters, clusters)
		tp := p + ".topics"
		if len(s.Topics) == 0 {
			v.add(tp, "required: one or more topics to consume")
		}
		for j, t := range s.Topics {
			ip := joinIndex(tp, j)
			if v.topic(ip, t) && slices.Index(s.Topics, t) < j {
				v.add(ip, "duplicate topic %s", v.show(ip, t))
			}
		}
		if s.GroupID == "" {
			v.add(p+".group_id", "must not be empty")
		} else if s.Cluster != "" {
			g := [2]string{s.Cluster, s.GroupID}
			if j, dup := groups[g]; dup {
				v.add(p+".group_id", "also used by sources[%d] on the same cluster: each source needs its own consumer group", j)
			} else {
				groups[g] = i
			}
		}
		v.enum(p+".start", s.Start, []string{StartCommitted, StartEarliest, StartLatest})
		if s.Profile != ProfileMapping && s.Mapping != "" {
			v.add(p+".mapping", "only allowed with profile mapping")
		}
		if v.enum(p+".profile", s.Profile, Profiles()) {
			if s.Profile == ProfileMapping {
				v.mapping(p, s, regs)
			} else if ProfileIsAvro(s.Profile) {
				v.ref(p+".registry", s.Registry, "registry", regs, regs)
				v.enum(p+".decode", s.Decode, []string{DecodePinned, DecodeWriter})
				v.enum(p+".on_incompatible_schema", s.OnIncompatibleSchema, []string{OnIncompatibleDeadLetter, OnIncompatibleStop})
			} else {
				if s.Registry != "" {
					v.add(p+".registry", "not allowed with profile %s, which decodes JSON: remove it", s.Profile)
				}
				if s.Decode != "" {
					v.add(p+".decode", "not allowed with profile %s, which decodes JSON: remove it", s.Profile)
				}
				if s.OnIncompatibleSchema != "" {
					v.add(p+".on_incompatible_schema", "not allowed with profile %s, which decodes JSON: remove it", s.Profile)
				}
			}
		}
		sp := p + ".sinks"
		if len(s.Sinks) == 0 && len(v.c.Sinks) > 0 {
			v.add(sp, "must name at least one sink; omit sinks to route to every sink (defined: %s)", orNone(sinkShown))
		}
		for j, name := range s.Sinks {
			ip := joinIndex(sp, j)
			if v.ref(ip, name, "sink", sinkNames, sinkShown) && slices.Index(s.Sinks, name) < j {
				v.add(ip, "duplicate sink %s", v.show(ip, name))
			}
		}
		v.positive(p+".max_in_flight", int64(s.MaxInFlight), "an integer above 0 (records per partition before it is paused)")
	}
}

func (v *validator) sinks() {
	if len(v.c.Sinks) == 0 && !v.c.onlyKafkaWS() {
		v.add("sinks", "at least one sink is required (or only a kafka_ws section)")
	}
	names := map[string]int{}
	for i, s := range v.c.Sinks {
		p := joinIndex("sinks", i)
		if s == nil {
			v.add(p, "is empty")
			continue
		}
		if v.name(p+".name", s.Name, "sink") {
			if j, dup := names[s.Name]; dup {
				v.add(p+".name", "duplicate: sinks[%d] has the same name", j)
			} else {
				names[s.Name] = i
			}
		}
		switch s.Type {
		case SinkKafka:
			v.kafkaSink(p, s)
		case SinkMQTT:
			v.mqttSink(p, s)
		case "":
			v.add(p+".type", "required (allowed: %s, %s)", SinkKafka, SinkMQTT)
		default:
			v.add(p+".type", "unsupported sink type %s; allowed: %s, %s", v.show(p+".type", s.Type), SinkKafka, SinkMQTT)
		}
	}
}

func (v *validator) kafkaSink(p string, s *Sink) {
	v.rejectKeys(p, s, mqttSinkKeys(), SinkMQTT)
	clusters := v.clusterNames()
	v.ref(p+".cluster", s.Cluster, "cluster", clusters, clusters)

	tyPath := p + ".types"
	types := s.Types
	if len(types) == 0 {
		v.add(tyPath, "must list at least one type; omit types to receive all (allowed: %s)", strings.Join(ObjectTypes(), ", "))
	}
	for j, t := range types {
		ip := joinIndex(tyPath, j)
		if v.enum(ip, t, ObjectTypes()) && slices.Index(types, t) < j {
			v.add(ip, "duplicate type %s", v.show(ip, t))
		}
	}

	tp := p + ".topic"
	switch {
	case s.Topic == "":
		v.add(tp, "required: a topic name, or a template containing {type} (e.g. globe-tracker.events.{type})")
	case placeholderProblem(s.Topic) != "":
		v.add(tp, "%s in topic %s (allowed: {type})", placeholderProblem(s.Topic), v.show(tp, s.Topic))
	default:
		for _, t := range ObjectTypes() {
			name := s.TopicFor(t)
			if prob := topicProblem(name); prob != "" {
				v.add(tp, "topic %s %s", v.show(tp, name), prob)
				break
			}
		}
	}
	if s.Key != "" && !fieldPath(s.Key) {
		v.add(p+".key", "invalid payload field path %s: want dotted identifiers such as assetId or data.vin", v.show(p+".key", s.Key))
	}
	v.enum(p+".acks", s.Acks, []string{"all", "1", "0"})
	v.sinkDelivery(p, s)
	v.enum(p+".compression", s.Compression, []string{"none", "gzip", "snappy", "lz4", "zstd"})
	v.positive(p+".max_in_flight", int64(s.MaxInFlight), "an integer above 0 (messages awaiting acknowledgement)")
}

// placeholderProblem returns what is wrong with {...} placeholders in a
// topic template, or "".
func placeholderProblem(t string) string {
	for rest := t; ; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			return ""
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return "unterminated {"
		}
		if ph := rest[i : i+j+1]; ph != TopicTypePlaceholder {
			return "unknown placeholder"
		}
		rest = rest[i+j+1:]
	}
}

func (v *validator) deadLetter() {
	dl := v.c.DeadLetter
	if dl.Cluster == "" && dl.Topic == "" && !v.m.set["dead_letter.cluster"] && !v.m.set["dead_letter.topic"] {
		if v.c.onlyKafkaWS() {
			return
		}
		v.add("dead_letter", "required: set cluster and topic for poison input and undeliverable objects")
		return
	}
	clusters := v.clusterNames()
	v.ref("dead_letter.cluster", dl.Cluster, "cluster", clusters, clusters)
	v.topic("dead_letter.topic", dl.Topic)
}

// sameCluster reports whether two cluster names reach the same brokers.
func (v *validator) sameCluster(a, b string) bool {
	if a == b {
		return true
	}
	ca, cb := v.c.Clusters[a], v.c.Clusters[b]
	if ca == nil || cb == nil || len(ca.BootstrapServers) == 0 {
		return false
	}
	x, y := slices.Clone(ca.BootstrapServers), slices.Clone(cb.BootstrapServers)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// loops rejects sinks and the dead-letter topic that write to a topic a
// source consumes, which would feed the bridge its own output.
func (v *validator) loops() {
	consumed := func(cluster, topic string) int {
		for i, s := range v.c.Sources {
			if s != nil && s.Cluster != "" && v.sameCluster(s.Cluster, cluster) && slices.Contains(s.Topics, topic) {
				return i
			}
		}
		return -1
	}
	for i, s := range v.c.Sinks {
		if s == nil || s.Type != SinkKafka || s.Cluster == "" || s.Topic == "" {
			continue
		}
		p := joinIndex("sinks", i) + ".topic"
		for _, t := range s.Types {
			if name := s.TopicFor(t); consumed(s.Cluster, name) >= 0 {
				v.add(p, "writes to topic %s, which sources[%d] consumes on the same cluster: this would loop", v.show(p, name), consumed(s.Cluster, name))
				break
			}
		}
	}
	if dl := v.c.DeadLetter; dl.Cluster != "" && dl.Topic != "" {
		if j := consumed(dl.Cluster, dl.Topic); j >= 0 {
			v.add("dead_letter.topic", "is consumed by sources[%d] on the same cluster: dead letters would be consumed again", j)
		}
	}
}

// sinkDelivery checks the keys every sink type shares: event_id.field,
// retry and delivery_timeout.
func (v *validator) sinkDelivery(p string, s *Sink) {
	if s.EventID.Field == "" || !identifier(s.EventID.Field) {
		v.add(p+".event_id.field", "invalid field name %s: want an identifier such as eventId", v.show(p+".event_id.field", s.EventID.Field))
	}
	r := s.Retry
	if r.MaxAttempts < 1 && r.MaxAttempts != UnlimitedAttempts {
		v.add(p+".retry.max_attempts", "must be at least 1 (1 means no retry), or %s", UnlimitedText)
	}
	v.positive(p+".retry.initial_backoff", int64(r.InitialBackoff), "a duration above 0, e.g. 200ms")
	v.positive(p+".retry.max_backoff", int64(r.MaxBackoff), "a duration above 0, e.g. 30s")
	if r.InitialBackoff > 0 && r.MaxBackoff > 0 && r.MaxBackoff < r.InitialBackoff {
		v.add(p+".retry.max_backoff", "must not be below initial_backoff (%s)", r.InitialBackoff)
	}
	v.positive(p+".delivery_timeout", int64(s.DeliveryTimeout), "a duration above 0, e.g. 30s")
}

// mapping compiles the mapping file of a profile mapping source, reporting
// its problems at FILE:LINE:COL of the mapping file, and checks the keys
// that depend on the mapping's format.
func (v *validator) mapping(p string, s *Source, regs []string) {
	s.compiled = nil
	mp := p + ".mapping"
	if s.Mapping == "" {
		v.add(mp, "required with profile mapping: the mapping file (YAML), e.g. mappings/feed.yaml")
		return
	}
	m, err := profile.LoadMapping(s.Mapping)
	if err != nil {
		var ces profile.CompileErrors
		if errors.As(err, &ces) {
			for _, ce := range ces {
				msg := ce.Msg
				if ce.Path != "" {
					msg = ce.Path + ": " + msg
				}
				v.errs = append(v.errs, &FieldError{File: ce.File, Line: ce.Line, Col: ce.Col, Path: mp, Msg: msg})
			}
			return
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		v.add(mp, "cannot read %s: %v", v.show(mp, s.Mapping), err)
		return
	}
	if s.Decode != "" {
		v.add(p+".decode", "not allowed with profile mapping: the mapping's schema: key pins the reader schema, without it records decode with their writer schema")
	}
	if m.Format() == profile.FormatAvro {
		v.ref(p+".registry", s.Registry, "registry", regs, regs)
		if s.OnIncompatibleSchema != "" {
			if m.ReaderSchema() == "" {
				v.add(p+".on_incompatible_schema", "only allowed when the mapping pins a reader schema (schema: in %s)", s.Mapping)
			} else {
				v.enum(p+".on_incompatible_schema", s.OnIncompatibleSchema, []string{OnIncompatibleDeadLetter, OnIncompatibleStop})
			}
		}
	} else {
		if s.Registry != "" {
			v.add(p+".registry", "not allowed: mapping %s decodes JSON (format: json): remove it", s.Mapping)
		}
		if s.OnIncompatibleSchema != "" {
			v.add(p+".on_incompatible_schema", "not allowed: mapping %s decodes JSON: remove it", s.Mapping)
		}
	}
	s.compiled = m
}
