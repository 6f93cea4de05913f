package bridge

import (
	"strings"
	"testing"
	"time"
)

// statsDoc is a librdkafka consumer statistics document with one broker up
// and the given group join state.
func statsDoc(joinState string) string {
	return `{"brokers":{"127.0.0.1:9092/0":{"name":"127.0.0.1:9092/0","nodeid":0,"state":"UP"}},` +
		`"cgrp":{"state":"up","join_state":"` + joinState + `"},"topics":{}}`
}

func TestSourceHealthRebalanceWait(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	h := newSourceHealth(t0)
	h.onStats(statsDoc("wait-join"), func(string, int32) bool { return false })

	if up, why, _, _ := h.snapshotAt(t0.Add(assignmentGrace)); !up {
		t.Fatalf("not ready within the grace period: %s", why)
	}
	up, why, _, _ := h.snapshotAt(t0.Add(assignmentGrace + 5*time.Second))
	if up || !strings.Contains(why, "waiting for group rebalance since 2026-12-01T10:00:00Z") || !strings.Contains(why, "join state wait-join") {
		t.Fatalf("stuck rebalance: up=%v reason %q", up, why)
	}
	if w := h.waiting(t0.Add(time.Hour)); w == "" {
		t.Fatal("waiting() does not say why")
	}

	// Partitions arrive: ready at once.
	t1 := t0.Add(time.Minute)
	h.setAssigned(3, t1)
	if up, why, _, _ := h.snapshotAt(t1.Add(time.Hour)); !up {
		t.Fatalf("assigned but not ready: %s", why)
	}
	// Revoked: the wait starts again from the revocation.
	t2 := t1.Add(time.Hour)
	h.setAssigned(0, t2)
	if up, _, _, _ := h.snapshotAt(t2.Add(assignmentGrace / 2)); !up {
		t.Fatal("not ready right after a revocation")
	}
	if up, why, _, _ := h.snapshotAt(t2.Add(2 * assignmentGrace)); up || !strings.Contains(why, t2.Format(time.RFC3339)) {
		t.Fatalf("long revocation: up=%v reason %q", up, why)
	}

	// A settled group that gives this instance nothing (more instances
	// than partitions) leaves it an idle, ready standby.
	h.onStats(statsDoc("steady"), func(string, int32) bool { return false })
	if up, why, _, _ := h.snapshotAt(t2.Add(time.Hour)); !up {
		t.Fatalf("idle standby not ready: %s", why)
	}
	// Broker problems still win over the assignment state.
	h.down("all brokers down")
	if up, why, _, _ := h.snapshotAt(t2.Add(time.Hour)); up || why != "all brokers down" {
		t.Fatalf("down: up=%v reason %q", up, why)
	}
}
