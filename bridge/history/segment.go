package history

import (
	"encoding/binary"
	"errors"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"
)

// A segment is one batch of consecutive records stored as one SQLite row:
// the records encoded compactly in one blob, plus summary columns (time
// range, status and type bitmasks, sink set and a Bloom filter of eventIds
// and asset ids) that let queries skip segments without decoding them.
// One row per batch instead of one per attempt (with five secondary
// indexes) is what keeps the writer cheap enough to record every attempt
// at full bridge speed.

// Segment versions: 2 adds the source message id (flag bit 4 and a string
// after the payload size); version 1 segments are still read.
const (
	segmentVersion   = 2
	segmentVersionV1 = 1
)

// statusBit maps a status to its bit in a segment's status mask.
func statusBit(s string) int64 {
	switch s {
	case StatusDelivered:
		return 1
	case StatusRetrying:
		return 2
	case StatusFailed:
		return 4
	case StatusDeadLettered:
		return 8
	}
	return 16
}

// typeBit maps an object type to its bit in a segment's type mask.
func typeBit(t string) int64 {
	for i, name := range []string{"asset", "location", "sensordata", "reeferdata", "gensetdata", "gtoemdata"} {
		if t == name {
			return 1 << i
		}
	}
	return 1 << 30
}

func maskOf(vals []string, bit func(string) int64) int64 {
	var m int64
	for _, v := range vals {
		m |= bit(v)
	}
	return m
}

// sinkSet encodes the set of sink names of a segment: "\x00a\x00b\x00".
func sinkSet(recs []Record) string {
	var names []string
	for i := range recs {
		found := false
		for _, n := range names {
			if n == recs[i].Sink {
				found = true
				break
			}
		}
		if !found {
			names = append(names, recs[i].Sink)
		}
	}
	return "\x00" + strings.Join(names, "\x00") + "\x00"
}

func sinkSetHas(set string, names []string) bool {
	for _, n := range names {
		if strings.Contains(set, "\x00"+n+"\x00") {
			return true
		}
	}
	return false
}

// bloom is a Bloom filter over eventIds ("e" prefix), asset ids ("a") and
// source message ids ("m"; shared by the objects of one message).
type bloom []byte

const bloomHashes = 4

func newBloom(n int) bloom {
	bits := max(64, n*2*10) // two keys per record, ~10 bits each: ~1% false positives
	return make(bloom, (bits+7)/8)
}

// bloomHash is xxHash64 of key mixed with prefix (stable across processes,
// as the filter is stored) and a second hash derived from it for double
// hashing.
func bloomHash(prefix byte, key string) (uint64, uint64) {
	a := xxhash.Sum64String(key) ^ (uint64(prefix) * 0x9E3779B97F4A7C15)
	a ^= a >> 29
	return a, a>>33 | a<<31 | 1
}

func (b bloom) add(prefix byte, key string) {
	h1, h2 := bloomHash(prefix, key)
	m := uint64(len(b)) * 8
	for i := uint64(0); i < bloomHashes; i++ {
		bit := (h1 + i*h2) % m
		b[bit/8] |= 1 << (bit % 8)
	}
}

func (b bloom) mayHave(prefix byte, key string) bool {
	if len(b) == 0 {
		return true
	}
	h1, h2 := bloomHash(prefix, key)
	m := uint64(len(b)) * 8
	for i := uint64(0); i < bloomHashes; i++ {
		bit := (h1 + i*h2) % m
		if b[bit/8]&(1<<(bit%8)) == 0 {
			return false
		}
	}
	return true
}

// segmentSummary is what the segments table holds besides the data.
type segmentSummary struct {
	firstID          int64
	count            int
	minTime, maxTime int64
	statuses, types  int64
	sinks            string
	bloom            bloom
}

