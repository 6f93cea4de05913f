package sinks

import (
	"strings"
	"sync"
	"time"
	"unicode"
)

// LogLimiter rate-limits log entries per distinct message, so a broker
// outage or an authentication failure reported every few hundred
// milliseconds is logged once per window with a count of what was
// suppressed. Messages that differ only in numbers (elapsed times, broker
// counts, librdkafka's "(after Nms in state X, N identical error(s)
// suppressed)" suffix) count as the same message. At most maxKeys distinct
// messages are remembered; under a storm of distinct texts the oldest are
// forgotten first, and if none has aged out the memory is cleared (bounded
// memory wins over perfect suppression). It is safe for concurrent use.
type LogLimiter struct {
	window  time.Duration
	maxKeys int
	mu      sync.Mutex
	seen    map[string]*limited
}

type limited struct {
	last       time.Time
	suppressed int
}

// NewLogLimiter returns a limiter that lets each distinct message through
// at most once per window and remembers at most maxKeys messages.
func NewLogLimiter(window time.Duration, maxKeys int) *LogLimiter {
	if maxKeys < 1 {
		maxKeys = 1
	}
	return &LogLimiter{window: window, maxKeys: maxKeys, seen: make(map[string]*limited)}
}

// Allow reports whether the message identified by key may be logged at
// now, and how many occurrences were suppressed since it was last allowed.
func (l *LogLimiter) Allow(key string, now time.Time) (ok bool, suppressed int) {
	key = normalizeLogKey(key)
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, found := l.seen[key]; found {
		if now.Sub(e.last) < l.window {
			e.suppressed++
			return false, 0
		}
		suppressed = e.suppressed
		e.last, e.suppressed = now, 0
		return true, suppressed
	}
	if len(l.seen) >= l.maxKeys {
		for k, e := range l.seen {
			if now.Sub(e.last) >= l.window {
				delete(l.seen, k)
			}
		}
		if len(l.seen) >= l.maxKeys {
			clear(l.seen)
		}
	}
	l.seen[key] = &limited{last: now}
	return true, 0
}

// normalizeLogKey drops librdkafka's "(after Nms in state X, N identical
// error(s) suppressed)" suffix and replaces every run of digits with '#'.
func normalizeLogKey(s string) string {
	if i := strings.LastIndex(s, " (after "); i >= 0 && strings.HasSuffix(s, ")") {
		s = s[:i]
	}
	var b strings.Builder
	b.Grow(len(s))
	inDigits := false
	for _, r := range s {
		if unicode.IsDigit(r) {
			if !inDigits {
				b.WriteByte('#')
			}
			inDigits = true
			continue
		}
		inDigits = false
		b.WriteRune(r)
	}
	return b.String()
}
