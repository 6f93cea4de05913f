package bridge

import (
	"sync"
)

// offsetTracker tracks the records of one source partition that are in
// flight and computes the commit point: the offset after the longest
// contiguous prefix of finished records. A record is finished when every
// object derived from it was acknowledged by every sink it was routed to, or
// dead-lettered. It is safe for concurrent use: the partition's worker adds
// records in offset order, and sink callbacks finish them in any order.
type offsetTracker struct {
	mu sync.Mutex
	// queue holds unfinished-or-not-yet-popped records in offset order;
	// head is the index of the first live entry.
	queue []*trackedRecord
	head  int
	// commit is the next offset to commit (last finished prefix + 1), or -1
	// when nothing finished yet.
	commit int64
	// committed is the last offset handed to the consumer for commit.
	committed int64
	// open counts records added but not done (finished or aborted).
	open int
	// drained is signalled (closed and replaced) whenever open drops to 0.
	drained chan struct{}
}

// trackedRecord is one source record in flight. remaining counts the
// outstanding deliveries plus one guard held by the worker until it has
// handed every object to its sinks.
type trackedRecord struct {
	offset    int64
	remaining int
	done      bool
	failed    bool
}

func newOffsetTracker() *offsetTracker {
	return &offsetTracker{commit: -1, committed: -1, drained: make(chan struct{})}
}

// add registers the record at offset with one guard reference. Offsets must
// be added in increasing order.
func (t *offsetTracker) add(offset int64) *trackedRecord {
	r := &trackedRecord{offset: offset, remaining: 1}
	t.mu.Lock()
	t.queue = append(t.queue, r)
	t.open++
	t.mu.Unlock()
	return r
}

// hold adds n outstanding deliveries to r.
func (t *offsetTracker) hold(r *trackedRecord, n int) {
	t.mu.Lock()
	r.remaining += n
	t.mu.Unlock()
}

// release drops one outstanding delivery (or the guard) of r. When ok is
// false the delivery was aborted: the record stays unfinished forever (in
// this process) so the commit point never passes it and it is redelivered
// after a restart or rebalance.
func (t *offsetTracker) release(r *trackedRecord, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !ok {
		r.failed = true
	}
	r.remaining--
	if r.remaining > 0 || r.done {
		return
	}
	r.done = true
	t.open--
	if t.open == 0 {
		close(t.drained)
		t.drained = make(chan struct{})
	}
	if r.failed {
		return
	}
	for t.head < len(t.queue) {
		h := t.queue[t.head]
		if !h.done || h.failed {
			break
		}
		t.commit = h.offset + 1
		t.queue[t.head] = nil
		t.head++
	}
	if t.head == len(t.queue) {
		t.queue = t.queue[:0]
		t.head = 0
	} else if t.head > 1024 && t.head*2 > len(t.queue) {
		n := copy(t.queue, t.queue[t.head:])
		clear(t.queue[n:])
		t.queue = t.queue[:n]
		t.head = 0
	}
}

// inFlight is the number of records not yet popped off the prefix.
func (t *offsetTracker) inFlight() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.queue) - t.head
}

// waitDrained returns a channel closed when every added record is done
// (finished or aborted), or nil if that is so now.
func (t *offsetTracker) waitDrained() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.open == 0 {
		return nil
	}
	return t.drained
}

// toCommit returns the offset to commit and true when it advanced since the
// last call that returned true.
func (t *offsetTracker) toCommit() (int64, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.commit < 0 || t.commit == t.committed {
		return 0, false
	}
	t.committed = t.commit
	return t.commit, true
}

// uncommit is called when a commit of offset failed, so the next toCommit
// tries again.
func (t *offsetTracker) uncommit(offset int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.committed == offset {
		t.committed = -1
	}
}
