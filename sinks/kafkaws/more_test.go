package kafkaws

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/zap/zaptest"
)

// A topic that does not exist yet: the subscription waits, and once the
// topic appears its partitions are read from the beginning.
func TestTopicCreatedAfterSubscribe(t *testing.T) {
	e := newEnv(t, nil, func(c *Config) { c.discover = 100 * time.Millisecond })
	ws := e.mustDial("acme.later", "acme")
	e.produceJSON("acme.later", `{"first":true}`) // creates the topic
	if got := mustRead(t, ws); got != `{"first":true}` {
		t.Fatalf("got %s", got)
	}
}

// Instances sharing ticket.secret accept each other's tickets; another
// secret refuses them.
func TestTicketSecretShared(t *testing.T) {
	secret := []byte(strings.Repeat("z", 32))
	a := newEnv(t, []string{"acme.shared"}, func(c *Config) { c.TicketSecret = secret })
	b := newEnv(t, []string{"acme.shared"}, func(c *Config) { c.TicketSecret = secret })
	other := newEnv(t, []string{"acme.shared"}, nil)
	ws, _, err := b.dial("acme.shared", a.ticket("acme"))
	if err != nil {
		t.Fatalf("instance b refused a's ticket: %v", err)
	}
	b.produceJSON("acme.shared", `{"via":"b"}`)
	if got := mustRead(t, ws); got != `{"via":"b"}` {
		t.Fatalf("got %s", got)
	}
	_, resp, err := other.dial("acme.shared", a.ticket("acme"))
	expectHTTP(t, resp, err, http.StatusUnauthorized, "signature is invalid")
}

func TestTLS(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kafka-ws"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile := writeFile(t, "ws.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	keyFile := writeFile(t, "ws.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))

	e := newEnv(t, []string{"acme.tls"}, func(c *Config) { c.TLSCertFile, c.TLSKeyFile = certFile, keyFile })
	if !strings.HasPrefix(e.base, "https://") {
		t.Fatalf("base %s", e.base)
	}
	// An unconfigured client refuses the self-signed certificate.
	if _, err := http.Get(e.base + TicketPath); err == nil {
		t.Fatal("TLS without a trusted certificate was accepted")
	}
	pool := x509.NewCertPool()
	pool.AddCert(mustCert(t, der))
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	req, _ := http.NewRequest(http.MethodGet, e.base+TicketPath, nil)
	req.Header.Set("Authorization", "Bearer "+tenantToken(t, "acme"))
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Ticket string }
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "wss"+strings.TrimPrefix(e.base, "https")+TopicsPath+"acme.tls?ticket="+body.Ticket, &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	e.produceJSON("acme.tls", `{"secure":true}`)
	if got := mustRead(t, ws); got != `{"secure":true}` {
		t.Fatalf("got %s", got)
	}

	// A missing or half TLS pair fails New.
	for _, c := range []Config{{TLSCertFile: certFile}, {TLSCertFile: certFile, TLSKeyFile: "/no/such.key"}} {
		c.Auth = Auth{HS256Secret: testSecret}
		c.Logger = zaptest.NewLogger(t)
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) accepted a bad TLS pair", c)
		}
	}
}

func mustCert(t *testing.T, der []byte) *x509.Certificate {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSendQueueBounds(t *testing.T) {
	c := newConn(4, "", "", nil, nil)
	for range 4 {
		c.enqueue([]byte("x"))
	}
	c.enqueue([]byte("x"))
	if r := <-c.killc; r.code != CodeSlowConsumer || !strings.Contains(r.reason, "(4 messages)") {
		t.Fatalf("count bound: %+v", r)
	}
	c = newConn(100, "", "", nil, nil)
	big := make([]byte, 10<<20)
	c.enqueue(big) // one message larger than the byte bound alone still goes
	c.enqueue(big)
	if r := <-c.killc; r.code != CodeSlowConsumer || !strings.Contains(r.reason, "over 16 MiB") {
		t.Fatalf("byte bound: %+v", r)
	}
	if len(c.queue) != 1 || c.queued.Load() != 10<<20 {
		t.Fatalf("queue %d messages, %d bytes", len(c.queue), c.queued.Load())
	}
}
