package config

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Secret is a credential. Every way of printing or encoding it (fmt verbs,
// String, GoString, JSON, YAML, text, slog) yields "[redacted]", or "" when
// the secret is empty; Reveal returns the value for handing to a client.
type Secret string

// Reveal returns the secret's value. Never log or print it.
func (s Secret) Reveal() string { return string(s) }

// String returns "[redacted]", or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redactedText
}

// GoString returns a Go expression for the redacted secret.
func (s Secret) GoString() string { return "config.Secret(" + strconv.Quote(s.String()) + ")" }

// Format prints the redacted form for every verb, so neither %s, %v, %x nor
// %#v can leak the value.
func (s Secret) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = io.WriteString(f, s.GoString())
	case verb == 'q':
		_, _ = io.WriteString(f, strconv.Quote(s.String()))
	default:
		_, _ = io.WriteString(f, s.String())
	}
}

// MarshalJSON encodes the redacted form.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText encodes the redacted form.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalYAML encodes the redacted form.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// LogValue logs the redacted form with log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Properties are librdkafka properties given in clusters.<name>.properties.
// Printing or encoding them redacts values whose key looks secret (see
// Redacted); index the map to read real values.
type Properties map[string]string

// Redacted returns a copy with secret-looking values replaced by "[redacted]".
func (p Properties) Redacted() map[string]string {
	out := make(map[string]string, len(p))
	for k, v := range p {
		if secretKey(k) {
			v = redactedText
		}
		out[k] = v
	}
	return out
}

// String prints the redacted properties sorted by key.
func (p Properties) String() string {
	r := p.Redacted()
	var b strings.Builder
	b.WriteString("map[")
	for i, k := range slices.Sorted(maps.Keys(r)) {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k + ":" + r[k])
	}
	b.WriteByte(']')
	return b.String()
}

// Format prints the redacted properties for every verb.
func (p Properties) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = fmt.Fprintf(f, "config.Properties(%#v)", p.Redacted())
		return
	}
	_, _ = io.WriteString(f, p.String())
}

// MarshalJSON encodes the redacted properties.
func (p Properties) MarshalJSON() ([]byte, error) { return json.Marshal(p.Redacted()) }

// MarshalYAML encodes the redacted properties.
func (p Properties) MarshalYAML() (any, error) { return p.Redacted(), nil }

// LogValue logs the redacted properties with log/slog.
func (p Properties) LogValue() slog.Value { return slog.StringValue(p.String()) }

// secretKey reports whether a property key names a credential.
func secretKey(k string) bool {
	k = strings.ToLower(k)
	for _, w := range []string{"password", "passwd", "passphrase", "secret", "token", "key", "credential", "jaas", "auth"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// sensitiveEnv reports whether an environment variable's name suggests it
// holds a credential; values expanded from such variables are redacted by
// Config.Redacted even in fields that are not Secret (an API key used as a
// username, for example).
func sensitiveEnv(name string) bool {
	n := strings.ToUpper(name)
	for _, w := range []string{"PASS", "SECRET", "TOKEN", "KEY", "CRED", "PRIVATE", "AUTH"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}
