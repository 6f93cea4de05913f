// Package kafkaws is telebridge's Kafka WS endpoint: dashboards and scripts
// get a single-use ticket with a JWT, then subscribe over a plain RFC 6455
// WebSocket to a Kafka topic their tenant may read, and receive one JSON text
// frame per message, reduced by optional `where` and `fields` filters. It
// implements the dojot Kafka WS API (GET /kafka-ws/v1/ticket and
// /kafka-ws/v1/topics/{topic}?ticket=&fields=&where=), validating JWTs
// itself.
//
// # Flow
//
// GET /kafka-ws/v1/ticket with "Authorization: Bearer <JWT>" answers
// {"ticket":"<64 hex>"}; a missing or invalid token answers 401 with a JSON
// {"error": ...}. The WebSocket request then redeems the ticket (401 if it is
// malformed, forged, expired or already used), parses `where` and `fields`
// once, checks the tenant may read the topic, attaches the connection to the
// topic's shared consumer and only then completes the handshake; a filter or
// access problem completes the handshake and closes at once with its code
// (4000-4004, 4403). A plain HTTP request to the WebSocket path answers 426.
//
// # Messages
//
// All connections on one topic share one Kafka consumer that reads every
// partition from the end offset at the time the first subscriber arrived
// (partitions that appear later are read from their beginning). Each
// message is decoded once: Confluent wire-format Avro (first byte 0)
// through the schema registry, anything else as a JSON object; a message
// that cannot be decoded is counted and skipped. Then per distinct filter:
// `where` first, then `fields`, then one text frame. Unfiltered JSON is sent
// byte for byte as produced.
//
// # Flow control
//
// Each connection has a bounded send queue; the consumer never waits for a
// client. A client whose queue is full is closed with 4429 SLOW_CONSUMER.
// Connections end with 4408 when their lifetime (or, optionally, the JWT's
// exp) is over, with 1001 when the server shuts down, and with 4999 when the
// topic's consumer fails. Pings every ping interval detect dead peers (no
// pong within one interval: the connection is dropped).
package kafkaws

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	stdlog "log"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/zap"

	"github.com/telebridge/telebridge/codec"
)

// Paths served.
const (
	TicketPath = "/kafka-ws/v1/ticket"
	TopicsPath = "/kafka-ws/v1/topics/"
)

// NotWebSocketText is the body of the 426 answer to a plain HTTP request
// on the WebSocket path, as in the reference API.
const NotWebSocketText = "Invalid request - non-WebSocket connection received in WS endpoint"

// Defaults for zero Config fields.
const (
	DefaultListen       = ":8081"
	DefaultLifetime     = 7200 * time.Second
	DefaultSendQueue    = 128
	DefaultPingInterval = 30 * time.Second
	subscribeTimeout    = 30 * time.Second
)

// Config configures a Server. Zero values take the defaults above.
type Config struct {
	// Listen is the TCP address to listen on (default ":8081").
	Listen string
	// TLSCertFile and TLSKeyFile, both set, serve HTTPS/WSS.
	TLSCertFile, TLSKeyFile string
	// Kafka holds librdkafka connection properties (config
	// Cluster.KafkaConfig()). It contains credentials: never log it.
	Kafka map[string]string
	// Registry decodes Confluent wire-format Avro; nil means Avro messages
	// are undecodable (counted and skipped).
	Registry *codec.Registry
	// Auth verifies the bearer JWTs of ticket requests.
	Auth Auth
	// TicketSecret signs tickets; instances sharing it accept each other's
	// tickets. Empty means 32 random bytes chosen at start.
	TicketSecret []byte
	// TicketTTL is how long a ticket can be redeemed (default 60s).
	TicketTTL time.Duration
	// SpentTopic, when set, makes tickets single use across every
	// instance sharing TicketSecret and this topic (see spent.go): New
	// creates the topic when absent and follows it; each redemption is
	// written to it and read back before it is accepted. Empty: single use
	// per instance only.
	SpentTopic string
	// SpentWait bounds writing and reading back a redemption (default
	// 2s); past it the ticket is refused with 503 (fail closed).
	SpentWait time.Duration
	// InstanceID names this instance in spent-ticket records (information
	// only).
	InstanceID string
	// Lifetime is the longest a connection lives (default 7200s); negative
	// means unlimited.
	Lifetime time.Duration
	// JWTExpiryLimit also ends a connection when the JWT used for its ticket
	// expires.
	JWTExpiryLimit bool
	// SendQueue is each connection's queue of messages not yet written
	// (default 128).
	SendQueue int
	// PingInterval is how often idle and busy connections are pinged
	// (default 30s); a peer that does not answer within one interval is
	// dropped. Negative disables pings.
	PingInterval time.Duration
	// Tenants grants topic patterns ("*" matches anything) beyond the
	// default "<tenant>." prefix.
	Tenants map[string][]string
	// Logger receives logs; nil means none.
	Logger *zap.Logger

	now      func() time.Time // tests only
	discover time.Duration    // tests only: partition discovery interval
}

