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

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver (pure Go)
)

// schemaSQL creates the attempts table and the indexes the queries use.
// auto_vacuum must be chosen before the first table exists; it lets size
// retention give freed pages back to the file system.
const schemaSQL = `
PRAGMA auto_vacuum = INCREMENTAL;
CREATE TABLE IF NOT EXISTS attempts (
	id                INTEGER PRIMARY KEY AUTOINCREMENT,
	time              INTEGER NOT NULL,
	sink              TEXT    NOT NULL,
	kind              TEXT    NOT NULL,
	topic             TEXT    NOT NULL,
	partition         INTEGER NOT NULL,
	offset            INTEGER NOT NULL,
	qos               INTEGER,
	status            TEXT    NOT NULL,
	error             TEXT    NOT NULL,
	attempt           INTEGER NOT NULL,
	latency_us        INTEGER NOT NULL,
	event_id          TEXT    NOT NULL,
	type              TEXT    NOT NULL,
	asset_id          TEXT    NOT NULL,
	source_topic      TEXT    NOT NULL,
	source_partition  INTEGER NOT NULL,
	source_offset     INTEGER NOT NULL,
	payload_size      INTEGER NOT NULL,
	payload           BLOB,
	payload_truncated INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS attempts_time   ON attempts(time);
CREATE INDEX IF NOT EXISTS attempts_event  ON attempts(event_id, sink);
CREATE INDEX IF NOT EXISTS attempts_sink   ON attempts(sink, id);
CREATE INDEX IF NOT EXISTS attempts_status ON attempts(status, id);
CREATE INDEX IF NOT EXISTS attempts_type   ON attempts(type, id);
CREATE INDEX IF NOT EXISTS attempts_asset  ON attempts(asset_id, id);
`

