package history

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telebridge/telebridge/schemas"
	"github.com/telebridge/telebridge/sinks"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "sub", "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// sample builds the attempts of a small scenario at base: event e1
// delivered to two sinks, e2 retried then delivered, e3 retried, failed and
// dead-lettered.
func sample(base time.Time) []Record {
	at := func(min int, sink, status, ev, typ, asset string, n int) Record {
		a := &sinks.Attempt{
			Time: base.Add(time.Duration(min) * time.Minute), Sink: sink, Kind: "kafka", Topic: "out." + typ,
			Partition: 0, Offset: int64(min), Status: sinks.AttemptStatus(status), Number: n,
			Latency: 3 * time.Millisecond, EventID: ev, Type: schemas.Type(typ), AssetID: asset,
			Source:  sinks.SourceRef{Topic: "in", Partition: 1, Offset: 42},
			Payload: []byte(`{"assetId":"` + asset + `","n":` + fmt.Sprint(min) + `}`),
		}
		if ev == "e2" {
			a.Source.MessageID = "31f460d8-92eb-427a-9487-3611c2670608"
		}
		if status != StatusDelivered {
			a.Err = "broker says no"
			a.Partition, a.Offset = -1, -1
		}
		return FromAttempt(a, 1024)
	}
	return []Record{
		at(0, "k1", StatusDelivered, "e1", "location", "A", 1),
		at(0, "k2", StatusDelivered, "e1", "location", "A", 1),
		at(60, "k1", StatusRetrying, "e2", "sensordata", "B", 1),
		at(61, "k1", StatusDelivered, "e2", "sensordata", "B", 2),
		at(120, "k2", StatusRetrying, "e3", "location", "C", 1),
		at(121, "k2", StatusFailed, "e3", "location", "C", 2),
		at(122, "k2", StatusDeadLettered, "e3", "location", "C", 2),
	}
}

