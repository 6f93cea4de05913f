package kafkaws

import (
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/telebridge/telebridge/codec"
)

func TestTicketEndpoint(t *testing.T) {
	e := newEnv(t, nil, nil)
	now := time.Now()
	cases := []struct {
		name, auth, want string
	}{
		{"no header", "", "missing Authorization"},
		{"not bearer", "Basic dXNlcjpwYXNz", "missing Authorization"},
		{"garbage", "Bearer not.a.jwt", "invalid token"},
		{"wrong secret", "Bearer " + token(t, []byte("another secret"), jwt.MapClaims{"service": "acme", "exp": now.Add(time.Hour).Unix()}), "signature is invalid"},
		{"expired", "Bearer " + token(t, testSecret, jwt.MapClaims{"service": "acme", "exp": now.Add(-time.Minute).Unix()}), "token is expired"},
		{"no exp", "Bearer " + token(t, testSecret, jwt.MapClaims{"service": "acme"}), "exp claim is required"},
		{"not yet valid", "Bearer " + token(t, testSecret, jwt.MapClaims{"service": "acme", "exp": now.Add(time.Hour).Unix(), "nbf": now.Add(time.Hour).Unix()}), "token is not valid yet"},
		{"no tenant", "Bearer " + token(t, testSecret, jwt.MapClaims{"sub": "x", "exp": now.Add(time.Hour).Unix()}), `no "service" claim`},
		{"tenant not a string", "Bearer " + token(t, testSecret, jwt.MapClaims{"service": 7, "exp": now.Add(time.Hour).Unix()}), "non-empty string"},
		{"alg none", "Bearer " + noneToken(t), "invalid token"},
	}
	for _, c := range cases {
		st, body := e.getTicket(c.auth)
		if st != http.StatusUnauthorized || !strings.Contains(body["error"], c.want) || body["ticket"] != "" {
			t.Errorf("%s: status %d body %v; want 401 with error containing %q", c.name, st, body, c.want)
		}
	}
	st, body := e.getTicket("Bearer " + tenantToken(t, "acme"))
	if st != http.StatusOK {
		t.Fatalf("valid token: status %d %v", st, body)
	}
	if _, err := hex.DecodeString(body["ticket"]); err != nil || len(body["ticket"]) != 64 {
		t.Fatalf("ticket %q is not 64 hex characters", body["ticket"])
	}
	if st := e.srv.Stats(); st.TicketsIssued != 1 || st.TicketsRefused != uint64(len(cases)) {
		t.Errorf("stats %+v", st)
	}
}

func noneToken(t *testing.T) string {
	s, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"service": "acme", "exp": time.Now().Add(time.Hour).Unix()}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestIssuerAudienceAndTenantClaim(t *testing.T) {
	e := newEnv(t, nil, func(c *Config) {
		c.Auth.Issuer, c.Auth.Audience, c.Auth.TenantClaim = "https://id.example", "kafka-ws", "tenant"
	})
	exp := time.Now().Add(time.Hour).Unix()
	for _, c := range []struct {
		claims jwt.MapClaims
		ok     bool
	}{
		{jwt.MapClaims{"tenant": "acme", "exp": exp, "iss": "https://id.example", "aud": "kafka-ws"}, true},
		{jwt.MapClaims{"tenant": "acme", "exp": exp, "iss": "https://id.example", "aud": []string{"x", "kafka-ws"}}, true},
		{jwt.MapClaims{"tenant": "acme", "exp": exp, "iss": "https://other", "aud": "kafka-ws"}, false},
		{jwt.MapClaims{"tenant": "acme", "exp": exp, "iss": "https://id.example", "aud": "other"}, false},
		{jwt.MapClaims{"tenant": "acme", "exp": exp, "iss": "https://id.example"}, false},
		{jwt.MapClaims{"service": "acme", "exp": exp, "iss": "https://id.example", "aud": "kafka-ws"}, false},
	} {
		st, body := e.getTicket("Bearer " + token(t, testSecret, c.claims))
		if (st == http.StatusOK) != c.ok {
			t.Errorf("claims %v: status %d %v, want ok=%v", c.claims, st, body, c.ok)
		}
	}
}

