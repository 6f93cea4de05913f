package mqttsink

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho/session"
	"github.com/eclipse/paho.golang/paho/session/state"
)

// ackBuffer is the capacity of the shared acknowledgement channel. paho's
// session state sends on it while holding its own lock, so a buffer keeps
// the network reader from waiting for the acknowledgement goroutine.
const ackBuffer = 1024

// ackTracker is the paho session manager of a sink: paho's in-memory
// session state (which allocates packet identifiers, enforces the broker's
// receive maximum, retransmits unacknowledged publishes in their original
// order when a session is resumed and sends PUBREL) wrapped so that the
// sink learns each QoS 1/2 outcome without a goroutine per message.
//
// The sink's single writer goroutine publishes one message at a time: it
// sets the current record, then calls autopaho's Publish, which calls
// AddToSession on the writer's goroutine. AddToSession hands the state the
// tracker's shared channel instead of paho's per-call response channel and
// files the record under its packet identifier; the tracker's goroutine
// (Sink.ackLoop) reads PUBACK, PUBREC (only sent when it carries an error)
// and PUBCOMP from the shared channel and completes the record filed under
// that identifier. paho's own response channel is answered at once with a
// success placeholder, so Publish returns as soon as the PUBLISH is written
// (the effect of paho's PublishMethod_AsyncSend, which autopaho's
// ConnectionManager does not expose): the writer moves on to the next
// message while this one awaits its acknowledgement, and messages reach
// the broker in the order they were handed to Send.
//
// Records that await acknowledgement are also kept in a list in publish
// order, so the oldest deadline (filing time + DeliveryTimeout) is at its
// head. The deadline runs on while the connection is down and is not
// restarted by a resumed session, so a PUBLISH the broker keeps refusing
// by dropping the connection (an unannounced maximum packet size) fails
// its attempt after DeliveryTimeout instead of being retransmitted
// forever. A record that times out stays in paho's session (it may still
// be retransmitted and acknowledged); its identifier is kept with a nil
// record so that a late acknowledgement is recognised and ignored.
//
// When the broker does not resume the session (CONNACK session present =
// 0) the state forgets its unacknowledged publishes without answering
// them; the tracker first lets the acknowledgement goroutine process every
// acknowledgement already received, then hands the remaining records to
// lost, which fails their attempt so they are published again.
type ackTracker struct {
	*state.State

	acks chan packets.ControlPacket // shared response channel given to the state
	kick chan struct{}              // wakes the ack loop when the list was empty

	// connMu is held for reading by AddToSession and for writing while a
	// new connection's CONNACK is applied (gen is then incremented), so a
	// PUBLISH enters the session only on the connection the writer's
	// client belongs to (see AddToSession).
	connMu sync.RWMutex
	gen    atomic.Uint64 // connections applied so far

	mu         sync.Mutex
	freed      *sync.Cond         // signalled when an identifier leaves byID
	current    *record            // the record the writer is publishing (QoS 1/2)
	currentGen uint64             // gen when the writer took its client
	byID       map[uint16]*record // filed records; nil = abandoned attempt, ack ignored
	head, tail *record            // filed records in publish order
	barrier    chan struct{}      // closed by the ack loop when it reaches the barrier
	expiry     uint32             // effective session expiry interval of the connection
	up         bool               // between ConAckReceived and ConnectionLost
	cleaned    bool               // the state dropped its session on connection loss
	timeout    time.Duration

	lost func(recs []*record) // called with the records of a lost session
	stop <-chan struct{}      // closed when the ack loop has exited

	puback, pubcomp packets.ControlPacket // success placeholders for paho
}

var _ session.SessionManager = (*ackTracker)(nil)

func newAckTracker(timeout time.Duration, lost func([]*record), stop <-chan struct{}) *ackTracker {
	t := &ackTracker{
		State:   state.NewInMemory(),
		acks:    make(chan packets.ControlPacket, ackBuffer),
		kick:    make(chan struct{}, 1),
		byID:    make(map[uint16]*record),
		timeout: timeout,
		lost:    lost,
		stop:    stop,
		puback:  *packets.NewControlPacket(packets.PUBACK),
		pubcomp: *packets.NewControlPacket(packets.PUBCOMP),
	}
	t.freed = sync.NewCond(&t.mu)
	return t
}

