package kafkaws

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Ticket layout: 32 bytes, sent as 64 lower-case hex characters.
//
//	[0]      version (1)
//	[1:5]    ticket expiry, Unix seconds, big endian
//	[5:9]    JWT expiry, Unix seconds (0: not recorded)
//	[9:16]   random nonce
//	[16:24]  tenant tag: HMAC-SHA256(secret, "tenant\x00" + tenant)[:8]
//	[24:32]  MAC: HMAC-SHA256(secret, "ticket\x00" + bytes 0-23)[:8]
//
// A ticket is self-contained: any instance holding the same secret can
// verify it without shared storage. The tenant is not carried in clear: the
// WebSocket request names a topic, and the server recognises the tenant by
// recomputing the tag for the tenants that could read that topic (see
// access.candidates). The MAC makes forgery a 2^-64 guess per attempt.
//
// Single use: each instance remembers the MACs (the ticket IDs) of the
// tickets it redeemed until they expire. Without a spent-ticket topic that
// is all, and a ticket could be redeemed once on each instance of a fleet;
// with one (Config.SpentTopic, see spent.go) every instance also learns the
// tickets redeemed elsewhere and a race between instances is decided by
// the topic's log order.
const (
	ticketLen     = 32
	ticketVersion = 1
)

// Default ticket settings.
const (
	DefaultTicketTTL = 60 * time.Second
	// DefaultMaxRedeemed bounds the remembered redeemed tickets. While that
	// many unexpired tickets are remembered, new connections are refused
	// (HTTP 503) rather than forgetting one early.
	DefaultMaxRedeemed = 200_000
)

// Ticket redemption errors.
var (
	errTicketMalformed = errors.New("ticket must be 64 hexadecimal characters")
	errTicketForged    = errors.New("ticket signature is invalid")
	errTicketExpired   = errors.New("ticket has expired")
	errTicketUsed      = errors.New("ticket was already used")
	errTicketsFull     = errors.New("too many tickets redeemed recently; try again shortly")
)

// tickets issues and redeems tickets.
type tickets struct {
	secret  []byte
	ttl     time.Duration
	now     func() time.Time
	maxUsed int

	mu   sync.Mutex
	used map[[8]byte]spentEntry // MAC (ticket ID) -> what is known of it
}

// spentEntry is a remembered redeemed ticket.
type spentEntry struct {
	exp   int64    // ticket expiry, Unix seconds: forgotten from then on
	owner [16]byte // redemption ID of the first spent-topic record; zero: none seen yet
}

func newTickets(secret []byte, ttl time.Duration, maxUsed int, now func() time.Time) (*tickets, error) {
	if len(secret) == 0 {
		secret = make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return nil, fmt.Errorf("ticket secret: %w", err)
		}
	}
	if ttl <= 0 {
		ttl = DefaultTicketTTL
	}
	if maxUsed <= 0 {
		maxUsed = DefaultMaxRedeemed
	}
	return &tickets{secret: secret, ttl: ttl, now: now, maxUsed: maxUsed, used: map[[8]byte]spentEntry{}}, nil
}

func (t *tickets) mac(label string, parts ...[]byte) []byte {
	h := hmac.New(sha256.New, t.secret)
	h.Write([]byte(label))
	h.Write([]byte{0})
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)[:8]
}

func (t *tickets) tenantTag(tenant string) []byte { return t.mac("tenant", []byte(tenant)) }

// issue returns a new ticket for tenant whose token expires at jwtExp.
func (t *tickets) issue(tenant string, jwtExp time.Time) (string, error) {
	var b [ticketLen]byte
	b[0] = ticketVersion
	exp := t.now().Add(t.ttl)
	binary.BigEndian.PutUint32(b[1:5], uint32(clampUnix(exp)))
	if !jwtExp.IsZero() {
		binary.BigEndian.PutUint32(b[5:9], uint32(clampUnix(jwtExp)))
	}
	if _, err := rand.Read(b[9:16]); err != nil {
		return "", fmt.Errorf("ticket nonce: %w", err)
	}
	copy(b[16:24], t.tenantTag(tenant))
	copy(b[24:32], t.mac("ticket", b[:24]))
	return hex.EncodeToString(b[:]), nil
}

