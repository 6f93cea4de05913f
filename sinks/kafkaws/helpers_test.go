package kafkaws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap/zaptest"

	"github.com/telebridge/telebridge/codec"
	"github.com/telebridge/telebridge/internal/testkit"
)

var testSecret = []byte("test-hs256-secret-of-enough-length")

// env is a Kafka WS server on loopback in front of kfake and srfake.
type env struct {
	t     testing.TB
	kafka *testkit.Kafka
	reg   *testkit.Registry
	srv   *Server
	base  string
	prod  *kgo.Client
}

// sharedKafka starts one kfake cluster for the test binary's tests that
// ask for it (each test uses its own topics).
var sharedKafka = sync.OnceValues(func() (*testkit.Kafka, error) {
	return testkit.StartKafka(nil)
})

// newEnv starts a server; topics are created up front. mutate adjusts the
// config before New.
func newEnv(t testing.TB, topics []string, mutate func(*Config)) *env {
	t.Helper()
	k, err := sharedKafka()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, kafka: k, reg: testkit.StartRegistry()}
	t.Cleanup(e.reg.Close)
	prod, err := k.Client(kgo.ProducerLinger(0), kgo.DefaultProduceTopic("unused"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	e.prod = prod
	e.createTopics(topics...)
	reg, err := codec.NewRegistry(codec.RegistryConfig{URL: e.reg.URL(), Username: testkit.RegistryUser, Password: testkit.RegistryPasswd,
		NotFoundAttempts: 2, InitialBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Listen:   "127.0.0.1:0",
		Kafka:    k.Librdkafka(),
		Registry: reg,
		Auth:     Auth{HS256Secret: testSecret},
		Logger:   zaptest.NewLogger(t),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	e.srv, e.base = s, s.URL()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server Run: %v", err)
		}
	})
	return e
}

func (e *env) createTopics(topics ...string) {
	e.t.Helper()
	for _, tp := range topics {
		// Producing to a topic creates it (auto-creation is on in kfake);
		// a record nobody will see, since subscribers start at the end.
		if err := e.prod.ProduceSync(context.Background(), &kgo.Record{Topic: tp, Value: []byte(`{"setup":true}`)}).FirstErr(); err != nil {
			e.t.Fatalf("create topic %s: %v", tp, err)
		}
	}
}

// token signs an HS256 JWT for tenant valid for ttl.
func token(t testing.TB, secret []byte, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func tenantToken(t testing.TB, tenant string) string {
	return token(t, testSecret, jwt.MapClaims{"service": tenant, "exp": time.Now().Add(time.Hour).Unix()})
}

// getTicket asks for a ticket with the Authorization value auth; it
// returns the status and the decoded JSON body.
func (e *env) getTicket(auth string) (int, map[string]string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.base+TicketPath, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body := map[string]string{}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		e.t.Fatalf("ticket answer (status %d) is not JSON: %v", resp.StatusCode, err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		e.t.Errorf("ticket answer Content-Type %q", ct)
	}
	return resp.StatusCode, body
}

func (e *env) ticket(tenant string) string {
	e.t.Helper()
	st, body := e.getTicket("Bearer " + tenantToken(e.t, tenant))
	if st != http.StatusOK || len(body["ticket"]) != 64 {
		e.t.Fatalf("ticket for %s: status %d, body %v", tenant, st, body)
	}
	return body["ticket"]
}

func (e *env) wsURL(topic, ticket string, params ...string) string {
	q := url.Values{}
	q.Set("ticket", ticket)
	for i := 0; i+1 < len(params); i += 2 {
		q.Set(params[i], params[i+1])
	}
	return "ws" + strings.TrimPrefix(e.base, "http") + TopicsPath + topic + "?" + q.Encode()
}

// dial opens a WebSocket; params are name, value pairs (fields, where).
func (e *env) dial(topic, ticket string, params ...string) (*websocket.Conn, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, e.wsURL(topic, ticket, params...), nil)
	if c != nil {
		c.SetReadLimit(-1)
		e.t.Cleanup(func() { _ = c.CloseNow() })
	}
	return c, resp, err
}

func (e *env) mustDial(topic, tenant string, params ...string) *websocket.Conn {
	e.t.Helper()
	c, _, err := e.dial(topic, e.ticket(tenant), params...)
	if err != nil {
		e.t.Fatalf("dial %s as %s: %v", topic, tenant, err)
	}
	return c
}

func (e *env) produce(topic string, values ...[]byte) {
	e.t.Helper()
	var recs []*kgo.Record
	for _, v := range values {
		recs = append(recs, &kgo.Record{Topic: topic, Value: v})
	}
	if err := e.prod.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		e.t.Fatalf("produce to %s: %v", topic, err)
	}
}

func (e *env) produceJSON(topic string, docs ...string) {
	e.t.Helper()
	var vals [][]byte
	for _, d := range docs {
		vals = append(vals, []byte(d))
	}
	e.produce(topic, vals...)
}

// read reads one text frame within d.
func read(t testing.TB, c *websocket.Conn, d time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	typ, b, err := c.Read(ctx)
	if err == nil && typ != websocket.MessageText {
		t.Errorf("frame type %v, want text", typ)
	}
	return string(b), err
}

func mustRead(t testing.TB, c *websocket.Conn) string {
	t.Helper()
	s, err := read(t, c, 20*time.Second)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return s
}

// expectClose reads until the connection closes and checks the code and
// that the reason starts with prefix.
func expectClose(t testing.TB, c *websocket.Conn, code websocket.StatusCode, prefix string) {
	t.Helper()
	for {
		_, err := read(t, c, 20*time.Second)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("want close %d, got %v", code, err)
		}
		if ce.Code != code || !strings.HasPrefix(ce.Reason, prefix) {
			t.Fatalf("closed with %d %q; want %d %q...", ce.Code, ce.Reason, code, prefix)
		}
		return
	}
}

// waitFor polls cond until it holds or 20 s pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func topicStats(s *Server, topic string) (TopicStats, bool) {
	for _, ts := range s.Stats().Topics {
		if ts.Topic == topic {
			return ts, true
		}
	}
	return TopicStats{}, false
}

func jsonDoc(format string, args ...any) string { return fmt.Sprintf(format, args...) }
