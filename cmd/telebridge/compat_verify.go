package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/telebridge/telebridge/bridge/config"
	"github.com/telebridge/telebridge/bridge/profile"
	"github.com/telebridge/telebridge/compat"
)

func newCompatVerifyCmd() *cobra.Command {
	var (
		cfgPath, format string
		latestOnly      bool
		timeout         time.Duration
	)
	cmd := &cobra.Command{
		Use:   "verify -c CONFIG [--latest-only]",
		Short: "Check that every Avro source's pinned reader schema reads what its registry holds",
		Long: `verify answers "will my bridge still decode what the provider publishes?":
for every Avro source of the config it checks that the profile's pinned reader
schema can read every version registered under the subject of each source
topic (<topic>-value), or only the latest with --latest-only. Sources with
decode: writer are checked too: the bridge guard uses the pinned schema for
them as well. Suitable for a nightly CI job.

Exit codes: 0 every version readable, 1 some version is not, 2 config, parse
or network error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !slices.Contains(compat.Formats(), format) {
				return compatUsage("unknown --format %q (allowed: %v)", format, compat.Formats())
			}
			cfg, err := config.Load(cfgPath, os.LookupEnv)
			if err != nil {
				return &exitError{code: compatExitUsage, err: err}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			targets, err := compatVerifyConfig(ctx, cfg, latestOnly)
			if err != nil {
				return err
			}
			return finishCompat(cmd.OutOrStdout(), format, targets)
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "bridge config file (required)")
	cmd.Flags().BoolVar(&latestOnly, "latest-only", false, "check the latest version of each subject only")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, json, junit or sarif")
	cmd.Flags().DurationVar(&timeout, "timeout", 60*time.Second, "overall time limit for registry calls")
	_ = cmd.MarkFlagRequired("config")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{code: compatExitUsage, err: err} })
	return cmd
}

// compatVerifyConfig builds one target per (Avro source, topic subject).
func compatVerifyConfig(ctx context.Context, cfg *config.Config, latestOnly bool) ([]compat.Target, error) {
	level := compat.BackwardTransitive
	if latestOnly {
		level = compat.Backward
	}
	reader, err := compat.Parse([]byte(profile.TrackunitReaderSchema()))
	if err != nil {
		return nil, fmt.Errorf("pinned reader schema: %w", err)
	}
	var targets []compat.Target
	for _, sc := range cfg.Sources {
		prof, err := profile.New(sc.Profile, profile.Options{OwnerID: sc.OwnerID})
		if err != nil {
			return nil, &exitError{code: compatExitUsage, err: fmt.Errorf("sources %s: %w", sc.Name, err)}
		}
		if prof.Format() != profile.FormatAvro {
			continue
		}
		rcfg, ok := cfg.Registries[sc.Registry]
		if !ok {
			return nil, &exitError{code: compatExitUsage, err: fmt.Errorf("sources %s: registry %q is not defined", sc.Name, sc.Registry)}
		}
		rc, err := newSRReader(rcfg.URL, srOptions{user: rcfg.Username, pass: rcfg.Password.Reveal(),
			caFile: rcfg.CAFile, insecure: rcfg.InsecureSkipVerify, timeout: rcfg.Timeout})
		if err != nil {
			return nil, &exitError{code: compatExitUsage, err: fmt.Errorf("registries %s: %w", sc.Registry, err)}
		}
		for _, topic := range sc.Topics {
			subject := topic + "-value"
			t := compat.Target{Name: fmt.Sprintf("source %s: %s reader schema vs subject %s", sc.Name, sc.Profile, subject), Candidate: reader}
			versions, err := rc.versions(ctx, subject, latestOnly)
			if err != nil {
				t.Err = err
				targets = append(targets, t)
				continue
			}
			if len(versions) == 0 {
				t.Err = fmt.Errorf("registry %s has no versions under subject %s", sc.Registry, subject)
				targets = append(targets, t)
				continue
			}
			t.Report, t.Err = compat.CheckLevel(level, reader, versions)
			targets = append(targets, t)
		}
	}
	if len(targets) == 0 {
		return nil, compatUsage("the config has no Avro sources to verify")
	}
	return targets, nil
}
