package testkit

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Default credentials of the embedded MQTT broker when auth is on. They
// protect nothing but a loopback test broker.
const (
	MQTTUser     = "telebridge"
	MQTTPassword = "telebridge-demo"
)

// MQTTOptions configures the embedded MQTT broker.
type MQTTOptions struct {
	// Addr is the listen address; "" means 127.0.0.1 on a free port.
	Addr string
	// Users maps user names to passwords; nil allows anonymous clients.
	Users map[string]string
	// TLS, if set, makes the listener speak TLS (set ClientAuth and
	// ClientCAs for mutual TLS).
	TLS *tls.Config
	// WebSocket serves MQTT over WebSocket (path /) instead of plain TCP.
	WebSocket bool
	// DenyTopic, if set, refuses publishes to topics for which it returns
	// true (PUBACK/PUBREC reason code 0x87 Not authorized at QoS 1/2).
	DenyTopic func(topic string) bool
	// MaximumPacketSize, if not 0, is announced in CONNACK and enforced.
	MaximumPacketSize uint32
	// ReceiveMaximum, if not 0, is announced in CONNACK (default 1024).
	ReceiveMaximum uint16
	// Logger receives the broker's logs; nil discards them.
	Logger *slog.Logger
}

// MQTTMessage is one message received by a Collector.
type MQTTMessage struct {
	Topic       string
	Payload     []byte
	QoS         byte
	ContentType string
	PayloadFmt  byte
	User        map[string]string
}

// MQTT is an embedded mochi-mqtt broker speaking MQTT 3.1.1 and 5 on one
// TCP (or TLS) listener. It can be stopped and started again on the same
// port; sessions and undelivered messages do not survive a stop, as with a
// broker without persistence.
type MQTT struct {
	opts MQTTOptions
	addr string

	mu         sync.Mutex
	srv        *mqtt.Server
	collectors []*Collector

	accMu    sync.Mutex     // separate from mu: hooks run while Stop holds mu
	accepted map[string]int // eventId user property -> publishes accepted
}

// StartMQTT starts the broker. Close it with Close.
func StartMQTT(opts MQTTOptions) (*MQTT, error) {
	addr := opts.Addr
	if addr == "" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("testkit: pick an MQTT port: %w", err)
		}
		addr = l.Addr().String()
		_ = l.Close()
	}
	m := &MQTT{opts: opts, addr: addr, accepted: map[string]int{}}
	if err := m.Start(); err != nil {
		return nil, err
	}
	return m, nil
}

// Addr returns host:port of the listener.
func (m *MQTT) Addr() string { return m.addr }

// URL returns the broker URL (mqtt://, mqtts://, ws:// or wss://).
func (m *MQTT) URL() string {
	if m.opts.WebSocket {
		if m.opts.TLS != nil {
			return "wss://" + m.addr + "/"
		}
		return "ws://" + m.addr + "/"
	}
	if m.opts.TLS != nil {
		return "mqtts://" + m.addr
	}
	return "mqtt://" + m.addr
}

// Start starts the broker if it is stopped (on the same address), and
// re-subscribes the collectors.
func (m *MQTT) Start() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.srv != nil {
		return nil
	}
	caps := mqtt.NewDefaultServerCapabilities()
	if m.opts.MaximumPacketSize > 0 {
		caps.MaximumPacketSize = m.opts.MaximumPacketSize
	}
	if m.opts.ReceiveMaximum > 0 {
		caps.ReceiveMaximum = m.opts.ReceiveMaximum
	}
	log := m.opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv := mqtt.New(&mqtt.Options{InlineClient: true, Capabilities: caps, Logger: log})
	if err := srv.AddHook(&mqttHook{m: m}, nil); err != nil {
		return fmt.Errorf("testkit: mqtt hook: %w", err)
	}
	var l listeners.Listener = listeners.NewTCP(listeners.Config{ID: "t1", Address: m.addr, TLSConfig: m.opts.TLS})
	if m.opts.WebSocket {
		l = listeners.NewWebsocket(listeners.Config{ID: "ws1", Address: m.addr, TLSConfig: m.opts.TLS})
	}
	if err := srv.AddListener(l); err != nil {
		return fmt.Errorf("testkit: mqtt listener on %s: %w", m.addr, err)
	}
	if err := srv.Serve(); err != nil {
		_ = srv.Close()
		return fmt.Errorf("testkit: start mqtt broker: %w", err)
	}
	for _, c := range m.collectors {
		if err := c.subscribe(srv); err != nil {
			_ = srv.Close()
			return err
		}
	}
	m.srv = srv
	return nil
}

// Accepted returns, per eventId user property, how many publishes the
// broker accepted (passed authentication and ACL) over its whole life,
// restarts included. Unlike a subscriber, it also counts messages the
// broker acknowledged but lost when it stopped before forwarding them.
func (m *MQTT) Accepted() map[string]int {
	m.accMu.Lock()
	defer m.accMu.Unlock()
	out := make(map[string]int, len(m.accepted))
	for k, v := range m.accepted {
		out[k] = v
	}
	return out
}

