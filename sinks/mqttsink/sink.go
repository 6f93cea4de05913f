// Package mqttsink pushes object-sync objects to an MQTT v5 broker with
// eclipse/paho.golang (autopaho), at-least-once for QoS 1 and 2.
//
// Each object becomes one PUBLISH: the payload is the object's
// single-event JSON (optionally with the eventId injected at the top
// level), the topic comes from a template ({type} and payload fields such
// as {ownerId}, escaped so that values never become wildcards or extra
// levels), and the user properties are eventId, objectType,
// telebridge-source (source topic/partition@offset) and, when the source
// message has an id of its own, telebridge-source-message-id
// (sinks.SourceRef.MessageID), with content type
// application/json and payload format indicator 1 (UTF-8).
//
// A message is acknowledged when it was written to the connection (QoS
// 0), PUBACK arrived (QoS 1) or PUBCOMP arrived (QoS 2); only then is done
// called with Delivered. A reason code of 0x80 or above in PUBACK or
// PUBREC (for example 0x87 Not authorized from an ACL) fails the attempt,
// and so does a missing acknowledgement within DeliveryTimeout; failed
// attempts are retried after the RetryPolicy's backoff until MaxAttempts
// (never with sinks.UnlimitedAttempts), then the message ends Failed and
// the caller dead-letters it. Every
// attempt is reported to the Observer.
//
// The connection is kept up by autopaho: broker URLs are tried in order,
// reconnecting with exponential backoff and jitter. While no connection is
// up, messages wait (waiting is not an attempt) and Send blocks once
// MaxInFlight messages are pending, so the source pauses; nothing is
// dropped. The first connection of a process starts a clean session (the
// process has no session state to resume); reconnections resume it with
// the configured session expiry, so QoS 1/2 messages in flight are
// retransmitted by the client and acknowledged once. If the broker lost
// the session (it restarted without persistence), the affected messages
// are published again as a new attempt: at-least-once, duplicates
// possible, which the eventId lets consumers detect.
//
// Ordering: one writer goroutine publishes the messages in the order Send
// accepted them, without waiting for each acknowledgement: up to
// MaxInFlight messages (and the broker's receive maximum for QoS 1/2) are
// in flight, and paho's session state tracks their acknowledgements (see
// ackTracker). So messages reach the broker in Send order, and a resumed
// session retransmits unacknowledged ones in that order. A message whose
// attempt failed (refused, unacknowledged within DeliveryTimeout, or lost
// with the broker's session) is published again after its retry backoff,
// behind the messages sent meanwhile: a retry can reorder that message.
package mqttsink

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"
	"go.uber.org/zap"

	"github.com/telebridge/telebridge/sinks"
)

// Kind is the sink kind reported by Sink.Kind and in attempts.
const Kind = "mqtt"

// User property names and the content type set on every publish.
const (
	PropEventID    = "eventId"
	PropObjectType = "objectType"
	PropSource     = "telebridge-source"
	// PropSourceMessageID carries sinks.SourceRef.MessageID; absent when
	// it is empty.
	PropSourceMessageID = "telebridge-source-message-id"
	ContentType         = "application/json"
)

// ErrClosed is wrapped by the error Send returns once Close has started;
// done is not called then. It is sinks.ErrClosed.
var ErrClosed = sinks.ErrClosed

// errAborted is the Result.Err of messages aborted by Close.
var errAborted = errors.New("sink closed before the delivery was confirmed")

// errSessionLost fails attempts that were in flight when the broker came
// back without the session (it forgot the unacknowledged messages).
var errSessionLost = errors.New("the broker did not keep the session across the reconnection (session present = 0), so the unacknowledged publish was lost; publishing again")

// ErrTooLarge marks a message larger than the broker's maximum packet
// size. It is not retried: the message ends Failed and is dead-lettered.
var ErrTooLarge = errors.New("payload too large")

