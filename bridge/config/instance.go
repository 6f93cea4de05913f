package config

import "strings"

// InstanceIDEnv names the environment variable that gives instance_id when
// the config file does not.
const InstanceIDEnv = "TELEBRIDGE_INSTANCE_ID"

// Where Config.InstanceID came from.
const (
	InstanceIDFromConfig   = "config"   // instance_id in the file ("" turns static membership off)
	InstanceIDFromEnv      = "env"      // TELEBRIDGE_INSTANCE_ID
	InstanceIDFromHostname = "hostname" // os.Hostname: the pod name in Kubernetes
	InstanceIDFromNone     = "none"     // no name could be found: dynamic membership
)

// applyInstanceID fills InstanceID when the file does not set it: from
// TELEBRIDGE_INSTANCE_ID, else from the host name. Characters Kafka does
// not accept in a group.instance.id are replaced by '-', so any host name
// works.
func (c *Config) applyInstanceID(lookupEnv func(string) (string, bool), hostname func() (string, error)) {
	if c.InstanceIDFrom == InstanceIDFromConfig {
		return
	}
	if v, ok := lookupEnv(InstanceIDEnv); ok && v != "" {
		c.InstanceID, c.InstanceIDFrom = v, InstanceIDFromEnv
		return
	}
	if h, err := hostname(); err == nil && h != "" {
		c.InstanceID, c.InstanceIDFrom = sanitizeInstanceID(h), InstanceIDFromHostname
		return
	}
	c.InstanceID, c.InstanceIDFrom = "", InstanceIDFromNone
}

// sanitizeInstanceID maps a host name onto the characters Kafka accepts
// in a group.instance.id (letters, digits, '.', '_', '-'), at most
// maxTopicLength bytes.
func sanitizeInstanceID(h string) string {
	b := []byte(h)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '-'
		}
	}
	s := string(b)
	if len(s) > maxTopicLength {
		s = s[:maxTopicLength]
	}
	if strings.Trim(s, ".") == "" {
		return "telebridge"
	}
	return s
}

// instanceIDNote explains in the effective config where instance_id came
// from and what it does.
func (c *Config) instanceIDNote() string {
	switch c.InstanceIDFrom {
	case InstanceIDFromEnv:
		return "from " + InstanceIDEnv + "; group.instance.id of every source (static membership)"
	case InstanceIDFromHostname:
		return "from the host name; group.instance.id of every source (static membership)"
	case InstanceIDFromNone:
		return "no host name: dynamic group membership"
	}
	if c.InstanceID == "" {
		return "empty: dynamic group membership"
	}
	return "group.instance.id of every source (static membership)"
}
