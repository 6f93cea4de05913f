package kafkaws

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// writeTimeout bounds one frame write; a client that does not take a frame
// for this long is treated as dead.
const writeTimeout = 10 * time.Second

// maxQueueBytes bounds the bytes queued for one connection whatever
// send_queue says, so a slow client on a topic of large messages cannot
// hold more than this (payloads shared with other subscribers count fully).
const maxQueueBytes = 16 << 20

// conn is one WebSocket subscriber. The hub's feed goroutine enqueues
// encoded messages; the connection's own goroutine (the HTTP handler)
// writes them, pings, and enforces the lifetime.
type conn struct {
	ws         *websocket.Conn
	whereText  string
	fieldsText string
	where      *Where
	fields     *Fields

	queue  chan []byte
	queued atomic.Int64  // bytes in queue
	killc  chan closeReq // first close request wins
	sent   atomic.Uint64
}

type closeReq struct {
	code   websocket.StatusCode // 0: drop the connection without a close frame
	reason string
}

func newConn(queue int, whereText, fieldsText string, where *Where, fields *Fields) *conn {
	return &conn{
		whereText: whereText, fieldsText: fieldsText, where: where, fields: fields,
		queue: make(chan []byte, queue),
		killc: make(chan closeReq, 1),
	}
}

// enqueue hands one encoded message to the connection without ever
// blocking; when the send queue is full (in messages, or maxQueueBytes) the
// connection is closed with CodeSlowConsumer instead.
func (c *conn) enqueue(b []byte) {
	if n := c.queued.Add(int64(len(b))); n > maxQueueBytes && n > int64(len(b)) {
		c.queued.Add(-int64(len(b)))
		c.kill(CodeSlowConsumer, fmt.Sprintf("send queue over %d MiB; client too slow", maxQueueBytes>>20))
		return
	}
	select {
	case c.queue <- b:
	default:
		c.queued.Add(-int64(len(b)))
		c.kill(CodeSlowConsumer, fmt.Sprintf("send queue full (%d messages); client too slow", cap(c.queue)))
	}
}

// kill asks the connection's goroutine to close with code and detail.
func (c *conn) kill(code websocket.StatusCode, detail string) {
	r := closeReq{code: code}
	if code != 0 {
		r.reason = reason(code, detail)
	}
	select {
	case c.killc <- r:
	default:
	}
}

// serve writes queued messages until the connection ends, returning how it
// ended for the logs. deadline is the end of the connection's lifetime (zero:
// none); stopping closes when the server shuts down.
func (c *conn) serve(ctx context.Context, deadline time.Time, ping time.Duration, stopping <-chan struct{}) string {
	ctx = c.ws.CloseRead(ctx) // answers pings and close frames; ends ctx when the peer goes
	var expire <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		expire = t.C
	}
	var tick <-chan time.Time
	if ping > 0 {
		t := time.NewTicker(ping)
		defer t.Stop()
		tick = t.C
	}
	var pings sync.WaitGroup
	defer pings.Wait()
	var pinging atomic.Bool
	for {
		// A pending close request wins over queued messages.
		select {
		case r := <-c.killc:
			return c.close(r)
		default:
		}
		select {
		case b := <-c.queue:
			c.queued.Add(-int64(len(b)))
			wctx, cancel := context.WithTimeout(ctx, writeTimeout)
			err := c.ws.Write(wctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				_ = c.ws.CloseNow()
				return "write failed: " + err.Error()
			}
			c.sent.Add(1)
		case r := <-c.killc:
			return c.close(r)
		case <-expire:
			return c.close(closeReq{code: CodeExpired, reason: reason(CodeExpired, "connection lifetime is over")})
		case <-stopping:
			return c.close(closeReq{code: websocket.StatusGoingAway, reason: "server shutting down"})
		case <-ctx.Done():
			_ = c.ws.CloseNow()
			return "closed by client"
		case <-tick:
			if !pinging.CompareAndSwap(false, true) {
				continue // the previous ping is still waiting for its pong
			}
			pings.Add(1)
			go func() {
				defer pings.Done()
				defer pinging.Store(false)
				pctx, cancel := context.WithTimeout(ctx, ping)
				defer cancel()
				if err := c.ws.Ping(pctx); err != nil && ctx.Err() == nil {
					c.kill(0, "") // no pong within one ping interval: dead peer
				}
			}()
		}
	}
}

func (c *conn) close(r closeReq) string {
	if r.code == 0 {
		_ = c.ws.CloseNow()
		return "no pong: peer presumed dead"
	}
	_ = c.ws.Close(r.code, r.reason)
	return r.reason
}
