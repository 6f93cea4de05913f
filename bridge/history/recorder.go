package history

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/telebridge/telebridge/sinks"
)

// Publisher receives every batch the Recorder wrote (for example to publish
// it to a Kafka topic). It is called on the writer goroutine, must not
// block for long and must not keep recs after it returns.
type Publisher interface {
	Publish(recs []Record)
}

// RecorderOptions tune a Recorder. Zero values take the defaults.
type RecorderOptions struct {
	// QueueSize bounds the records waiting for the writer (default 65536).
	QueueSize int
	// BatchSize caps the records per transaction and segment (default
	// 8192).
	BatchSize int
	// FlushInterval is the longest a record waits for its batch (default
	// 200ms).
	FlushInterval time.Duration
	// MaxPayload is the number of payload bytes kept per record; 0 keeps
	// none (payloads off).
	MaxPayload int
	// MaxAge and MaxSize are the retention limits (0: unlimited).
	MaxAge  time.Duration
	MaxSize int64
	// PruneInterval is how often retention runs (default 1 minute).
	PruneInterval time.Duration
	// Publisher, if set, also receives every written batch.
	Publisher Publisher
	Logger    *zap.Logger
}

// Recorder is a sinks.Observer that writes every attempt to a Store off the
// hot path. Create it with NewRecorder, run its writer with Run, and stop
// it with Close after the bridge has stopped.
type Recorder struct {
	store *Store
	opts  RecorderOptions
	log   *zap.Logger
	queue chan Record
	stop  chan struct{}
	done  chan struct{}

	closed    atomic.Bool
	stopOnce  sync.Once
	recorded  atomic.Uint64
	dropped   atomic.Uint64
	failed    atomic.Uint64
	pruned    atomic.Uint64
	lastID    atomic.Int64
	lastDrop  atomic.Int64 // unix nanos of the last dropped-record log
	lastError atomic.Pointer[string]
}

// RecorderStats is a snapshot of a Recorder's counters.
type RecorderStats struct {
	// Recorded counts records written to the store.
	Recorded uint64 `json:"recorded"`
	// Dropped counts records lost because the queue was full or the
	// recorder was closed: delivery went on, its history did not.
	Dropped uint64 `json:"dropped"`
	// WriteFailed counts records lost because the store refused a batch
	// (disk full, file removed); LastError tells why.
	WriteFailed uint64 `json:"writeFailed"`
	Pruned      uint64 `json:"pruned"`
	Queued      int    `json:"queued"`
	QueueSize   int    `json:"queueSize"`
	// LastID is the ID of the newest record written.
	LastID    int64  `json:"lastId"`
	LastError string `json:"lastError,omitempty"`
}

// NewRecorder returns a recorder writing to store.
func NewRecorder(store *Store, opts RecorderOptions) *Recorder {
	if opts.QueueSize <= 0 {
		opts.QueueSize = 65536
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 8192
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = 200 * time.Millisecond
	}
	if opts.PruneInterval <= 0 {
		opts.PruneInterval = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	return &Recorder{
		store: store,
		opts:  opts,
		log:   opts.Logger,
		queue: make(chan Record, opts.QueueSize),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
}

// Store is the recorder's store.
func (r *Recorder) Store() *Store { return r.store }

// ObserveAttempt queues a record of a (payload capped, and shared as
// sinks.Observer allows) for the writer. It never blocks: when the queue
// is full the record is dropped and counted.
func (r *Recorder) ObserveAttempt(a *sinks.Attempt) {
	if a == nil {
		return
	}
	if r.closed.Load() {
		r.dropped.Add(1)
		return
	}
	select {
	case r.queue <- FromAttempt(a, r.opts.MaxPayload):
	default:
		n := r.dropped.Add(1)
		now := time.Now().UnixNano()
		if last := r.lastDrop.Load(); now-last > int64(10*time.Second) && r.lastDrop.CompareAndSwap(last, now) {
			r.log.Warn("delivery-history queue full; history records dropped (delivery is not affected)",
				zap.Uint64("dropped_total", n), zap.Int("queue_size", r.opts.QueueSize))
		}
	}
}

// Stats returns the recorder's counters.
func (r *Recorder) Stats() RecorderStats {
	st := RecorderStats{
		Recorded:    r.recorded.Load(),
		Dropped:     r.dropped.Load(),
		WriteFailed: r.failed.Load(),
		Pruned:      r.pruned.Load(),
		Queued:      len(r.queue),
		QueueSize:   cap(r.queue),
		LastID:      r.lastID.Load(),
	}
	if e := r.lastError.Load(); e != nil {
		st.LastError = *e
	}
	return st
}

// Run is the writer: it batches queued records into transactions and
// applies retention until Close is called, then writes what is still
// queued and returns. Call it once, on a goroutine the caller owns.
func (r *Recorder) Run() {
	defer close(r.done)
	batch := make([]Record, 0, r.opts.BatchSize)
	flush := time.NewTimer(r.opts.FlushInterval)
	defer flush.Stop()
	prune := time.NewTicker(r.opts.PruneInterval)
	defer prune.Stop()
	r.prune()
	for {
		select {
		case rec := <-r.queue:
			batch = append(batch, rec)
			if len(batch) >= r.opts.BatchSize {
				batch = r.write(batch)
			}
		case <-flush.C:
			batch = r.write(batch)
			flush.Reset(r.opts.FlushInterval)
		case <-prune.C:
			batch = r.write(batch)
			r.prune()
		case <-r.stop:
			for {
				select {
				case rec := <-r.queue:
					batch = append(batch, rec)
					if len(batch) >= r.opts.BatchSize {
						batch = r.write(batch)
					}
					continue
				default:
				}
				break
			}
			r.write(batch)
			return
		}
	}
}

// Close stops accepting records, waits until the writer has written the
// queued ones (or ctx ends) and returns. Call it after the sinks have
// stopped: an attempt reported while Close runs is counted as dropped. The
// store stays open.
func (r *Recorder) Close(ctx context.Context) error {
	r.stopOnce.Do(func() {
		r.closed.Store(true)
		close(r.stop)
	})
	select {
	case <-r.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	// Records that raced with the writer's last drain are counted, not
	// silently lost.
	for {
		select {
		case <-r.queue:
			r.dropped.Add(1)
		default:
			return nil
		}
	}
}

func (r *Recorder) write(batch []Record) []Record {
	if len(batch) == 0 {
		return batch
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.store.Insert(ctx, batch); err != nil {
		r.failed.Add(uint64(len(batch)))
		msg := err.Error()
		if prev := r.lastError.Swap(&msg); prev == nil || *prev != msg {
			r.log.Error("delivery-history write failed; records lost (delivery is not affected)", zap.Int("records", len(batch)), zap.Error(err))
		}
	} else {
		r.recorded.Add(uint64(len(batch)))
		r.lastID.Store(batch[len(batch)-1].ID)
		if r.opts.Publisher != nil {
			r.opts.Publisher.Publish(batch)
		}
	}
	clear(batch)
	return batch[:0]
}

func (r *Recorder) prune() {
	if r.opts.MaxAge <= 0 && r.opts.MaxSize <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := r.store.Prune(ctx, time.Now(), r.opts.MaxAge, r.opts.MaxSize)
	if err != nil {
		r.log.Warn("delivery-history retention failed", zap.Error(err))
		return
	}
	if n > 0 {
		r.pruned.Add(uint64(n))
		r.log.Debug("delivery-history retention", zap.Int64("deleted", n))
	}
}
