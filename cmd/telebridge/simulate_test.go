package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/telebridge/telebridge/internal/testkit"
)

func TestSimulateProducesToAnExternalCluster(t *testing.T) {
	k, err := testkit.StartKafka(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	reg := testkit.StartRegistry()
	defer reg.Close()
	t.Setenv(simulateSASLPasswordEnv, testkit.KafkaPassword)
	t.Setenv(simulateRegistryPasswordEnv, testkit.RegistryPasswd)
	f := &simulateFlags{bootstrap: k.Addr, mechanism: "plain", username: testkit.KafkaUser, registry: reg.URL(), registryUser: testkit.RegistryUser, partitions: 3}
	f.rate, f.machines, f.vehicles, f.poisonEvery, f.seed = 50, 2, 2, 10, 1
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := runSimulate(ctx, &out, f); err != nil {
		t.Fatalf("simulate: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "produced ") {
		t.Fatalf("no summary:\n%s", out.String())
	}
	end, err := k.EndOffsets(context.Background(), demoTrackunitTopic, demoMobitoTopic)
	if err != nil {
		t.Fatal(err)
	}
	for _, topic := range []string{demoTrackunitTopic, demoMobitoTopic} {
		if len(end[topic]) != 3 {
			t.Fatalf("%s has %d partitions, want the 3 asked for", topic, len(end[topic]))
		}
		var n int64
		for _, hi := range end[topic] {
			n += hi
		}
		if n < 20 {
			t.Fatalf("%s holds %d records after 2s at 50/s", topic, n)
		}
	}
}

func TestSimulateRefusesBadFlags(t *testing.T) {
	for _, tt := range []struct {
		name string
		f    simulateFlags
		want string
	}{
		{"no bootstrap", simulateFlags{registry: "http://r"}, "--bootstrap is required"},
		{"no registry", simulateFlags{bootstrap: "a:1", partitions: 1}, "--registry is required"},
		{"mechanism", simulateFlags{bootstrap: "a:1", mechanism: "GSSAPI", registry: "http://r"}, `--sasl-mechanism "GSSAPI"`},
		{"user without mechanism", simulateFlags{bootstrap: "a:1", username: "u", registry: "http://r"}, "--sasl-username needs --sasl-mechanism"},
		{"partitions", simulateFlags{bootstrap: "a:1", registry: "http://r"}, "--partitions 0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := runSimulate(context.Background(), &bytes.Buffer{}, &tt.f)
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want exit 2 with %q", err, tt.want)
			}
		})
	}
}