// Server is the Kafka WS endpoint.
type Server struct {
	cfg     Config
	log     *zap.Logger
	verify  *verifier
	tickets *tickets
	spent   *spentLog // nil without Config.SpentTopic
	access  *access
	tlsCfg  *tls.Config

	ctx      context.Context
	cancel   context.CancelFunc
	hub      *hub
	stopping chan struct{}
	conns    sync.WaitGroup

	mu       sync.Mutex
	ln       net.Listener
	active   int
	counters Stats
}

// Stats are cumulative counters and current gauges of a Server.
type Stats struct {
	TicketsIssued  uint64
	TicketsRefused uint64 // bad token or bad ticket (401), or ticket not checkable (503)
	// TicketsUnchecked counts tickets refused (503, fail closed) because
	// the spent-ticket topic did not confirm them within SpentWait.
	TicketsUnchecked uint64
	// SpentRecords counts well-formed spent-ticket records read.
	SpentRecords uint64
	Connections  int    // open WebSocket connections
	Accepted     uint64 // WebSocket connections that reached streaming
	Rejected     uint64 // closed at once: filter, access or internal errors
	SlowClosed   uint64 // closed with 4429
	Topics       []TopicStats
}

// TopicStats describe one topic with a live consumer.
type TopicStats struct {
	Topic       string
	Subscribers int
	Received    uint64 // messages consumed
	Undecodable uint64 // skipped: neither a JSON object nor decodable Avro
}

// New checks cfg and returns a Server; it binds nothing until Listen or
// Run. It fails when the auth key source cannot be loaded, the TLS pair
// cannot be read or a tenant pattern is empty, and, with SpentTopic, when
// the topic cannot be created or checked within 15s.
func New(cfg Config) (*Server, error) {
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.Lifetime == 0 {
		cfg.Lifetime = DefaultLifetime
	}
	if cfg.SendQueue <= 0 {
		cfg.SendQueue = DefaultSendQueue
	}
	if cfg.PingInterval == 0 {
		cfg.PingInterval = DefaultPingInterval
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	s := &Server{cfg: cfg, log: log, stopping: make(chan struct{})}
	var err error
	if s.verify, err = newVerifier(cfg.Auth, cfg.now); err != nil {
		return nil, fmt.Errorf("kafka_ws: %w", err)
	}
	if s.tickets, err = newTickets(cfg.TicketSecret, cfg.TicketTTL, 0, cfg.now); err != nil {
		return nil, fmt.Errorf("kafka_ws: %w", err)
	}
	if s.access, err = newAccess(cfg.Tenants); err != nil {
		return nil, fmt.Errorf("kafka_ws: %w", err)
	}
	if (cfg.TLSCertFile == "") != (cfg.TLSKeyFile == "") {
		return nil, errors.New("kafka_ws: tls needs both cert_file and key_file")
	}
	if cfg.TLSCertFile != "" {
		pair, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("kafka_ws: tls: %w", err)
		}
		s.tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}}
	}
	if cfg.SpentTopic != "" {
		if s.spent, err = openSpentLog(cfg.Kafka, cfg.SpentTopic, cfg.SpentWait, cfg.InstanceID, s.tickets, log); err != nil {
			return nil, fmt.Errorf("kafka_ws: %w", err)
		}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.hub = newHub(s.ctx, cfg.Kafka, cfg.Registry, log)
	if cfg.discover > 0 {
		s.hub.discoverEvery = cfg.discover
	}
	return s, nil
}

// Handler returns the HTTP handler serving both paths; other paths are 404.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(TicketPath, s.handleTicket)
	mux.HandleFunc(TopicsPath, s.handleTopic)
	return mux
}

// Listen binds the configured address. Addr then reports it.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("kafka_ws: listen %s: %w", s.cfg.Listen, err)
	}
	if s.tlsCfg != nil {
		ln = tls.NewListener(ln, s.tlsCfg)
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	return nil
}

