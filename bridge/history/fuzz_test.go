package history

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseTime: query time bounds come from URLs and flags; any input
// gives a time or an error, never a panic, and ages are never negative.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"", "1d", "2h30m", "1.5w", "2026-11-22", "2026-11-22T06:00:00Z", "-1d", "1y", "9999999999999999999d", "1e309h"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := ParseTime(s, now)
		if err == nil && strings.TrimSpace(s) != "" && tm.IsZero() {
			t.Fatalf("ParseTime(%q) = zero time without error", s)
		}
		if d, err := ParseAge(s); err == nil && d < 0 {
			t.Fatalf("ParseAge(%q) = %v", s, d)
		}
	})
}

// FuzzDecodeSegment: a history file may be damaged; decoding any bytes
// returns records or errCorrupt, never panics or allocates without bound.
func FuzzDecodeSegment(f *testing.F) {
	recs := sample(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC))
	good, _ := encodeSegment(nil, nil, recs)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{segmentVersion})
	f.Add([]byte{segmentVersion, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := decodeSegment(data, 1, true, func(*Record) bool { return true })
		if err == nil && len(out) > len(data) {
			t.Fatalf("%d records from %d bytes", len(out), len(data))
		}
	})
}
