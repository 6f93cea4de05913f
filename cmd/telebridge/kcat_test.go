package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"go.uber.org/zap"

	"github.com/telebridge/telebridge/bridge"
	"github.com/telebridge/telebridge/bridge/config"
	"github.com/telebridge/telebridge/internal/fidelity"
	"github.com/telebridge/telebridge/internal/testkit"
	"github.com/telebridge/telebridge/schemas"
)

// kcatPath finds kcat. With TELEBRIDGE_TEST_KCAT=1 (set by CI) a missing
// kcat fails the test; otherwise the test is skipped.
func kcatPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("kcat")
	if err == nil {
		return p
	}
	if os.Getenv("TELEBRIDGE_TEST_KCAT") == "1" {
		t.Fatal("TELEBRIDGE_TEST_KCAT=1 but kcat is not installed")
	}
	t.Skip("kcat not installed (CI installs it and sets TELEBRIDGE_TEST_KCAT=1)")
	return ""
}

// TestKcatReadsObjectSyncOutput bridges a fleet and reads the output
// topics with kcat, an independent librdkafka client over SASL PLAIN, then
// checks every record field by field against the object-sync types.
func TestKcatReadsObjectSyncOutput(t *testing.T) {
	kcat := kcatPath(t)
	p := newProcEnv(t)
	p.preload(t, 30)
	cfg, err := config.Load(p.configFile(t, "kcat", "kc"), os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bridge.New(cfg, bridge.Options{Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	waitUntil(t, 60*time.Second, "bridge settled", func() bool {
		st := b.Stats()
		var objs, poison, consumed uint64
		for _, s := range st.Sources {
			objs += s.Objects
			poison += s.Poison
			consumed += s.Consumed
		}
		return consumed == 61 && st.Delivered+st.DeadLetters == objs+poison
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	st := b.Stats()

	for _, ty := range []schemas.Type{schemas.TypeAsset, schemas.TypeLocation, schemas.TypeSensorData, schemas.TypeGtoemData} {
		want := int(st.Sinks["out"].Delivered[ty])
		if want == 0 {
			t.Fatalf("no %s delivered", ty)
		}
		cmd := exec.Command(kcat, "-b", p.k.Addr, "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=PLAIN",
			"-X", "sasl.username="+testkit.KafkaUser, "-X", "sasl.password="+testkit.KafkaPassword,
			"-X", "broker.address.family=v4",
			"-C", "-t", "kc."+string(ty), "-o", "beginning", "-e", "-q", "-f", "%k\t%h\t%s\n")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("kcat %s: %v\n%s", ty, err, stderr.String())
		}
		n := 0
		sc := bufio.NewScanner(bytes.NewReader(out))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			parts := strings.SplitN(sc.Text(), "\t", 3)
			if len(parts) != 3 {
				t.Fatalf("kcat line %q", sc.Text())
			}
			checkObject(t, ty, []byte(parts[2]), parts[0], parts[1])
			n++
		}
		if n != want {
			t.Fatalf("kcat read %d %s records, bridge delivered %d", n, ty, want)
		}
	}
}

// checkObject decodes payload strictly into the object-sync type and checks
// required fields, key and headers.
func checkObject(t *testing.T, ty schemas.Type, payload []byte, key, headers string) {
	t.Helper()
	var raw map[string]any
	if err := json.Unmarshal(payload, &raw); err != nil {
		t.Fatalf("%s: not JSON: %s", ty, payload)
	}
	ev, _ := raw["eventId"].(string)
	if ev == "" || !strings.Contains(headers, "eventId="+ev) || !strings.Contains(headers, "objectType="+string(ty)) {
		t.Fatalf("%s: eventId %q / headers %q", ty, ev, headers)
	}
	delete(raw, "eventId")
	clean, _ := json.Marshal(raw)
	var o schemas.Object
	switch ty {
	case schemas.TypeAsset:
		o = &schemas.Asset{}
	case schemas.TypeLocation:
		o = &schemas.Location{}
	case schemas.TypeSensorData:
		o = &schemas.SensorData{}
	case schemas.TypeGtoemData:
		o = &schemas.GtoemData{}
	default:
		t.Fatalf("unexpected type %s", ty)
	}
	dec := json.NewDecoder(bytes.NewReader(clean))
	dec.DisallowUnknownFields()
	if err := dec.Decode(o); err != nil {
		t.Fatalf("%s: %s does not match the object-sync type: %v", ty, payload, err)
	}
	if err := o.Validate(); err != nil {
		t.Fatalf("%s: %s: %v", ty, payload, err)
	}
	if key != o.AssetKey() {
		t.Fatalf("%s: key %q, want the asset id %q", ty, key, o.AssetKey())
	}
	for _, f := range []string{"whenCreated", "whenUpdated"} {
		if s, ok := raw[f].(string); ok {
			ts, err := time.Parse(time.RFC3339Nano, s)
			if err != nil || !strings.HasSuffix(s, "Z") || ts.IsZero() {
				t.Fatalf("%s: %s %q is not RFC 3339 UTC", ty, f, s)
			}
		}
	}
}

// TestKcatFidelity bridges the fidelity inputs (internal/fidelity: a
// Trackunit message with every documented section from an evolved writer
// schema, an altitude-only message, the MOBITO sample with fault codes)
// and reads the output back with kcat, then compares it with the input
// field by field, headers included.
func TestKcatFidelity(t *testing.T) {
	kcat := kcatPath(t)
	p := newProcEnv(t)
	in := fidelity.NewInputs(t)
	writerID, _, err := p.reg.RegisterSchema("tu.in-value", sr.Schema{Schema: in.WriterSchema, Type: sr.TypeAvro})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := p.k.Client()
	if err != nil {
		t.Fatal(err)
	}
	err = cl.ProduceSync(context.Background(),
		&kgo.Record{Topic: "tu.in", Key: []byte("m"), Value: in.EncodeTrackunit(t, writerID, in.Full)},
		&kgo.Record{Topic: "tu.in", Key: []byte("m"), Value: in.EncodeTrackunit(t, writerID, in.AltitudeOnly)},
		&kgo.Record{Topic: "mo.in", Value: in.MobitoRaw},
	).FirstErr()
	cl.Close()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p.configFile(t, "fidelity", "fid"), os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bridge.New(cfg, bridge.Options{Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	waitUntil(t, 60*time.Second, "bridge settled", func() bool {
		st := b.Stats()
		var objs, consumed uint64
		for _, s := range st.Sources {
			objs += s.Objects
			consumed += s.Consumed
		}
		return consumed == 3 && st.Delivered == objs
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	st := b.Stats()

	var out []*fidelity.Object
	for _, ty := range schemas.AllTypes() {
		want := int(st.Sinks["out"].Delivered[ty])
		if want == 0 {
			continue
		}
		cmd := exec.Command(kcat, "-b", p.k.Addr, "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=PLAIN",
			"-X", "sasl.username="+testkit.KafkaUser, "-X", "sasl.password="+testkit.KafkaPassword,
			"-X", "broker.address.family=v4",
			"-C", "-t", "fid."+string(ty), "-o", "beginning", "-e", "-q", "-f", "%k\t%h\t%s\n")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		raw, err := cmd.Output()
		if err != nil {
			t.Fatalf("kcat %s: %v\n%s", ty, err, stderr.String())
		}
		n := 0
		sc := bufio.NewScanner(bytes.NewReader(raw))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			parts := strings.SplitN(sc.Text(), "\t", 3)
			if len(parts) != 3 {
				t.Fatalf("kcat line %q", sc.Text())
			}
			key, hs, payload := parts[0], parts[1], parts[2]
			headers := map[string]string{}
			for _, kv := range strings.Split(hs, ",") {
				if k, v, ok := strings.Cut(kv, "="); ok {
					headers[k] = v
				}
			}
			checkObject(t, ty, []byte(payload), key, hs)
			out = append(out, fidelity.ParseObject(t, ty, []byte(payload), headers))
			n++
		}
		if n != want {
			t.Fatalf("kcat read %d %s records, bridge delivered %d", n, ty, want)
		}
	}
	fidelity.Check(t, in, out, "tu.in", "mo.in")
}
