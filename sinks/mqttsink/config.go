package mqttsink

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/telebridge/telebridge/schemas"
	"github.com/telebridge/telebridge/sinks"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultQoS             = 1
	DefaultDeliveryTimeout = 30 * time.Second
	DefaultConnectTimeout  = 10 * time.Second
	DefaultKeepAlive       = 30 * time.Second
	DefaultSessionExpiry   = time.Hour
	DefaultReconnectMin    = 250 * time.Millisecond
	DefaultReconnectMax    = 30 * time.Second
	DefaultMaxInFlight     = 1000
	DefaultClientIDPrefix  = "telebridge-"
)

// TLS configures TLS for mqtts:// and wss:// brokers. Verification of the
// broker's certificate is on unless InsecureSkipVerify is set.
type TLS struct {
	// CAFile is a PEM file of CA certificates that sign the broker's
	// certificate; "" means the system roots.
	CAFile string
	// CertFile and KeyFile are a PEM client certificate and its key, for
	// brokers that require mutual TLS. Both or neither.
	CertFile string
	KeyFile  string
	// ServerName overrides the host name the broker's certificate is
	// checked against (and sent as SNI); "" means the URL's host.
	ServerName string
	// InsecureSkipVerify turns off certificate verification. Never use it
	// in production: New logs a warning.
	InsecureSkipVerify bool
}

// Config configures an MQTT push sink.
type Config struct {
	// Name is the sink name used in logs, errors and attempts. Required.
	Name string
	// Brokers are broker URLs tried in order (failover): mqtt://host:1883,
	// mqtts://host:8883, ws://host:80/mqtt or wss://host:443/mqtt. The
	// port defaults to 1883, 8883, 80 and 443. At least one is required.
	Brokers []string
	// ClientID identifies the session on the broker; default
	// "telebridge-<Name>". Keep it stable: the session (in-flight QoS 1/2
	// messages) is resumed by client id, and two clients with the same id
	// take the connection from each other.
	ClientID string
	// Username and Password authenticate the connection; both empty means
	// anonymous. Password is never logged.
	Username string
	Password string
	// TLS applies to mqtts:// and wss:// brokers.
	TLS TLS
	// Topic is a topic or template: {type} becomes the object type and
	// {path} the payload value at a field path (e.g.
	// "fleet/{ownerId}/{assetId}/{type}"). Values are escaped with
	// EscapeTopicValue, so they never become wildcards or extra levels.
	// Required unless TypeTopics covers every type the sink receives.
	Topic string
	// TypeTopics overrides Topic per object type.
	TypeTopics map[schemas.Type]string
	// QoS is the publish QoS, 0, 1 or 2; default 1 (nil). Acknowledged
	// means written to the socket (0), PUBACK (1) or PUBCOMP (2).
	QoS *byte
	// TypeQoS overrides QoS per object type.
	TypeQoS map[schemas.Type]byte
	// Retain sets the retain flag on every publish.
	Retain bool
	// EventIDField, when not empty, injects the Message.EventID at the top
	// level of the JSON payload under this member name. The eventId is
	// always sent as the eventId user property.
	EventIDField string
	// Retry is the application-level retry policy for failed attempts
	// (refused by the broker, unacknowledged within DeliveryTimeout).
	// Waiting for a connection is not an attempt.
	Retry sinks.RetryPolicy
	// DeliveryTimeout bounds the wait for PUBACK/PUBCOMP of one attempt;
	// default 30s.
	DeliveryTimeout time.Duration
	// ConnectTimeout bounds one connection attempt; default 10s.
	ConnectTimeout time.Duration
	// KeepAlive is the MQTT keep-alive; default 30s.
	KeepAlive time.Duration
	// SessionExpiry is how long the broker keeps the session (and with it
	// unacknowledged QoS 1/2 messages) after a disconnect; default 1h.
	SessionExpiry time.Duration
	// ReconnectMin and ReconnectMax bound the exponential backoff, with
	// jitter, between connection attempts; defaults 250ms and 30s.
	ReconnectMin time.Duration
	ReconnectMax time.Duration
	// MaxInFlight is the number of messages that may await an outcome;
	// Send blocks beyond it. Default 1000. The broker's receive maximum
	// additionally limits unacknowledged QoS 1/2 publishes.
	MaxInFlight int
	// Logger receives connection state changes and errors; nil means none.
	Logger *zap.Logger
	// Observer, if not nil, receives every delivery attempt.
	Observer sinks.Observer
}