func summarize(recs []Record) segmentSummary {
	s := segmentSummary{count: len(recs), minTime: recs[0].Time.UnixNano(), maxTime: recs[0].Time.UnixNano(), sinks: sinkSet(recs), bloom: newBloom(len(recs))}
	for i := range recs {
		r := &recs[i]
		t := r.Time.UnixNano()
		s.minTime, s.maxTime = min(s.minTime, t), max(s.maxTime, t)
		s.statuses |= statusBit(r.Status)
		s.types |= typeBit(r.Type)
		s.bloom.add('e', r.EventID)
		if r.AssetID != "" {
			s.bloom.add('a', r.AssetID)
		}
		if r.SourceMessageID != "" {
			s.bloom.add('m', r.SourceMessageID)
		}
	}
	return s
}

// mayMatch reports whether the segment can hold a record matching f.
func (s *segmentSummary) mayMatch(f *Filter, statusMask, typeMask int64) bool {
	switch {
	case statusMask != 0 && s.statuses&statusMask == 0,
		typeMask != 0 && s.types&typeMask == 0,
		len(f.Sinks) > 0 && !sinkSetHas(s.sinks, f.Sinks),
		!f.Since.IsZero() && s.maxTime < f.Since.UnixNano(),
		!f.Until.IsZero() && s.minTime >= f.Until.UnixNano(),
		f.EventID != "" && !s.bloom.mayHave('e', f.EventID),
		f.AssetID != "" && !s.bloom.mayHave('a', f.AssetID),
		f.SourceMessageID != "" && !s.bloom.mayHave('m', f.SourceMessageID):
		return false
	}
	return true
}

// matches reports whether r matches f.
func (f *Filter) matches(r *Record) bool {
	in := func(v string, set []string) bool {
		if len(set) == 0 {
			return true
		}
		for _, s := range set {
			if s == v {
				return true
			}
		}
		return false
	}
	t := r.Time.UnixNano()
	return in(r.Sink, f.Sinks) && in(r.Status, f.Statuses) && in(r.Type, f.Types) &&
		(f.AssetID == "" || r.AssetID == f.AssetID) && (f.EventID == "" || r.EventID == f.EventID) &&
		(f.SourceMessageID == "" || r.SourceMessageID == f.SourceMessageID) &&
		(f.Since.IsZero() || t >= f.Since.UnixNano()) && (f.Until.IsZero() || t < f.Until.UnixNano())
}

// encodeSegment encodes recs: a version byte, a dictionary of the
// repeated strings (sink, kind, topics, status, type), then one entry per
// record with integers as varints and strings as dictionary indexes or
// length-prefixed bytes. body is scratch space for the entries; both
// buffers are returned for reuse.
func encodeSegment(dst, body []byte, recs []Record) ([]byte, []byte) {
	// The dictionary is small (sinks, kinds, topics, statuses, types), so
	// a linear search beats a map; consecutive records usually repeat the
	// previous record's words, which is checked first.
	var words []string
	var last [6]uint64
	word := func(field int, s string) uint64 {
		if n := len(words); n > 0 && int(last[field]) < n && words[last[field]] == s {
			return last[field]
		}
		for i, w := range words {
			if w == s {
				last[field] = uint64(i)
				return uint64(i)
			}
		}
		words = append(words, s)
		last[field] = uint64(len(words) - 1)
		return last[field]
	}
	body = body[:0]
	prev := int64(0)
	for i := range recs {
		r := &recs[i]
		t := r.Time.UnixNano()
		body = binary.AppendVarint(body, t-prev)
		prev = t
		body = binary.AppendUvarint(body, word(0, r.Sink))
		body = binary.AppendUvarint(body, word(1, r.Kind))
		body = binary.AppendUvarint(body, word(2, r.Topic))
		body = binary.AppendVarint(body, int64(r.Partition))
		body = binary.AppendVarint(body, r.Offset)
		qos := int64(-1)
		if r.QoS != nil {
			qos = int64(*r.QoS)
		}
		body = binary.AppendVarint(body, qos)
		body = binary.AppendUvarint(body, word(3, r.Status))
		body = appendString(body, r.Error)
		body = binary.AppendVarint(body, int64(r.Attempt))
		body = binary.AppendVarint(body, r.Latency.Microseconds())
		body = appendString(body, r.EventID)
		body = binary.AppendUvarint(body, word(4, r.Type))
		body = appendString(body, r.AssetID)
		body = binary.AppendUvarint(body, word(5, r.SourceTopic))
		body = binary.AppendVarint(body, int64(r.SourcePartition))
		body = binary.AppendVarint(body, r.SourceOffset)
		body = binary.AppendVarint(body, int64(r.PayloadSize))
		flags := uint64(0)
		if r.PayloadTruncated {
			flags |= 1
		}
		if r.Payload != nil {
			flags |= 2
		}
		if r.SourceMessageID != "" {
			flags |= 4
		}
		body = binary.AppendUvarint(body, flags)
		if r.SourceMessageID != "" {
			body = appendString(body, r.SourceMessageID)
		}
		if r.Payload != nil {
			body = binary.AppendUvarint(body, uint64(len(r.Payload)))
			body = append(body, r.Payload...)
		}
	}
	dst = append(dst, segmentVersion)
	dst = binary.AppendUvarint(dst, uint64(len(words)))
	for _, w := range words {
		dst = appendString(dst, w)
	}
	return append(dst, body...), body
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

var errCorrupt = errors.New("corrupt history segment")

// segReader decodes an encoded segment.
type segReader struct {
	b   []byte
	err error
}

func (d *segReader) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *segReader) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *segReader) bytes() []byte {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.err = errCorrupt
		return nil
	}
	out := d.b[:n:n]
	d.b = d.b[n:]
	return out
}

