package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/klauspost/compress/s2"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver (pure Go)
)

// schemaSQL creates the segments table (see segment.go) and the meta
// table holding the next record id. auto_vacuum must be chosen before the
// first table exists; it lets size retention give freed pages back.
const schemaSQL = `
PRAGMA auto_vacuum = INCREMENTAL;
CREATE TABLE IF NOT EXISTS segments (
	first_id INTEGER PRIMARY KEY,
	count    INTEGER NOT NULL,
	min_time INTEGER NOT NULL,
	max_time INTEGER NOT NULL,
	statuses INTEGER NOT NULL,
	types    INTEGER NOT NULL,
	sinks    TEXT    NOT NULL,
	bloom    BLOB    NOT NULL,
	data     BLOB    NOT NULL
);
CREATE INDEX IF NOT EXISTS segments_max_time ON segments(max_time);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('next_id', 1);
`

// Store is a delivery-history database file. It is safe for concurrent
// use; writes are expected from one Recorder.
type Store struct {
	db             *sql.DB
	path           string
	readOnly       bool
	raw, body, buf []byte // encoding buffers of Insert (one writer)
}

// Open opens (creating it and its directory if needed) the store at path
// for reading and writing, in WAL mode so that other processes can read
// while this one writes.
func Open(path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("history store: empty path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("history store %s: create directory: %w", path, err)
		}
	}
	db, err := sql.Open("sqlite", dsn(path, "rwc",
		"journal_mode(WAL)", "synchronous(NORMAL)", "busy_timeout(5000)"))
	if err != nil {
		return nil, fmt.Errorf("history store %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if _, err := db.Exec(schemaSQL); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("history store %s: create schema: %w", path, err)
	}
	return s, nil
}

// OpenReadOnly opens an existing store for queries only, for example the
// file of a running bridge. It fails when path does not exist or is not a
// history store.
func OpenReadOnly(path string) (*Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("history store: %w (is history enabled, and is the path right?)", err)
	}
	db, err := sql.Open("sqlite", dsn(path, "rw", "busy_timeout(5000)", "query_only(1)"))
	if err != nil {
		return nil, fmt.Errorf("history store %s: %w", path, err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'segments'`).Scan(&n); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("history store %s: %w", path, err)
	}
	if n == 0 {
		_ = db.Close()
		return nil, fmt.Errorf("history store %s: not a telebridge history database (no segments table)", path)
	}
	return &Store{db: db, path: path, readOnly: true}, nil
}

func dsn(path, mode string, pragmas ...string) string {
	q := url.Values{}
	q.Set("mode", mode)
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Path is the store's file name.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Insert writes recs as one segment in one transaction and sets their
// IDs (consecutive, increasing across calls). Calls must not overlap: the
// store has one writer (the Recorder).
func (s *Store) Insert(ctx context.Context, recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("history store %s: begin: %w", s.path, err)
	}
	defer func() { _ = tx.Rollback() }()
	var next int64
	if err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'next_id'`).Scan(&next); err != nil {
		return fmt.Errorf("history store %s: read next id: %w", s.path, err)
	}
	sum := summarize(recs)
	s.raw, s.body = encodeSegment(s.raw[:0], s.body, recs)
	s.buf = s2.Encode(s.buf[:cap(s.buf)], s.raw)
	if _, err := tx.ExecContext(ctx, `INSERT INTO segments (first_id, count, min_time, max_time, statuses, types, sinks, bloom, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, next, len(recs), sum.minTime, sum.maxTime, sum.statuses, sum.types, sum.sinks, []byte(sum.bloom), s.buf); err != nil {
		return fmt.Errorf("history store %s: insert: %w", s.path, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE meta SET value = ? WHERE key = 'next_id'`, next+int64(len(recs))); err != nil {
		return fmt.Errorf("history store %s: update next id: %w", s.path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("history store %s: commit: %w", s.path, err)
	}
	for i := range recs {
		recs[i].ID = next + int64(i)
	}
	if cap(s.raw) > 8<<20 {
		s.raw, s.body, s.buf = nil, nil, nil // do not keep huge buffers after an unusual batch
	}
	return nil
}

// Size is the space the records use in bytes (pages in use times the page
// size; the file may be larger by its free pages and the WAL).
func (s *Store) Size(ctx context.Context) (int64, error) {
	var pages, free, size int64
	if err := s.db.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		return 0, fmt.Errorf("history store %s: page_count: %w", s.path, err)
	}
	if err := s.db.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&free); err != nil {
		return 0, fmt.Errorf("history store %s: freelist_count: %w", s.path, err)
	}
	if err := s.db.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&size); err != nil {
		return 0, fmt.Errorf("history store %s: page_size: %w", s.path, err)
	}
	return (pages - free) * size, nil
}

