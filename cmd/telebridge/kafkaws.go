package main

import (
	"context"
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/telebridge/telebridge/bridge"
	"github.com/telebridge/telebridge/bridge/config"
	"github.com/telebridge/telebridge/bridge/monitor"
)

// runWithKafkaWS serves the Kafka WS endpoint of cfg's kafka_ws section,
// alongside the bridge pipeline when the config has sources. The endpoint
// binds its address before the pipeline starts, so a busy port fails the
// run at once; when either stops with an error the other is stopped too.
func runWithKafkaWS(ctx context.Context, cfg *config.Config, log *zap.Logger) error {
	ws, err := bridge.NewKafkaWS(cfg, log)
	if err != nil {
		return err
	}
	if err := ws.Listen(); err != nil {
		return err
	}
	if len(cfg.Sources) == 0 {
		log.Info("telebridge starting: Kafka WS endpoint only", zap.String("version", version), zap.String("config", cfg.File), zap.String("url", ws.URL()))
		return ws.Run(ctx)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wsErr := make(chan error, 1)
	go func() {
		err := ws.Run(ctx)
		if err != nil {
			cancel()
		}
		wsErr <- err
	}()
	err = runPipeline(ctx, cfg, log, monitor.Options{Logger: log, Collectors: []prometheus.Collector{monitor.KafkaWSCollector(ws)}})
	cancel()
	return errors.Join(err, <-wsErr)
}
