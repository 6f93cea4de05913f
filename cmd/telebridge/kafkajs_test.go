package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telebridge/telebridge/internal/testkit"
)

// kafkajsEnv returns node and the directory holding node_modules/kafkajs
// (TELEBRIDGE_KAFKAJS_DIR, set by .ci/run after npm install --prefix).
// With TELEBRIDGE_TEST_KAFKAJS=1 missing pieces fail the test; otherwise it
// is skipped.
func kafkajsEnv(t *testing.T) (node, dir string) {
	t.Helper()
	need := os.Getenv("TELEBRIDGE_TEST_KAFKAJS") == "1"
	missing := func(what string) {
		if need {
			t.Fatalf("TELEBRIDGE_TEST_KAFKAJS=1 but %s", what)
		}
		t.Skip(what + " (CI installs kafkajs and sets TELEBRIDGE_TEST_KAFKAJS=1)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed")
	}
	dir = os.Getenv("TELEBRIDGE_KAFKAJS_DIR")
	if dir == "" {
		missing("TELEBRIDGE_KAFKAJS_DIR is not set")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "kafkajs", "package.json")); err != nil {
		missing("kafkajs is not installed in " + dir + ": " + err.Error())
	}
	return node, dir
}

func runKafkajs(t *testing.T, node, dir, broker, user, pass, topic string) (stdout, stderr string, err error) {
	t.Helper()
	script, err := filepath.Abs("../../testdata/kafkajs/produce_consume.js")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script, broker, user, pass, topic)
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

// TestKafkajsAgainstDemoBroker points kafkajs, the Node.js client of the
// MOBITO documentation's examples, at the demo's embedded broker with SASL
// PLAIN: it must produce a record and consume it back in a consumer group.
// A wrong password must fail authentication.
func TestKafkajsAgainstDemoBroker(t *testing.T) {
	node, dir := kafkajsEnv(t)
	k, err := startDemoKafka()
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()

	stdout, stderr, err := runKafkajs(t, node, dir, k.Addr, testkit.KafkaUser, testkit.KafkaPassword, "kafkajs.check")
	if err != nil {
		t.Fatalf("kafkajs failed: %v\n%s", err, stderr)
	}
	var res struct{ Produced, Consumed string }
	if err := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &res); err != nil {
		t.Fatalf("kafkajs output %q: %v", stdout, err)
	}
	if res.Produced == "" || res.Consumed != res.Produced {
		t.Fatalf("kafkajs produced %q but consumed %q", res.Produced, res.Consumed)
	}

	_, stderr, err = runKafkajs(t, node, dir, k.Addr, testkit.KafkaUser, "wrong-password", "kafkajs.check")
	if err == nil {
		t.Fatal("kafkajs with a wrong password succeeded")
	}
	if strings.Contains(stderr, "mechanism is not supported") || !strings.Contains(strings.ToLower(stderr), "sasl") {
		t.Fatalf("kafkajs with a wrong password: want a SASL authentication error, got %q", stderr)
	}
}
