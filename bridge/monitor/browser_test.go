package monitor_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/telebridge/telebridge/bridge/monitor"
	"github.com/telebridge/telebridge/internal/scenario"
)

// chromiumPath returns the Chromium to drive: the test runs when CI sets
// TELEBRIDGE_TEST_CHROMIUM=1 (and fails if Chromium is missing), and is
// skipped otherwise.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if os.Getenv("TELEBRIDGE_TEST_CHROMIUM") != "1" {
		t.Skip("set TELEBRIDGE_TEST_CHROMIUM=1 (and install chromium) to run the browser test")
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("TELEBRIDGE_TEST_CHROMIUM=1 but no chromium, chromium-browser or google-chrome on PATH (apt-get install chromium)")
	return ""
}

// TestDashboardInChromium loads the dashboard of a running bridge (with a
// sink the broker refuses, so there are retries and dead letters) in
// headless Chromium, checks that the history table shows delivered and
// failed attempts and that the detail view opens with every attempt and
// the payload, and saves screenshots to docs/ for the README.
func TestDashboardInChromium(t *testing.T) {
	chrome := chromiumPath(t)
	sc, err := scenario.Start(scenario.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sc.Stop() })
	ctx := context.Background()
	if err := sc.Produce(ctx, 6); err != nil {
		t.Fatal(err)
	}
	// Keep a trickle of input going so the rate chart has a shape.
	feedCtx, stopFeed := context.WithCancel(ctx)
	defer stopFeed()
	go func() {
		for feedCtx.Err() == nil {
			_ = sc.Produce(feedCtx, 1)
			select {
			case <-feedCtx.Done():
			case <-time.After(400 * time.Millisecond):
			}
		}
	}()
	waitFor(t, 90*time.Second, "first deliveries settled", sc.Settled)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.WindowSize(1440, 1000),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	bctx, cancelTimeout := context.WithTimeout(bctx, 2*time.Minute)
	defer cancelTimeout()

	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	if err := chromedp.Do(bctx,
		chromedp.Navigate(sc.Service.URL+"/?since=1h"),
		chromedp.WaitVisible(css(`#deliveries tbody tr`)),
		chromedp.WaitVisible(css(`#sinks tbody tr`)),
	); err != nil {
		t.Fatalf("load dashboard: %v", err)
	}
	readyText, err := chromedp.Run(bctx, chromedp.Text(css(`#ready`)))
	if err != nil || readyText == "" {
		t.Fatalf("readiness badge: %q %v", readyText, err)
	}
	// Let the sampler collect a few points for the chart.
	deadline := time.Now().Add(30 * time.Second)
	for {
		legend, err := chromedp.Run(bctx, chromedp.Text(css(`#legend`)))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(legend, "collecting") && strings.Contains(legend, "sink lake") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("chart has no series after 30s: %q", legend)
		}
		time.Sleep(500 * time.Millisecond)
	}
	// A dozen seconds of samples make a readable chart in the screenshot.
	waitFor(t, 60*time.Second, "six rate samples", func() bool {
		var st monitor.Status
		getJSON(t, sc.Service.URL+"/api/v1/status", &st)
		return len(st.Series.Times) >= 6
	})
	stopFeed()
	waitFor(t, 60*time.Second, "deliveries settled", sc.Settled)

	count := func(js string) int {
		t.Helper()
		n, err := chromedp.Run(bctx, chromedp.Evaluate[int](js))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	apply := func(status, typ string) {
		t.Helper()
		js := fmt.Sprintf(`document.querySelector('#filters select[name=status]').value = %q;
			document.querySelector('#filters select[name=type]').value = %q; true`, status, typ)
		if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](js)); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(bctx,
			chromedp.Click(css(`#filters button[type=submit]`)),
			chromedp.Sleep(time.Second),
		); err != nil {
			t.Fatal(err)
		}
	}

	// The table shows delivered attempts, and failed ones with the
	// failure filter.
	apply("", "")
	if n := count(`document.querySelectorAll('#deliveries tbody .status-delivered').length`); n == 0 {
		t.Fatal("the history table shows no delivered attempts")
	}
	apply("failed-will-retry,failed,dead-lettered", "")
	if n := count(`document.querySelectorAll('#deliveries tbody .status-dead-lettered, #deliveries tbody .status-failed, #deliveries tbody .status-failed-will-retry').length`); n == 0 {
		t.Fatal("the history table shows no failed attempts with the failure filter")
	}

	// Mixed view of locations (every status) for the screenshot.
	apply("", "location")
	shot, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	saveShot(t, "dashboard.png", shot)

	// The detail view of a dead-lettered object: every sink, every attempt,
	// the payload as JSON.
	apply("dead-lettered", "")
	if err := chromedp.Do(bctx,
		chromedp.WaitVisible(css(`#deliveries tbody tr .status-dead-lettered`)),
		chromedp.Click(css(`#deliveries tbody tr`)),
		chromedp.WaitVisible(css(`#detail .delivery`)),
		chromedp.Sleep(500*time.Millisecond),
	); err != nil {
		t.Fatal(err)
	}
	sinksShown := count(`document.querySelectorAll('#detail .delivery').length`)
	attemptsShown := count(`document.querySelectorAll('#detail .delivery[data-sink=refused] tbody tr').length`)
	payload, err := chromedp.Run(bctx, chromedp.Text(css(`#detail-payload`)))
	if err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(bctx, chromedp.Text(css(`#detail-title`)))
	if err != nil {
		t.Fatal(err)
	}
	if sinksShown != 3 || attemptsShown != 4 || !strings.Contains(payload, `"assetId"`) || !strings.Contains(title, "location") {
		t.Fatalf("detail view: %d sinks, %d attempts on refused, title %q, payload %q", sinksShown, attemptsShown, title, payload)
	}
	// The record id (a 63-bit integer) is shown with every digit.
	eventID := title[strings.LastIndex(title, " ")+1:]
	_, raw := get(t, sc.Service.URL+"/api/v1/deliveries/"+eventID+"/payload")
	id := regexp.MustCompile(`"id":(\d+)`).FindStringSubmatch(raw)
	if id == nil || !strings.Contains(payload, `"id": `+id[1]) {
		t.Fatalf("payload shown %q, raw %q", payload, raw)
	}
	shot, err = chromedp.Run(bctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	saveShot(t, "detail.png", shot)
}

// saveShot writes a screenshot to docs/ at the repository root.
func saveShot(t *testing.T, name string, png []byte) {
	t.Helper()
	if len(png) < 1000 {
		t.Fatalf("screenshot %s is empty", name)
	}
	dir := filepath.Join("..", "..", "docs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("saved %s", filepath.Join(dir, name))
}