// Addr returns the bound address, or nil before Listen.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// URL returns the base URL ("http://host:port" or "https://...") of the
// bound address, with 127.0.0.1 for an unspecified host.
func (s *Server) URL() string {
	a := s.Addr()
	if a == nil {
		return ""
	}
	host, port, _ := net.SplitHostPort(a.String())
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	scheme := "http"
	if s.tlsCfg != nil {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// Run listens (unless Listen was called) and serves until ctx ends, then
// closes every WebSocket with 1001, stops the topic consumers and returns
// nil. A listen or serve failure is returned.
func (s *Server) Run(ctx context.Context) error {
	if s.Addr() == nil {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: stdlog.New(quietSemicolons{s.log}, "", 0)}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(s.ln) }()
	sweep := time.NewTicker(s.tickets.ttl)
	defer sweep.Stop()
	s.log.Info("kafka-ws endpoint listening", zap.String("url", s.URL()))
	var err error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err = <-errc:
			break loop
		case <-sweep.C:
			s.tickets.sweep()
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = hs.Shutdown(sctx)
	cancel()
	s.Close()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("kafka_ws: serve: %w", err)
	}
	return nil
}

// Close closes every WebSocket with 1001 and stops the topic consumers. It
// is called by Run; call it yourself when serving Handler elsewhere.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.stopping:
	default:
		close(s.stopping)
	}
	s.mu.Unlock()
	s.conns.Wait()
	s.cancel()
	s.hub.close()
	if s.spent != nil {
		s.spent.close()
	}
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	st := s.counters
	st.Connections = s.active
	if s.spent != nil {
		st.SpentRecords = s.spent.records()
	}
	s.mu.Unlock()
	s.hub.mu.Lock()
	for _, f := range s.hub.feeds {
		st.Topics = append(st.Topics, TopicStats{Topic: f.topic, Subscribers: f.subscribers(), Received: f.received.Load(), Undecodable: f.undecodable.Load()})
	}
	s.hub.mu.Unlock()
	sort.Slice(st.Topics, func(i, j int) bool { return st.Topics[i].Topic < st.Topics[j].Topic })
	return st
}

