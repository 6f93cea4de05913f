package mqttsink

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/telebridge/telebridge/internal/sinktest"
	"github.com/telebridge/telebridge/internal/testkit"
	"github.com/telebridge/telebridge/sinks"
)

// ackDropper is a TCP relay between the sink and a real broker that can
// swallow the broker's PUBACK packets, so the broker receives and
// delivers the messages but the sink never hears back.
type ackDropper struct {
	ln      net.Listener
	target  string
	dropAck atomic.Bool
	dropped atomic.Int64
	wg      sync.WaitGroup
}

func startAckDropper(t *testing.T, target string) *ackDropper {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &ackDropper{ln: ln, target: target}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			d.wg.Add(2)
			go func() {
				defer d.wg.Done()
				_, _ = io.Copy(u, c)
				_ = u.Close()
			}()
			go func() {
				defer d.wg.Done()
				d.relay(c, u)
				_ = c.Close()
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		d.wg.Wait()
	})
	return d
}

// relay copies broker-to-client packets, dropping PUBACKs while dropAck
// is set. An MQTT packet is a type byte, a variable-length remaining
// length and that many bytes.
func (d *ackDropper) relay(dst io.Writer, src io.Reader) {
	r := bufio.NewReader(src)
	for {
		first, err := r.ReadByte()
		if err != nil {
			return
		}
		hdr := []byte{first}
		n, mul := 0, 1
		for {
			b, err := r.ReadByte()
			if err != nil {
				return
			}
			hdr = append(hdr, b)
			n += int(b&0x7f) * mul
			mul *= 128
			if b&0x80 == 0 {
				break
			}
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		if first>>4 == 4 && d.dropAck.Load() { // PUBACK
			d.dropped.Add(1)
			continue
		}
		if _, err := dst.Write(append(hdr, body...)); err != nil {
			return
		}
	}
}

// TestDeliveryTimeout: PUBACKs that never come fail the attempt after
// DeliveryTimeout with a clear error; the message is published again and
// delivered once acknowledgements flow, and the late acknowledgement of
// nothing (the first PUBLISH stays unacknowledged in paho's session) does
// not disturb later messages.
func TestDeliveryTimeout(t *testing.T) {
	ctx := testCtx(t)
	b := startBroker(t, testkit.MQTTOptions{})
	d := startAckDropper(t, b.Addr())
	d.dropAck.Store(true)
	col := collect(t, b, "tmo/#")
	cfg := baseConfig(b, "tmo/{type}")
	cfg.Brokers = []string{"mqtt://" + d.ln.Addr().String()}
	cfg.DeliveryTimeout = 300 * time.Millisecond
	cfg.Retry = sinks.RetryPolicy{MaxAttempts: 10, InitialBackoff: 50 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}
	obs := sinktest.NewAttempts()
	cfg.Observer = obs
	s := newSink(t, cfg)
	res := sinktest.NewResults()
	const n = 5
	for i := range n {
		m := sinktest.Message(sinktest.Location("a", int64(i+1)), i)
		if err := s.Send(ctx, m, res.Done(m.EventID)); err != nil {
			t.Fatal(err)
		}
	}
	obs.WaitStatus(t, ctx, sinks.StatusRetrying, n)
	for id, as := range obs.ByEvent() {
		if !strings.Contains(as[0].Err, "no PUBACK") || !strings.Contains(as[0].Err, "delivery timeout of 300ms") {
			t.Fatalf("eventId %s: attempt error %q, want the delivery timeout named", id, as[0].Err)
		}
	}
	if _, err := col.Wait(ctx, n); err != nil { // the broker did receive them
		t.Fatal(err)
	}
	d.dropAck.Store(false)
	res.Wait(t, ctx, n)
	res.Check(t, n)
	for i := range n {
		r, _ := res.Get(sinktest.Message(sinktest.Location("a", 1), i).EventID)
		if r.Outcome != sinks.Delivered || r.Attempts < 2 {
			t.Fatalf("message %d: %s, want delivered after a timed-out attempt", i, show(r))
		}
	}
	if d.dropped.Load() < n {
		t.Fatalf("the relay dropped %d PUBACKs, want at least %d", d.dropped.Load(), n)
	}
	// The sink keeps working normally afterwards.
	res2 := sinktest.NewResults()
	for i := n; i < 2*n; i++ {
		m := sinktest.Message(sinktest.Location("a", int64(i+1)), i)
		if err := s.Send(ctx, m, res2.Done(m.EventID)); err != nil {
			t.Fatal(err)
		}
	}
	res2.Wait(t, ctx, n)
	for i := n; i < 2*n; i++ {
		if r, _ := res2.Get(sinktest.Message(sinktest.Location("a", 1), i).EventID); r.Outcome != sinks.Delivered || r.Attempts != 1 {
			t.Fatalf("message %d: %s", i, show(r))
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.Close(cctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}