func TestStoreQueryFilters(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	recs := sample(base)
	if err := s.Insert(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if recs[0].ID == 0 || recs[6].ID <= recs[0].ID {
		t.Fatalf("IDs not set in order: %d..%d", recs[0].ID, recs[6].ID)
	}
	now := base.Add(3 * time.Hour)
	rel := func(s string) time.Time {
		tm, err := ParseTime(s, now)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	cases := []struct {
		name string
		f    Filter
		want []string // eventId/sink/status, newest first
	}{
		{"all", Filter{}, []string{"e3/k2/dead-lettered", "e3/k2/failed", "e3/k2/failed-will-retry", "e2/k1/delivered", "e2/k1/failed-will-retry", "e1/k2/delivered", "e1/k1/delivered"}},
		{"sink", Filter{Sinks: []string{"k1"}}, []string{"e2/k1/delivered", "e2/k1/failed-will-retry", "e1/k1/delivered"}},
		{"status list", Filter{Statuses: []string{StatusFailed, StatusDeadLettered}}, []string{"e3/k2/dead-lettered", "e3/k2/failed"}},
		{"type", Filter{Types: []string{"sensordata"}}, []string{"e2/k1/delivered", "e2/k1/failed-will-retry"}},
		{"asset", Filter{AssetID: "A", Sinks: []string{"k2"}}, []string{"e1/k2/delivered"}},
		{"event", Filter{EventID: "e2"}, []string{"e2/k1/delivered", "e2/k1/failed-will-retry"}},
		{"source message", Filter{SourceMessageID: "31f460d8-92eb-427a-9487-3611c2670608"}, []string{"e2/k1/delivered", "e2/k1/failed-will-retry"}},
		{"unknown source message", Filter{SourceMessageID: "31f460d8"}, nil},
		{"since relative 1h30m", Filter{Since: rel("1h30m")}, []string{"e3/k2/dead-lettered", "e3/k2/failed", "e3/k2/failed-will-retry"}},
		{"until absolute", Filter{Until: rel("2026-11-20T11:00:00Z")}, []string{"e1/k2/delivered", "e1/k1/delivered"}},
		{"window", Filter{Since: rel("2h"), Until: rel("1h30m")}, []string{"e2/k1/delivered", "e2/k1/failed-will-retry"}},
		{"nothing", Filter{Sinks: []string{"nope"}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := s.Query(ctx, Query{Filter: c.f})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range p.Records {
				got = append(got, r.EventID+"/"+r.Sink+"/"+r.Status)
				if want := r.EventID == "e2"; (r.SourceMessageID != "") != want {
					t.Errorf("%s: sourceMessageId %q", r.EventID, r.SourceMessageID)
				}
			}
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Fatalf("got  %v\nwant %v", got, c.want)
			}
		})
	}

	if _, err := s.Query(ctx, Query{Filter: Filter{Statuses: []string{"failedd"}}}); err == nil || !strings.Contains(err.Error(), `unknown status "failedd"`) {
		t.Fatalf("bad status: %v", err)
	}
	if _, err := s.Query(ctx, Query{Before: 3, After: 1}); err == nil {
		t.Fatal("before+after accepted")
	}
}

func TestStorePagination(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	// Three write batches, so pages cross segment boundaries.
	recs := sample(time.Now())
	for _, b := range [][2]int{{0, 2}, {2, 5}, {5, 7}} {
		if err := s.Insert(ctx, recs[b[0]:b[1]]); err != nil {
			t.Fatal(err)
		}
	}
	var ids []int64
	q := Query{Limit: 3}
	for page := 0; ; page++ {
		p, err := s.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Records {
			ids = append(ids, r.ID)
		}
		if p.Next == 0 {
			break
		}
		if page > 5 {
			t.Fatal("pagination does not end")
		}
		q.Before = p.Next
	}
	if len(ids) != 7 || ids[0] != 7 || ids[6] != 1 {
		t.Fatalf("pages returned %v", ids)
	}
	// Following: oldest first after a cursor; Next carries the cursor on.
	p, err := s.Query(ctx, Query{After: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Records) != 2 || p.Records[0].ID != 6 || p.Next != 7 {
		t.Fatalf("follow page: %+v next %d", p.Records, p.Next)
	}
	p, err = s.Query(ctx, Query{After: 7})
	if err != nil || len(p.Records) != 0 || p.Next != 7 {
		t.Fatalf("empty follow page: %v %+v", err, p)
	}
}

func TestStoreEventGroupsBySink(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	if err := s.Insert(ctx, sample(time.Now())); err != nil {
		t.Fatal(err)
	}
	ev, err := s.Event(ctx, "e3")
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Deliveries) != 1 || ev.Deliveries[0].Status != StatusDeadLettered || !ev.Deliveries[0].Final || len(ev.Deliveries[0].Attempts) != 3 {
		t.Fatalf("e3: %+v", ev)
	}
	if ev.Type != "location" || ev.AssetID != "C" || ev.SourceOffset != 42 || !strings.Contains(string(ev.Payload), `"assetId":"C"`) {
		t.Fatalf("e3 object: %+v payload %s", ev, ev.Payload)
	}
	ev, err = s.Event(ctx, "e1")
	if err != nil || len(ev.Deliveries) != 2 {
		t.Fatalf("e1: %v %+v", err, ev)
	}
	if _, err := s.Event(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown event: %v", err)
	}
	// The JSON form embeds the payload as JSON.
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"payload":{"assetId":"A"`) {
		t.Fatalf("event JSON: %s", b)
	}
	var back Event
	if err := json.Unmarshal(b, &back); err != nil || string(back.Payload) != string(ev.Payload) {
		t.Fatalf("round trip: %v %s", err, back.Payload)
	}
}

func TestPayloadCapAndOff(t *testing.T) {
	a := &sinks.Attempt{Sink: "k", Kind: "mqtt", QoS: 1, Status: sinks.StatusDelivered, Payload: []byte(`{"a":"0123456789"}`)}
	r := FromAttempt(a, 5)
	if string(r.Payload) != `{"a":` || !r.PayloadTruncated || r.PayloadSize != 18 || r.QoS == nil || *r.QoS != 1 {
		t.Fatalf("capped: %+v", r)
	}
	b, _ := json.Marshal(r)
	if !strings.Contains(string(b), `"payloadText":"{\"a\":"`) || !strings.Contains(string(b), `"qos":1`) {
		t.Fatalf("truncated payload JSON: %s", b)
	}
	r = FromAttempt(a, 0)
	if r.Payload != nil || r.PayloadSize != 18 {
		t.Fatalf("payloads off: %+v", r)
	}
	a.Kind = "kafka"
	if r := FromAttempt(a, 0); r.QoS != nil {
		t.Fatalf("kafka record has a QoS: %+v", r)
	}
	// Nil and empty payloads stay NULL in the store.
	s := openTemp(t)
	recs := []Record{r}
	if err := s.Insert(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	p, err := s.Query(context.Background(), Query{Payloads: true})
	if err != nil || len(p.Records) != 1 || p.Records[0].Payload != nil {
		t.Fatalf("payload off stored: %v %+v", err, p)
	}
}

func TestRetentionByAge(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	now := time.Now()
	// One write batch (segment) per record: retention works per segment.
	for _, r := range sample(now.Add(-5 * time.Hour)) { // minutes 0..122 after base
		if err := s.Insert(ctx, []Record{r}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.Prune(ctx, now, 3*time.Hour+30*time.Minute, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Attempts at base+0, +0, +60 and +61 minutes are older than 3h30m;
	// those at +120.. are under 3h old.
	if n != 4 {
		t.Fatalf("pruned %d, want 4", n)
	}
	c, _ := s.Count(ctx)
	if c != 3 {
		t.Fatalf("%d left, want 3", c)
	}
}

func TestRetentionBySize(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	var recs []Record
	for i := range 5000 {
		big := make([]byte, 450) // incompressible, like many distinct payloads
		for j := range big {
			big[j] = byte(rng.UintN(256))
		}
		recs = append(recs, FromAttempt(&sinks.Attempt{Time: time.Now(), Sink: "k", Kind: "kafka", Status: sinks.StatusDelivered,
			EventID: fmt.Sprint("e", i), Type: "location", Payload: []byte(`{"x":"` + hex.EncodeToString(big) + `"}`)}, 4096))
	}
	for i := 0; i < len(recs); i += 100 {
		if err := s.Insert(ctx, recs[i:i+100]); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := s.Size(ctx)
	const limit = 1 << 20
	if before < 4*limit {
		t.Fatalf("test data too small: %d", before)
	}
	n, err := s.Prune(ctx, time.Now(), 0, limit)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := s.Size(ctx)
	if after > limit || n == 0 {
		t.Fatalf("size %d -> %d after deleting %d, limit %d", before, after, n, limit)
	}
	// The newest records are the ones kept.
	p, err := s.Query(ctx, Query{Limit: 1})
	if err != nil || p.Records[0].EventID != "e4999" {
		t.Fatalf("newest: %v %+v", err, p.Records)
	}
	left, _ := s.Count(ctx)
	if left+n != 5000 {
		t.Fatalf("count %d + deleted %d != 5000", left, n)
	}
}

func TestOpenReadOnly(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenReadOnly(filepath.Join(dir, "missing.db")); err == nil || !strings.Contains(err.Error(), "missing.db") {
		t.Fatalf("missing file: %v", err)
	}
	w, err := Open(filepath.Join(dir, "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Insert(context.Background(), sample(time.Now())); err != nil {
		t.Fatal(err)
	}
	r, err := OpenReadOnly(filepath.Join(dir, "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p, err := r.Query(context.Background(), Query{})
	if err != nil || len(p.Records) != 7 {
		t.Fatalf("read-only query: %v %d", err, len(p.Records))
	}
	if err := r.Insert(context.Background(), sample(time.Now())); err == nil {
		t.Fatal("read-only store accepted a write")
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"":                     {},
		"1d":                   now.Add(-24 * time.Hour),
		"2h":                   now.Add(-2 * time.Hour),
		"1w":                   now.Add(-7 * 24 * time.Hour),
		"1d12h":                now.Add(-36 * time.Hour),
		"90s":                  now.Add(-90 * time.Second),
		"1.5h":                 now.Add(-90 * time.Minute),
		"2026-11-21T10:00:00Z": time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC),
		"2026-11-21":           time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC),
	} {
		got, err := ParseTime(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"yesterday", "1y", "d", "-1d", "2026-13-01"} {
		if _, err := ParseTime(bad, now); err == nil {
			t.Errorf("ParseTime(%q) accepted", bad)
		}
	}
}

func TestSegmentSourceMessageIDAndVersion1(t *testing.T) {
	recs := sample(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC))
	data, _ := encodeSegment(nil, nil, recs)
	got, err := decodeSegment(data, 1, true, func(*Record) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		if got[i].SourceMessageID != recs[i].SourceMessageID || got[i].EventID != recs[i].EventID || string(got[i].Payload) != string(recs[i].Payload) {
			t.Errorf("record %d: %+v, want %+v", i, got[i], recs[i])
		}
	}
	b, _ := json.Marshal(got[2])
	if !strings.Contains(string(b), `"sourceMessageId":"31f460d8-92eb-427a-9487-3611c2670608"`) {
		t.Errorf("JSON %s lacks sourceMessageId", b)
	}
	if b, _ := json.Marshal(got[0]); strings.Contains(string(b), "sourceMessageId") {
		t.Errorf("JSON %s has an empty sourceMessageId", b)
	}

	// A version 1 segment (written before source message ids, same layout
	// without flag bit 4) still decodes.
	for i := range recs {
		recs[i].SourceMessageID = ""
	}
	v1, _ := encodeSegment(nil, nil, recs)
	v1[0] = segmentVersionV1
	old, err := decodeSegment(v1, 1, false, func(*Record) bool { return true })
	if err != nil || len(old) != len(recs) {
		t.Fatalf("version 1 segment: %d records, %v", len(old), err)
	}
	v1[0] = 9
	if _, err := decodeSegment(v1, 1, false, func(*Record) bool { return true }); !errors.Is(err, errCorrupt) {
		t.Fatalf("unknown version: %v, want errCorrupt", err)
	}
}

func TestStoreEventSourceMessageID(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	if err := s.Insert(ctx, sample(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC))); err != nil {
		t.Fatal(err)
	}
	for ev, want := range map[string]string{"e1": "", "e2": "31f460d8-92eb-427a-9487-3611c2670608"} {
		e, err := s.Event(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		if e.SourceMessageID != want {
			t.Errorf("%s: sourceMessageId %q, want %q", ev, e.SourceMessageID, want)
		}
	}
}
