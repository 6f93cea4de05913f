package config

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
)

// KafkaConfig returns the cluster's librdkafka connection properties:
// bootstrap.servers, security.protocol (lower case, as librdkafka documents
// it), client.id, the SASL credentials, the TLS files and verification
// settings, and then the free-form Properties (Validate rejects properties
// that would override any of these; KafkaConfig sets its own values last
// regardless). Consumer and producer settings (group.id, acks, ...) are
// added by the source and sink packages.
//
// With SSL or SASL_SSL, ssl.endpoint.identification.algorithm is "https"
// unless tls.insecure_skip_verify is set, in which case it is "none" and
// enable.ssl.certificate.verification is "false". Certificates are checked
// against the broker host names in bootstrap_servers.
//
// The map contains the SASL and key passwords in clear text: hand it to the
// Kafka client and never log it.
func (c *Cluster) KafkaConfig() map[string]string {
	m := make(map[string]string, 12+len(c.Properties))
	for k, v := range c.Properties {
		m[k] = v
	}
	proto := strings.ToUpper(c.SecurityProtocol)
	if proto == "" {
		proto = ProtocolPlaintext
	}
	m["bootstrap.servers"] = strings.Join(c.BootstrapServers, ",")
	m["security.protocol"] = strings.ToLower(proto)
	clientID := c.ClientID
	if clientID == "" {
		clientID = DefaultClientID
	}
	m["client.id"] = clientID
	if s := c.SASL; s != nil && (proto == ProtocolSASLPlaintext || proto == ProtocolSASLSSL) {
		mech := s.Mechanism
		if mech == "" {
			mech = MechanismPlain
		}
		m["sasl.mechanisms"] = mech
		m["sasl.username"] = s.Username
		m["sasl.password"] = s.Password.Reveal()
	}
	if proto == ProtocolSSL || proto == ProtocolSASLSSL {
		m["ssl.endpoint.identification.algorithm"] = "https"
		if t := c.TLS; t != nil {
			set := func(k, v string) {
				if v != "" {
					m[k] = v
				}
			}
			set("ssl.ca.location", t.CAFile)
			set("ssl.certificate.location", t.CertFile)
			set("ssl.key.location", t.KeyFile)
			set("ssl.key.password", t.KeyPassword.Reveal())
			if t.InsecureSkipVerify {
				m["ssl.endpoint.identification.algorithm"] = "none"
				m["enable.ssl.certificate.verification"] = "false"
			}
		}
	}
	return m
}

// TLSConfig returns the TLS settings for the registry's HTTP client: nil
// for an http URL, otherwise the system roots plus ca_file, and
// insecure_skip_verify. It fails when ca_file cannot be read or holds no PEM
// certificate.
func (r *Registry) TLSConfig() (*tls.Config, error) {
	if !strings.HasPrefix(strings.ToLower(r.URL), "https://") {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: r.InsecureSkipVerify} //nolint:gosec // explicit opt-in
	if r.CAFile != "" {
		pem, err := os.ReadFile(r.CAFile)
		if err != nil {
			return nil, fmt.Errorf("registry %s: ca_file: %w", r.Name, err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("registry %s: ca_file %s: no PEM certificate found", r.Name, r.CAFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}
