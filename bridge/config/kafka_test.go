package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestKafkaConfig(t *testing.T) {
	tests := []struct {
		name string
		cl   Cluster
		want map[string]string
	}{
		{"plaintext", Cluster{BootstrapServers: []string{"a:1", "b:2"}, SecurityProtocol: ProtocolPlaintext, ClientID: "c",
			Properties: Properties{"socket.keepalive.enable": "true"}},
			map[string]string{"bootstrap.servers": "a:1,b:2", "security.protocol": "plaintext", "client.id": "c", "socket.keepalive.enable": "true"}},
		{"defaults in code", Cluster{BootstrapServers: []string{"a:1"}},
			map[string]string{"bootstrap.servers": "a:1", "security.protocol": "plaintext", "client.id": "telebridge"}},
		{"sasl_ssl plain", Cluster{BootstrapServers: []string{"pkc:9092"}, SecurityProtocol: ProtocolSASLSSL, ClientID: "c",
			SASL: &SASL{Mechanism: MechanismPlain, Username: "key", Password: "secret"}},
			map[string]string{"bootstrap.servers": "pkc:9092", "security.protocol": "sasl_ssl", "client.id": "c",
				"sasl.mechanisms": "PLAIN", "sasl.username": "key", "sasl.password": "secret",
				"ssl.endpoint.identification.algorithm": "https"}},
		{"sasl_plaintext scram", Cluster{BootstrapServers: []string{"k:9092"}, SecurityProtocol: ProtocolSASLPlaintext, ClientID: "c",
			SASL: &SASL{Mechanism: MechanismSCRAMSHA512, Username: "u", Password: "p"}},
			map[string]string{"bootstrap.servers": "k:9092", "security.protocol": "sasl_plaintext", "client.id": "c",
				"sasl.mechanisms": "SCRAM-SHA-512", "sasl.username": "u", "sasl.password": "p"}},
		{"ssl with client cert", Cluster{BootstrapServers: []string{"k:9093"}, SecurityProtocol: ProtocolSSL, ClientID: "c",
			TLS: &TLS{CAFile: "/ca", CertFile: "/cert", KeyFile: "/key", KeyPassword: "kp"}},
			map[string]string{"bootstrap.servers": "k:9093", "security.protocol": "ssl", "client.id": "c",
				"ssl.ca.location": "/ca", "ssl.certificate.location": "/cert", "ssl.key.location": "/key", "ssl.key.password": "kp",
				"ssl.endpoint.identification.algorithm": "https"}},
		{"insecure", Cluster{BootstrapServers: []string{"k:9093"}, SecurityProtocol: ProtocolSSL, ClientID: "c", TLS: &TLS{InsecureSkipVerify: true}},
			map[string]string{"bootstrap.servers": "k:9093", "security.protocol": "ssl", "client.id": "c",
				"ssl.endpoint.identification.algorithm": "none", "enable.ssl.certificate.verification": "false"}},
		{"managed keys win over properties", Cluster{BootstrapServers: []string{"a:1"}, SecurityProtocol: ProtocolPlaintext, ClientID: "c",
			Properties: Properties{"security.protocol": "sasl_ssl", "bootstrap.servers": "evil:1"}},
			map[string]string{"bootstrap.servers": "a:1", "security.protocol": "plaintext", "client.id": "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cl.KafkaConfig(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("KafkaConfig() =\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
}

func TestExampleKafkaConfig(t *testing.T) {
	env := exampleEnv()
	c, err := Load(examples+"trackunit-confluent-cloud.yaml", envMap(env))
	if err != nil {
		t.Fatal(err)
	}
	got := c.Clusters["trackunit"].KafkaConfig()
	want := map[string]string{
		"bootstrap.servers": "pkc-xxxxx.europe-west1.gcp.confluent.cloud:9092", "security.protocol": "sasl_ssl",
		"client.id": "telebridge-trackunit", "sasl.mechanisms": "PLAIN", "sasl.username": env["TRACKUNIT_KAFKA_KEY"],
		"sasl.password": env["TRACKUNIT_KAFKA_SECRET"], "ssl.endpoint.identification.algorithm": "https",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("KafkaConfig() =\n%v\nwant\n%v", got, want)
	}
}

func TestRegistryTLSConfig(t *testing.T) {
	dir := t.TempDir()
	caPath := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caPath, selfSignedPEM(t), 0o600); err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		reg     Registry
		wantNil bool
		wantErr string
	}{
		{name: "http", reg: Registry{URL: "http://sr:8081"}, wantNil: true},
		{name: "https system roots", reg: Registry{URL: "https://sr"}},
		{name: "https with ca", reg: Registry{URL: "HTTPS://sr", CAFile: caPath, InsecureSkipVerify: true}},
		{name: "missing ca", reg: Registry{Name: "r", URL: "https://sr", CAFile: filepath.Join(dir, "nope")}, wantErr: "registry r: ca_file"},
		{name: "not pem", reg: Registry{Name: "r", URL: "https://sr", CAFile: junk}, wantErr: "no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := tt.reg.TLSConfig()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (cfg == nil) != tt.wantNil {
				t.Fatalf("cfg = %v", cfg)
			}
			if cfg != nil && (cfg.InsecureSkipVerify != tt.reg.InsecureSkipVerify || (tt.reg.CAFile != "") != (cfg.RootCAs != nil)) {
				t.Errorf("cfg = %+v", cfg)
			}
		})
	}
}

func selfSignedPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
