package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"github.com/spf13/cobra"

	"github.com/telebridge/telebridge/bridge"
	"github.com/telebridge/telebridge/bridge/profile"
	"github.com/telebridge/telebridge/codec"
	"github.com/telebridge/telebridge/schemas"
)

func newMappingCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mapping",
		Short: "Develop declarative mappings (profile: mapping)",
	}
	cmd.AddCommand(newMappingTestCmd())
	return cmd
}

type mappingTestFlags struct {
	file      string
	format    string
	schema    string
	confluent bool
	topic     string
	partition int32
	offset    int64
	timestamp string
	key       string
	headers   []string
	watch     bool
}

func newMappingTestCmd() *cobra.Command {
	f := &mappingTestFlags{}
	cmd := &cobra.Command{
		Use:   "test -m FILE [--format json|avro --schema FILE] INPUT...",
		Short: "Print the objects records would become under a mapping, without Kafka",
		Long: `Compile the mapping file and run it on each INPUT, printing the objects it
produces as pretty JSON, with the ids and eventIds the bridge would give them,
each validated against the object-sync schemas.

JSON inputs hold one JSON document, or several one after another (JSON
lines). Avro inputs (--format avro) are one binary Avro datum per file written
with the writer schema --schema (add --confluent when the file starts with
the 5-byte Confluent wire header); it is resolved into the mapping's reader
schema like the bridge does. INPUT - reads standard input.

Record coordinates default to topic "test", partition 0, offset = the record's
position, timestamp = now; set them with --topic, --partition, --offset,
--timestamp, --key and --header k=v. With --watch the mapping and inputs are
re-run whenever one of the files changes.

Exit status: 0 every record mapped to valid objects, 1 a record failed or an
object is invalid, 2 the mapping does not compile or an input cannot be read.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.watch {
				return watchMapping(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), f, args)
			}
			return runMappingTest(cmd.OutOrStdout(), f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.file, "mapping", "m", "", "mapping file (required)")
	fl.StringVar(&f.format, "format", "", "input format, json or avro (default: the mapping's format)")
	fl.StringVar(&f.schema, "schema", "", "Avro writer schema file of the inputs (--format avro)")
	fl.BoolVar(&f.confluent, "confluent", false, "Avro inputs start with the Confluent wire header (magic byte and schema id)")
	fl.StringVar(&f.topic, "topic", "test", "kafka.topic of the records")
	fl.Int32Var(&f.partition, "partition", 0, "kafka.partition of the records")
	fl.Int64Var(&f.offset, "offset", 0, "kafka.offset of the first record (then +1 per record)")
	fl.StringVar(&f.timestamp, "timestamp", "", "kafka.timestamp of the records, RFC 3339 (default: now)")
	fl.StringVar(&f.key, "key", "", "kafka.key of the records")
	fl.StringArrayVar(&f.headers, "header", nil, "kafka header k=v (repeatable)")
	fl.BoolVar(&f.watch, "watch", false, "re-run when the mapping or an input changes")
	_ = cmd.MarkFlagRequired("mapping")
	return cmd
}

// runMappingTest compiles, runs and prints once.
func runMappingTest(out io.Writer, f *mappingTestFlags, inputs []string) error {
	m, err := profile.LoadMapping(f.file)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	format := profile.Format(strings.ToLower(f.format))
	if format == "" {
		format = m.Format()
	}
	if format != profile.FormatJSON && format != profile.FormatAvro {
		return &exitError{code: 2, err: fmt.Errorf("--format %q: allowed: json, avro", f.format)}
	}
	ts := time.Now().UTC().Truncate(time.Millisecond)
	if f.timestamp != "" {
		if ts, err = time.Parse(time.RFC3339Nano, f.timestamp); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("--timestamp %q: want RFC 3339, e.g. 2024-03-20T14:30:00Z", f.timestamp)}
		}
	}
	var headers []profile.Header
	for _, h := range f.headers {
		k, v, ok := strings.Cut(h, "=")
		if !ok || k == "" {
			return &exitError{code: 2, err: fmt.Errorf("--header %q: want key=value", h)}
		}
		headers = append(headers, profile.Header{Key: k, Value: []byte(v)})
	}
	var plan *codec.Plan
	if format == profile.FormatAvro {
		if f.schema == "" {
			return &exitError{code: 2, err: errors.New("--format avro needs --schema FILE (the inputs' writer schema)")}
		}
		plan, err = avroPlan(f.schema, m.ReaderSchema())
		if err != nil {
			return &exitError{code: 2, err: err}
		}
	}
	validators, err := objectValidators()
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	p := profile.NewMapping(m, profile.Options{})
	offset := f.offset
	failed := 0
	for _, name := range inputs {
		values, err := readInputs(name, format, plan, f.confluent)
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		for i, v := range values {
			in := &profile.Input{Topic: f.topic, Partition: f.partition, Offset: offset, Timestamp: ts, Value: v, Headers: headers}
			if f.key != "" {
				in.Key = []byte(f.key)
			}
			offset++
			fmt.Fprintf(out, "# %s record %d (%s/%d@%d)\n", name, i+1, in.Topic, in.Partition, in.Offset)
			objs, err := p.Normalize(in, nil)
			if err != nil {
				failed++
				fmt.Fprintf(out, "# FAILED (would be dead-lettered, class mapping): %v\n", err)
				continue
			}
			ids := bridge.AssignIdentities(in.Topic, in.Partition, in.Offset, objs)
			for j, o := range objs {
				text := o.AppendJSON(nil, "eventId", ids[j].EventID)
				problem := validateObject(validators, o, text)
				var pretty bytes.Buffer
				if err := json.Indent(&pretty, text, "", "  "); err != nil {
					pretty.Write(text)
				}
				fmt.Fprintf(out, "# %s\n%s\n", o.ObjectType().Title(), pretty.String())
				if problem != nil {
					failed++
					fmt.Fprintf(out, "# INVALID: %v\n", problem)
				}
			}
			if len(objs) == 0 {
				fmt.Fprintln(out, "# no objects")
			}
		}
	}
	if failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d problem(s): see the # FAILED and # INVALID lines above", failed)}
	}
	return nil
}

// avroPlan resolves the writer schema file into the mapping's reader
// schema (or itself).
func avroPlan(schemaFile, readerText string) (*codec.Plan, error) {
	data, err := os.ReadFile(schemaFile)
	if err != nil {
		return nil, fmt.Errorf("--schema: %w", err)
	}
	writer, err := codec.ParseSchema(string(data))
	if err != nil {
		return nil, fmt.Errorf("--schema %s: %w", schemaFile, err)
	}
	reader := writer
	if readerText != "" {
		if reader, err = codec.ParseSchema(readerText); err != nil {
			return nil, fmt.Errorf("mapping reader schema: %w", err)
		}
	}
	plan, err := codec.NewPlan(writer, reader)
	if err != nil {
		return nil, fmt.Errorf("--schema %s cannot be read as the mapping's reader schema: %w", schemaFile, err)
	}
	return plan, nil
}

// readInputs decodes the records of one input file.
func readInputs(name string, format profile.Format, plan *codec.Plan, confluent bool) ([]any, error) {
	var data []byte
	var err error
	if name == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	if format == profile.FormatAvro {
		body := data
		if confluent {
			if len(body) < 5 || body[0] != 0 {
				return nil, fmt.Errorf("input %s: no Confluent wire header (magic byte 0 and a 4-byte schema id)", name)
			}
			body = body[5:]
		}
		v, err := plan.Decode(body)
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", name, err)
		}
		return []any{v}, nil
	}
	var out []any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("input %s: record %d: invalid JSON: %w", name, len(out)+1, err)
		}
		v, err := codec.DecodeJSON(raw)
		if err != nil {
			return nil, fmt.Errorf("input %s: record %d: %w", name, len(out)+1, err)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("input %s: no JSON document", name)
	}
	return out, nil
}

// objectValidators compiles the embedded JSON Schema of every type.
func objectValidators() (map[schemas.Type]*jsonschema.Schema, error) {
	out := map[schemas.Type]*jsonschema.Schema{}
	for _, t := range schemas.AllTypes() {
		c := jsonschema.NewCompiler()
		c.Draft = jsonschema.Draft2020
		c.AssertFormat = true
		url := "mem://" + string(t) + ".json"
		if err := c.AddResource(url, bytes.NewReader(schemas.JSONSchema(t))); err != nil {
			return nil, fmt.Errorf("schema %s: %w", t, err)
		}
		s, err := c.Compile(url)
		if err != nil {
			return nil, fmt.Errorf("schema %s: %w", t, err)
		}
		out[t] = s
	}
	return out, nil
}

// validateObject checks o against the object-sync rules and its encoding
// (without the eventId member) against the type's JSON Schema.
func validateObject(vs map[schemas.Type]*jsonschema.Schema, o schemas.Object, _ []byte) error {
	if err := o.Validate(); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(o.AppendJSON(nil, "", "")))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return err
	}
	if err := vs[o.ObjectType()].Validate(doc); err != nil {
		return fmt.Errorf("JSON Schema: %w", err)
	}
	return nil
}

// watchMapping re-runs the test whenever the mapping or an input changes
// (polling modification times twice a second) until ctx ends.
func watchMapping(ctx context.Context, out, errOut io.Writer, f *mappingTestFlags, inputs []string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	files := append([]string{f.file}, inputs...)
	stamp := func() string {
		var b strings.Builder
		for _, name := range files {
			if st, err := os.Stat(name); err == nil {
				fmt.Fprintf(&b, "%s:%d:%d;", name, st.ModTime().UnixNano(), st.Size())
			}
		}
		return b.String()
	}
	last := ""
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		if s := stamp(); s != last {
			last = s
			fmt.Fprintf(out, "# --- %s\n", time.Now().UTC().Format(time.RFC3339))
			if err := runMappingTest(out, f, inputs); err != nil {
				fmt.Fprintln(errOut, "telebridge:", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
