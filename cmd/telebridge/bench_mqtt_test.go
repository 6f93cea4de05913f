package main

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	"go.uber.org/zap"
)

func TestMQTTBenchEmbedded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out bytes.Buffer
	f := &benchFlags{messages: 300, mqtt: mqttBenchFlags{enabled: true, qos: "0,1,2", inFlight: 50, topic: "telebridge/bench/{type}"}}
	if err := runMQTTBench(ctx, &out, f, func(string) string { return "" }, zap.NewNop()); err != nil {
		t.Fatalf("bench: %v\n%s", err, out.String())
	}
	for _, q := range []string{"0", "1", "2"} {
		if !regexp.MustCompile(`QoS ` + q + `: +[0-9]+ msgs/s \(300 in .*ack latency p50 .*, p99 `).MatchString(out.String()) {
			t.Errorf("no QoS %s line:\n%s", q, out.String())
		}
	}
}

func TestMQTTBenchBadFlags(t *testing.T) {
	for _, f := range []*benchFlags{
		{messages: 10, mqtt: mqttBenchFlags{enabled: true, qos: "3", inFlight: 1}},
		{messages: 0, mqtt: mqttBenchFlags{enabled: true, qos: "1", inFlight: 1}},
	} {
		err := runMQTTBench(context.Background(), &bytes.Buffer{}, f, func(string) string { return "" }, zap.NewNop())
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 2 {
			t.Errorf("%+v: err = %v, want a usage error (exit 2)", f.mqtt, err)
		}
	}
}
