package sinks

import (
	"math"
	"math/rand/v2"
	"time"
)

// Defaults applied by RetryPolicy.WithDefaults to zero fields.
const (
	DefaultMaxAttempts    = 5
	DefaultInitialBackoff = 200 * time.Millisecond
	DefaultMaxBackoff     = 30 * time.Second
	DefaultMultiplier     = 2.0
	DefaultJitter         = 0.2
)

// UnlimitedAttempts as RetryPolicy.MaxAttempts retries a failed delivery
// until it succeeds or the sink closes: the message never ends Failed, so
// nothing from the sink is dead-lettered (a permanent problem then holds
// its source partition until it is fixed).
const UnlimitedAttempts = -1

// RetryPolicy is the application-level retry schedule shared by the sinks.
//
// A message is attempted at most MaxAttempts times in total (the first
// attempt included; see Exhausted); the wait before retry n (n = 1 for the
// first retry) is Backoff(n). Sinks do not count attempts that failed only
// because the destination was unreachable (they wait for it instead).
type RetryPolicy struct {
	// MaxAttempts is the total number of attempts, first one included, or
	// UnlimitedAttempts. Zero or another negative value means
	// DefaultMaxAttempts.
	MaxAttempts int
	// InitialBackoff is the base wait before the first retry. Zero or
	// negative means DefaultInitialBackoff.
	InitialBackoff time.Duration
	// MaxBackoff caps every wait. Zero or negative means DefaultMaxBackoff;
	// it is raised to InitialBackoff if smaller.
	MaxBackoff time.Duration
	// Multiplier is the growth factor between consecutive waits. Values
	// below 1 (including zero) mean DefaultMultiplier.
	Multiplier float64
	// Jitter is the proportion of each wait that is randomised, in [0, 1]:
	// the wait is drawn uniformly from [base*(1-Jitter), base]. 1 is "full
	// jitter" (uniform in [0, base]). Zero means DefaultJitter; a negative
	// value disables jitter; values above 1 are treated as 1.
	Jitter float64
}

// WithDefaults returns p with every unset or out-of-range field replaced by
// its default, as documented on the fields.
func (p RetryPolicy) WithDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 && p.MaxAttempts != UnlimitedAttempts {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.InitialBackoff <= 0 {
		p.InitialBackoff = DefaultInitialBackoff
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = DefaultMaxBackoff
	}
	if p.MaxBackoff < p.InitialBackoff {
		p.MaxBackoff = p.InitialBackoff
	}
	if p.Multiplier < 1 || math.IsNaN(p.Multiplier) || math.IsInf(p.Multiplier, 0) {
		p.Multiplier = DefaultMultiplier
	}
	switch {
	case p.Jitter == 0:
		p.Jitter = DefaultJitter
	case p.Jitter < 0 || math.IsNaN(p.Jitter):
		p.Jitter = -1 // disabled; kept negative so WithDefaults is idempotent
	case p.Jitter > 1:
		p.Jitter = 1
	}
	return p
}

// Exhausted reports whether counted attempts use up the policy: never
// with UnlimitedAttempts, else when counted reaches MaxAttempts (after
// defaults).
func (p RetryPolicy) Exhausted(counted int) bool {
	p = p.WithDefaults()
	return p.MaxAttempts != UnlimitedAttempts && counted >= p.MaxAttempts
}

// Backoff returns the wait before retry number attempt (1 = the first
// retry, i.e. after the first attempt failed; values below 1 count as 1).
//
// The base wait is InitialBackoff * Multiplier^(attempt-1), capped at
// MaxBackoff; with proportional jitter the result is uniform in
// [base*(1-Jitter), base], so it never exceeds MaxBackoff. rnd returns a
// value in [0, 1); nil means math/rand/v2.Float64. Defaults are applied
// first, so the zero RetryPolicy is usable.
func (p RetryPolicy) Backoff(attempt int, rnd func() float64) time.Duration {
	p = p.WithDefaults()
	if attempt < 1 {
		attempt = 1
	}
	base := float64(p.InitialBackoff) * math.Pow(p.Multiplier, float64(attempt-1))
	if base > float64(p.MaxBackoff) || math.IsInf(base, 0) || math.IsNaN(base) {
		base = float64(p.MaxBackoff)
	}
	if p.Jitter > 0 {
		if rnd == nil {
			rnd = rand.Float64
		}
		r := rnd()
		if r < 0 || math.IsNaN(r) {
			r = 0
		} else if r > 1 {
			r = 1
		}
		base -= base * p.Jitter * (1 - r)
	}
	return time.Duration(base)
}
