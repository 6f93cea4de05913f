package config

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestInstanceID(t *testing.T) {
	host, err := os.Hostname()
	if err != nil || host == "" {
		t.Fatalf("this machine has no host name: %v", err)
	}
	tests := []struct {
		name     string
		extra    string
		env      map[string]string
		want     string
		wantFrom string
		note     string // in the effective config
	}{
		{"host name by default", "", nil, sanitizeInstanceID(host), InstanceIDFromHostname, "from the host name"},
		{"environment", "", map[string]string{InstanceIDEnv: "bridge-1"}, "bridge-1", InstanceIDFromEnv, "from " + InstanceIDEnv},
		{"file wins over environment", "instance_id: pod-0\n", map[string]string{InstanceIDEnv: "bridge-1"}, "pod-0", InstanceIDFromConfig, "static membership"},
		{"empty turns static membership off", "instance_id: \"\"\n", map[string]string{InstanceIDEnv: "bridge-1"}, "", InstanceIDFromConfig, "dynamic group membership"},
		{"from a variable", "instance_id: ${POD_NAME}\n", map[string]string{"POD_NAME": "telebridge-2"}, "telebridge-2", InstanceIDFromConfig, "static membership"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, minimal+tt.extra, tt.env)
			if c.InstanceID != tt.want || c.InstanceIDFrom != tt.wantFrom {
				t.Fatalf("instance id %q from %s, want %q from %s", c.InstanceID, c.InstanceIDFrom, tt.want, tt.wantFrom)
			}
			red := c.Redacted()
			if !strings.Contains(red, "instance_id: ") || !strings.Contains(red, tt.note) {
				t.Fatalf("effective config lacks instance_id with %q:\n%s", tt.note, red)
			}
		})
	}
}

func TestInstanceIDErrors(t *testing.T) {
	errs := parseErrs(t, minimal+"instance_id: \"pod 0/x\"\n", nil)
	if len(errs) != 1 || !strings.Contains(errs[0], `bridge.yaml:12: instance_id: instance_id "pod 0/x" contains characters other than letters, digits`) {
		t.Fatalf("errors: %q", errs)
	}
	errs = parseErrs(t, minimal, map[string]string{InstanceIDEnv: "a:b"})
	if len(errs) != 1 || !strings.Contains(errs[0], "instance_id (from "+InstanceIDEnv+")") {
		t.Fatalf("errors: %q", errs)
	}
	src := strings.Replace(minimal, `main: {bootstrap_servers: "localhost:9092"}`, `main: {bootstrap_servers: "localhost:9092", properties: {group.instance.id: x}}`, 1)
	errs = parseErrs(t, src, nil)
	if len(errs) != 1 || !strings.Contains(errs[0], "use instance_id instead") {
		t.Fatalf("errors: %q", errs)
	}
}

func TestSanitizeInstanceID(t *testing.T) {
	for in, want := range map[string]string{
		"pod-0":                    "pod-0",
		"ip-10-0-0-1.ec2.internal": "ip-10-0-0-1.ec2.internal",
		"weird host:name":          "weird-host-name",
		"..":                       "telebridge",
		strings.Repeat("h", 300):   strings.Repeat("h", maxTopicLength),
	} {
		got := sanitizeInstanceID(in)
		if got != want {
			t.Errorf("sanitizeInstanceID(%q) = %q, want %q", in, got, want)
		}
		if topicProblem(got) != "" {
			t.Errorf("sanitizeInstanceID(%q) = %q is not a valid group.instance.id", in, got)
		}
	}
	c := &Config{}
	c.applyInstanceID(envMap(nil), func() (string, error) { return "", errors.New("no name") })
	if c.InstanceID != "" || c.InstanceIDFrom != InstanceIDFromNone {
		t.Fatalf("without a host name: %q from %s", c.InstanceID, c.InstanceIDFrom)
	}
}