// Sink is an MQTT push sink. It implements sinks.Sink and is safe for
// concurrent use. It runs two goroutines: the writer, which publishes
// accepted messages one after another in Send order, and the
// acknowledgement loop, which completes QoS 1/2 messages when PUBACK or
// PUBCOMP arrives and fails those unacknowledged within DeliveryTimeout.
// done callbacks and the Observer run on those goroutines (and on paho's
// connection goroutine when a session was lost); they must not block for
// long or call Send or Close.
type Sink struct {
	cfg  *settings
	cm   *autopaho.ConnectionManager
	acks *ackTracker

	sem        chan struct{} // in-flight slots; a slot is held until done
	queue      chan *record  // messages to publish, in order (cap = MaxInFlight)
	closing    chan struct{} // closed when Close starts
	runCtx     context.Context
	stopRun    context.CancelFunc // stops the writer (Close deadline)
	cmStop     context.CancelFunc // stops the connection manager
	wg         sync.WaitGroup     // accepted messages without an outcome
	writerDone chan struct{}
	ackerDone  chan struct{}

	mu       sync.Mutex
	closed   bool
	retrying map[*record]struct{} // messages waiting for their retry backoff

	sessMu sync.Mutex
	everUp bool

	connected atomic.Bool
	maxPacket atomic.Uint32 // broker's maximum packet size; 0 = none
	lastErr   atomic.Pointer[connError]
	logLimit  errLimiter

	closeOnce sync.Once
	closeErr  error
}

var (
	_ sinks.Sink   = (*Sink)(nil)
	_ sinks.Health = (*Sink)(nil)
)

type connError struct{ err error }

// record is one accepted message. It is owned by one goroutine at a time,
// handed over through the queue, the ackTracker's lock or s.mu: the
// writer while publishing, the ack loop (or Close) while it awaits
// acknowledgement, a retry timer while it waits for its backoff.
type record struct {
	msg     *sinks.Message
	done    func(sinks.Result)
	topic   string
	topicEr error
	qos     byte
	payload []byte
	pub     *paho.Publish
	size    int // estimated PUBLISH packet size
	assetID string

	attempt int
	start   time.Time
	lastErr error

	// Set by ackTracker while the attempt is in paho's session.
	inSession  bool
	pktID      uint16
	deadline   time.Time
	prev, next *record
}

// New validates cfg and starts connecting in the background (it does not
// wait for the broker). Connection problems are logged, explained by
// LastError, and make messages wait; they are not an error here.
func New(cfg Config) (*Sink, error) {
	st, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	s := &Sink{
		cfg:        st,
		sem:        make(chan struct{}, st.maxInFlight),
		queue:      make(chan *record, st.maxInFlight),
		closing:    make(chan struct{}),
		writerDone: make(chan struct{}),
		ackerDone:  make(chan struct{}),
		retrying:   make(map[*record]struct{}),
	}
	s.runCtx, s.stopRun = context.WithCancel(context.Background())
	s.logLimit.window = 30 * time.Second
	s.acks = newAckTracker(st.deliveryTimeout, s.sessionLost, s.ackerDone)

	cc := autopaho.ClientConfig{
		ServerUrls:                    st.brokers,
		TlsCfg:                        st.tls,
		KeepAlive:                     st.keepAlive,
		CleanStartOnInitialConnection: true,
		SessionExpiryInterval:         st.sessionExpiry,
		ConnectTimeout:                st.connectTimeout,
		ReconnectBackoff: func(attempt int) time.Duration {
			if attempt == 0 {
				return 0
			}
			return st.reconnect.Backoff(attempt, nil)
		},
		ConnectUsername:  st.username,
		ConnectPassword:  st.password,
		OnConnectionUp:   s.onUp,
		OnConnectionDown: s.onDown,
		OnConnectError:   s.onConnectError,
		ClientConfig: paho.ClientConfig{
			ClientID:      st.clientID,
			Session:       s.acks,
			PacketTimeout: st.deliveryTimeout,
			OnServerDisconnect: func(d *paho.Disconnect) {
				s.cfg.log.Warn("MQTT broker closed the connection", zap.String("reason_code", reasonName(d.ReasonCode)),
					zap.String("reason", disconnectReason(d)))
			},
			OnClientError: func(err error) {
				s.cfg.log.Warn("MQTT connection error", zap.Error(err))
			},
		},
	}
	cmCtx, cmStop := context.WithCancel(context.Background())
	cm, err := autopaho.NewConnection(cmCtx, cc)
	if err != nil {
		cmStop()
		s.stopRun()
		return nil, fmt.Errorf("mqtt sink %q: start connection: %w", st.name, err)
	}
	s.cm, s.cmStop = cm, cmStop
	go s.write()
	go s.ackLoop()
	return s, nil
}