// settings is the validated, defaulted form of Config.
type settings struct {
	name            string
	brokers         []*url.URL
	clientID        string
	username        string
	password        []byte
	tls             *tls.Config
	topics          map[schemas.Type]*topicTemplate
	qos             map[schemas.Type]byte
	retain          bool
	eventIDField    string
	retry           sinks.RetryPolicy
	deliveryTimeout time.Duration
	connectTimeout  time.Duration
	keepAlive       uint16
	sessionExpiry   uint32
	reconnect       sinks.RetryPolicy
	maxInFlight     int
	log             *zap.Logger
	observer        sinks.Observer
}

func (c *Config) validate() (*settings, error) {
	if c.Name == "" {
		return nil, errors.New("mqttsink: name is required")
	}
	errf := func(format string, args ...any) error {
		return fmt.Errorf("mqtt sink %q: "+format, append([]any{c.Name}, args...)...)
	}
	s := &settings{
		name:         c.Name,
		clientID:     c.ClientID,
		username:     c.Username,
		retain:       c.Retain,
		eventIDField: c.EventIDField,
		retry:        c.Retry.WithDefaults(),
		maxInFlight:  c.MaxInFlight,
		log:          c.Logger,
		observer:     c.Observer,
	}
	if c.Password != "" {
		s.password = []byte(c.Password)
	}
	if s.log == nil {
		s.log = zap.NewNop()
	}
	s.log = s.log.With(zap.String("sink", s.name), zap.String("kind", Kind))
	if s.clientID == "" {
		s.clientID = DefaultClientIDPrefix + s.name
	}
	if len(c.Brokers) == 0 {
		return nil, errf("at least one broker URL is required (e.g. mqtts://broker.example.com:8883)")
	}
	needTLS := false
	for i, raw := range c.Brokers {
		u, err := parseBroker(raw)
		if err != nil {
			return nil, errf("brokers[%d]: %w", i, err)
		}
		if u.Scheme == "mqtts" || u.Scheme == "wss" {
			needTLS = true
		}
		s.brokers = append(s.brokers, u)
	}
	t := c.TLS
	if (t.CertFile == "") != (t.KeyFile == "") {
		return nil, errf("tls: cert_file and key_file must be set together (mutual TLS needs both)")
	}
	if needTLS || t.CAFile != "" || t.CertFile != "" {
		tc, err := tlsConfig(t)
		if err != nil {
			return nil, errf("tls: %w", err)
		}
		s.tls = tc
		if t.InsecureSkipVerify {
			s.log.Warn("TLS certificate verification is DISABLED (insecure_skip_verify: true): the broker's identity is not checked and the connection can be intercepted; use a CA file instead")
		}
	}

	s.topics = make(map[schemas.Type]*topicTemplate, len(schemas.AllTypes()))
	var def *topicTemplate
	if c.Topic != "" {
		tt, err := parseTopic(c.Topic)
		if err != nil {
			return nil, errf("%w", err)
		}
		def = tt
	}
	for _, ty := range schemas.AllTypes() {
		tt := def
		if raw, ok := c.TypeTopics[ty]; ok {
			var err error
			if tt, err = parseTopic(raw); err != nil {
				return nil, errf("topic for %s: %w", ty, err)
			}
		}
		if tt != nil {
			s.topics[ty] = tt
		}
	}
	for ty := range c.TypeTopics {
		if !ty.Valid() {
			return nil, errf("type topics: unknown object type %q", ty)
		}
	}
	if len(s.topics) == 0 {
		return nil, errf("topic is required (a topic or a template such as globe-tracker/events/{type})")
	}

	qos := byte(DefaultQoS)
	if c.QoS != nil {
		qos = *c.QoS
	}
	if qos > 2 {
		return nil, errf("qos: invalid value %d (want 0, 1 or 2)", qos)
	}
	s.qos = make(map[schemas.Type]byte, len(schemas.AllTypes()))
	for _, ty := range schemas.AllTypes() {
		s.qos[ty] = qos
	}
	for ty, q := range c.TypeQoS {
		if !ty.Valid() {
			return nil, errf("type qos: unknown object type %q", ty)
		}
		if q > 2 {
			return nil, errf("qos for %s: invalid value %d (want 0, 1 or 2)", ty, q)
		}
		s.qos[ty] = q
	}

	dur := func(name string, v, def time.Duration) (time.Duration, error) {
		switch {
		case v < 0:
			return 0, errf("%s: must not be negative, got %v", name, v)
		case v == 0:
			return def, nil
		}
		return v, nil
	}
	var err error
	if s.deliveryTimeout, err = dur("delivery timeout", c.DeliveryTimeout, DefaultDeliveryTimeout); err != nil {
		return nil, err
	}
	if s.connectTimeout, err = dur("connect timeout", c.ConnectTimeout, DefaultConnectTimeout); err != nil {
		return nil, err
	}
	ka, err := dur("keep alive", c.KeepAlive, DefaultKeepAlive)
	if err != nil {
		return nil, err
	}
	s.keepAlive = uint16(min(max(ka/time.Second, 1), math.MaxUint16))
	se, err := dur("session expiry", c.SessionExpiry, DefaultSessionExpiry)
	if err != nil {
		return nil, err
	}
	s.sessionExpiry = uint32(min(max(se/time.Second, 1), math.MaxUint32))
	rmin, err := dur("reconnect min", c.ReconnectMin, DefaultReconnectMin)
	if err != nil {
		return nil, err
	}
	rmax, err := dur("reconnect max", c.ReconnectMax, DefaultReconnectMax)
	if err != nil {
		return nil, err
	}
	s.reconnect = sinks.RetryPolicy{InitialBackoff: rmin, MaxBackoff: max(rmin, rmax), Jitter: 0.5}.WithDefaults()
	if s.maxInFlight < 0 {
		return nil, errf("max in flight: must not be negative, got %d", s.maxInFlight)
	}
	if s.maxInFlight == 0 {
		s.maxInFlight = DefaultMaxInFlight
	}
	return s, nil
}

// parseBroker parses and normalises one broker URL.
func parseBroker(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("invalid broker URL: %w", err)
	}
	if u.User != nil {
		return nil, errors.New("broker URL must not contain credentials; set username and password instead")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	port := ""
	switch u.Scheme {
	case "mqtt", "tcp":
		u.Scheme, port = "mqtt", "1883"
	case "mqtts", "ssl", "tls":
		u.Scheme, port = "mqtts", "8883"
	case "ws":
		port = "80"
	case "wss":
		port = "443"
	default:
		return nil, fmt.Errorf("broker URL %q: unsupported scheme %q (want mqtt, mqtts, ws or wss)", u.Redacted(), u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("broker URL %q has no host (e.g. mqtt://localhost:1883)", u.Redacted())
	}
	if u.Port() == "" {
		u.Host = u.Host + ":" + port
	}
	return u, nil
}

// tlsConfig builds the client TLS configuration from files.
func tlsConfig(t TLS) (*tls.Config, error) {
	tc := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify, //nolint:gosec // explicit user choice, warned about
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificate found", t.CAFile)
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("client certificate %s / key %s: %w", t.CertFile, t.KeyFile, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
