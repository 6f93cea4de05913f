package config

import (
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Defaults of the http and history sections.
const (
	DefaultHTTPListen        = "127.0.0.1:8080"
	DefaultHistoryPath       = "telebridge-history.db" // relative to the config file's directory
	DefaultHistoryMaxAge     = 7 * 24 * time.Hour
	DefaultHistoryMaxSize    = 1 << 30 // 1 GiB
	DefaultHistoryMaxPayload = 4096
	DefaultHistoryQueue      = 65536
	DefaultHistoryTopic      = "telebridge.delivery-results"
)

func httpKeys() []string { return []string{"enabled", "listen"} }
func historyKeys() []string {
	return []string{"enabled", "path", "retention", "payloads", "queue_size", "topic"}
}
func retentionKeys() []string        { return []string{"max_age", "max_size"} }
func payloadKeys() []string          { return []string{"enabled", "max_bytes"} }
func historyTopicKeys() []string     { return []string{"cluster", "name"} }
func monitorSections() []string      { return []string{"http", "history"} }
func isMonitorSection(k string) bool { return k == "http" || k == "history" }

// HTTP configures the one HTTP listener serving /healthz, /readyz,
// /metrics, the /api/v1 API and the dashboard at /.
type HTTP struct {
	// Enabled is true unless http.enabled is false.
	Enabled bool
	// Listen is host:port (default 127.0.0.1:8080, loopback only); port 0
	// picks a free port.
	Listen string
}

// History configures the delivery history: one record per delivery
// attempt, kept in a local SQLite file and optionally published to Kafka.
type History struct {
	// Enabled is true unless history.enabled is false.
	Enabled bool
	// Path is the SQLite file (default telebridge-history.db next to the
	// config file; a relative path is resolved against its directory).
	Path      string
	Retention HistoryRetention
	Payloads  HistoryPayloads
	// QueueSize bounds the records waiting to be written; when it is
	// full, history records are dropped and counted (delivery never
	// waits for history).
	QueueSize int
	// Topic, when Cluster is set, also publishes every record as JSON.
	Topic HistoryTopic
}

// HistoryRetention bounds the history file. Zero means no limit.
type HistoryRetention struct {
	MaxAge  time.Duration // default 7 days
	MaxSize int64         // bytes, default 1 GiB
}

// HistoryPayloads controls whether (and how much of) each payload is kept.
type HistoryPayloads struct {
	Enabled  bool // default true
	MaxBytes int  // default 4096
}

// HistoryTopic is the Kafka topic history records are also published to.
type HistoryTopic struct {
	Cluster string // key of Config.Clusters; "" disables publishing
	Name    string // default telebridge.delivery-results
}

// monitorSection decodes the http or history top-level section.
func (d *decoder) monitorSection(c *Config, k, p string, v *yaml.Node) {
	switch k {
	case "http":
		d.object(v, p, httpKeys(), func(k, p string, v *yaml.Node) {
			switch k {
			case "enabled":
				d.boolean(v, p, &c.HTTP.Enabled)
			case "listen":
				d.str(v, p, &c.HTTP.Listen, strings.TrimSpace)
			}
		})
	case "history":
		h := &c.History
		d.object(v, p, historyKeys(), func(k, p string, v *yaml.Node) {
			switch k {
			case "enabled":
				d.boolean(v, p, &h.Enabled)
			case "path":
				d.filePath(v, p, &h.Path)
			case "queue_size":
				d.integer(v, p, &h.QueueSize)
			case "retention":
				d.object(v, p, retentionKeys(), func(k, p string, v *yaml.Node) {
					switch k {
					case "max_age":
						d.age(v, p, &h.Retention.MaxAge)
					case "max_size":
						d.size(v, p, &h.Retention.MaxSize)
					}
				})
			case "payloads":
				d.object(v, p, payloadKeys(), func(k, p string, v *yaml.Node) {
					switch k {
					case "enabled":
						d.boolean(v, p, &h.Payloads.Enabled)
					case "max_bytes":
						d.integer(v, p, &h.Payloads.MaxBytes)
					}
				})
			case "topic":
				d.object(v, p, historyTopicKeys(), func(k, p string, v *yaml.Node) {
					switch k {
					case "cluster":
						d.str(v, p, &h.Topic.Cluster, nil)
					case "name":
						d.str(v, p, &h.Topic.Name, nil)
					}
				})
			}
		})
	}
}

// age decodes a duration that may use d (days) and w (weeks) as well.
func (d *decoder) age(n *yaml.Node, path string, dst *time.Duration) {
	v, ok := d.scalar(n, path)
	if !ok {
		return
	}
	t, err := parseAge(strings.TrimSpace(v))
	if err != nil {
		d.add(n.Line, path, "expected a duration such as \"12h\", \"7d\" or \"2w\" (0 for no limit); got "+d.m.show(path, v))
		return
	}
	*dst = t
}

func parseAge(s string) (time.Duration, error) {
	for unit, per := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, unit); ok {
			f, err := strconv.ParseFloat(n, 64)
			if err != nil || f < 0 {
				return 0, strconv.ErrSyntax
			}
			return time.Duration(f * float64(per)), nil
		}
	}
	if s == "0" {
		return 0, nil
	}
	t, err := time.ParseDuration(s)
	if err != nil || t < 0 {
		return 0, strconv.ErrSyntax
	}
	return t, nil
}

