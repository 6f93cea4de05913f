package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMonitorDefaults(t *testing.T) {
	c, err := Parse([]byte(minimal), filepath.Join("etc", "bridge.yaml"), envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !c.HTTP.Enabled || c.HTTP.Listen != DefaultHTTPListen {
		t.Errorf("http defaults: %+v", c.HTTP)
	}
	h := c.History
	if !h.Enabled || h.Path != filepath.Join("etc", DefaultHistoryPath) || h.Retention.MaxAge != 7*24*time.Hour ||
		h.Retention.MaxSize != 1<<30 || !h.Payloads.Enabled || h.Payloads.MaxBytes != 4096 || h.QueueSize != DefaultHistoryQueue || h.Topic.Cluster != "" {
		t.Errorf("history defaults: %+v", h)
	}
	out := c.Redacted()
	for _, want := range []string{"http:\n  enabled: true\n  listen: 127.0.0.1:8080", "history:\n  enabled: true", "max_age: 168h0m0s", "max_bytes: 4096"} {
		if !strings.Contains(out, want) {
			t.Errorf("redacted output lacks %q:\n%s", want, out)
		}
	}
}

func TestMonitorSections(t *testing.T) {
	c := mustParse(t, minimal+`
http: {listen: ":9100"}
history:
  path: /var/lib/telebridge/history.db
  retention: {max_age: 2d, max_size: 500MB}
  payloads: {enabled: false}
  queue_size: 100
  topic: {cluster: main}
`, nil)
	h := c.History
	if c.HTTP.Listen != ":9100" || h.Path != "/var/lib/telebridge/history.db" || h.Retention.MaxAge != 48*time.Hour ||
		h.Retention.MaxSize != 500_000_000 || h.Payloads.Enabled || h.QueueSize != 100 ||
		h.Topic.Cluster != "main" || h.Topic.Name != DefaultHistoryTopic {
		t.Errorf("decoded: http %+v history %+v", c.HTTP, h)
	}
	c = mustParse(t, minimal+"http: {enabled: false}\nhistory: {enabled: false, retention: {max_age: 0, max_size: 1GiB}}\n", nil)
	if c.HTTP.Enabled || c.History.Enabled || c.History.Retention.MaxAge != 0 || c.History.Retention.MaxSize != 1<<30 {
		t.Errorf("disabled: %+v %+v", c.HTTP, c.History)
	}
}

func TestMonitorErrors(t *testing.T) {
	for _, tt := range []struct{ src, want string }{
		{"http: {listen: localhost}", `http.listen: invalid address "localhost": expected host:port`},
		{"http: {listen: \"127.0.0.1:99999\"}", `http.listen: invalid port in "127.0.0.1:99999"`},
		{"http: {lisen: x}", `http.lisen: unknown key; did you mean "listen"?`},
		{"history: {retention: {max_age: 1y}}", `history.retention.max_age: expected a duration such as "12h", "7d"`},
		{"history: {retention: {max_size: lots}}", `history.retention.max_size: expected a size such as "500MB"`},
		{"history: {payloads: {max_bytes: 0}}", `history.payloads.max_bytes: must be at least 1 when payloads are enabled`},
		{"history: {queue_size: 0}", `history.queue_size: must be at least 1`},
		{"history: {topic: {cluster: nope}}", `history.topic.cluster`},
		{"history: {topic: {name: results}}", `history.topic.cluster: required with history.topic.name`},
		{"history: {topic: {cluster: main, name: \"bad topic\"}}", `history.topic.name`},
	} {
		errs := strings.Join(parseErrs(t, minimal+tt.src+"\n", nil), "\n")
		if !strings.Contains(errs, tt.want) {
			t.Errorf("%s: errors lack %q:\n%s", tt.src, tt.want, errs)
		}
	}
}
