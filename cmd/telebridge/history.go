package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/telebridge/telebridge/bridge/config"
	"github.com/telebridge/telebridge/bridge/history"
	"github.com/telebridge/telebridge/schemas"
)

type historyFlags struct {
	db, configFile, url               string
	since, until                      string
	status, sink, typ, asset, eventID []string
	sourceMessageID                   []string
	limit                             int
	jsonOut, payload, follow          bool
	interval                          time.Duration
}

func newHistoryCmd() *cobra.Command {
	f := &historyFlags{}
	cmd := &cobra.Command{
		Use:   "history (--db FILE | -c CONFIG | --url URL) [filters]",
		Short: "Show the delivery history: every attempt of every object to every sink",
		Long: `Show delivery-attempt records, oldest first, from the history file of a
bridge (--db, or the history.path of a config with -c; it can be read while
the bridge runs) or from a running bridge's HTTP API (--url).

Each record is one attempt: its sink, status (delivered, failed-will-retry,
failed = last attempt failed, dead-lettered), attempt number, object type,
asset, eventId, destination topic, latency and error. A table is printed for
people; --json prints one JSON object per line for scripts. --follow keeps
printing new records as they are written (Ctrl-C stops).

Filters combine with AND; --status, --sink and --type take several values
(comma-separated or repeated). --since and --until take RFC 3339 times or
ages like 30m, 2h, 1d, 1w.`,
		Example: `  telebridge history -c bridge.yaml --since 1d --status failed,dead-lettered
  telebridge history --db telebridge-history.db --sink gt-mqtt --type location --limit 20
  telebridge history --url http://127.0.0.1:8080 --event-id 6ec375b1-54cf-5a28-bd8a-1810c2a94307 --json
  telebridge history --url http://127.0.0.1:8080 --follow`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runHistory(ctx, cmd.OutOrStdout(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.db, "db", "", "history file (SQLite) to read")
	fl.StringVarP(&f.configFile, "config", "c", "", "config file whose history.path to read")
	fl.StringVar(&f.url, "url", "", "base URL of a running bridge's HTTP server, e.g. http://127.0.0.1:8080")
	fl.StringVar(&f.since, "since", "", "only records at or after this time (RFC 3339 or an age: 30m, 2h, 1d)")
	fl.StringVar(&f.until, "until", "", "only records before this time (RFC 3339 or an age)")
	fl.StringSliceVar(&f.status, "status", nil, "status: delivered, failed-will-retry, failed, dead-lettered")
	fl.StringSliceVar(&f.sink, "sink", nil, "sink name")
	fl.StringSliceVar(&f.typ, "type", nil, "object type: asset, location, sensordata, reeferdata, gensetdata, gtoemdata")
	fl.StringSliceVar(&f.asset, "asset", nil, "asset id")
	fl.StringSliceVar(&f.eventID, "event-id", nil, "eventId")
	fl.StringSliceVar(&f.sourceMessageID, "source-message-id", nil, "the provider's id of the source message (MOBITO uuid): every object derived from it")
	fl.IntVar(&f.limit, "limit", 50, fmt.Sprintf("the newest N matching records (at most %d)", history.MaxLimit))
	fl.BoolVar(&f.jsonOut, "json", false, "print JSON lines instead of a table")
	fl.BoolVar(&f.payload, "payload", false, "include payloads (with --json)")
	fl.BoolVar(&f.follow, "follow", false, "keep printing new records until Ctrl-C")
	fl.DurationVar(&f.interval, "interval", time.Second, "how often --follow looks for new records")
	return cmd
}

// historySource is where history records come from: a file or an API.
type historySource interface {
	query(ctx context.Context, q history.Query) (history.Page, error)
	close()
}

type storeSource struct{ s *history.Store }

func (s storeSource) query(ctx context.Context, q history.Query) (history.Page, error) {
	return s.s.Query(ctx, q)
}
func (s storeSource) close() { _ = s.s.Close() }

type apiSource struct {
	base   string
	client *http.Client
}

func (a apiSource) close() {}

func (a apiSource) query(ctx context.Context, q history.Query) (history.Page, error) {
	v := url.Values{}
	set := func(k string, vals []string) {
		if len(vals) > 0 {
			v.Set(k, strings.Join(vals, ","))
		}
	}
	set("sink", q.Sinks)
	set("status", q.Statuses)
	set("type", q.Types)
	if q.AssetID != "" {
		v.Set("asset", q.AssetID)
	}
	if q.EventID != "" {
		v.Set("eventId", q.EventID)
	}
	if q.SourceMessageID != "" {
		v.Set("sourceMessageId", q.SourceMessageID)
	}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339Nano))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Before > 0 {
		v.Set("before", strconv.FormatInt(q.Before, 10))
	}
	if q.After > 0 {
		v.Set("after", strconv.FormatInt(q.After, 10))
	}
	if q.Payloads {
		v.Set("payload", "true")
	}
	u := a.base + "/api/v1/deliveries?" + v.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return history.Page{}, err
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return history.Page{}, fmt.Errorf("history API %s: %w", a.base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return history.Page{}, fmt.Errorf("history API %s: %w", a.base, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return history.Page{}, fmt.Errorf("history API %s: %s: %s", a.base, resp.Status, e.Error)
		}
		return history.Page{}, fmt.Errorf("history API %s: %s", u, resp.Status)
	}
	var p history.Page
	if err := json.Unmarshal(body, &p); err != nil {
		return history.Page{}, fmt.Errorf("history API %s: bad answer: %w", a.base, err)
	}
	return p, nil
}

