package monitor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/telebridge/telebridge/bridge"
	"github.com/telebridge/telebridge/bridge/config"
	"github.com/telebridge/telebridge/bridge/history"
)

// Options adjust a Service.
type Options struct {
	Logger *zap.Logger
	// Listen overrides http.listen when not empty.
	Listen string
	// Collectors are exported on /metrics beside the bridge's (for
	// example KafkaWSCollector of an endpoint run beside the bridge).
	Collectors []prometheus.Collector
}

// Service is a bridge with its delivery history and HTTP server, built
// from one config. Start it with Start, run it with Run.
type Service struct {
	Bridge   *bridge.Bridge
	Recorder *history.Recorder // nil when history is off
	Store    *history.Store    // nil when history is off
	Server   *Server
	// URL is the HTTP server's base URL ("" when http is off).
	URL string

	log       *zap.Logger
	httpSrv   *http.Server
	httpDone  chan error
	publisher *kafkaPublisher
	recDone   chan struct{}
}

// Start opens the history store (creating it if needed), builds the
// bridge with the history recorder as its observer, and starts the
// recorder and the HTTP listener. The bridge itself starts with Run. On
// error everything started is stopped again.
func Start(cfg *config.Config, opts Options) (svc *Service, err error) {
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	s := &Service{log: log}
	defer func() {
		if err != nil {
			s.shutdown()
		}
	}()
	var bopts bridge.Options
	bopts.Logger = log
	if h := cfg.History; h.Enabled {
		store, err := history.Open(h.Path)
		if err != nil {
			return nil, fmt.Errorf("history (%s): %w", cfg.Pos("history.path"), err)
		}
		s.Store = store
		ropts := history.RecorderOptions{
			QueueSize: h.QueueSize,
			MaxAge:    h.Retention.MaxAge,
			MaxSize:   h.Retention.MaxSize,
			Logger:    log.With(zap.String("component", "history")),
		}
		if h.Payloads.Enabled {
			ropts.MaxPayload = h.Payloads.MaxBytes
		}
		if h.Topic.Cluster != "" {
			cl, ok := cfg.Clusters[h.Topic.Cluster]
			if !ok {
				return nil, fmt.Errorf("history.topic.cluster %q is not defined in clusters", h.Topic.Cluster)
			}
			p, err := newKafkaPublisher(cl.KafkaConfig(), h.Topic.Name, log.With(zap.String("component", "history-topic")))
			if err != nil {
				return nil, err
			}
			s.publisher = p
			ropts.Publisher = p
		}
		s.Recorder = history.NewRecorder(store, ropts)
		s.recDone = make(chan struct{})
		go func() {
			defer close(s.recDone)
			s.Recorder.Run()
		}()
		bopts.Observer = s.Recorder
	}
	b, err := bridge.New(cfg, bopts)
	if err != nil {
		return nil, err
	}
	s.Bridge = b
	s.Server = NewServer(b, s.Recorder, s.Store, log, opts.Collectors...)
	listen := cfg.HTTP.Listen
	if opts.Listen != "" {
		listen = opts.Listen
	}
	if cfg.HTTP.Enabled || opts.Listen != "" {
		ln, err := net.Listen("tcp", listen)
		if err != nil {
			return nil, fmt.Errorf("http.listen %s (%s): %w", listen, cfg.Pos("http.listen"), err)
		}
		s.URL = "http://" + displayAddr(ln.Addr())
		s.httpSrv = &http.Server{Handler: s.Server.Handler(), ReadHeaderTimeout: 10 * time.Second,
			WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute, ErrorLog: zap.NewStdLog(log)}
		s.httpDone = make(chan error, 1)
		go func() { s.httpDone <- s.httpSrv.Serve(ln) }()
	}
	return s, nil
}

// displayAddr turns a wildcard listen address into one a browser can open.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	return net.JoinHostPort("127.0.0.1", fmt.Sprint(tcp.Port))
}

// Run runs the bridge until ctx ends (see bridge.Bridge.Run), then stops
// the HTTP server, writes the remaining history records and closes the
// store. The HTTP server keeps answering while the bridge drains.
func (s *Service) Run(ctx context.Context) error {
	err := s.Bridge.Run(ctx)
	s.shutdown()
	return err
}

// Close stops what Start started, for a Service whose Run is not called.
func (s *Service) Close() { s.shutdown() }

func (s *Service) shutdown() {
	if s.httpSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.httpSrv.Shutdown(ctx)
		cancel()
		if err := <-s.httpDone; err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Warn("http server", zap.Error(err))
		}
		s.httpSrv = nil
	}
	if s.Server != nil {
		s.Server.Close()
	}
	if s.Recorder != nil && s.recDone != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := s.Recorder.Close(ctx); err != nil {
			s.log.Warn("delivery history: not every record was written before the deadline", zap.Error(err))
		}
		cancel()
		s.recDone = nil
	}
	if s.publisher != nil {
		s.publisher.close(5 * time.Second)
		s.publisher = nil
	}
	if s.Store != nil {
		if err := s.Store.Close(); err != nil {
			s.log.Warn("close history store", zap.Error(err))
		}
		s.Store = nil
	}
}
