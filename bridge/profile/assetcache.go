package profile

import (
	"strings"
	"sync"
	"time"
)

// assetCache remembers, per asset id, a fingerprint of the asset's content
// and when it was first seen, so an Asset is emitted only when first seen or
// when its content changes. It is a bounded LRU: when full, the least
// recently seen asset is forgotten (and re-emitted when next seen). Safe for
// concurrent use.
type assetCache struct {
	mu      sync.Mutex
	max     int
	entries map[string]*assetEntry
	// head is the most recently used entry, tail the least; a doubly linked
	// list through prev/next.
	head, tail *assetEntry
}

type assetEntry struct {
	id         string
	sum        uint64
	firstSeen  time.Time
	prev, next *assetEntry
}

func newAssetCache(maxEntries int) *assetCache {
	if maxEntries < 1 {
		maxEntries = 1
	}
	return &assetCache{max: maxEntries, entries: make(map[string]*assetEntry, min(maxEntries, 1024))}
}

// observe records that asset id was seen with content fingerprint sum at
// time now. It reports whether the asset must be emitted (first seen, or sum
// differs from the remembered one) and the time the asset was first seen
// (now for a new entry).
func (c *assetCache) observe(id string, sum uint64, now time.Time) (emit bool, firstSeen time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[id]; ok {
		c.moveToFront(e)
		if e.sum == sum {
			return false, e.firstSeen
		}
		e.sum = sum
		return true, e.firstSeen
	}
	var e *assetEntry
	if len(c.entries) >= c.max {
		// Reuse the evicted entry to keep the steady state allocation-free
		// apart from the key.
		e = c.tail
		c.unlink(e)
		delete(c.entries, e.id)
		*e = assetEntry{}
	} else {
		e = new(assetEntry)
	}
	e.id = strings.Clone(id)
	e.sum = sum
	e.firstSeen = now
	c.entries[e.id] = e
	c.pushFront(e)
	return true, now
}

// len reports the number of remembered assets.
func (c *assetCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

func (c *assetCache) moveToFront(e *assetEntry) {
	if c.head == e {
		return
	}
	c.unlink(e)
	c.pushFront(e)
}

func (c *assetCache) pushFront(e *assetEntry) {
	e.prev = nil
	e.next = c.head
	if c.head != nil {
		c.head.prev = e
	}
	c.head = e
	if c.tail == nil {
		c.tail = e
	}
}

func (c *assetCache) unlink(e *assetEntry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		c.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		c.tail = e.prev
	}
	e.prev, e.next = nil, nil
}