func clampUnix(tm time.Time) int64 {
	s := tm.Unix()
	if tm.Nanosecond() > 0 {
		s++ // round up: a ticket never expires earlier than its TTL
	}
	return min(max(s, 1), 1<<32-1)
}

// redeemed is a verified, consumed ticket.
type redeemed struct {
	id     [8]byte // ticket ID (its MAC), the key of the spent-ticket topic
	exp    int64   // ticket expiry, Unix seconds
	tag    [8]byte
	jwtExp time.Time // zero if not recorded
}

// redeem verifies s and marks it used. It fails with errTicketMalformed,
// errTicketForged, errTicketExpired, errTicketUsed or errTicketsFull.
func (t *tickets) redeem(s string) (redeemed, error) {
	var b [ticketLen]byte
	if len(s) != 2*ticketLen {
		return redeemed{}, errTicketMalformed
	}
	if _, err := hex.Decode(b[:], []byte(s)); err != nil {
		return redeemed{}, errTicketMalformed
	}
	if b[0] != ticketVersion || !hmac.Equal(b[24:32], t.mac("ticket", b[:24])) {
		return redeemed{}, errTicketForged
	}
	now := t.now().Unix()
	exp := int64(binary.BigEndian.Uint32(b[1:5]))
	if now >= exp {
		return redeemed{}, errTicketExpired
	}
	var key [8]byte
	copy(key[:], b[24:32])
	t.mu.Lock()
	defer t.mu.Unlock()
	// A remembered entry with another expiry comes from a record that is
	// not a redemption of this ticket (every genuine one carries the
	// ticket's own expiry): it is replaced.
	if e, dup := t.used[key]; dup && e.exp == exp {
		return redeemed{}, errTicketUsed
	}
	if len(t.used) >= t.maxUsed {
		t.forget(now)
		if len(t.used) >= t.maxUsed {
			return redeemed{}, errTicketsFull
		}
	}
	t.used[key] = spentEntry{exp: exp}
	r := redeemed{id: key, exp: exp}
	copy(r.tag[:], b[16:24])
	if je := binary.BigEndian.Uint32(b[5:9]); je != 0 {
		r.jwtExp = time.Unix(int64(je), 0)
	}
	return r, nil
}

// sweep forgets expired redeemed tickets; the server calls it periodically.
func (t *tickets) sweep() {
	now := t.now().Unix()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.forget(now)
}

// forget drops the tickets expired at now; t.mu must be held.
func (t *tickets) forget(now int64) {
	for k, e := range t.used {
		if now >= e.exp {
			delete(t.used, k)
		}
	}
}

// learn records a spent-ticket topic record: ticket id, expiring at exp,
// was redeemed by redemption owner. The first record seen for an id with
// the ticket's own expiry owns it; an already expired ticket is not remembered (it cannot be redeemed
// anyway). Records learnt are never refused for lack of room: they stand
// for tickets that are spent, and each instance bounds what it redeems.
func (t *tickets) learn(id [8]byte, exp int64, owner [16]byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.used[id]
	switch {
	case ok && e.owner == [16]byte{} && e.exp == exp:
		e.owner = owner
		t.used[id] = e
	case !ok && t.now().Unix() < exp:
		t.used[id] = spentEntry{exp: exp, owner: owner}
	}
}

// owner returns the redemption that owns id; false when no spent-topic
// record for it was seen or it was forgotten.
func (t *tickets) owner(id [8]byte) ([16]byte, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.used[id]
	return e.owner, ok && e.owner != [16]byte{}
}