// Name returns the configured sink name.
func (s *Sink) Name() string { return s.cfg.name }

// Kind returns "mqtt".
func (s *Sink) Kind() string { return Kind }

// Connected reports whether a broker connection is up; when it is not,
// reason is the latest connection error, explained (or "connecting" before
// the first attempt ends). It implements sinks.Health, so readiness, the
// metrics and the dashboard show the sink's connection state.
func (s *Sink) Connected() (ok bool, reason string) {
	if s.connected.Load() {
		return true, ""
	}
	if err := s.LastError(); err != nil {
		return false, err.Error()
	}
	names := make([]string, len(s.cfg.brokers))
	for i, u := range s.cfg.brokers {
		names[i] = u.Redacted()
	}
	return false, "connecting to " + strings.Join(names, ", ")
}

// LastError returns the latest connection error, explained (refused
// credentials with the CONNACK reason code, TLS verification failures
// naming the certificate, unreachable brokers), or nil once connected.
func (s *Sink) LastError() error {
	if e := s.lastErr.Load(); e != nil {
		return e.err
	}
	return nil
}

// AwaitConnection waits until a connection is up, ctx ends (returning
// ctx's error joined with LastError) or the sink closes.
func (s *Sink) AwaitConnection(ctx context.Context) error {
	if err := s.cm.AwaitConnection(ctx); err != nil {
		if last := s.LastError(); last != nil {
			return fmt.Errorf("mqtt sink %q: not connected: %w (last error: %w)", s.cfg.name, err, last)
		}
		return fmt.Errorf("mqtt sink %q: not connected: %w", s.cfg.name, err)
	}
	return nil
}

func (s *Sink) onUp(_ *autopaho.ConnectionManager, ca *paho.Connack) {
	s.lastErr.Store(nil)
	var mp uint32
	if ca.Properties != nil && ca.Properties.MaximumPacketSize != nil {
		mp = *ca.Properties.MaximumPacketSize
	}
	s.maxPacket.Store(mp)
	s.sessMu.Lock()
	// The ackTracker has failed the attempts the lost session held.
	lost := s.everUp && !ca.SessionPresent
	s.everUp = true
	s.sessMu.Unlock()
	s.connected.Store(true)
	recvMax := uint16(65535)
	if ca.Properties != nil && ca.Properties.ReceiveMaximum != nil {
		recvMax = *ca.Properties.ReceiveMaximum
	}
	s.cfg.log.Info("connected to MQTT broker", zap.Bool("session_present", ca.SessionPresent),
		zap.Bool("session_lost", lost), zap.Uint16("receive_maximum", recvMax), zap.Uint32("maximum_packet_size", mp))
}

func (s *Sink) onDown() bool {
	s.connected.Store(false)
	s.cfg.log.Warn("connection to MQTT broker lost; reconnecting (messages wait, nothing is dropped)")
	return true
}

func (s *Sink) onConnectError(err error) {
	e := explainConnectError(err, s.cfg)
	s.lastErr.Store(&connError{e})
	if n, ok := s.logLimit.allow(e.Error(), time.Now()); ok {
		s.cfg.log.Error("cannot connect to MQTT broker; retrying with backoff (messages wait)", zap.Error(e), zap.Int("suppressed", n))
	}
}