func openHistorySource(f *historyFlags) (historySource, error) {
	n := 0
	for _, s := range []string{f.db, f.configFile, f.url} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return nil, &exitError{code: 2, err: errors.New("give exactly one of --db FILE, -c CONFIG or --url URL")}
	}
	switch {
	case f.url != "":
		u, err := url.Parse(f.url)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, &exitError{code: 2, err: fmt.Errorf("--url %q: expected http://host:port", f.url)}
		}
		return apiSource{base: strings.TrimRight(f.url, "/"), client: &http.Client{Timeout: 30 * time.Second}}, nil
	case f.configFile != "":
		cfg, err := config.Load(f.configFile, os.LookupEnv)
		if err != nil {
			return nil, &exitError{code: 2, err: err}
		}
		if !cfg.History.Enabled {
			return nil, &exitError{code: 2, err: fmt.Errorf("%s: history is disabled (history.enabled: false)", f.configFile)}
		}
		s, err := history.OpenReadOnly(cfg.History.Path)
		if err != nil {
			return nil, err
		}
		return storeSource{s}, nil
	default:
		s, err := history.OpenReadOnly(f.db)
		if err != nil {
			return nil, err
		}
		return storeSource{s}, nil
	}
}

func single(flag string, vals []string) (string, error) {
	if len(vals) > 1 {
		return "", &exitError{code: 2, err: fmt.Errorf("--%s takes one value, got %d", flag, len(vals))}
	}
	if len(vals) == 1 {
		return vals[0], nil
	}
	return "", nil
}

