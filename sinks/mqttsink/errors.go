package mqttsink

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"
)

// reasonName formats an MQTT v5 reason code as "0x87 (Not authorized)".
func reasonName(code byte) string {
	names := map[byte]string{
		0x00: "Success",
		0x04: "Disconnect with Will Message",
		0x10: "No matching subscribers",
		0x80: "Unspecified error",
		0x81: "Malformed Packet",
		0x82: "Protocol Error",
		0x83: "Implementation specific error",
		0x84: "Unsupported Protocol Version",
		0x85: "Client Identifier not valid",
		0x86: "Bad User Name or Password",
		0x87: "Not authorized",
		0x88: "Server unavailable",
		0x89: "Server busy",
		0x8A: "Banned",
		0x8B: "Server shutting down",
		0x8C: "Bad authentication method",
		0x8D: "Keep Alive timeout",
		0x8E: "Session taken over",
		0x90: "Topic Name invalid",
		0x91: "Packet Identifier in use",
		0x93: "Receive Maximum exceeded",
		0x94: "Topic Alias invalid",
		0x95: "Packet too large",
		0x96: "Message rate too high",
		0x97: "Quota exceeded",
		0x98: "Administrative action",
		0x99: "Payload format invalid",
		0x9A: "Retain not supported",
		0x9B: "QoS not supported",
		0x9C: "Use another server",
		0x9D: "Server moved",
		0x9F: "Connection rate exceeded",
	}
	if n, ok := names[code]; ok {
		return fmt.Sprintf("0x%02X (%s)", code, n)
	}
	return fmt.Sprintf("0x%02X", code)
}

func disconnectReason(d *paho.Disconnect) string {
	if d.Properties != nil {
		return d.Properties.ReasonString
	}
	return ""
}

// explainConnectError turns a connection failure into one clear message:
// refused credentials or authorisation (CONNACK reason code named), TLS
// verification failures (which certificate, why), a client certificate the
// broker rejected, or an unreachable broker. The password never appears.
func explainConnectError(err error, st *settings) error {
	var ce *autopaho.ConnackError
	if errors.As(err, &ce) {
		msg := "MQTT broker refused the connection: CONNACK reason code " + reasonName(ce.ReasonCode)
		if ce.Reason != "" {
			msg += ": " + ce.Reason
		}
		switch ce.ReasonCode {
		case 0x86:
			msg += fmt.Sprintf("; check username %q and password", st.username)
		case 0x87:
			msg += fmt.Sprintf("; user %q (client id %q) is not allowed to connect: check username and password (mosquitto answers a wrong password this way) and the broker's access rules", st.username, st.clientID)
		case 0x85:
			msg += fmt.Sprintf("; client id %q was rejected", st.clientID)
		}
		return errors.New(msg)
	}
	var unknownCA x509.UnknownAuthorityError
	if errors.As(err, &unknownCA) {
		subject, issuer := "", ""
		if c := unknownCA.Cert; c != nil {
			subject, issuer = c.Subject.String(), c.Issuer.String()
		}
		return fmt.Errorf("TLS verification of the MQTT broker failed: its certificate %q is signed by %q, which is not a trusted CA (set tls.ca_file to that CA's certificate): %w", subject, issuer, err)
	}
	var host x509.HostnameError
	if errors.As(err, &host) {
		names := ""
		if host.Certificate != nil {
			names = strings.Join(host.Certificate.DNSNames, ", ")
			for _, ip := range host.Certificate.IPAddresses {
				names += " " + ip.String()
			}
		}
		return fmt.Errorf("TLS verification of the MQTT broker failed: its certificate is valid for [%s], not for %q (connect by one of those names or set tls.server_name): %w", strings.TrimSpace(names), host.Host, err)
	}
	var invalid x509.CertificateInvalidError
	if errors.As(err, &invalid) {
		subject := ""
		if invalid.Cert != nil {
			subject = invalid.Cert.Subject.String()
		}
		return fmt.Errorf("TLS verification of the MQTT broker failed: its certificate %q is invalid: %w", subject, err)
	}
	var cve *tls.CertificateVerificationError
	if errors.As(err, &cve) {
		subject := ""
		if len(cve.UnverifiedCertificates) > 0 {
			subject = cve.UnverifiedCertificates[0].Subject.String()
		}
		return fmt.Errorf("TLS verification of the MQTT broker's certificate %q failed: %w", subject, err)
	}
	var alert tls.AlertError
	if errors.As(err, &alert) || strings.Contains(err.Error(), "remote error: tls:") {
		return fmt.Errorf("the MQTT broker rejected the TLS handshake (for a broker that requires a client certificate, set tls.cert_file and tls.key_file to one its CA signed): %w", err)
	}
	if st.tls != nil && len(st.tls.Certificates) == 0 && (errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF)) {
		return fmt.Errorf("the MQTT broker closed the TLS connection while it was set up; a broker that requires a client certificate does this (set tls.cert_file and tls.key_file to one its CA signed): %w", err)
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return fmt.Errorf("MQTT broker unreachable: %w", err)
	}
	if strings.Contains(err.Error(), "i/o timeout") || strings.Contains(err.Error(), "deadline exceeded") {
		return fmt.Errorf("MQTT broker unreachable or not answering within the connect timeout of %v: %w", st.connectTimeout, err)
	}
	return fmt.Errorf("cannot connect to MQTT broker: %w", err)
}

// errLimiter lets a repeated log message through once per window, counting
// how many repeats it suppressed.
type errLimiter struct {
	window time.Duration

	mu         sync.Mutex
	last       string
	lastAt     time.Time
	suppressed int
}

func (l *errLimiter) allow(msg string, now time.Time) (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if msg == l.last && now.Sub(l.lastAt) < l.window {
		l.suppressed++
		return 0, false
	}
	n := l.suppressed
	l.last, l.lastAt, l.suppressed = msg, now, 0
	return n, true
}