func TestTicketRedemption(t *testing.T) {
	clock := struct {
		sync.Mutex
		off time.Duration
	}{}
	now := func() time.Time { clock.Lock(); defer clock.Unlock(); return time.Now().Add(clock.off) }
	e := newEnv(t, []string{"acme.events", "shared.feed", "other.events"}, func(c *Config) {
		c.now = now
		c.Tenants = map[string][]string{"acme": {"shared.*"}}
	})

	// Valid: streams.
	tk := e.ticket("acme")
	c, _, err := e.dial("acme.events", tk)
	if err != nil {
		t.Fatal(err)
	}
	e.produceJSON("acme.events", `{"n":1}`)
	if got := mustRead(t, c); got != `{"n":1}` {
		t.Fatalf("got %s", got)
	}

	// Reused.
	_, resp, err := e.dial("acme.events", tk)
	expectHTTP(t, resp, err, http.StatusUnauthorized, "already used")

	// Forged: one bit flipped anywhere, or a made-up ticket.
	tk2 := e.ticket("acme")
	b, _ := hex.DecodeString(tk2)
	for _, i := range []int{0, 3, 7, 12, 20, 31} {
		f := append([]byte(nil), b...)
		f[i] ^= 1
		_, resp, err = e.dial("acme.events", hex.EncodeToString(f))
		expectHTTP(t, resp, err, http.StatusUnauthorized, "signature is invalid")
	}
	_, resp, err = e.dial("acme.events", strings.Repeat("ab", 32))
	expectHTTP(t, resp, err, http.StatusUnauthorized, "signature is invalid")
	_, resp, err = e.dial("acme.events", "xyz")
	expectHTTP(t, resp, err, http.StatusUnauthorized, "64 hexadecimal")
	_, resp, err = e.dial("acme.events", "")
	expectHTTP(t, resp, err, http.StatusUnauthorized, "64 hexadecimal")

	// Another instance with another secret refuses; one sharing it accepts.
	other, err := newTickets([]byte("other"), 0, 0, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.redeem(tk2); err != errTicketForged {
		t.Errorf("other secret: %v", err)
	}

	// Expired: the clock moves past the 60 s default.
	tk3 := e.ticket("acme")
	clock.Lock()
	clock.off = 61 * time.Second
	clock.Unlock()
	_, resp, err = e.dial("acme.events", tk3)
	expectHTTP(t, resp, err, http.StatusUnauthorized, "expired")
	clock.Lock()
	clock.off = 0
	clock.Unlock()

	// Wrong tenant: the handshake completes and the socket closes with 4403.
	c, _, err = e.dial("other.events", e.ticket("acme"))
	if err != nil {
		t.Fatal(err)
	}
	expectClose(t, c, CodeForbiddenTopic, "FORBIDDEN_TOPIC: the token's tenant may not read \"other.events\"")
	// A tenant named like a prefix of another does not match: "acme" may not
	// read "acme-corp.x", and "acm" may not read "acme.events".
	c, _, _ = e.dial("acme.events", e.ticket("acm"))
	expectClose(t, c, CodeForbiddenTopic, "FORBIDDEN_TOPIC")
	// Granted pattern.
	c = e.mustDial("shared.feed", "acme")
	e.produceJSON("shared.feed", `{"s":1}`)
	if got := mustRead(t, c); got != `{"s":1}` {
		t.Fatalf("got %s", got)
	}
	// Invalid topic name.
	c, _, _ = e.dial("acme.bad%20topic", e.ticket("acme"))
	expectClose(t, c, CodeForbiddenTopic, "FORBIDDEN_TOPIC: not a valid Kafka topic name")
}

func expectHTTP(t *testing.T, resp *http.Response, err error, status int, contains string) {
	t.Helper()
	if err == nil {
		t.Fatalf("dial succeeded; want HTTP %d", status)
	}
	if resp == nil {
		t.Fatalf("dial: %v; want HTTP %d", err, status)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status || !strings.Contains(string(body), contains) {
		t.Fatalf("HTTP %d %s; want %d containing %q", resp.StatusCode, body, status, contains)
	}
}

func TestNotWebSocket(t *testing.T) {
	e := newEnv(t, nil, nil)
	resp, err := http.Get(e.base + TopicsPath + "acme.events?ticket=" + strings.Repeat("0", 64))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusUpgradeRequired || string(body) != NotWebSocketText || resp.Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("got %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

func TestFilterCloseCodes(t *testing.T) {
	e := newEnv(t, []string{"acme.codes"}, nil)
	cases := []struct {
		param, expr string
		code        websocket.StatusCode
		reason      string
	}{
		{"where", "ab=1", CodeInvalidSyntax, "INVALID_SYNTAX: where at 3: invalid syntax at \"1\""},
		{"where", "ab=like:1;", CodeInvalidOperator, "INVALID_OPERATOR: where at 3: unknown operator \"like\""},
		{"where", `ab=in:"x\q";`, CodeInvalidEscape, "INVALID_ESCAPE_VALUE: where at 6: unsupported escape \"\\q\""},
		{"where", "ab=gt:1,2;", CodeInvalidArity, "INVALID_OPERATOR_ARITY: where at 6: gt takes exactly 1 value, got 2"},
		{"where", "ab=bool:maybe;", CodeInvalidValue, "INVALID_VALUE: where at 8: bool takes true, false, 1 or 0"},
		{"where", "ab=hot;", CodeInvalidValue, "INVALID_VALUE: where at 3: eq takes a number, got \"hot\""},
		{"fields", strings.Repeat("a,", 4097), CodeInvalidSyntax, "INVALID_SYNTAX: fields at 8192: longer than 8192 bytes"},
		{"where", strings.Repeat("abcdefghij.", 20) + "x=1", CodeInvalidSyntax, "INVALID_SYNTAX: where at 222: invalid syntax at \"1\""},
	}
	for _, c := range cases {
		ws, _, err := e.dial("acme.codes", e.ticket("acme"), c.param, c.expr)
		if err != nil {
			t.Fatalf("%s=%s: %v", c.param, c.expr, err)
		}
		expectClose(t, ws, c.code, c.reason)
	}
	if st := e.srv.Stats(); st.Rejected != uint64(len(cases)) || st.Accepted != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestInternalErrorCloses4999(t *testing.T) {
	e := newEnv(t, nil, func(c *Config) { c.Kafka["no.such.librdkafka.property"] = "1" })
	ws, _, err := e.dial("acme.x", e.ticket("acme"))
	if err != nil {
		t.Fatal(err)
	}
	expectClose(t, ws, CodeInternal, "INTERNAL: cannot consume the topic")
}

func TestFiltersEndToEnd(t *testing.T) {
	e := newEnv(t, []string{"acme.sensors"}, nil)
	all := e.mustDial("acme.sensors", "acme")
	hot := e.mustDial("acme.sensors", "acme", "where", "sensor.status=in:failed,stopped;temperature=gte:30;", "fields", "sensor/status,temperature")
	tagged := e.mustDial("acme.sensors", "acme", "where", "tags.0=in:^red$;", "fields", "id,readings/v")
	redText := e.mustDial("acme.sensors", "acme", "where", "tags=in:^red$;", "fields", "id,readings/v")
	msgs := []string{
		`{"id":1,"sensor":{"status":"failed","x":1},"temperature":35,"tags":["red","blue"],"readings":[{"v":1,"t":0},{"v":2,"t":1}]}`,
		`{"id":2,"sensor":{"status":"ok"},"temperature":40,"tags":[]}`,
		`{"id":3,"sensor":{"status":"stopped"},"temperature":"31","tags":"red"}`,
		`{"id":4,"sensor":{"status":"failed"},"temperature":29.9}`,
	}
	e.produceJSON("acme.sensors", msgs...)
	for _, m := range msgs {
		if got := mustRead(t, all); got != m {
			t.Errorf("unfiltered: got %s, want %s", got, m)
		}
	}
	for _, want := range []string{`{"sensor":{"status":"failed"},"temperature":35}`, `{"sensor":{"status":"stopped"},"temperature":"31"}`} {
		if got := mustRead(t, hot); got != want {
			t.Errorf("hot: got %s, want %s", got, want)
		}
	}
	// Arrays are flattened: tags.0 is the first element, "tags" only a
	// value that is not a (non-empty) array.
	if got, want := mustRead(t, tagged), `{"id":1,"readings":[{"v":1},{"v":2}]}`; got != want {
		t.Errorf("tagged: got %s, want %s", got, want)
	}
	if got, want := mustRead(t, redText), `{"id":3}`; got != want {
		t.Errorf("tags text: got %s, want %s", got, want)
	}
	// Nothing else arrives.
	for _, ws := range []*websocket.Conn{hot, tagged, redText} {
		if got, err := read(t, ws, 300*time.Millisecond); err == nil {
			t.Errorf("unexpected %s", got)
		}
	}
}

const testAvroSchema = `{"type":"record","name":"Reading","namespace":"t","fields":[
 {"name":"id","type":"long"},{"name":"site","type":{"type":"record","name":"Site","fields":[{"name":"name","type":"string"}]}},
 {"name":"temp","type":["null","double"],"default":null},{"name":"tags","type":{"type":"array","items":"string"}}]}`

func TestJSONAndAvroTopics(t *testing.T) {
	e := newEnv(t, []string{"acme.avro", "acme.mixed"}, nil)
	id, _, err := e.reg.RegisterSchema("acme.avro-value", sr.Schema{Schema: testAvroSchema, Type: sr.TypeAvro})
	if err != nil {
		t.Fatal(err)
	}
	sch := avro.MustParse(testAvroSchema)
	enc := func(v map[string]any) []byte {
		b, err := avro.Marshal(sch, v)
		if err != nil {
			t.Fatal(err)
		}
		return codec.AppendWire(nil, id, b)
	}
	ws := e.mustDial("acme.avro", "acme")
	hot := e.mustDial("acme.avro", "acme", "where", "temp=gt:20;tags.1=in:^b$;", "fields", "id,site/name")
	e.produce("acme.avro",
		enc(map[string]any{"id": int64(1), "site": map[string]any{"name": "north"}, "temp": 21.5, "tags": []any{"a", "b"}}),
		[]byte{0, 0, 0, 0x7f, 0x7f, 1, 2},            // unknown schema id: skipped
		append(codec.AppendWire(nil, id, nil), 0xff), // corrupt Avro: skipped
		enc(map[string]any{"id": int64(2), "site": map[string]any{"name": "south"}, "temp": nil, "tags": []any{}}),
	)
	for _, want := range []string{
		`{"id":1,"site":{"name":"north"},"tags":["a","b"],"temp":21.5}`,
		`{"id":2,"site":{"name":"south"},"tags":[],"temp":null}`,
	} {
		if got := mustRead(t, ws); got != want {
			t.Errorf("avro: got %s, want %s", got, want)
		}
	}
	if got := mustRead(t, hot); got != `{"id":1,"site":{"name":"north"}}` {
		t.Errorf("avro filtered: got %s", got)
	}
	ts, _ := topicStats(e.srv, "acme.avro")
	if ts.Received != 4 || ts.Undecodable != 2 || ts.Subscribers != 2 {
		t.Errorf("avro topic stats %+v", ts)
	}

	// JSON with poison in between: the socket stays open. A top-level array
	// is a message (dojot JSON.parse()s any value); an empty object is
	// never sent.
	mixed := e.mustDial("acme.mixed", "acme")
	e.produce("acme.mixed", []byte(`{"ok":1}`), []byte(`not json`), []byte(`[1,2]`), nil, []byte{0xff, 0xfe}, []byte(`{}`), []byte(`[1] x`), []byte(`{"ok":2}`))
	for _, want := range []string{`{"ok":1}`, `[1,2]`, `{"ok":2}`} {
		if got := mustRead(t, mixed); got != want {
			t.Errorf("mixed: got %s, want %s", got, want)
		}
	}
	ts, _ = topicStats(e.srv, "acme.mixed")
	if ts.Undecodable != 4 {
		t.Errorf("mixed topic stats %+v", ts)
	}
}

func TestAvroWithoutRegistryIsSkipped(t *testing.T) {
	e := newEnv(t, []string{"acme.noreg"}, func(c *Config) { c.Registry = nil })
	ws := e.mustDial("acme.noreg", "acme")
	e.produce("acme.noreg", []byte{0, 0, 0, 0, 1, 2}, []byte(`{"after":true}`))
	if got := mustRead(t, ws); got != `{"after":true}` {
		t.Fatalf("got %s", got)
	}
}

func TestLifetimeAndJWTExpiry(t *testing.T) {
	e := newEnv(t, []string{"acme.life"}, func(c *Config) { c.Lifetime = 700 * time.Millisecond })
	start := time.Now()
	ws := e.mustDial("acme.life", "acme")
	expectClose(t, ws, CodeExpired, "EXPIRED_CONNECTION: connection lifetime is over")
	if d := time.Since(start); d < 600*time.Millisecond {
		t.Errorf("closed after %s, before the lifetime", d)
	}

	// JWT expiry limit: the connection ends with the token even though
	// the lifetime is unlimited.
	e2 := newEnv(t, []string{"acme.jwtexp"}, func(c *Config) { c.Lifetime = -1; c.JWTExpiryLimit = true })
	tok := token(t, testSecret, jwt.MapClaims{"service": "acme", "exp": time.Now().Add(2 * time.Second).Unix()})
	st, body := e2.getTicket("Bearer " + tok)
	if st != http.StatusOK {
		t.Fatal(body)
	}
	ws, _, err := e2.dial("acme.jwtexp", body["ticket"])
	if err != nil {
		t.Fatal(err)
	}
	expectClose(t, ws, CodeExpired, "EXPIRED_CONNECTION")
}

func TestUnlimitedLifetimeStaysOpen(t *testing.T) {
	e := newEnv(t, []string{"acme.forever"}, func(c *Config) { c.Lifetime = -1 })
	ws := e.mustDial("acme.forever", "acme")
	if _, err := read(t, ws, 500*time.Millisecond); websocket.CloseStatus(err) != -1 {
		t.Fatalf("closed: %v", err)
	}
}

func TestPings(t *testing.T) {
	e := newEnv(t, []string{"acme.ping"}, func(c *Config) { c.PingInterval = 100 * time.Millisecond })
	// A client that reads answers pings and stays connected.
	alive := e.mustDial("acme.ping", "acme")
	actx := alive.CloseRead(context.Background())
	// A client that never reads never answers: it is dropped.
	dead := e.mustDial("acme.ping", "acme")
	_ = dead
	waitFor(t, "the silent client to be dropped", func() bool { return e.srv.Stats().Connections == 1 })
	time.Sleep(500 * time.Millisecond)
	if actx.Err() != nil || e.srv.Stats().Connections != 1 {
		t.Fatalf("the answering client was dropped (%d connections)", e.srv.Stats().Connections)
	}
}

func TestSlowClientIsolation(t *testing.T) {
	e := newEnv(t, []string{"acme.big"}, func(c *Config) { c.SendQueue = 32 })
	slow := e.mustDial("acme.big", "acme")
	fast := e.mustDial("acme.big", "acme")
	// Paced batches: each is well within a queue for a client that reads;
	// a client that does not read fills its TCP buffers, then its queue.
	const batches, per = 40, 10
	const n = batches * per
	payload := strings.Repeat("x", 64<<10)
	go func() {
		for b := range batches {
			var recs []*kgo.Record
			for i := range per {
				recs = append(recs, &kgo.Record{Topic: "acme.big", Value: []byte(jsonDoc(`{"i":%d,"pad":"%s"}`, b*per+i, payload))})
			}
			if err := e.prod.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
				t.Errorf("produce: %v", err)
				return
			}
			time.Sleep(30 * time.Millisecond)
		}
	}()
	// Records spread over partitions: every one arrives, in any order.
	seen := map[string]bool{}
	for range n {
		got := mustRead(t, fast)
		seen[got[:strings.IndexByte(got, ',')]] = true
	}
	if len(seen) != n {
		t.Fatalf("fast client got %d distinct messages of %d", len(seen), n)
	}
	// The slow client got some messages, then 4429.
	expectClose(t, slow, CodeSlowConsumer, "SLOW_CONSUMER: send queue full (32 messages)")
	waitFor(t, "slow close counted", func() bool { return e.srv.Stats().SlowClosed == 1 })
}

func TestManyClientsShareOneConsumer(t *testing.T) {
	e := newEnv(t, []string{"acme.fan"}, nil)
	const clients, msgs = 150, 20
	conns := make([]*websocket.Conn, clients)
	for i := range conns {
		where := ""
		if i%3 == 1 {
			where = "n=gte:10;"
		}
		conns[i] = e.mustDial("acme.fan", "acme", "where", where)
	}
	ts, _ := topicStats(e.srv, "acme.fan")
	if ts.Subscribers != clients {
		t.Fatalf("topic stats %+v", ts)
	}
	var docs []string
	for i := range msgs {
		docs = append(docs, jsonDoc(`{"n":%d}`, i))
	}
	e.produceJSON("acme.fan", docs...) // one batch: one partition, in order
	var wg sync.WaitGroup
	var bad atomic.Int64
	for i, c := range conns {
		want := msgs
		first := 0
		if i%3 == 1 {
			want, first = msgs-10, 10
		}
		wg.Go(func() {
			for k := range want {
				got, err := read(t, c, 20*time.Second)
				if err != nil || got != jsonDoc(`{"n":%d}`, first+k) {
					bad.Add(1)
					return
				}
			}
		})
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d clients missed or reordered messages", bad.Load())
	}
	for _, c := range conns {
		_ = c.Close(websocket.StatusNormalClosure, "")
	}
	waitFor(t, "the topic consumer to stop after the last subscriber", func() bool {
		_, ok := topicStats(e.srv, "acme.fan")
		return !ok
	})
	// A new subscriber starts a new consumer at the end: old messages are
	// not replayed.
	c := e.mustDial("acme.fan", "acme")
	e.produceJSON("acme.fan", `{"n":"new"}`)
	if got := mustRead(t, c); got != `{"n":"new"}` {
		t.Fatalf("got %s", got)
	}
}

func TestShutdownClosesWith1001(t *testing.T) {
	e := newEnv(t, []string{"acme.bye"}, nil)
	ws := e.mustDial("acme.bye", "acme")
	go e.srv.Close()
	expectClose(t, ws, websocket.StatusGoingAway, "server shutting down")
}

// The reference's example URI, typed as is: ';' and ',' unescaped.
func TestReferenceExampleURI(t *testing.T) {
	e := newEnv(t, []string{"acme.example"}, nil)
	raw := "ws" + strings.TrimPrefix(e.base, "http") + TopicsPath + "acme.example?ticket=" + e.ticket("acme") +
		"&fields=sensor/status,temperature&where=sensor.status=in:failed,stopped;"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	e.produceJSON("acme.example", `{"sensor":{"status":"ok","id":1},"temperature":20}`, `{"sensor":{"status":"failed","id":2},"temperature":35,"humidity":4}`)
	if got := mustRead(t, ws); got != `{"sensor":{"status":"failed"},"temperature":35}` {
		t.Fatalf("got %s", got)
	}
}

func TestRawQuery(t *testing.T) {
	q := rawQuery("ticket=ab&where=a=in:x,y;b=gt:1;&fields=a%2Cb&where=ignored&x&=v&bad=%zz&plus=a+b%2B")
	want := map[string]string{"ticket": "ab", "where": "a=in:x,y;b=gt:1;", "fields": "a,b", "x": "", "": "v", "plus": "a b+"}
	if len(q) != len(want) {
		t.Fatalf("got %v", q)
	}
	for k, v := range want {
		if q[k] != v {
			t.Errorf("%q = %q, want %q", k, q[k], v)
		}
	}
}