// Send prepares m and queues it for the writer, which publishes messages
// in the order Send accepted them. It blocks while MaxInFlight messages
// await an outcome (also while disconnected), returning ctx.Err()
// if ctx ends first (done is not called then). After Close has started it
// returns an error wrapping ErrClosed without calling done. Otherwise it
// returns nil and done is called exactly once, from another goroutine,
// with Delivered, Failed (attempts exhausted, or a permanent problem such
// as an unbuildable topic or a payload over the broker's maximum packet
// size: dead-letter it) or Aborted (Close ended the delivery; do not
// commit).
func (s *Sink) Send(ctx context.Context, m *sinks.Message, done func(sinks.Result)) error {
	if err := sinks.Admit(ctx, Kind, s.cfg.name, m, done, s.sem, s.closing); err != nil {
		return err
	}
	rec := s.newRecord(m, done)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		<-s.sem
		return fmt.Errorf("mqtt sink %q: send: %w", s.cfg.name, ErrClosed)
	}
	s.wg.Add(1)
	// Never blocks: every queued record holds an in-flight slot and is
	// queued at most once, so the queue (cap MaxInFlight) has room.
	s.queue <- rec
	s.mu.Unlock()
	return nil
}

func (s *Sink) newRecord(m *sinks.Message, done func(sinks.Result)) *record {
	t := m.Object.ObjectType()
	rec := &record{
		msg:     m,
		done:    done,
		qos:     s.cfg.qos[t],
		assetID: m.Object.AssetKey(),
	}
	if tt := s.cfg.topics[t]; tt == nil {
		rec.topicEr = fmt.Errorf("%w: no topic is configured for %s objects", ErrTopic, t)
	} else {
		rec.topic, rec.topicEr = tt.topicFor(m.Object)
	}
	rec.payload = m.Object.AppendJSON(make([]byte, 0, 512), s.cfg.eventIDField, m.EventID)
	source := formatSource(m.Source)
	pfi := byte(1)
	rec.pub = &paho.Publish{
		QoS:     rec.qos,
		Retain:  s.cfg.retain,
		Topic:   rec.topic,
		Payload: rec.payload,
		Properties: &paho.PublishProperties{
			PayloadFormat: &pfi,
			ContentType:   ContentType,
			User: paho.UserProperties{
				{Key: PropEventID, Value: m.EventID},
				{Key: PropObjectType, Value: string(t)},
				{Key: PropSource, Value: source},
			},
		},
	}
	// Fixed header (1) + remaining length (up to 4) + topic (2+n) +
	// packet id (2) + properties length (up to 4) + payload format (2) +
	// content type (3+n) + user properties (5+k+v each) + payload.
	rec.size = 1 + 4 + 2 + len(rec.topic) + 2 + 4 + 2 + 3 + len(ContentType) +
		5 + len(PropEventID) + len(m.EventID) + 5 + len(PropObjectType) + len(t) +
		5 + len(PropSource) + len(source) + len(rec.payload)
	if id := m.Source.MessageID; id != "" {
		rec.pub.Properties.User = append(rec.pub.Properties.User, paho.UserProperty{Key: PropSourceMessageID, Value: id})
		rec.size += 5 + len(PropSourceMessageID) + len(id)
	}
	return rec
}

// write is the writer goroutine: it publishes queued messages one at a
// time, in queue order, until Close stops it.
func (s *Sink) write() {
	defer close(s.writerDone)
	for {
		select {
		case rec := <-s.queue:
			s.publish(rec)
		case <-s.runCtx.Done():
			return
		}
	}
}