// size decodes a byte size: a plain number of bytes or a number with a
// unit: KB, MB, GB (powers of 1000) or KiB, MiB, GiB (powers of 1024).
func (d *decoder) size(n *yaml.Node, path string, dst *int64) {
	v, ok := d.scalar(n, path)
	if !ok {
		return
	}
	b, err := parseSize(v)
	if err != nil {
		d.add(n.Line, path, "expected a size such as \"500MB\", \"1GiB\" or a number of bytes (0 for no limit); got "+d.m.show(path, v))
		return
	}
	*dst = b
}

func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}
	mult := 1.0
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return 0, strconv.ErrSyntax
	}
	return int64(f * mult), nil
}

// applyMonitorDefaults fills the http and history defaults.
func (c *Config) applyMonitorDefaults(m *meta) {
	absent := func(path string) bool { return !m.set[path] }
	if absent("http.enabled") {
		c.HTTP.Enabled = true
	}
	if c.HTTP.Listen == "" {
		c.HTTP.Listen = DefaultHTTPListen
	}
	h := &c.History
	if absent("history.enabled") {
		h.Enabled = true
	}
	if h.Path == "" {
		h.Path = DefaultHistoryPath
		if c.File != "" {
			h.Path = filepath.Join(filepath.Dir(c.File), DefaultHistoryPath)
		}
	}
	if absent("history.retention.max_age") {
		h.Retention.MaxAge = DefaultHistoryMaxAge
	}
	if absent("history.retention.max_size") {
		h.Retention.MaxSize = DefaultHistoryMaxSize
	}
	if absent("history.payloads.enabled") {
		h.Payloads.Enabled = true
	}
	if absent("history.payloads.max_bytes") {
		h.Payloads.MaxBytes = DefaultHistoryMaxPayload
	}
	if absent("history.queue_size") {
		h.QueueSize = DefaultHistoryQueue
	}
	if h.Topic.Cluster != "" && h.Topic.Name == "" {
		h.Topic.Name = DefaultHistoryTopic
	}
}

// monitor validates the http and history sections.
func (v *validator) monitor() {
	c := v.c
	if c.HTTP.Enabled {
		host, port, err := net.SplitHostPort(c.HTTP.Listen)
		if err != nil {
			v.add("http.listen", "invalid address %s: expected host:port, e.g. \"127.0.0.1:8080\" or \":8080\" (all interfaces)", v.show("http.listen", c.HTTP.Listen))
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			v.add("http.listen", "invalid port in %s: expected 0-65535", v.show("http.listen", c.HTTP.Listen))
		} else if strings.ContainsAny(host, " /") {
			v.add("http.listen", "invalid host in %s", v.show("http.listen", c.HTTP.Listen))
		}
	}
	h := c.History
	if !h.Enabled {
		return
	}
	if h.Path == "" {
		v.add("history.path", "required when history is enabled: a file name for the SQLite history database")
	}
	if h.QueueSize < 1 {
		v.add("history.queue_size", "must be at least 1 (got %d)", h.QueueSize)
	}
	if h.Payloads.Enabled && h.Payloads.MaxBytes < 1 {
		v.add("history.payloads.max_bytes", "must be at least 1 when payloads are enabled (got %d); set payloads.enabled: false to keep none", h.Payloads.MaxBytes)
	}
	if h.Topic.Cluster != "" {
		clusters := v.clusterNames()
		v.ref("history.topic.cluster", h.Topic.Cluster, "cluster", clusters, clusters)
		v.topic("history.topic.name", h.Topic.Name)
	} else if h.Topic.Name != "" {
		v.add("history.topic.cluster", "required with history.topic.name: the cluster to publish history records to")
	}
}

// monitorNodes renders the http and history sections for Redacted.
func (r *redactor) monitorNodes(c *Config) (httpNode, historyNode *yaml.Node) {
	httpNode = mapping("enabled", r.flag("http.enabled", c.HTTP.Enabled), "listen", r.str("http.listen", c.HTTP.Listen))
	h := c.History
	var topic *yaml.Node
	if h.Topic.Cluster != "" {
		topic = mapping("cluster", r.str("history.topic.cluster", h.Topic.Cluster), "name", r.str("history.topic.name", h.Topic.Name))
	}
	historyNode = mapping(
		"enabled", r.flag("history.enabled", h.Enabled),
		"path", r.str("history.path", h.Path),
		"retention", mapping(
			"max_age", r.dur("history.retention.max_age", h.Retention.MaxAge),
			"max_size", r.typed("history.retention.max_size", "!!int", strconv.FormatInt(h.Retention.MaxSize, 10))),
		"payloads", mapping(
			"enabled", r.flag("history.payloads.enabled", h.Payloads.Enabled),
			"max_bytes", r.num("history.payloads.max_bytes", h.Payloads.MaxBytes)),
		"queue_size", r.num("history.queue_size", h.QueueSize),
		"topic", topic,
	)
	return httpNode, historyNode
}
