// Package monitor serves a running bridge over HTTP on one listener:
// /healthz (the process is alive), /readyz (every source and sink is
// connected), /metrics (Prometheus), the JSON API under /api/v1 (delivery
// history and status) and the dashboard at /, whose assets are embedded in
// the binary.
//
// Service wires a bridge together with its delivery history (package
// history) and this server; `telebridge run` and `telebridge demo` use it.
package monitor

import (
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"github.com/telebridge/telebridge/bridge"
	"github.com/telebridge/telebridge/bridge/history"
	"github.com/telebridge/telebridge/schemas"
)

//go:embed dashboard
var dashboardFS embed.FS

// Server is the HTTP face of one bridge. Create it with NewServer, serve
// Handler, and call Close to stop its sampling goroutine.
type Server struct {
	b       *bridge.Bridge
	rec     *history.Recorder // nil when history is off
	store   *history.Store    // nil when history is off
	log     *zap.Logger
	started time.Time
	samples *sampler
	mux     *http.ServeMux

	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
}

// NewServer builds the server for b; rec and store may be nil (history
// off: the deliveries API answers 503). extra collectors are exported on
// /metrics beside the bridge's. It starts one goroutine sampling
// rates every 2 seconds until Close.
func NewServer(b *bridge.Bridge, rec *history.Recorder, store *history.Store, log *zap.Logger, extra ...prometheus.Collector) *Server {
	if log == nil {
		log = zap.NewNop()
	}
	s := &Server{b: b, rec: rec, store: store, log: log, started: time.Now(), samples: &sampler{b: b},
		stop: make(chan struct{}), done: make(chan struct{})}
	reg := prometheus.NewRegistry()
	reg.MustRegister(newCollector(b, rec), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(extra...)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: zap.NewStdLog(log)}))
	mux.HandleFunc("GET /api/v1/status", s.status)
	mux.HandleFunc("GET /api/v1/deliveries", s.deliveries)
	mux.HandleFunc("GET /api/v1/deliveries/{id}", s.delivery)
	mux.HandleFunc("GET /api/v1/deliveries/{id}/payload", s.payload)
	mux.HandleFunc("GET /api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API endpoint: "+r.Method+" "+r.URL.Path+" (see /api/v1/status, /api/v1/deliveries, /api/v1/deliveries/{eventId})")
	})
	assets, _ := fs.Sub(dashboardFS, "dashboard")
	mux.Handle("GET /", http.FileServerFS(assets))
	s.mux = mux
	go func() {
		defer close(s.done)
		s.samples.run(s.stop)
	}()
	return s
}

// Handler serves every endpoint.
func (s *Server) Handler() http.Handler { return s.mux }

// Close stops the rate sampler. Idempotent.
func (s *Server) Close() {
	s.stopOnce.Do(func() { close(s.stop) })
	<-s.done
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}

// writeError answers {"error": msg}.
func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	ok, why := s.b.Ready()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("not ready\n" + strings.Join(why, "\n") + "\n"))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

// StatusNow builds the status document.
func (s *Server) StatusNow() Status {
	st := s.b.Stats()
	ok, why := s.b.Ready()
	series := s.samples.series()
	out := Status{
		Time: time.Now().UTC(), Started: s.started.UTC(), Ready: ok, NotReady: why,
		DeadLetters: st.DeadLetters, Delivered: st.Delivered,
		LatencyP50: float64(st.LatencyP50) / float64(time.Millisecond), LatencyP99: float64(st.LatencyP99) / float64(time.Millisecond),
		Series: series,
	}
	for _, n := range sortedKeys(st.Sources) {
		src := st.Sources[n]
		ss := SourceStatus{Name: n, Connected: src.Connected, Reason: src.Reason, Consumed: src.Consumed, Objects: src.Objects,
			Poison: src.Poison, InFlight: src.InFlight, Rate: last(series.Sources, n), Partition: src.Lag,
			Unrouted: sum(src.Unrouted), UnroutedByType: make(map[string]uint64, len(src.Unrouted))}
		for t, v := range src.Unrouted {
			ss.UnroutedByType[string(t)] = v
		}
		if ss.Partition == nil {
			ss.Partition = []bridge.PartitionLag{}
		}
		for _, l := range src.Lag {
			if l.Lag > 0 {
				ss.Lag += l.Lag
			}
		}
		out.Sources = append(out.Sources, ss)
	}
	for _, n := range sortedKeys(st.Sinks) {
		sk := st.Sinks[n]
		out.Sinks = append(out.Sinks, SinkStatus{Name: n, Kind: sk.Kind, Connected: sk.Connected, Reason: sk.Reason,
			Delivered: sum(sk.Delivered), Retries: sum(sk.Retries), Failed: sum(sk.Failed), DeadLettered: sum(sk.DeadLetteredBy),
			Aborted: sk.Aborted, Rate: last(series.Sinks, n), FailRate: last(series.SinkFailures, n)})
	}
	if s.rec != nil {
		out.History = &HistoryStatus{Path: s.store.Path(), RecorderStats: s.rec.Stats()}
	}
	return out
}