// publish runs one attempt of rec. It returns once the PUBLISH is written
// (QoS 0: rec is delivered) or in paho's session (QoS 1/2: the ack loop
// takes over), or rec has failed or been aborted. While no connection is
// up it waits; waiting, and a publish that did not reach the connection,
// are not attempts. It blocks while the broker's receive maximum of
// unacknowledged QoS 1/2 publishes is reached.
func (s *Sink) publish(rec *record) {
	if rec.topicEr != nil {
		s.failNow(rec, rec.topicEr)
		return
	}
	for {
		if err := s.cm.AwaitConnection(s.runCtx); err != nil {
			s.abort(rec)
			return
		}
		if mp := s.maxPacket.Load(); mp > 0 && rec.size > int(mp) {
			s.failNow(rec, fmt.Errorf("%w: the PUBLISH would be about %d bytes (payload %d bytes), over the broker's maximum packet size of %d bytes",
				ErrTooLarge, rec.size, len(rec.payload), mp))
			return
		}
		rec.attempt++
		rec.start = time.Now()
		rec.inSession = false
		if rec.qos > 0 {
			s.acks.setCurrent(rec)
		}
		_, err := s.cm.Publish(s.runCtx, rec.pub)
		if rec.qos > 0 {
			s.acks.setCurrent(nil)
		}
		switch {
		case rec.inSession:
			// In the session: the ack loop reports the outcome, whatever
			// Publish returned (a write error leaves the PUBLISH in the
			// session for retransmission after the reconnection).
			return
		case err == nil:
			s.delivered(rec) // QoS 0: written
			return
		case s.runCtx.Err() != nil:
			rec.attempt--
			s.abort(rec)
			return
		case errors.Is(err, paho.ErrInvalidArguments):
			// The broker's limits forbid this publish (QoS above its
			// maximum QoS, retain unsupported).
			s.attemptFailed(rec, fmt.Errorf("publish to topic %q: %w", rec.topic, err))
			return
		}
		// Not sent: no connection (autopaho.ConnectionDownError,
		// session.ErrNoConnection), a QoS 0 write that failed with the
		// connection, or no receive-maximum slot freed within
		// DeliveryTimeout. Try again; the pause keeps a flapping
		// connection from spinning here.
		rec.attempt--
		select {
		case <-time.After(10 * time.Millisecond):
		case <-s.runCtx.Done():
		}
	}
}

// ackLoop is the acknowledgement goroutine: it applies the acknowledgements
// paho's session state reports and fails attempts unacknowledged within
// DeliveryTimeout. It runs until the connection manager has stopped (so
// the state never blocks on a channel nobody reads).
func (s *Sink) ackLoop() {
	defer close(s.ackerDone)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var armed time.Time
	for {
		select {
		case cp := <-s.acks.acks:
			if cp.Content == nil {
				s.acks.barrierReached()
				continue
			}
			if rec := s.acks.take(cp); rec != nil {
				s.acknowledged(rec, cp)
			}
		case <-s.acks.kick:
		case <-timer.C:
			armed = time.Time{}
		case <-s.cm.Done():
			timer.Stop()
			return
		}
		recs, next := s.acks.expired(time.Now())
		for _, rec := range recs {
			what := "PUBACK"
			if rec.qos == 2 {
				what = "PUBCOMP"
			}
			s.attemptFailed(rec, fmt.Errorf("no %s for topic %q within the delivery timeout of %v (the message stays in the session and may still arrive)", what, rec.topic, s.cfg.deliveryTimeout))
		}
		if !next.Equal(armed) {
			armed = next
			if next.IsZero() {
				timer.Stop()
			} else {
				timer.Reset(time.Until(next))
			}
		}
	}
}

// acknowledged applies the final acknowledgement of rec's attempt:
// PUBACK (QoS 1) or PUBCOMP (QoS 2) delivers it, a PUBACK or PUBREC with a
// reason code of 0x80 or above fails the attempt.
func (s *Sink) acknowledged(rec *record, cp packets.ControlPacket) {
	switch p := cp.Content.(type) {
	case *packets.Puback:
		if p.ReasonCode >= 0x80 {
			s.attemptFailed(rec, s.refused("PUBACK", rec, p.ReasonCode, p.Properties))
			return
		}
		s.delivered(rec)
	case *packets.Pubrec:
		// The state reports a PUBREC only when it carries an error.
		if p.ReasonCode >= 0x80 {
			s.attemptFailed(rec, s.refused("PUBREC", rec, p.ReasonCode, p.Properties))
			return
		}
		s.delivered(rec)
	case *packets.Pubcomp:
		// PUBCOMP ends the QoS 2 exchange; the broker has the message (a
		// 0x92 Packet Identifier not found means it already released it).
		s.delivered(rec)
	default:
		s.attemptFailed(rec, fmt.Errorf("publish to topic %q: unexpected %s in answer to the PUBLISH", rec.topic, cp.PacketType()))
	}
}

