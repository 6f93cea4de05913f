package history

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseTime parses a query time bound: an RFC 3339 timestamp
// ("2026-11-22T06:00:00Z"), a date ("2026-11-22", midnight UTC), or an age
// relative to now such as "90s", "15m", "2h", "1d", "1w" or "1d12h" (days
// are 24 hours, weeks 7 days), meaning now minus that age. An empty string
// returns the zero time (no bound).
func ParseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	d, err := ParseAge(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: expected RFC 3339 (2026-11-22T06:00:00Z), a date (2026-11-22) or an age like 30m, 2h, 1d, 1w", s)
	}
	return now.Add(-d), nil
}

// ParseAge parses a duration that may also use d (24h) and w (7d) units,
// e.g. "1d", "2w", "1d12h", "90m".
func ParseAge(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("duration %q: expected a number at %q", s, rest)
		}
		j := i
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') && rest[j] != '.' {
			j++
		}
		num, unit := rest[:i], rest[i:j]
		rest = rest[j:]
		var per time.Duration
		switch unit {
		case "d":
			per = 24 * time.Hour
		case "w":
			per = 7 * 24 * time.Hour
		case "h":
			per = time.Hour
		case "m":
			per = time.Minute
		case "s":
			per = time.Second
		case "ms":
			per = time.Millisecond
		default:
			return 0, fmt.Errorf("duration %q: unknown unit %q (allowed: w, d, h, m, s, ms)", s, unit)
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return 0, fmt.Errorf("duration %q: %w", s, err)
		}
		if f*float64(per) > float64(math.MaxInt64-total) {
			return 0, fmt.Errorf("duration %q: too long", s)
		}
		total += time.Duration(f * float64(per))
	}
	if total < 0 {
		return 0, fmt.Errorf("duration %q: negative", s)
	}
	return total, nil
}