const insertSQL = `INSERT INTO attempts (time, sink, kind, topic, partition, offset, qos, status, error, attempt, latency_us,
	event_id, type, asset_id, source_topic, source_partition, source_offset, payload_size, payload, payload_truncated)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// Store is a delivery-history database file. It is safe for concurrent
// use; writes are expected from one Recorder.
type Store struct {
	db       *sql.DB
	path     string
	readOnly bool
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
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'attempts'`).Scan(&n); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("history store %s: %w", path, err)
	}
	if n == 0 {
		_ = db.Close()
		return nil, fmt.Errorf("history store %s: not a telebridge history database (no attempts table)", path)
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

// Insert writes recs in one transaction and sets their IDs.
func (s *Store) Insert(ctx context.Context, recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("history store %s: begin: %w", s.path, err)
	}
	defer func() { _ = tx.Rollback() }()
	st, err := tx.PrepareContext(ctx, insertSQL)
	if err != nil {
		return fmt.Errorf("history store %s: prepare insert: %w", s.path, err)
	}
	defer st.Close()
	for i := range recs {
		r := &recs[i]
		var qos any
		if r.QoS != nil {
			qos = *r.QoS
		}
		var payload any
		if r.Payload != nil {
			payload = r.Payload
		}
		res, err := st.ExecContext(ctx, r.Time.UnixNano(), r.Sink, r.Kind, r.Topic, r.Partition, r.Offset, qos,
			r.Status, r.Error, r.Attempt, r.Latency.Microseconds(), r.EventID, r.Type, r.AssetID,
			r.SourceTopic, r.SourcePartition, r.SourceOffset, r.PayloadSize, payload, r.PayloadTruncated)
		if err != nil {
			return fmt.Errorf("history store %s: insert: %w", s.path, err)
		}
		if id, err := res.LastInsertId(); err == nil {
			r.ID = id
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("history store %s: commit: %w", s.path, err)
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
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM attempts`).Scan(&n); err != nil {
		return 0, fmt.Errorf("history store %s: count: %w", s.path, err)
	}
	return n, nil
}

// Prune deletes records older than now-maxAge (maxAge > 0), then the
// oldest records until the used size is at most 90% of maxSize
// (maxSize > 0), and returns freed pages to the file system. It returns the
// number of records deleted.
func (s *Store) Prune(ctx context.Context, now time.Time, maxAge time.Duration, maxSize int64) (int64, error) {
	var deleted int64
	if maxAge > 0 {
		res, err := s.db.ExecContext(ctx, `DELETE FROM attempts WHERE time < ?`, now.Add(-maxAge).UnixNano())
		if err != nil {
			return 0, fmt.Errorf("history store %s: prune by age: %w", s.path, err)
		}
		n, _ := res.RowsAffected()
		deleted += n
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
			count, err := s.Count(ctx)
			if err != nil || count == 0 {
				return deleted, err
			}
			target := float64(maxSize) * 0.9
			k := int64(float64(count) * (1 - target/float64(used)))
			k = max(k, 1)
			res, err := s.db.ExecContext(ctx,
				`DELETE FROM attempts WHERE id <= (SELECT id FROM attempts ORDER BY id LIMIT 1 OFFSET ?)`, k-1)
			if err != nil {
				return deleted, fmt.Errorf("history store %s: prune by size: %w", s.path, err)
			}
			n, _ := res.RowsAffected()
			deleted += n
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

const selectColumns = `id, time, sink, kind, topic, partition, offset, qos, status, error, attempt, latency_us,
	event_id, type, asset_id, source_topic, source_partition, source_offset, payload_size, payload_truncated`

// Query returns one page of records matching q, newest first (or oldest
// first when q.After is set).
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
	var where []string
	var args []any
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		where = append(where, col+" IN ("+strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",")+")")
		for _, v := range vals {
			args = append(args, v)
		}
	}
	in("sink", q.Sinks)
	in("status", q.Statuses)
	in("type", q.Types)
	if q.AssetID != "" {
		where = append(where, "asset_id = ?")
		args = append(args, q.AssetID)
	}
	if q.EventID != "" {
		where = append(where, "event_id = ?")
		args = append(args, q.EventID)
	}
	if !q.Since.IsZero() {
		where = append(where, "time >= ?")
		args = append(args, q.Since.UnixNano())
	}
	if !q.Until.IsZero() {
		where = append(where, "time < ?")
		args = append(args, q.Until.UnixNano())
	}
	order := "DESC"
	switch {
	case q.Before != 0:
		where = append(where, "id < ?")
		args = append(args, q.Before)
	case q.After != 0:
		where = append(where, "id > ?")
		args = append(args, q.After)
		order = "ASC"
	}
	cols := selectColumns
	if q.Payloads {
		cols += ", payload"
	}
	stmt := "SELECT " + cols + " FROM attempts"
	if len(where) > 0 {
		stmt += " WHERE " + strings.Join(where, " AND ")
	}
	stmt += " ORDER BY id " + order + " LIMIT ?"
	args = append(args, q.Limit+1)
	recs, err := s.selectRecords(ctx, stmt, q.Payloads, args...)
	if err != nil {
		return Page{}, err
	}
	p := Page{Records: recs}
	if len(recs) > q.Limit {
		p.Records = recs[:q.Limit]
		p.Next = p.Records[q.Limit-1].ID
	} else if q.After != 0 {
		// Following: the next poll continues after the newest record seen.
		p.Next = q.After
		if len(recs) > 0 {
			p.Next = recs[len(recs)-1].ID
		}
	}
	return p, nil
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
	recs, err := s.selectRecords(ctx, "SELECT "+selectColumns+", payload FROM attempts WHERE event_id = ? ORDER BY id ASC LIMIT 10000", true, eventID)
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

func (s *Store) selectRecords(ctx context.Context, stmt string, payload bool, args ...any) ([]Record, error) {
	rows, err := s.db.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, fmt.Errorf("history store %s: query: %w", s.path, err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var r Record
		var ts, latUS int64
		var qos sql.NullInt64
		var trunc bool
		dest := []any{&r.ID, &ts, &r.Sink, &r.Kind, &r.Topic, &r.Partition, &r.Offset, &qos, &r.Status, &r.Error, &r.Attempt, &latUS,
			&r.EventID, &r.Type, &r.AssetID, &r.SourceTopic, &r.SourcePartition, &r.SourceOffset, &r.PayloadSize, &trunc}
		if payload {
			dest = append(dest, &r.Payload)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("history store %s: read record: %w", s.path, err)
		}
		r.Time = time.Unix(0, ts).UTC()
		r.Latency = time.Duration(latUS) * time.Microsecond
		r.LatencyMillis = float64(latUS) / 1000
		r.PayloadTruncated = trunc
		if qos.Valid {
			q := int(qos.Int64)
			r.QoS = &q
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history store %s: query: %w", s.path, err)
	}
	return out, nil
}