// Count returns the number of records.
func (s *Store) Count(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce(sum(count), 0) FROM segments`).Scan(&n); err != nil {
		return 0, fmt.Errorf("history store %s: count: %w", s.path, err)
	}
	return n, nil
}

// Prune deletes the segments whose newest record is older than
// now-maxAge (maxAge > 0), then the oldest segments until the used size is
// at most 90% of maxSize (maxSize > 0), and returns freed pages to the file
// system. It returns the number of records deleted. Records are deleted a
// segment (one write batch) at a time.
func (s *Store) Prune(ctx context.Context, now time.Time, maxAge time.Duration, maxSize int64) (int64, error) {
	var deleted int64
	del := func(where string, args ...any) error {
		var n int64
		if err := s.db.QueryRowContext(ctx, `SELECT coalesce(sum(count), 0) FROM segments WHERE `+where, args...).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if _, err := s.db.ExecContext(ctx, `DELETE FROM segments WHERE `+where, args...); err != nil {
			return err
		}
		deleted += n
		return nil
	}
	if maxAge > 0 {
		if err := del(`max_time < ?`, now.Add(-maxAge).UnixNano()); err != nil {
			return deleted, fmt.Errorf("history store %s: prune by age: %w", s.path, err)
		}
	}
	if maxSize > 0 {
		for range 8 {
			used, err := s.Size(ctx)
			if err != nil {
				return deleted, err
			}
			if used <= maxSize {
				break
			}
			var segs int64
			if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM segments`).Scan(&segs); err != nil || segs == 0 {
				return deleted, err
			}
			k := max(int64(float64(segs)*(1-float64(maxSize)*0.9/float64(used))), 1)
			if err := del(`first_id <= (SELECT first_id FROM segments ORDER BY first_id LIMIT 1 OFFSET ?)`, k-1); err != nil {
				return deleted, fmt.Errorf("history store %s: prune by size: %w", s.path, err)
			}
		}
	}
	if deleted > 0 {
		if _, err := s.db.ExecContext(ctx, `PRAGMA incremental_vacuum`); err != nil {
			return deleted, fmt.Errorf("history store %s: vacuum: %w", s.path, err)
		}
	}
	return deleted, nil
}

// Query selects records; see Filter.
type Query struct {
	Filter
	// Before returns records with an ID below it (newest first); After
	// returns records with an ID above it, oldest first (for following).
	// Zero means unset; both set is an error.
	Before, After int64
	// Limit caps the page (default 100, at most 1000).
	Limit int
	// Payloads includes payloads in the records.
	Payloads bool
}

// Filter restricts records. Empty fields match everything; list fields
// match any of their values.
type Filter struct {
	Sinks    []string
	Statuses []string
	Types    []string
	AssetID  string
	EventID  string
	// SourceMessageID matches the provider's id of the source message
	// (Record.SourceMessageID).
	SourceMessageID string
	// Since and Until bound the attempt time (inclusive, exclusive).
	Since, Until time.Time
}

// Page is one page of a query.
type Page struct {
	Records []Record `json:"records"`
	// Next is the cursor of the following page (Before for newest-first
	// queries, After for following ones), 0 when there is none.
	Next int64 `json:"next,omitempty"`
}

