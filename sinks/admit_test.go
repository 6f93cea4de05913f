package sinks

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/telebridge/telebridge/schemas"
)

func TestAdmit(t *testing.T) {
	m := &Message{Object: &schemas.Location{ID: 1, AssetID: "a"}}
	done := func(Result) {}
	slots := make(chan struct{}, 1)
	open := make(chan struct{})
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	if err := Admit(context.Background(), "kafka", "lake", &Message{}, done, slots, open); err == nil || !strings.Contains(err.Error(), `kafka sink "lake": send: message has no object`) {
		t.Fatalf("no object: %v", err)
	}
	if err := Admit(context.Background(), "kafka", "lake", m, nil, slots, open); err == nil || !strings.Contains(err.Error(), "nil done") {
		t.Fatalf("nil done: %v", err)
	}
	// A free slot wins over a cancelled ctx.
	if err := Admit(cancelled, "kafka", "lake", m, done, slots, open); err != nil {
		t.Fatalf("free slot: %v", err)
	}
	// Full: the cancelled ctx ends the wait with ctx.Err() itself.
	if err := Admit(cancelled, "kafka", "lake", m, done, slots, open); err != context.Canceled {
		t.Fatalf("full, cancelled: %v", err)
	}
	closing := make(chan struct{})
	close(closing)
	<-slots
	if err := Admit(context.Background(), "mqtt", "gt", m, done, slots, closing); !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), `mqtt sink "gt"`) {
		t.Fatalf("closing: %v", err)
	}
	if len(slots) != 0 {
		t.Fatal("a refused Send kept a slot")
	}
}
