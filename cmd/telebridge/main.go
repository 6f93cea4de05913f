// Command telebridge consumes third-party telematics feeds from Kafka,
// normalises them into object-sync objects and pushes them on with
// at-least-once delivery. Run `telebridge --help` for the commands.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// Set by -ldflags "-X main.version=..." in release builds.
var version = "dev"

// exitError carries a process exit code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	root := newRootCmd()
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "telebridge:", err)
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(1)
	}
}

// globalFlags are the flags every command shares.
type globalFlags struct {
	logFormat string
	logLevel  string
}

func newRootCmd() *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:   "telebridge",
		Short: "Bridge telematics feeds (Trackunit, MOBITO) from Kafka to object-sync push topics",
		Long: `telebridge consumes third-party telematics feeds from Kafka clusters
(Trackunit Machine Insights as Avro through a Schema Registry, MOBITO as JSON),
normalises every message into object-sync objects (Asset, Location, SensorData,
ReeferData, GensetData, GtoemData) and pushes them to Kafka topics with
at-least-once delivery and a dead-letter topic for what cannot be processed.

Start with 'telebridge demo' (no setup needed), then write a config
(see testdata/config/) and check it with 'telebridge validate -c FILE'
before 'telebridge run -c FILE'.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "", "log format: console or json (default: the config's log.format, else console)")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "", "log level: debug, info, warn or error (default: the config's log.level, else info)")
	root.AddCommand(newRunCmd(g), newValidateCmd(), newDemoCmd(g), newSimulateCmd(), newBenchCmd(g), newVersionCmd())
	root.AddCommand(newCompatCmd())
	root.AddCommand(newHistoryCmd())
	root.AddCommand(newMappingCmd())
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the telebridge version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "telebridge %s (librdkafka %s)\n", version, librdkafkaVersion())
			return nil
		},
	}
}
