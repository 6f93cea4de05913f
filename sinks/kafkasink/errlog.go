package kafkasink

import (
	"strings"
	"time"
	"unicode"
)

// Client error logging limits: each distinct error is logged at most once
// per errLogWindow; at most errLogMaxKeys distinct errors are remembered.
const (
	errLogWindow  = 30 * time.Second
	errLogMaxKeys = 256
)

// errLimiter rate-limits log entries per distinct error. Errors that differ
// only in numbers (elapsed times, broker counts, "N identical error(s)
// suppressed") count as the same error. It is owned by one goroutine.
type errLimiter struct {
	window  time.Duration
	maxKeys int
	seen    map[string]*errSeen
}

type errSeen struct {
	last       time.Time
	suppressed int
}

func newErrLimiter(window time.Duration, maxKeys int) *errLimiter {
	return &errLimiter{window: window, maxKeys: maxKeys, seen: make(map[string]*errSeen)}
}

// allow reports whether the error identified by key may be logged at now,
// and how many occurrences were suppressed since it was last logged.
func (l *errLimiter) allow(key string, now time.Time) (suppressed int, ok bool) {
	key = normalizeErrKey(key)
	if e, found := l.seen[key]; found {
		if now.Sub(e.last) < l.window {
			e.suppressed++
			return 0, false
		}
		suppressed = e.suppressed
		e.last, e.suppressed = now, 0
		return suppressed, true
	}
	if len(l.seen) >= l.maxKeys {
		for k, e := range l.seen {
			if now.Sub(e.last) >= l.window {
				delete(l.seen, k)
			}
		}
		if len(l.seen) >= l.maxKeys {
			clear(l.seen) // bounded memory wins over perfect suppression
		}
	}
	l.seen[key] = &errSeen{last: now}
	return 0, true
}

// normalizeErrKey drops librdkafka's "(after Nms in state X, N identical
// error(s) suppressed)" suffix and replaces every run of digits with '#'.
func normalizeErrKey(s string) string {
	if i := strings.LastIndex(s, " (after "); i >= 0 && strings.HasSuffix(s, ")") {
		s = s[:i]
	}
	out := make([]rune, 0, len(s))
	inDigits := false
	for _, r := range s {
		if unicode.IsDigit(r) {
			if !inDigits {
				out = append(out, '#')
			}
			inDigits = true
			continue
		}
		inDigits = false
		out = append(out, r)
	}
	return string(out)
}