func runHistory(ctx context.Context, out io.Writer, f *historyFlags) error {
	if f.limit < 1 || f.limit > history.MaxLimit {
		return &exitError{code: 2, err: fmt.Errorf("--limit %d: allowed 1 to %d", f.limit, history.MaxLimit)}
	}
	for _, st := range f.status {
		if !slicesContains(history.Statuses(), st) {
			return &exitError{code: 2, err: fmt.Errorf("--status %q: allowed: %s", st, strings.Join(history.Statuses(), ", "))}
		}
	}
	now := time.Now()
	var q history.Query
	var err error
	if q.Since, err = history.ParseTime(f.since, now); err != nil {
		return &exitError{code: 2, err: fmt.Errorf("--since: %w", err)}
	}
	if q.Until, err = history.ParseTime(f.until, now); err != nil {
		return &exitError{code: 2, err: fmt.Errorf("--until: %w", err)}
	}
	if q.AssetID, err = single("asset", f.asset); err != nil {
		return err
	}
	if q.EventID, err = single("event-id", f.eventID); err != nil {
		return err
	}
	if q.SourceMessageID, err = single("source-message-id", f.sourceMessageID); err != nil {
		return err
	}
	for _, ty := range f.typ {
		t, err := schemas.ParseType(ty)
		if err != nil {
			return &exitError{code: 2, err: fmt.Errorf("--type %q: allowed: asset, location, sensordata, reeferdata, gensetdata, gtoemdata", ty)}
		}
		q.Types = append(q.Types, string(t))
	}
	q.Sinks, q.Statuses = f.sink, f.status
	q.Limit = f.limit
	q.Payloads = f.payload && f.jsonOut

	src, err := openHistorySource(f)
	if err != nil {
		return err
	}
	defer src.close()

	page, err := src.query(ctx, q)
	if err != nil {
		return err
	}
	recs := page.Records
	reverse(recs) // oldest first, like a log
	p := newRecordPrinter(out, f.jsonOut)
	if err := p.print(recs); err != nil {
		return err
	}
	if !f.follow {
		if len(recs) == 0 && !f.jsonOut {
			fmt.Fprintln(out, "no matching records")
		}
		return nil
	}
	// Follow from the newest record overall, so that records written
	// after this point are printed even when nothing matched so far.
	cursor := int64(0)
	if len(recs) > 0 {
		cursor = recs[len(recs)-1].ID
	}
	newest, err := src.query(ctx, history.Query{Limit: 1})
	if err != nil {
		return err
	}
	if len(newest.Records) > 0 {
		cursor = max(cursor, newest.Records[0].ID)
	}
	q.Limit = history.MaxLimit
	q.Since = time.Time{}
	tick := time.NewTicker(max(f.interval, 50*time.Millisecond))
	defer tick.Stop()
	for {
		// The newest record overall, read before the filtered query: when
		// that query comes back short, nothing up to here is left to
		// print, so the next poll can start there instead of rescanning
		// records that did not match.
		top, err := src.query(ctx, history.Query{Limit: 1})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		var page history.Page
		if cursor == 0 {
			// Nothing was recorded yet: whatever appears is new.
			page, err = src.query(ctx, q)
			reverse(page.Records)
		} else {
			q.After = cursor
			page, err = src.query(ctx, q)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if err := p.print(page.Records); err != nil {
			return err
		}
		if n := len(page.Records); n > 0 {
			cursor = max(cursor, page.Records[n-1].ID)
		}
		if len(page.Records) == history.MaxLimit {
			continue // more are waiting
		}
		if len(top.Records) > 0 {
			cursor = max(cursor, top.Records[0].ID)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func reverse(recs []history.Record) {
	for i, j := 0, len(recs)-1; i < j; i, j = i+1, j-1 {
		recs[i], recs[j] = recs[j], recs[i]
	}
}

func slicesContains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// recordPrinter prints records as an aligned table or JSON lines.
type recordPrinter struct {
	out    io.Writer
	json   bool
	header bool
}

func newRecordPrinter(out io.Writer, jsonOut bool) *recordPrinter {
	return &recordPrinter{out: out, json: jsonOut}
}

func (p *recordPrinter) print(recs []history.Record) error {
	if p.json {
		enc := json.NewEncoder(p.out)
		for i := range recs {
			if err := enc.Encode(recs[i]); err != nil {
				return err
			}
		}
		return nil
	}
	if len(recs) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(p.out, 0, 0, 2, ' ', 0)
	if !p.header {
		fmt.Fprintln(tw, "TIME\tSINK\tSTATUS\tTRY\tTYPE\tASSET\tEVENT ID\tTOPIC\tLATENCY\tERROR")
		p.header = true
	}
	for i := range recs {
		r := &recs[i]
		dest := r.Topic
		if r.Partition >= 0 && r.Offset >= 0 {
			dest += fmt.Sprintf("/%d@%d", r.Partition, r.Offset)
		}
		if r.QoS != nil {
			dest += fmt.Sprintf(" qos%d", *r.QoS)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n",
			r.Time.UTC().Format("2006-01-02T15:04:05.000Z"), r.Sink, r.Status, r.Attempt, r.Type, orDash(r.AssetID), r.EventID, dest,
			r.Latency.Round(time.Microsecond), orDash(shorten(r.Error, 80)))
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func shorten(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
