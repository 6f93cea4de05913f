package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.yaml.in/yaml/v3"

	"github.com/telebridge/telebridge/bridge"
	"github.com/telebridge/telebridge/bridge/config"
	"github.com/telebridge/telebridge/bridge/monitor"
)

// TestDeploymentFilesMatchTheCode parses the Dockerfile, docker-compose.yaml
// and the Kubernetes manifests and checks them against the code: the
// configs they ship validate, the probe paths are the server's, the ports
// are the configs' http.listen ports, the image is the one compose builds,
// every instance has its own instance id, and the commands exist.
func TestDeploymentFilesMatchTheCode(t *testing.T) {
	docker, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"FROM golang:", "FROM debian:", "./cmd/telebridge", "USER 10001", "EXPOSE 8080", `CMD ["run", "-c", "/etc/telebridge/telebridge.yaml"]`, "ca-certificates"} {
		if !bytes.Contains(docker, []byte(want)) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}

	var compose struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Build       string            `yaml:"build"`
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			Volumes     []string          `yaml:"volumes"`
			Ports       []string          `yaml:"ports"`
		} `yaml:"services"`
	}
	readYAML(t, "../../docker-compose.yaml", &compose)
	if img := compose.Services["kafka"].Image; !strings.HasPrefix(img, "apache/kafka:") {
		t.Errorf("kafka image %q, want the official apache/kafka", img)
	}
	for _, s := range []string{"schema-registry", "mosquitto", "simulator"} {
		if _, ok := compose.Services[s]; !ok {
			t.Errorf("compose has no %s service", s)
		}
	}
	sim := compose.Services["simulator"]
	if len(sim.Command) == 0 || sim.Command[0] != "simulate" {
		t.Errorf("simulator command %v", sim.Command)
	} else if cmd, _, err := newRootCmd().Find(sim.Command); err != nil || cmd.Name() != "simulate" {
		t.Errorf("simulator command %v: %v", sim.Command, err)
	} else if err := cmd.ParseFlags(sim.Command[1:]); err != nil {
		t.Errorf("simulator flags %v: %v", sim.Command, err)
	}
	instances := map[string]bool{}
	for name, s := range compose.Services {
		if !strings.HasPrefix(name, "telebridge-") {
			continue
		}
		if s.Image != "telebridge:dev" || s.Build != "." {
			t.Errorf("%s: image %q build %q, want telebridge:dev built from .", name, s.Image, s.Build)
		}
		id := s.Environment[config.InstanceIDEnv]
		if id == "" || instances[id] {
			t.Errorf("%s: %s %q is empty or shared", name, config.InstanceIDEnv, id)
		}
		instances[id] = true
		var cfgFile string
		for _, v := range s.Volumes {
			if src, dst, ok := strings.Cut(v, ":"); ok && strings.HasPrefix(dst, "/etc/telebridge/telebridge.yaml") {
				cfgFile = "../../" + strings.TrimPrefix(src, "./")
			}
		}
		if cfgFile == "" {
			t.Fatalf("%s mounts no config at /etc/telebridge/telebridge.yaml", name)
		}
		c, err := config.Load(cfgFile, os.LookupEnv)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		port := listenPort(t, c.HTTP.Listen)
		if len(s.Ports) != 1 || !strings.HasSuffix(s.Ports[0], ":"+port) {
			t.Errorf("%s: ports %v, want the container's http.listen port %s", name, s.Ports, port)
		}
	}
	if len(instances) < 2 {
		t.Errorf("compose runs %d telebridge instances, want a fleet of two", len(instances))
	}

	// Kubernetes: ConfigMap, Secret, Deployment, PodDisruptionBudget.
	f, err := os.Open("../../deploy/kubernetes/telebridge.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	docs := map[string]map[string]any{}
	for {
		var d map[string]any
		if err := dec.Decode(&d); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		docs[d["kind"].(string)] = d
	}
	for _, k := range []string{"ConfigMap", "Secret", "Deployment", "PodDisruptionBudget"} {
		if docs[k] == nil {
			t.Fatalf("manifests lack a %s", k)
		}
	}
	secrets := map[string]string{}
	for k, v := range docs["Secret"]["stringData"].(map[string]any) {
		secrets[k] = v.(string)
	}
	cmText := docs["ConfigMap"]["data"].(map[string]any)["telebridge.yaml"].(string)
	c, err := config.Parse([]byte(cmText), "configmap.yaml", func(k string) (string, bool) { v, ok := secrets[k]; return v, ok })
	if err != nil {
		t.Fatalf("the ConfigMap's config: %v", err)
	}
	port := listenPort(t, c.HTTP.Listen)
	dep := mustYAML(t, docs["Deployment"])
	ctr := docs["Deployment"]["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	for probe, path := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz"} {
		pr, _ := ctr[probe].(map[string]any)
		hg, _ := pr["httpGet"].(map[string]any)
		if hg["path"] != path || hg["port"] != "http" {
			t.Errorf("%s: %v, want GET %s on port http", probe, pr, path)
		}
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`image: telebridge:dev`),
		regexp.MustCompile(`containerPort: ` + port + `\b`),
		regexp.MustCompile(`name: ` + config.InstanceIDEnv + `\s+valueFrom:\s+fieldRef:\s+fieldPath: metadata.name`),
		regexp.MustCompile(`mountPath: /etc/telebridge\b`),
		regexp.MustCompile(`runAsNonRoot: true`),
	} {
		if !want.MatchString(dep) {
			t.Errorf("Deployment lacks %s:\n%s", want, dep)
		}
	}
}

// The probe paths the manifests use are served by the HTTP server of a
// bridge built from the compose config (404 would mean a wrong path).
func TestProbePathsAreServed(t *testing.T) {
	c, err := config.Load("../../deploy/compose/telebridge.yaml", os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bridge.New(c, bridge.Options{Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	srv := monitor.NewServer(b, nil, nil, nil)
	defer srv.Close()
	for _, p := range []string{"/healthz", "/readyz"} {
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
		if rec.Code == http.StatusNotFound || rec.Code == http.StatusMethodNotAllowed {
			t.Errorf("GET %s: %d", p, rec.Code)
		}
	}
}

func listenPort(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("http.listen %q: %v", addr, err)
	}
	return port
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func mustYAML(t *testing.T, v any) string {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