// Limits of Query.Limit.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Query returns one page of records matching q, newest first (or oldest
// first when q.After is set). Segments whose summary rules the filter out
// are skipped without being read.
func (s *Store) Query(ctx context.Context, q Query) (Page, error) {
	if q.Before != 0 && q.After != 0 {
		return Page{}, errors.New("history query: before and after cannot be combined")
	}
	if q.Limit <= 0 {
		q.Limit = DefaultLimit
	}
	q.Limit = min(q.Limit, MaxLimit)
	for _, st := range q.Statuses {
		if !validStatus(st) {
			return Page{}, fmt.Errorf("history query: unknown status %q (allowed: %s)", st, strings.Join(Statuses(), ", "))
		}
	}
	f := &q.Filter
	statusMask, typeMask := maskOf(f.Statuses, statusBit), maskOf(f.Types, typeBit)
	var where []string
	var args []any
	if !f.Since.IsZero() {
		where = append(where, "max_time >= ?")
		args = append(args, f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		where = append(where, "min_time < ?")
		args = append(args, f.Until.UnixNano())
	}
	order := "DESC"
	switch {
	case q.Before != 0:
		where = append(where, "first_id < ?")
		args = append(args, q.Before)
	case q.After != 0:
		where = append(where, "first_id + count - 1 > ?")
		args = append(args, q.After)
		order = "ASC"
	}
	stmt := "SELECT first_id, count, min_time, max_time, statuses, types, sinks, bloom FROM segments"
	if len(where) > 0 {
		stmt += " WHERE " + strings.Join(where, " AND ")
	}
	stmt += " ORDER BY first_id " + order
	var out []Record
	err := s.scan(ctx, stmt, args, func(seg *segmentSummary) (bool, error) {
		if !seg.mayMatch(f, statusMask, typeMask) {
			return true, nil
		}
		recs, err := s.segmentRecords(ctx, seg.firstID, q.Payloads, func(r *Record) bool {
			return f.matches(r) && (q.Before == 0 || r.ID < q.Before) && (q.After == 0 || r.ID > q.After)
		})
		if err != nil {
			return false, err
		}
		if order == "DESC" {
			for i := len(recs) - 1; i >= 0 && len(out) <= q.Limit; i-- {
				out = append(out, recs[i])
			}
		} else {
			for i := 0; i < len(recs) && len(out) <= q.Limit; i++ {
				out = append(out, recs[i])
			}
		}
		return len(out) <= q.Limit, nil
	})
	if err != nil {
		return Page{}, err
	}
	p := Page{Records: out}
	if len(out) > q.Limit {
		p.Records = out[:q.Limit]
		p.Next = p.Records[q.Limit-1].ID
	} else if q.After != 0 {
		// Following: the next poll continues after the newest record seen.
		p.Next = q.After
		if len(out) > 0 {
			p.Next = out[len(out)-1].ID
		}
	}
	return p, nil
}

// scan runs a segment-summary query and calls fn for each row until fn
// returns false or an error.
func (s *Store) scan(ctx context.Context, stmt string, args []any, fn func(*segmentSummary) (bool, error)) error {
	rows, err := s.db.QueryContext(ctx, stmt, args...)
	if err != nil {
		return fmt.Errorf("history store %s: query: %w", s.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var seg segmentSummary
		var bl []byte
		if err := rows.Scan(&seg.firstID, &seg.count, &seg.minTime, &seg.maxTime, &seg.statuses, &seg.types, &seg.sinks, &bl); err != nil {
			return fmt.Errorf("history store %s: read segment: %w", s.path, err)
		}
		seg.bloom = bloom(bl)
		more, err := fn(&seg)
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("history store %s: query: %w", s.path, err)
	}
	return nil
}

// segmentRecords reads and decodes one segment. A segment deleted by
// retention in the meantime yields no records.
func (s *Store) segmentRecords(ctx context.Context, firstID int64, payloads bool, keep func(*Record) bool) ([]Record, error) {
	var data []byte
	err := s.db.QueryRowContext(ctx, `SELECT data FROM segments WHERE first_id = ?`, firstID).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("history store %s: read segment %d: %w", s.path, firstID, err)
	}
	raw, err := s2.Decode(nil, data)
	if err != nil {
		return nil, fmt.Errorf("history store %s: segment %d: %w", s.path, firstID, err)
	}
	recs, err := decodeSegment(raw, firstID, payloads, keep)
	if err != nil {
		return nil, fmt.Errorf("history store %s: segment %d: %w", s.path, firstID, err)
	}
	return recs, nil
}

func validStatus(s string) bool {
	for _, v := range Statuses() {
		if v == s {
			return true
		}
	}
	return false
}

// Event returns every attempt recorded for eventID, grouped by sink, with
// the newest payload. It returns ErrNotFound when there is none.
func (s *Store) Event(ctx context.Context, eventID string) (*Event, error) {
	var recs []Record
	err := s.scan(ctx, "SELECT first_id, count, min_time, max_time, statuses, types, sinks, bloom FROM segments ORDER BY first_id ASC", nil,
		func(seg *segmentSummary) (bool, error) {
			if !seg.bloom.mayHave('e', eventID) {
				return true, nil
			}
			got, err := s.segmentRecords(ctx, seg.firstID, true, func(r *Record) bool { return r.EventID == eventID })
			recs = append(recs, got...)
			return len(recs) < 10000, err
		})
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("history: eventId %q: %w", eventID, ErrNotFound)
	}
	first := recs[0]
	ev := &Event{
		EventID:         eventID,
		Type:            first.Type,
		AssetID:         first.AssetID,
		SourceTopic:     first.SourceTopic,
		SourcePartition: first.SourcePartition,
		SourceOffset:    first.SourceOffset,
		SourceMessageID: first.SourceMessageID,
	}
	bySink := map[string]int{}
	for _, r := range recs {
		if r.Payload != nil {
			ev.Payload, ev.PayloadTruncated = r.Payload, r.PayloadTruncated
		}
		i, ok := bySink[r.Sink]
		if !ok {
			i = len(ev.Deliveries)
			bySink[r.Sink] = i
			ev.Deliveries = append(ev.Deliveries, Delivery{Sink: r.Sink, Kind: r.Kind})
		}
		d := &ev.Deliveries[i]
		r.Payload = nil
		d.Attempts = append(d.Attempts, r)
		d.Status = r.Status
		d.Final = IsFinal(r.Status)
	}
	return ev, nil
}

// ErrNotFound is returned (wrapped) by Event when nothing was recorded.
var ErrNotFound = errors.New("not found")
