package bridge

import (
	"regexp"
	"testing"
)

func TestIdentityDeterministic(t *testing.T) {
	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a := newIdentity("t", 3, 1042, 0)
	b := newIdentity("t", 3, 1042, 0)
	if a != b {
		t.Fatalf("same coordinates gave %v and %v", a, b)
	}
	if !uuidRE.MatchString(a.EventID) {
		t.Fatalf("eventId %q is not a UUIDv5", a.EventID)
	}
	if a.RecordID <= 0 {
		t.Fatalf("record id %d is not positive", a.RecordID)
	}
	seen := map[string]bool{a.EventID: true}
	for _, other := range []identity{
		newIdentity("t", 3, 1042, 1),
		newIdentity("t", 3, 1042, -1),
		newIdentity("t", 3, 1043, 0),
		newIdentity("t", 4, 1042, 0),
		newIdentity("u", 3, 1042, 0),
		newIdentity("t3", 1, 1042, 0), // no ambiguity between fields
	} {
		if seen[other.EventID] {
			t.Fatalf("eventId collision: %s", other.EventID)
		}
		seen[other.EventID] = true
	}
}

func TestOffsetTrackerContiguousPrefix(t *testing.T) {
	tr := newOffsetTracker()
	r10 := tr.add(10)
	r11 := tr.add(11)
	r12 := tr.add(12)
	tr.hold(r10, 2)
	tr.release(r10, true) // guard
	tr.release(r11, true) // 11 has no deliveries: done
	tr.hold(r12, 1)
	tr.release(r12, true)
	tr.release(r12, true) // 12 done
	if _, ok := tr.toCommit(); ok {
		t.Fatal("committed past unfinished offset 10")
	}
	tr.release(r10, true)
	if _, ok := tr.toCommit(); ok {
		t.Fatal("committed with one delivery of 10 outstanding")
	}
	tr.release(r10, true)
	off, ok := tr.toCommit()
	if !ok || off != 13 {
		t.Fatalf("toCommit = %d, %v; want 13, true", off, ok)
	}
	if _, ok := tr.toCommit(); ok {
		t.Fatal("second toCommit without progress reported progress")
	}
	if tr.waitDrained() != nil {
		t.Fatal("tracker not drained")
	}
}

func TestOffsetTrackerAbortedBlocksCommit(t *testing.T) {
	tr := newOffsetTracker()
	r1 := tr.add(1)
	r2 := tr.add(2)
	tr.hold(r1, 1)
	tr.release(r1, true)
	tr.release(r2, true)
	ch := tr.waitDrained()
	if ch == nil {
		t.Fatal("drained with a delivery outstanding")
	}
	tr.release(r1, false) // aborted
	select {
	case <-ch:
	default:
		t.Fatal("aborted record did not count as drained")
	}
	if off, ok := tr.toCommit(); ok {
		t.Fatalf("committed %d past an aborted record", off)
	}
	tr.uncommit(5) // no-op for an offset never handed out
	if tr.inFlight() != 2 {
		t.Fatalf("inFlight = %d, want 2 (aborted record stays)", tr.inFlight())
	}
}

// TestIdentityGolden pins eventIds and record ids to values computed
// independently (Python's uuid.uuid5 with the telebridge namespace, and
// the SHA-1 bytes 12..19 as a positive 63-bit integer): a change would
// break deduplication for every consumer across an upgrade.
func TestIdentityGolden(t *testing.T) {
	for _, tc := range []struct {
		topic     string
		partition int32
		offset    int64
		index     int
		eventID   string
		recordID  int64
	}{
		{"trackunit.machine-insights", 3, 1042, 0, "a1eaf14f-0373-5bce-8428-a7c5bc16b2ad", 4329844549423926095},
		{"mobito.vehicles", 0, 7, -1, "de0bf149-3f1f-5dc8-8bed-87c23c061604", 4325168701621776453},
	} {
		id := newIdentity(tc.topic, tc.partition, tc.offset, tc.index)
		if id.EventID != tc.eventID || id.RecordID != tc.recordID {
			t.Errorf("%s/%d@%d#%d: got %s %d, want %s %d", tc.topic, tc.partition, tc.offset, tc.index, id.EventID, id.RecordID, tc.eventID, tc.recordID)
		}
	}
}