// refused explains a PUBACK or PUBREC reason code of 0x80 or above.
func (s *Sink) refused(ack string, rec *record, code byte, props *packets.Properties) error {
	reason := ""
	if props != nil && props.ReasonString != "" {
		reason = ": " + props.ReasonString
	}
	hint := ""
	if code == 0x87 {
		hint = " (the broker's ACL does not let user " + strconv.Quote(s.cfg.username) + " publish to this topic)"
	}
	return fmt.Errorf("broker refused the publish to topic %q: %s reason code %s%s%s", rec.topic, ack, reasonName(code), reason, hint)
}

// sessionLost fails the attempts that were in the session when the broker
// came back without it (it forgot the unacknowledged messages).
func (s *Sink) sessionLost(recs []*record) {
	for _, rec := range recs {
		s.attemptFailed(rec, errSessionLost)
	}
}

func (s *Sink) delivered(rec *record) {
	s.observe(rec, sinks.StatusDelivered, nil)
	s.finish(rec, sinks.Result{Outcome: sinks.Delivered, Attempts: rec.attempt, Payload: rec.payload,
		Topic: rec.topic, Partition: -1, Offset: -1, QoS: rec.qos})
}

// attemptFailed handles a failed attempt: rec ends Failed when its
// attempts are used, is aborted when the sink is closing, or is queued
// again after the retry backoff (behind the messages queued meanwhile).
func (s *Sink) attemptFailed(rec *record, err error) {
	rec.lastErr = err
	if s.cfg.retry.Exhausted(rec.attempt) {
		s.observe(rec, sinks.StatusFailed, err)
		s.finish(rec, sinks.Result{
			Outcome:  sinks.Failed,
			Attempts: rec.attempt,
			Err: fmt.Errorf("mqtt sink %q: deliver eventId %s (%s) to topic %q at QoS %d: giving up after %d attempts: %w",
				s.cfg.name, rec.msg.EventID, rec.msg.Object.ObjectType(), rec.topic, rec.qos, rec.attempt, err),
			Payload: rec.payload, Topic: rec.topic, Partition: -1, Offset: -1, QoS: rec.qos,
		})
		return
	}
	s.observe(rec, sinks.StatusRetrying, err)
	wait := s.cfg.retry.Backoff(rec.attempt, nil)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.abort(rec)
		return
	}
	defer s.mu.Unlock()
	s.retrying[rec] = struct{}{}
	time.AfterFunc(wait, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, ok := s.retrying[rec]; !ok {
			return // Close aborted it
		}
		delete(s.retrying, rec)
		s.queue <- rec // never blocks: rec holds an in-flight slot
	})
}

// failNow ends rec Failed without retrying (a permanent problem).
func (s *Sink) failNow(rec *record, err error) {
	rec.attempt++
	rec.start = time.Now()
	rec.lastErr = err
	s.observe(rec, sinks.StatusFailed, err)
	s.finish(rec, sinks.Result{
		Outcome:  sinks.Failed,
		Attempts: rec.attempt,
		Err: fmt.Errorf("mqtt sink %q: deliver eventId %s (%s) at QoS %d: not retried: %w",
			s.cfg.name, rec.msg.EventID, rec.msg.Object.ObjectType(), rec.qos, err),
		Payload: rec.payload, Topic: rec.topic, Partition: -1, Offset: -1, QoS: rec.qos,
	})
}

