package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/telebridge/telebridge/bridge/config"
	"github.com/telebridge/telebridge/bridge/monitor"
)

func librdkafkaVersion() string {
	_, s := kafka.LibraryVersion()
	return s
}

// newLogger builds the zap logger: console (human) or json, at level.
func newLogger(format, level string) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("log level %q: allowed: debug, info, warn, error", level)
	}
	var cfg zap.Config
	switch format {
	case "json":
		cfg = zap.NewProductionConfig()
	case "console", "":
		cfg = zap.NewDevelopmentConfig()
		cfg.DisableStacktrace = true
		cfg.EncoderConfig.EncodeLevel = zapcore.CapitalColorLevelEncoder
		if fi, err := os.Stderr.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
			cfg.EncoderConfig.EncodeLevel = zapcore.CapitalLevelEncoder
		}
	default:
		return nil, fmt.Errorf("log format %q: allowed: console, json", format)
	}
	cfg.Level = zap.NewAtomicLevelAt(lvl)
	cfg.Development = false
	return cfg.Build()
}

func pick(flag, cfg, def string) string {
	if flag != "" {
		return flag
	}
	if cfg != "" {
		return cfg
	}
	return def
}

func newRunCmd(g *globalFlags) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "run -c FILE",
		Short: "Run the bridge with a config file until SIGINT/SIGTERM",
		Long: `Run the bridge described by a YAML config file.

The config is loaded strictly (unknown keys are errors), ${ENV} references are
expanded, and everything is validated before any connection is made.
On SIGINT or SIGTERM the bridge stops fetching, drains in-flight work,
flushes the sinks, commits the finished offsets and exits 0.`,
		Example: "  TRACKUNIT_PASSWORD=... telebridge run -c testdata/config/both.yaml",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(file, os.LookupEnv)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			log, err := newLogger(pick(g.logFormat, cfg.Log.Format, "console"), pick(g.logLevel, cfg.Log.Level, "info"))
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			defer func() { _ = log.Sync() }()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runBridge(ctx, cfg, log)
		},
	}
	cmd.Flags().StringVarP(&file, "config", "c", "", "path of the YAML config file (required)")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

func runBridge(ctx context.Context, cfg *config.Config, log *zap.Logger) error {
	if cfg.KafkaWS != nil {
		return runWithKafkaWS(ctx, cfg, log)
	}
	return runPipeline(ctx, cfg, log, monitor.Options{Logger: log})
}

// runPipeline runs the bridge with its history and HTTP server until ctx
// ends.
func runPipeline(ctx context.Context, cfg *config.Config, log *zap.Logger, opts monitor.Options) error {
	svc, err := monitor.Start(cfg, opts)
	if err != nil {
		return err
	}
	b := svc.Bridge
	fields := []zap.Field{zap.String("version", version), zap.String("config", cfg.File), zap.String("sources", b.SourceNames())}
	if svc.URL != "" {
		fields = append(fields, zap.String("http", svc.URL))
	}
	if cfg.History.Enabled {
		fields = append(fields, zap.String("history", cfg.History.Path))
	}
	log.Info("telebridge starting", fields...)
	if err := svc.Run(ctx); err != nil {
		return err
	}
	st := b.Stats()
	log.Info("telebridge stopped", zap.Uint64("delivered", st.Delivered), zap.Uint64("dead_letters", st.DeadLetters))
	return nil
}

func newValidateCmd() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "validate -c FILE",
		Short: "Check a config file and print its effective, redacted form",
		Long: `Load and validate a config file without connecting to anything.

Every problem is reported with the file, line and key it concerns, including
what would otherwise only fail at start: a Kafka key path that addresses no
field of a type routed to its sink, and the MQTT_SET_EVENT_ID and
KAFKA_SET_EVENT_ID environment variables (read as run reads them; an eventId
field that clashes with a field of a routed type is an error). On success the
effective configuration (defaults applied, the eventId injection the
environment turns on, secrets shown as [redacted]) is printed on stdout, and
warnings (object types a source's profile produces that none of its sinks
accepts, which run drops and counts) on stderr. Exit status: 0 valid (with or
without warnings), 2 invalid.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(file, os.LookupEnv)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			for _, w := range cfg.Warnings() {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w.Error())
			}
			fmt.Fprintf(cmd.OutOrStdout(), "# %s is valid\n%s", file, cfg.Redacted())
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "config", "c", "", "path of the YAML config file (required)")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}