// setCurrent names the record whose PUBLISH the writer is about to hand to
// autopaho (nil after the call returns) and notes the connection count
// before autopaho picks its current client.
func (t *ackTracker) setCurrent(rec *record) {
	t.mu.Lock()
	t.current = rec
	t.currentGen = t.gen.Load()
	t.mu.Unlock()
}

// AddToSession adds a PUBLISH of the current record to the session state
// with the shared response channel, files the record under the allocated
// packet identifier, marks it inSession and answers paho's own channel so
// that its Publish returns once the packet is written. Other packets go to
// the state unchanged. It runs on the writer's goroutine and blocks while
// the broker's receive maximum is reached (back-pressure).
//
// autopaho's Publish takes its current client, then publishes through it.
// If that client's connection died and a new one came up in between, the
// state (shared by all connections) would accept the PUBLISH for the new
// connection while the old client writes it to the dead one, leaving it
// unsent until DeliveryTimeout. So AddToSession refuses with
// session.ErrNoConnection (not sent; the writer tries again) when a
// connection was applied since setCurrent, and holds connMu for reading
// until the record is filed, so no connection can be applied meanwhile:
// the PUBLISH is in the session of the connection its client writes to,
// and a resumed session's retransmission cannot overtake the filing.
func (t *ackTracker) AddToSession(ctx context.Context, packet session.Packet, resp chan<- packets.ControlPacket) error {
	pub, ok := packet.(*packets.Publish)
	t.mu.Lock()
	rec, gen := t.current, t.currentGen
	t.mu.Unlock()
	if !ok || rec == nil || pub.QoS == 0 {
		return t.State.AddToSession(ctx, packet, resp)
	}
	// Held while blocked at the receive maximum too: a new connection is
	// applied only after the old one was lost, which ends that wait.
	t.connMu.RLock()
	defer t.connMu.RUnlock()
	if t.gen.Load() != gen {
		return session.ErrNoConnection
	}
	if err := t.State.AddToSession(ctx, packet, t.acks); err != nil {
		return err
	}
	id := pub.PacketID
	t.mu.Lock()
	// The state reuses an identifier once its acknowledgement was sent to
	// the shared channel; wait until the ack loop has taken the old one.
	for {
		if _, busy := t.byID[id]; !busy {
			break
		}
		t.freed.Wait()
	}
	rec.pktID = id
	rec.deadline = time.Now().Add(t.timeout)
	rec.inSession = true
	t.byID[id] = rec
	rec.prev, rec.next = t.tail, nil
	if t.tail != nil {
		t.tail.next = rec
	} else {
		t.head = rec
	}
	t.tail = rec
	wasEmpty := rec.prev == nil
	t.mu.Unlock()
	if wasEmpty {
		select {
		case t.kick <- struct{}{}:
		default:
		}
	}
	t.answer(resp, pub.QoS)
	return nil
}

// answer gives paho's per-call response channel a success placeholder so
// that its Publish returns once the PUBLISH is written; the real outcome
// arrives on the shared channel.
func (t *ackTracker) answer(resp chan<- packets.ControlPacket, qos byte) {
	placeholder := t.puback
	if qos == 2 {
		placeholder = t.pubcomp
	}
	select {
	case resp <- placeholder:
	default:
	}
}

// unlinkLocked removes rec from the publish-order list. t.mu must be held.
func (t *ackTracker) unlinkLocked(rec *record) {
	if rec.prev != nil {
		rec.prev.next = rec.next
	} else {
		t.head = rec.next
	}
	if rec.next != nil {
		rec.next.prev = rec.prev
	} else {
		t.tail = rec.prev
	}
	rec.prev, rec.next = nil, nil
}

// take returns the record filed under the acknowledgement's packet
// identifier and forgets it. It returns nil for an abandoned attempt and
// for an identifier that is not filed: one dropped with a lost session, or
// (which should not happen) one never filed; that record, if any, then
// fails at its delivery timeout and is published again.
func (t *ackTracker) take(cp packets.ControlPacket) *record {
	id := cp.PacketID()
	t.mu.Lock()
	defer t.mu.Unlock()
	rec, ok := t.byID[id]
	if !ok {
		return nil
	}
	delete(t.byID, id)
	t.freed.Broadcast()
	if rec != nil {
		t.unlinkLocked(rec)
	}
	return rec
}