// decodeSegment decodes the records of a segment starting at firstID,
// calling keep for each; records for which keep returns false are not
// retained. Payloads are copied only when withPayload is set.
func decodeSegment(data []byte, firstID int64, withPayload bool, keep func(*Record) bool) ([]Record, error) {
	if len(data) == 0 || data[0] != segmentVersion && data[0] != segmentVersionV1 {
		return nil, errCorrupt
	}
	d := &segReader{b: data[1:]}
	nWords := d.uvarint()
	if nWords > uint64(len(d.b)) {
		return nil, errCorrupt
	}
	words := make([]string, 0, nWords)
	for range nWords {
		words = append(words, string(d.bytes()))
	}
	word := func() string {
		i := d.uvarint()
		if i >= uint64(len(words)) {
			d.err = errCorrupt
			return ""
		}
		return words[i]
	}
	var out []Record
	prev := int64(0)
	for id := firstID; len(d.b) > 0 && d.err == nil; id++ {
		var r Record
		r.ID = id
		prev += d.varint()
		r.Time = time.Unix(0, prev).UTC()
		r.Sink = word()
		r.Kind = word()
		r.Topic = word()
		r.Partition = int32(d.varint())
		r.Offset = d.varint()
		if q := d.varint(); q >= 0 {
			qi := int(q)
			r.QoS = &qi
		}
		r.Status = word()
		r.Error = string(d.bytes())
		r.Attempt = int(d.varint())
		latUS := d.varint()
		r.Latency = time.Duration(latUS) * time.Microsecond
		r.LatencyMillis = float64(latUS) / 1000
		r.EventID = string(d.bytes())
		r.Type = word()
		r.AssetID = string(d.bytes())
		r.SourceTopic = word()
		r.SourcePartition = int32(d.varint())
		r.SourceOffset = d.varint()
		r.PayloadSize = int(d.varint())
		flags := d.uvarint()
		r.PayloadTruncated = flags&1 != 0
		if flags&4 != 0 {
			r.SourceMessageID = string(d.bytes())
		}
		var payload []byte
		if flags&2 != 0 {
			payload = d.bytes()
		}
		if d.err != nil {
			break
		}
		if keep(&r) {
			if withPayload && payload != nil {
				r.Payload = append([]byte(nil), payload...)
			}
			out = append(out, r)
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	return out, nil
}