// abort ends rec Aborted (Close stopped it before an outcome was known).
func (s *Sink) abort(rec *record) {
	err := fmt.Errorf("mqtt sink %q: %w", s.cfg.name, errAborted)
	if rec.lastErr != nil {
		err = fmt.Errorf("mqtt sink %q: %w (after %d attempts, last error: %w)", s.cfg.name, errAborted, rec.attempt, rec.lastErr)
	}
	s.finish(rec, sinks.Result{Outcome: sinks.Aborted, Attempts: rec.attempt, Err: err,
		Payload: rec.payload, Topic: rec.topic, Partition: -1, Offset: -1, QoS: rec.qos})
}

// finish reports rec's outcome; every accepted record passes here once.
func (s *Sink) finish(rec *record, res sinks.Result) {
	<-s.sem
	rec.done(res)
	s.wg.Done()
}

func (s *Sink) observe(rec *record, status sinks.AttemptStatus, err error) {
	if s.cfg.observer == nil {
		return
	}
	a := &sinks.Attempt{
		Time:      rec.start,
		Sink:      s.cfg.name,
		Kind:      Kind,
		Topic:     rec.topic,
		Partition: -1,
		Offset:    -1,
		QoS:       rec.qos,
		Status:    status,
		Number:    rec.attempt,
		Latency:   time.Since(rec.start),
		EventID:   rec.msg.EventID,
		Type:      rec.msg.Object.ObjectType(),
		AssetID:   rec.assetID,
		Source:    rec.msg.Source,
		Payload:   rec.payload,
	}
	if err != nil {
		a.Err = err.Error()
	}
	s.cfg.observer.ObserveAttempt(a)
}

// Close stops accepting messages, aborts messages waiting for a retry,
// waits up to ctx's deadline for the queued messages to be published and
// acknowledged, then aborts the rest (reported Aborted: not finished,
// redelivered after a restart), disconnects and stops the sink's
// goroutines. A message whose attempt fails during Close is aborted, not
// retried. Each accepted message has had its done call when Close
// returns. Close returns an error wrapping ctx.Err() when the deadline cut
// the wait short. Later calls return the first call's result.
func (s *Sink) Close(ctx context.Context) error {
	s.closeOnce.Do(func() { s.closeErr = s.close(ctx) })
	return s.closeErr
}

func (s *Sink) close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	waiting := s.retrying
	s.retrying = nil
	s.mu.Unlock()
	close(s.closing)
	// Their timers find them gone and do nothing.
	for rec := range waiting {
		s.abort(rec)
	}
	idle := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(idle)
	}()
	var err error
	select {
	case <-idle:
	case <-ctx.Done():
		pending := len(s.sem)
		s.stopRun()
		<-s.writerDone
		// Nothing enters the queue any more: Send and the retry timers
		// see closed, and the writer has stopped.
		for len(s.queue) > 0 {
			s.abort(<-s.queue)
		}
		for _, rec := range s.acks.abandonAll() {
			s.abort(rec)
		}
		<-idle
		err = fmt.Errorf("mqtt sink %q: close: aborted %d messages unconfirmed at the deadline: %w", s.cfg.name, pending, ctx.Err())
	}
	s.stopRun()
	<-s.writerDone
	dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if derr := s.cm.Disconnect(dctx); derr != nil {
		s.cfg.log.Warn("MQTT disconnect did not finish", zap.Error(derr))
	}
	s.cmStop()
	select {
	case <-s.ackerDone:
	case <-dctx.Done():
		s.cfg.log.Warn("MQTT acknowledgement goroutine did not stop: the connection is still shutting down")
	}
	return err
}

// formatSource renders a source reference as topic/partition@offset.
func formatSource(r sinks.SourceRef) string {
	b := make([]byte, 0, len(r.Topic)+24)
	b = append(b, r.Topic...)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(r.Partition), 10)
	b = append(b, '@')
	b = strconv.AppendInt(b, r.Offset, 10)
	return string(b)
}
