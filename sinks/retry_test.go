package sinks

import (
	"math"
	"testing"
	"time"
)

func TestRetryPolicyWithDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   RetryPolicy
		want RetryPolicy
	}{
		{
			name: "zero",
			in:   RetryPolicy{},
			want: RetryPolicy{MaxAttempts: DefaultMaxAttempts, InitialBackoff: DefaultInitialBackoff, MaxBackoff: DefaultMaxBackoff, Multiplier: 2, Jitter: 0.2},
		},
		{
			name: "kept",
			in:   RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Second, MaxBackoff: time.Minute, Multiplier: 1.5, Jitter: 0.5},
			want: RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Second, MaxBackoff: time.Minute, Multiplier: 1.5, Jitter: 0.5},
		},
		{
			name: "max raised to initial, multiplier below 1, jitter clamped",
			in:   RetryPolicy{MaxAttempts: -2, InitialBackoff: time.Second, MaxBackoff: time.Millisecond, Multiplier: 0.5, Jitter: 3},
			want: RetryPolicy{MaxAttempts: DefaultMaxAttempts, InitialBackoff: time.Second, MaxBackoff: time.Second, Multiplier: 2, Jitter: 1},
		},
		{
			name: "unlimited kept",
			in:   RetryPolicy{MaxAttempts: UnlimitedAttempts},
			want: RetryPolicy{MaxAttempts: UnlimitedAttempts, InitialBackoff: DefaultInitialBackoff, MaxBackoff: DefaultMaxBackoff, Multiplier: 2, Jitter: 0.2},
		},
		{
			name: "negative jitter disables",
			in:   RetryPolicy{Jitter: -0.3, Multiplier: math.NaN()},
			want: RetryPolicy{MaxAttempts: DefaultMaxAttempts, InitialBackoff: DefaultInitialBackoff, MaxBackoff: DefaultMaxBackoff, Multiplier: 2, Jitter: -1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in.WithDefaults()
			if got != tt.want {
				t.Fatalf("WithDefaults(%+v) = %+v, want %+v", tt.in, got, tt.want)
			}
			if again := got.WithDefaults(); again != got {
				t.Fatalf("WithDefaults not idempotent: %+v then %+v", got, again)
			}
		})
	}
}

func TestRetryPolicyExhausted(t *testing.T) {
	tests := []struct {
		p       RetryPolicy
		counted int
		want    bool
	}{
		{RetryPolicy{MaxAttempts: 2}, 1, false},
		{RetryPolicy{MaxAttempts: 2}, 2, true},
		{RetryPolicy{MaxAttempts: 2}, 3, true},
		{RetryPolicy{}, DefaultMaxAttempts - 1, false},
		{RetryPolicy{}, DefaultMaxAttempts, true},
		{RetryPolicy{MaxAttempts: -7}, DefaultMaxAttempts, true},
		{RetryPolicy{MaxAttempts: UnlimitedAttempts}, 1 << 40, false},
	}
	for _, tt := range tests {
		if got := tt.p.Exhausted(tt.counted); got != tt.want {
			t.Errorf("%+v.Exhausted(%d) = %v, want %v", tt.p, tt.counted, got, tt.want)
		}
	}
}

func TestRetryPolicyBackoff(t *testing.T) {
	fixed := func(v float64) func() float64 { return func() float64 { return v } }
	noJitter := RetryPolicy{InitialBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, Jitter: -1}
	tests := []struct {
		name    string
		p       RetryPolicy
		attempt int
		rnd     func() float64
		want    time.Duration
	}{
		{"first retry", noJitter, 1, nil, 100 * time.Millisecond},
		{"attempt below 1 counts as 1", noJitter, 0, nil, 100 * time.Millisecond},
		{"second retry doubles", noJitter, 2, nil, 200 * time.Millisecond},
		{"fourth retry", noJitter, 4, nil, 800 * time.Millisecond},
		{"capped", noJitter, 5, nil, time.Second},
		{"huge attempt capped, no overflow", noJitter, 10000, nil, time.Second},
		{"multiplier 3", RetryPolicy{InitialBackoff: 10 * time.Millisecond, MaxBackoff: time.Hour, Multiplier: 3, Jitter: -1}, 3, nil, 90 * time.Millisecond},
		{"jitter r=1 gives base", RetryPolicy{InitialBackoff: 100 * time.Millisecond, Jitter: 0.2}, 1, fixed(1), 100 * time.Millisecond},
		{"jitter r=0 gives base*(1-j)", RetryPolicy{InitialBackoff: 100 * time.Millisecond, Jitter: 0.2}, 1, fixed(0), 80 * time.Millisecond},
		{"jitter r=0.5", RetryPolicy{InitialBackoff: 100 * time.Millisecond, Jitter: 0.2}, 2, fixed(0.5), 180 * time.Millisecond},
		{"full jitter r=0", RetryPolicy{InitialBackoff: 100 * time.Millisecond, Jitter: 1}, 1, fixed(0), 0},
		{"full jitter r=0.25", RetryPolicy{InitialBackoff: 100 * time.Millisecond, Jitter: 1}, 1, fixed(0.25), 25 * time.Millisecond},
		{"jitter never exceeds cap", RetryPolicy{InitialBackoff: time.Second, MaxBackoff: time.Second, Jitter: 0.5}, 7, fixed(0.9999999), time.Second},
		{"out of range rnd clamped", RetryPolicy{InitialBackoff: 100 * time.Millisecond, Jitter: 0.5}, 1, fixed(7), 100 * time.Millisecond},
		{"zero policy uses defaults", RetryPolicy{}, 1, fixed(1), DefaultInitialBackoff},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.p.Backoff(tt.attempt, tt.rnd)
			if diff := got - tt.want; diff < -time.Microsecond || diff > time.Microsecond {
				t.Fatalf("Backoff(%d) = %v, want %v", tt.attempt, got, tt.want)
			}
		})
	}
}

func TestRetryPolicyBackoffDefaultRandInRange(t *testing.T) {
	p := RetryPolicy{InitialBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, Jitter: 0.2}
	for attempt := 1; attempt <= 10; attempt++ {
		base := p.Backoff(attempt, func() float64 { return 1 })
		lo := p.Backoff(attempt, func() float64 { return 0 })
		for range 100 {
			if d := p.Backoff(attempt, nil); d < lo || d > base {
				t.Fatalf("Backoff(%d) = %v outside [%v, %v]", attempt, d, lo, base)
			}
		}
	}
}

func BenchmarkRetryPolicyBackoff(b *testing.B) {
	p := RetryPolicy{}.WithDefaults()
	for i := 0; b.Loop(); i++ {
		_ = p.Backoff(i%20+1, nil)
	}
}
