package sinks

import (
	"testing"
	"time"
)

func TestLogLimiter(t *testing.T) {
	l := NewLogLimiter(30*time.Second, 3)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	steps := []struct {
		key      string
		at       int // seconds after t0
		wantOK   bool
		wantSupp int
	}{
		{"auth failed (after 3ms in state AUTH)", 0, true, 0},
		{"auth failed (after 9ms in state AUTH, 4 identical error(s) suppressed)", 1, false, 0},
		{"auth failed (after 12ms in state AUTH)", 2, false, 0},
		{"1/1 brokers are down", 2, true, 0},
		{"auth failed (after 1ms in state AUTH)", 31, true, 2},
		{"auth failed (after 1ms in state AUTH)", 32, false, 0},
		{"other 1", 40, true, 0},
		{"third", 40, true, 0},
		{"fourth evicts expired", 41, true, 0},
	}
	for i, s := range steps {
		ok, supp := l.Allow(s.key, t0.Add(time.Duration(s.at)*time.Second))
		if ok != s.wantOK || supp != s.wantSupp {
			t.Fatalf("step %d (%q): allow = %d, %v; want %d, %v", i, s.key, supp, ok, s.wantSupp, s.wantOK)
		}
		if len(l.seen) > 3 {
			t.Fatalf("step %d: %d keys remembered, limit 3", i, len(l.seen))
		}
	}
}