func (s *Server) count(f func(*Stats)) {
	s.mu.Lock()
	f(&s.counters)
	s.mu.Unlock()
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="kafka-ws"`)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func (s *Server) handleTicket(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeJSONError(w, http.StatusMethodNotAllowed, "use GET")
		return
	}
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		s.count(func(st *Stats) { st.TicketsRefused++ })
		writeJSONError(w, http.StatusUnauthorized, "missing Authorization: Bearer <JWT> header")
		return
	}
	id, err := s.verify.verify(strings.TrimSpace(token))
	if err != nil {
		s.count(func(st *Stats) { st.TicketsRefused++ })
		writeJSONError(w, http.StatusUnauthorized, "invalid token: "+err.Error())
		return
	}
	t, err := s.tickets.issue(id.tenant, id.exp)
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, "cannot issue a ticket")
		s.log.Error("kafka-ws ticket", zap.Error(err))
		return
	}
	s.count(func(st *Stats) { st.TicketsIssued++ })
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]string{"ticket": t})
}

// isWebSocket reports whether r asks for a WebSocket upgrade.
func isWebSocket(r *http.Request) bool {
	return headerHasToken(r.Header, "Connection", "upgrade") && headerHasToken(r.Header, "Upgrade", "websocket")
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// rawQuery splits a query string on '&' only: `where` values end their
// conditions with ';', which net/url no longer treats as part of a value.
// Names and values are unescaped as in forms ('+' is a space; write %2B for
// a plus sign); the first occurrence of a name wins; a pair that does not
// unescape is ignored.
func rawQuery(raw string) map[string]string {
	out := map[string]string{}
	for _, pair := range strings.Split(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			continue
		}
		if _, dup := out[k]; !dup {
			out[k] = v
		}
	}
	return out
}

// quietSemicolons drops net/http's complaint about ';' in query strings,
// which this endpoint expects (see rawQuery).
type quietSemicolons struct{ log *zap.Logger }

func (q quietSemicolons) Write(p []byte) (int, error) {
	if !strings.Contains(string(p), "URL query contains semicolon") {
		q.log.Warn(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

// validTopic reports whether t is a legal Kafka topic name.
func validTopic(t string) bool {
	if t == "" || t == "." || t == ".." || len(t) > 249 {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func (s *Server) handleTopic(w http.ResponseWriter, r *http.Request) {
	if !isWebSocket(r) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusUpgradeRequired)
		_, _ = w.Write([]byte(NotWebSocketText))
		return
	}
	topic := strings.TrimPrefix(r.URL.Path, TopicsPath)
	q := rawQuery(r.URL.RawQuery)
	red, err := s.tickets.redeem(q["ticket"])
	if err == nil && s.spent != nil {
		if err = s.spent.claim(r.Context(), red); errors.Is(err, errTicketUnchecked) {
			s.count(func(st *Stats) { st.TicketsUnchecked++ })
			s.log.Warn("kafka-ws ticket refused (fail closed): the spent-ticket topic did not confirm it", zap.String("topic", s.cfg.SpentTopic), zap.Error(err))
		}
	}
	if err != nil {
		s.count(func(st *Stats) { st.TicketsRefused++ })
		status := http.StatusUnauthorized
		msg := err.Error()
		switch {
		case errors.Is(err, errTicketsFull):
			status = http.StatusServiceUnavailable
		case errors.Is(err, errTicketUnchecked):
			status, msg = http.StatusServiceUnavailable, errTicketUnchecked.Error()
		}
		writeJSONError(w, status, "ticket: "+msg)
		return
	}

	// Work out how the connection must end, if it must, before the
	// handshake: a subscription is made first so that every message
	// produced after the handshake reaches the client.
	var reject *closeReq
	whereText, fieldsText := q["where"], q["fields"]
	where, werr := ParseWhere(whereText)
	fields, ferr := ParseFields(fieldsText)
	var fe *FilterError
	switch {
	case errors.As(werr, &fe), errors.As(ferr, &fe):
		reject = &closeReq{code: fe.Code, reason: fe.CloseReason()}
	case !validTopic(topic):
		reject = &closeReq{code: CodeForbiddenTopic, reason: reason(CodeForbiddenTopic, "not a valid Kafka topic name: "+quoteShort(topic, 40))}
	}
	var tenant string
	if reject == nil {
		var ok bool
		if tenant, ok = s.access.tenantFor(topic, red.tag, s.tickets); !ok {
			reject = &closeReq{code: CodeForbiddenTopic, reason: reason(CodeForbiddenTopic, "the token's tenant may not read "+quoteShort(topic, 60))}
		}
	}
	c := newConn(s.cfg.SendQueue, whereText, fieldsText, where, fields)
	var f *feed
	if reject == nil {
		sctx, cancel := context.WithTimeout(r.Context(), subscribeTimeout)
		f, err = s.hub.subscribe(sctx, topic, c)
		cancel()
		if err != nil {
			s.log.Warn("kafka-ws subscribe failed", zap.String("topic", topic), zap.Error(err))
			reject = &closeReq{code: CodeInternal, reason: reason(CodeInternal, "cannot consume the topic")}
		}
	}
	streaming := false // once true, the streaming goroutine releases f
	defer func() {
		if f != nil && !streaming {
			s.hub.release(f, c)
		}
	}()

	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		// The ticket is the credential, so any origin may connect (a
		// dashboard is usually served from another origin).
		OriginPatterns: []string{"*"},
	})
	if err != nil {
		return // Accept answered the client
	}
	c.ws = ws
	ws.SetReadLimit(4096) // clients have nothing to send but control frames
	if reject != nil {
		s.count(func(st *Stats) { st.Rejected++ })
		_ = ws.Close(reject.code, reject.reason)
		return
	}

	// Register with the shutdown wait group unless shutdown started.
	s.mu.Lock()
	select {
	case <-s.stopping:
		s.mu.Unlock()
		_ = ws.Close(websocket.StatusGoingAway, "server shutting down")
		return
	default:
	}
	s.conns.Add(1)
	s.active++
	s.counters.Accepted++
	s.mu.Unlock()

	var deadline time.Time
	if s.cfg.Lifetime > 0 {
		deadline = time.Now().Add(s.cfg.Lifetime)
	}
	if s.cfg.JWTExpiryLimit && !red.jwtExp.IsZero() && (deadline.IsZero() || red.jwtExp.Before(deadline)) {
		deadline = red.jwtExp
	}
	// Stream on a fresh goroutine and let the HTTP handler return: the
	// connection is hijacked, and the handler's deep stack and the request
	// are not kept for the connection's lifetime (about a third less memory
	// per idle connection). s.conns tracks the goroutine.
	streaming = true
	go func() {
		defer s.conns.Done()
		defer s.hub.release(f, c)
		how := c.serve(s.ctx, deadline, s.cfg.PingInterval, s.stopping)
		s.mu.Lock()
		s.active--
		if strings.HasPrefix(how, CodeName(CodeSlowConsumer)) {
			s.counters.SlowClosed++
		}
		s.mu.Unlock()
		s.log.Debug("kafka-ws connection ended", zap.String("topic", topic), zap.String("tenant", tenant), zap.Uint64("sent", c.sent.Load()), zap.String("how", how))
	}()
}