func (s *Server) status(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.StatusNow())
}

const historyOff = "delivery history is disabled (history.enabled: false in the config)"

// ParseQuery reads a deliveries query from URL parameters: sink, status,
// type (each comma-separated or repeated), asset, eventId, sourceMessageId
// (the provider's id of the source message), since, until (RFC 3339 or an
// age like 1d, 2h), limit, before, after (cursors) and payload (true
// includes payloads).
func ParseQuery(v map[string][]string, now time.Time) (history.Query, error) {
	var q history.Query
	list := func(key string) []string {
		var out []string
		for _, s := range v[key] {
			for _, p := range strings.Split(s, ",") {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
		}
		return out
	}
	one := func(key string) string {
		if s := v[key]; len(s) > 0 {
			return strings.TrimSpace(s[len(s)-1])
		}
		return ""
	}
	q.Sinks, q.Statuses, q.Types = list("sink"), list("status"), list("type")
	for _, st := range q.Statuses {
		if !validStatus(st) {
			return q, errors.New("status " + strconv.Quote(st) + ": allowed: " + strings.Join(history.Statuses(), ", "))
		}
	}
	for i, ty := range q.Types {
		t, err := schemas.ParseType(ty)
		if err != nil {
			return q, errors.New("type " + strconv.Quote(ty) + ": allowed: " + strings.Join(typeNames(), ", "))
		}
		q.Types[i] = string(t)
	}
	q.AssetID, q.EventID, q.SourceMessageID = one("asset"), one("eventId"), one("sourceMessageId")
	var err error
	if q.Since, err = history.ParseTime(one("since"), now); err != nil {
		return q, errors.New("since: " + err.Error())
	}
	if q.Until, err = history.ParseTime(one("until"), now); err != nil {
		return q, errors.New("until: " + err.Error())
	}
	num := func(key string) (int64, error) {
		s := one(key)
		if s == "" {
			return 0, nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return 0, errors.New(key + ": expected a non-negative integer, got " + strconv.Quote(s))
		}
		return n, nil
	}
	limit, err := num("limit")
	if err != nil {
		return q, err
	}
	q.Limit = int(min(limit, history.MaxLimit))
	if q.Before, err = num("before"); err != nil {
		return q, err
	}
	if q.After, err = num("after"); err != nil {
		return q, err
	}
	if q.Before != 0 && q.After != 0 {
		return q, errors.New("before and after cannot be combined")
	}
	switch one("payload") {
	case "", "false", "0":
	case "true", "1":
		q.Payloads = true
	default:
		return q, errors.New("payload: expected true or false")
	}
	return q, nil
}

func validStatus(s string) bool {
	for _, v := range history.Statuses() {
		if v == s {
			return true
		}
	}
	return false
}

func (s *Server) deliveries(w http.ResponseWriter, r *http.Request) {
	if s.store == nil {
		writeError(w, http.StatusServiceUnavailable, historyOff)
		return
	}
	q, err := ParseQuery(r.URL.Query(), time.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	page, err := s.store.Query(r.Context(), q)
	if err != nil {
		s.log.Warn("history query failed", zap.Error(err))
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if page.Records == nil {
		page.Records = []history.Record{}
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) delivery(w http.ResponseWriter, r *http.Request) {
	if s.store == nil {
		writeError(w, http.StatusServiceUnavailable, historyOff)
		return
	}
	id := r.PathValue("id")
	ev, err := s.store.Event(r.Context(), id)
	switch {
	case errors.Is(err, history.ErrNotFound):
		writeError(w, http.StatusNotFound, "no delivery recorded for eventId "+strconv.Quote(id)+" (it may have been removed by retention)")
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, ev)
}

// payload answers the newest recorded payload of an eventId as it was
// sent (application/json), byte for byte: large integers keep every digit.
func (s *Server) payload(w http.ResponseWriter, r *http.Request) {
	if s.store == nil {
		writeError(w, http.StatusServiceUnavailable, historyOff)
		return
	}
	id := r.PathValue("id")
	ev, err := s.store.Event(r.Context(), id)
	switch {
	case errors.Is(err, history.ErrNotFound):
		writeError(w, http.StatusNotFound, "no delivery recorded for eventId "+strconv.Quote(id))
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	case ev.Payload == nil:
		writeError(w, http.StatusNotFound, "no payload recorded for eventId "+strconv.Quote(id)+" (history.payloads.enabled is false)")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if ev.PayloadTruncated {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Telebridge-Payload-Truncated", "true")
	}
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(ev.Payload)
}

func typeNames() []string {
	var out []string
	for _, t := range schemas.AllTypes() {
		out = append(out, string(t))
	}
	return out
}
