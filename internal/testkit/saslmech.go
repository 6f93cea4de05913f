package testkit

import (
	"encoding/binary"
	"net"
	"sync"
)

// kfake answers a successful SaslHandshake with an empty mechanism list
// (Kafka lists its enabled mechanisms in every answer). Clients that check
// the list, such as kafkajs ("SASL PLAIN mechanism is not supported by the
// server"), then give up. listenAdvertisingMechanisms wraps the cluster's
// listener so that every such answer lists the mechanisms kfake serves;
// nothing else on the wire changes. A connection that starts with a TLS
// handshake is passed through untouched.
func listenAdvertisingMechanisms(network, address string) (net.Listener, error) {
	ln, err := net.Listen(network, address)
	if err != nil {
		return nil, err
	}
	return &mechListener{Listener: ln}, nil
}

// saslMechanisms are those kfake's SaslHandshake accepts.
var saslMechanisms = []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}

const (
	apiKeySaslHandshake = 17
	tlsHandshakeRecord  = 0x16
	maxFrame            = 100 << 20 // kfake's own request limit is lower
)

type mechListener struct{ net.Listener }

func (l *mechListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &mechConn{Conn: c, handshakes: map[int32]bool{}}, nil
}

// mechConn follows the request frames the client sends to note the
// correlation ids of SaslHandshake requests, and rewrites the response
// frames with those ids.
type mechConn struct {
	net.Conn

	// read side (kfake's reading goroutine)
	started         bool
	passthroughRead bool
	hdr             []byte // size and the start of the current request
	remain          int    // bytes of the current request still to skip

	mu          sync.Mutex
	passthrough bool           // set once by the read side
	handshakes  map[int32]bool // correlation ids of pending SaslHandshake requests

	// write side (kfake's writing goroutine)
	out []byte // response bytes not yet forwarded
}

func (c *mechConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.observe(p[:n])
	return n, err
}

// observe parses the client's request stream: int32 size, then int16 api
// key, int16 version, int32 correlation id, then the rest.
func (c *mechConn) observe(b []byte) {
	for len(b) > 0 {
		if !c.started {
			c.started = true
			if b[0] == tlsHandshakeRecord {
				c.setPassthrough()
			}
		}
		if c.passthroughRead {
			return
		}
		if c.remain > 0 {
			k := min(c.remain, len(b))
			c.remain -= k
			b = b[k:]
			continue
		}
		need := 12 - len(c.hdr)
		k := min(need, len(b))
		c.hdr = append(c.hdr, b[:k]...)
		b = b[k:]
		if len(c.hdr) < 12 {
			return
		}
		size := int(int32(binary.BigEndian.Uint32(c.hdr)))
		if size < 8 || size > maxFrame {
			c.setPassthrough() // not Kafka framing: leave it alone
			return
		}
		if binary.BigEndian.Uint16(c.hdr[4:]) == apiKeySaslHandshake {
			c.mu.Lock()
			c.handshakes[int32(binary.BigEndian.Uint32(c.hdr[8:]))] = true
			c.mu.Unlock()
		}
		c.remain = size - 8
		c.hdr = c.hdr[:0]
	}
}

func (c *mechConn) setPassthrough() {
	c.passthroughRead = true
	c.mu.Lock()
	c.passthrough = true
	c.mu.Unlock()
}

func (c *mechConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	pass := c.passthrough || len(c.handshakes) == 0 && len(c.out) == 0
	c.mu.Unlock()
	if pass {
		return c.Conn.Write(p)
	}
	c.out = append(c.out, p...)
	var send []byte
	for len(c.out) >= 4 {
		size := int(binary.BigEndian.Uint32(c.out))
		if len(c.out) < 4+size {
			break
		}
		send = append(send, c.rewrite(c.out[:4+size])...)
		c.out = c.out[4+size:]
	}
	if len(send) > 0 {
		if _, err := c.Conn.Write(send); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// rewrite returns frame, or, for the answer to a SaslHandshake without an
// error and without mechanisms, the same answer listing saslMechanisms.
// SaslHandshake v0 and v1 answers are: correlation id, int16 error code,
// int32 count of int16-length strings.
func (c *mechConn) rewrite(frame []byte) []byte {
	if len(frame) < 8 {
		return frame
	}
	corr := int32(binary.BigEndian.Uint32(frame[4:]))
	c.mu.Lock()
	isHandshake := c.handshakes[corr]
	delete(c.handshakes, corr)
	c.mu.Unlock()
	if !isHandshake || len(frame) != 14 || binary.BigEndian.Uint16(frame[8:]) != 0 {
		return frame
	}
	if n := int32(binary.BigEndian.Uint32(frame[10:])); n != 0 && n != -1 {
		return frame
	}
	body := binary.BigEndian.AppendUint32(nil, uint32(corr))
	body = binary.BigEndian.AppendUint16(body, 0)
	body = binary.BigEndian.AppendUint32(body, uint32(len(saslMechanisms)))
	for _, m := range saslMechanisms {
		body = binary.BigEndian.AppendUint16(body, uint16(len(m)))
		body = append(body, m...)
	}
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}
