package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/telebridge/telebridge/bridge/profile"
	"github.com/telebridge/telebridge/internal/testkit"
)

// clusterInfo is what a cluster process prints on its first stdout line.
type clusterInfo struct {
	Kafka    string `json:"kafka"`
	Registry string `json:"registry"`
	SchemaID int    `json:"schemaId"`
	Error    string `json:"error,omitempty"`
}

// runTestCluster is the test binary acting as a cluster process
// (TELEBRIDGE_TEST_AS_CLUSTER=1): an embedded Kafka cluster (kfake, SASL)
// with the topics in TELEBRIDGE_TEST_TOPICS and a schema registry with the
// Trackunit reader schema registered under tu.in-value. It prints a
// clusterInfo line and serves until its stdin closes (the test ended or
// died), so it never outlives the test.
func runTestCluster() int {
	fail := func(err error) int {
		_ = json.NewEncoder(os.Stdout).Encode(clusterInfo{Error: err.Error()})
		return 1
	}
	k, err := testkit.StartKafka(strings.Split(os.Getenv("TELEBRIDGE_TEST_TOPICS"), ","))
	if err != nil {
		return fail(err)
	}
	defer k.Close()
	reg := testkit.StartRegistry()
	defer reg.Close()
	id, _, err := reg.RegisterSchema("tu.in-value", sr.Schema{Schema: profile.TrackunitReaderSchema(), Type: sr.TypeAvro})
	if err != nil {
		return fail(err)
	}
	if err := json.NewEncoder(os.Stdout).Encode(clusterInfo{Kafka: k.Addr, Registry: reg.URL(), SchemaID: id}); err != nil {
		return 1
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// newClusterProcEnv is newProcEnv with the Kafka cluster and the registry
// in a process of their own, apart from both the test and the bridges.
func newClusterProcEnv(t *testing.T, topics ...string) *procEnv {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "TELEBRIDGE_TEST_AS_CLUSTER=1", "TELEBRIDGE_TEST_TOPICS="+strings.Join(topics, ","))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		t.Fatalf("cluster process: %v", err)
	}
	var info clusterInfo
	if err := json.Unmarshal(line, &info); err != nil || info.Error != "" {
		t.Fatalf("cluster process: %s %v", info.Error, err)
	}
	t.Setenv("TB_TEST_KAFKA_PASSWORD", testkit.KafkaPassword)
	t.Setenv("TB_TEST_SR_PASSWORD", testkit.RegistryPasswd)
	fmt.Fprintf(os.Stderr, "cluster process %d: kafka %s, registry %s\n", cmd.Process.Pid, info.Kafka, info.Registry)
	return &procEnv{k: &testkit.Kafka{Addr: info.Kafka}, regURL: info.Registry, schemaID: info.SchemaID, dir: t.TempDir()}
}
