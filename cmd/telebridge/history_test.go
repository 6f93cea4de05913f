package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/telebridge/telebridge/bridge/history"
	"github.com/telebridge/telebridge/internal/scenario"
)

// startScenario runs a bridge with history and failing sinks in this
// process, with n records per feed bridged and settled.
func startScenario(t *testing.T, n int) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.Start(scenario.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sc.Stop() })
	if err := sc.Produce(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 90*time.Second, "scenario settled", sc.Settled)
	return sc
}

func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := command(args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func jsonLines(t *testing.T, s string) []history.Record {
	t.Helper()
	var out []history.Record
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		if line == "" {
			continue
		}
		var r history.Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("bad JSON line %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

func TestHistoryCommand(t *testing.T) {
	sc := startScenario(t, 8)
	st := sc.Service.Bridge.Stats()
	deadRefused := int(st.Sinks["refused"].DeadLetteredBy["location"])
	if deadRefused == 0 {
		t.Fatal("scenario produced no dead letters")
	}

	// From the file, while the bridge runs: JSON lines, filtered.
	out, errOut, code := runCLI(t, "history", "--db", sc.HistoryPath, "--sink", "refused", "--status", "dead-lettered", "--limit", "1000", "--json", "--payload")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	recs := jsonLines(t, out)
	if len(recs) != deadRefused {
		t.Fatalf("%d dead-lettered records, want %d", len(recs), deadRefused)
	}
	for i, r := range recs {
		if r.Sink != "refused" || r.Status != "dead-lettered" || r.Attempt != 3 || len(r.Payload) == 0 || r.Error == "" {
			t.Fatalf("record %+v", r)
		}
		if i > 0 && r.ID <= recs[i-1].ID {
			t.Fatal("records are not oldest first")
		}
	}

	// One event's attempts through the API, as a table.
	ev := recs[0].EventID
	out, errOut, code = runCLI(t, "history", "--url", sc.Service.URL, "--event-id", ev, "--sink", "refused")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "TIME") || !strings.Contains(lines[0], "STATUS") {
		t.Fatalf("table:\n%s", out)
	}
	for i, want := range []string{"failed-will-retry", "failed-will-retry", "failed", "dead-lettered"} {
		if f := strings.Fields(lines[i+1]); len(f) < 3 || f[2] != want || f[1] != "refused" {
			t.Fatalf("line %d = %q, want status %s\n%s", i+1, lines[i+1], want, out)
		}
	}

	// Through a config file's history.path; relative times.
	cfgPath := filepath.Join(t.TempDir(), "bridge.yaml")
	cfgText := fmt.Sprintf(`clusters: {k: {bootstrap_servers: "127.0.0.1:1"}}
sources: [{name: mo, cluster: k, topics: [mo], profile: mobito}]
sinks: [{name: out, type: kafka, cluster: k, topic: "o.{type}"}]
dead_letter: {cluster: k, topic: dlq}
history: {path: %q}
`, sc.HistoryPath)
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = runCLI(t, "history", "-c", cfgPath, "--since", "1h", "--type", "location", "--status", "delivered", "--sink", "lake", "--limit", "3", "--json")
	if code != 0 || len(jsonLines(t, out)) != 3 {
		t.Fatalf("exit %d, %d records: %s %s", code, len(jsonLines(t, out)), out, errOut)
	}
	out, _, code = runCLI(t, "history", "-c", cfgPath, "--until", "1h")
	if code != 0 || strings.TrimSpace(out) != "no matching records" {
		t.Fatalf("--until 1h: exit %d: %q", code, out)
	}

	// Clear errors, exit status 2.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"history"}, "give exactly one of --db FILE, -c CONFIG or --url URL"},
		{[]string{"history", "--db", sc.HistoryPath, "--status", "failedd"}, `--status "failedd": allowed: delivered, failed-will-retry, failed, dead-lettered`},
		{[]string{"history", "--db", sc.HistoryPath, "--since", "yesterday"}, `--since: time "yesterday"`},
		{[]string{"history", "--url", "localhost:8080"}, `--url "localhost:8080": expected http://host:port`},
		{[]string{"history", "--db", sc.HistoryPath, "--type", "locaton"}, `--type "locaton": allowed: asset, location`},
		{[]string{"history", "--db", sc.HistoryPath, "--limit", "0"}, `--limit 0: allowed 1 to 1000`},
	} {
		_, errOut, code := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
	_, errOut, code = runCLI(t, "history", "--db", filepath.Join(t.TempDir(), "none.db"))
	if code != 1 || !strings.Contains(errOut, "none.db") {
		t.Errorf("missing file: exit %d %q", code, errOut)
	}
}

func TestHistoryFollow(t *testing.T) {
	sc := startScenario(t, 3)
	before := sc.Service.Recorder.Stats().LastID

	cmd := command("history", "--url", sc.Service.URL, "--follow", "--json", "--sink", "lake", "--limit", "1", "--interval", "100ms")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// The newest matching record first, then the new ones as they come.
	first := <-lines
	var r history.Record
	if err := json.Unmarshal([]byte(first), &r); err != nil || r.Sink != "lake" || r.ID > before {
		t.Fatalf("first line %q: %v", first, err)
	}
	if err := sc.Produce(context.Background(), 2); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(60 * time.Second)
	for got := false; !got; {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("follow ended early: %s", errb.String())
			}
			var r history.Record
			if err := json.Unmarshal([]byte(line), &r); err != nil || r.Sink != "lake" {
				t.Fatalf("followed line %q: %v", line, err)
			}
			got = r.ID > before
		case <-deadline:
			t.Fatalf("no new record followed; stderr: %s", errb.String())
		}
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("follow after SIGINT: %v (%s)", err, errb.String())
	}
}

// TestDemoServesDashboard checks that the demo prints the dashboard URL and
// serves the dashboard, the status API and a growing delivery history.
func TestDemoServesDashboard(t *testing.T) {
	var out bytes.Buffer
	w := &syncWriter{w: &out}
	f := &demoFlags{duration: 10 * time.Second, rate: 20, machines: 2, vehicles: 2, poisonEvery: 0, seed: 1, configOut: filepath.Join(t.TempDir(), "demo.yaml")}
	done := make(chan error, 1)
	go func() { done <- runDemo(context.Background(), w, f, zap.NewNop()) }()
	var base string
	re := regexp.MustCompile(`dashboard\s+(http://127\.0\.0\.1:\d+)/`)
	waitUntil(t, 60*time.Second, "the dashboard URL", func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		if m := re.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
			return true
		}
		return false
	})
	waitUntil(t, 30*time.Second, "delivered attempts in the history API", func() bool {
		resp, err := http.Get(base + "/api/v1/deliveries?status=delivered&limit=1")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var p history.Page
		return json.NewDecoder(resp.Body).Decode(&p) == nil && len(p.Records) == 1
	})
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Delivery history") {
		t.Fatalf("dashboard: %d", resp.StatusCode)
	}
	if err := <-done; err != nil {
		t.Fatalf("demo: %v", err)
	}
}