// Stop stops the broker, disconnecting every client; Start brings it back.
func (m *MQTT) Stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.srv != nil {
		_ = m.srv.Close()
		m.srv = nil
	}
}

// DropConnections closes the network connection of every client while the
// broker keeps running, so clients reconnect and resume their sessions
// (unacknowledged QoS 1/2 messages are retransmitted). It returns how many
// connections it closed.
func (m *MQTT) DropConnections() int {
	m.mu.Lock()
	srv := m.srv
	m.mu.Unlock()
	if srv == nil {
		return 0
	}
	n := 0
	for _, cl := range srv.Clients.GetAll() {
		if cl.Net.Inline || cl.Closed() {
			continue
		}
		cl.Stop(errors.New("testkit: connection dropped"))
		n++
	}
	return n
}

// Close stops the broker for good.
func (m *MQTT) Close() { m.Stop() }

// Collect subscribes to filter with the broker's inline client and records
// every message; the subscription is renewed when the broker restarts.
func (m *MQTT) Collect(filter string) (*Collector, error) {
	c := &Collector{filter: filter, id: 0, notify: make(chan struct{})}
	m.mu.Lock()
	defer m.mu.Unlock()
	c.id = len(m.collectors) + 1
	if m.srv != nil {
		if err := c.subscribe(m.srv); err != nil {
			return nil, err
		}
	}
	m.collectors = append(m.collectors, c)
	return c, nil
}

// Collector records the messages of one subscription.
type Collector struct {
	filter string
	id     int

	mu     sync.Mutex
	msgs   []MQTTMessage
	notify chan struct{} // closed and replaced on every message
}

func (c *Collector) subscribe(srv *mqtt.Server) error {
	err := srv.Subscribe(c.filter, c.id, func(_ *mqtt.Client, _ packets.Subscription, pk packets.Packet) {
		msg := MQTTMessage{
			Topic:       pk.TopicName,
			Payload:     bytes.Clone(pk.Payload),
			QoS:         pk.FixedHeader.Qos,
			ContentType: pk.Properties.ContentType,
			PayloadFmt:  pk.Properties.PayloadFormat,
			User:        map[string]string{},
		}
		for _, u := range pk.Properties.User {
			msg.User[u.Key] = u.Val
		}
		c.mu.Lock()
		c.msgs = append(c.msgs, msg)
		close(c.notify)
		c.notify = make(chan struct{})
		c.mu.Unlock()
	})
	if err != nil {
		return fmt.Errorf("testkit: subscribe %q: %w", c.filter, err)
	}
	return nil
}

// Messages returns a copy of what arrived so far.
func (c *Collector) Messages() []MQTTMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.msgs)
}

// Wait waits until at least n messages arrived or ctx ends, and returns
// what arrived (with ctx's error if fewer than n).
func (c *Collector) Wait(ctx context.Context, n int) ([]MQTTMessage, error) {
	for {
		c.mu.Lock()
		got, ch := len(c.msgs), c.notify
		c.mu.Unlock()
		if got >= n {
			return c.Messages(), nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return c.Messages(), fmt.Errorf("testkit: %d of %d MQTT messages on %q: %w", got, n, c.filter, ctx.Err())
		}
	}
}

// mqttHook authenticates users, refuses denied topics, announces the
// maximum packet size and records accepted publishes.
type mqttHook struct {
	mqtt.HookBase
	m *MQTT
}

func (h *mqttHook) ID() string { return "telebridge-testkit" }

func (h *mqttHook) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnConnectAuthenticate, mqtt.OnACLCheck, mqtt.OnPacketEncode, mqtt.OnPublish}, []byte{b})
}

func (h *mqttHook) OnConnectAuthenticate(_ *mqtt.Client, pk packets.Packet) bool {
	users := h.m.opts.Users
	if users == nil {
		return true
	}
	pw, ok := users[string(pk.Connect.Username)]
	return ok && pw == string(pk.Connect.Password)
}

func (h *mqttHook) OnACLCheck(_ *mqtt.Client, topic string, write bool) bool {
	if deny := h.m.opts.DenyTopic; write && deny != nil && deny(topic) {
		return false
	}
	return true
}

// OnPacketEncode announces MaximumPacketSize in CONNACK (mochi enforces
// it but does not announce it).
func (h *mqttHook) OnPacketEncode(_ *mqtt.Client, pk packets.Packet) packets.Packet {
	if pk.FixedHeader.Type == packets.Connack && h.m.opts.MaximumPacketSize > 0 {
		pk.Properties.MaximumPacketSize = h.m.opts.MaximumPacketSize
	}
	return pk
}

func (h *mqttHook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if cl.Net.Inline {
		return pk, nil
	}
	for _, u := range pk.Properties.User {
		if u.Key == "eventId" {
			h.m.accMu.Lock()
			h.m.accepted[u.Val]++
			h.m.accMu.Unlock()
		}
	}
	return pk, nil
}

// DenyPrefix returns a DenyTopic function refusing topics that start with
// any of prefixes.
func DenyPrefix(prefixes ...string) func(string) bool {
	return func(t string) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(t, p) {
				return true
			}
		}
		return false
	}
}