// expired unlinks the records whose deadline has passed and keeps their
// identifiers with a nil record (their acknowledgement may still arrive
// and is then ignored). It returns them and the next deadline (zero when
// nothing awaits an acknowledgement).
func (t *ackTracker) expired(now time.Time) ([]*record, time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*record
	for t.head != nil && !t.head.deadline.After(now) {
		rec := t.head
		t.unlinkLocked(rec)
		t.byID[rec.pktID] = nil
		out = append(out, rec)
	}
	if t.head == nil {
		return out, time.Time{}
	}
	return out, t.head.deadline
}

// abandonAll unlinks every record awaiting acknowledgement (Close at its
// deadline) and returns them; their acknowledgements are ignored.
func (t *ackTracker) abandonAll() []*record {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*record
	for t.head != nil {
		rec := t.head
		t.unlinkLocked(rec)
		t.byID[rec.pktID] = nil
		out = append(out, rec)
	}
	return out
}

// dropAllLocked forgets every filed identifier (the state dropped its
// session) and returns the records that awaited acknowledgement.
func (t *ackTracker) dropAllLocked() []*record {
	var out []*record
	for t.head != nil {
		rec := t.head
		t.unlinkLocked(rec)
		out = append(out, rec)
	}
	clear(t.byID)
	t.freed.Broadcast()
	return out
}

// barrierReached is called by the ack loop when it reads the barrier (a
// zero ControlPacket the tracker itself sent).
func (t *ackTracker) barrierReached() {
	t.mu.Lock()
	b := t.barrier
	t.barrier = nil
	t.mu.Unlock()
	if b != nil {
		close(b)
	}
}

// drainAcks returns once the ack loop has processed every acknowledgement
// the state sent before the call (or the loop has stopped).
func (t *ackTracker) drainAcks() {
	b := make(chan struct{})
	t.mu.Lock()
	t.barrier = b
	t.mu.Unlock()
	select {
	case t.acks <- packets.ControlPacket{}:
	case <-t.stop:
		return
	}
	select {
	case <-b:
	case <-t.stop:
	}
}

// ConAckReceived passes the CONNACK to the state. If the broker did not
// resume the session (or the state dropped it when the connection was
// lost), the records still awaiting acknowledgement will never get one:
// after the acknowledgements already received are processed, they are
// handed to lost.
func (t *ackTracker) ConAckReceived(conn io.Writer, cp *packets.Connect, ca *packets.Connack) error {
	t.mu.Lock()
	drop := !ca.SessionPresent || t.cleaned
	t.mu.Unlock()
	if drop {
		// The previous connection is gone, so its acknowledgements are all
		// in the channel: let the ack loop apply them first.
		t.drainAcks()
	}
	// Waits for a PUBLISH the writer is adding to be filed.
	t.connMu.Lock()
	t.mu.Lock()
	var lost []*record
	if drop {
		lost = t.dropAllLocked()
	}
	t.cleaned = false
	t.up = true
	// The effective session expiry, as the state computes it.
	switch {
	case ca.Properties != nil && ca.Properties.SessionExpiryInterval != nil:
		t.expiry = *ca.Properties.SessionExpiryInterval
	case cp.Properties != nil && cp.Properties.SessionExpiryInterval != nil:
		t.expiry = *cp.Properties.SessionExpiryInterval
	default:
		t.expiry = 0
	}
	t.mu.Unlock()
	t.gen.Add(1)
	err := t.State.ConAckReceived(conn, cp, ca)
	t.connMu.Unlock()
	if len(lost) > 0 {
		t.lost(lost)
	}
	return err
}

// ConnectionLost passes the loss to the state and notes whether the state
// dropped its session (session expiry 0), so the next CONNACK fails the
// records that awaited acknowledgement even if the broker claims a session.
func (t *ackTracker) ConnectionLost(dp *packets.Disconnect) error {
	t.mu.Lock()
	if t.up {
		t.up = false
		if dp != nil && dp.Properties != nil && dp.Properties.SessionExpiryInterval != nil {
			t.expiry = *dp.Properties.SessionExpiryInterval
		}
		if t.expiry == 0 {
			t.cleaned = true
		}
	}
	t.mu.Unlock()
	return t.State.ConnectionLost(dp)
}
