package bridge_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/telebridge/telebridge/bridge"
	"github.com/telebridge/telebridge/bridge/config"
	"github.com/telebridge/telebridge/bridge/profile"
	"github.com/telebridge/telebridge/compat"
)

// registerIncompatible registers a writer schema whose
// EquipmentHeader.UnitInstallDateTime is a string where the pinned reader
// expects a long, and returns records that claim it: their bodies are
// encoded with the reader schema, so decoding them with the writer schema
// would produce garbage.
func (e *env) registerIncompatible(t *testing.T, n int) (int, []*kgo.Record) {
	t.Helper()
	bad := strings.Replace(profile.TrackunitReaderSchema(), `"long"`, `"string"`, 1)
	id, _, err := e.reg.RegisterSchema(tuTopic+"-value", sr.Schema{Schema: bad, Type: sr.TypeAvro})
	if err != nil {
		t.Fatal(err)
	}
	if id == e.schemaID {
		t.Fatal("the registry reused the schema id")
	}
	var recs []*kgo.Record
	for range n {
		v, err := e.fleet.NextTrackunitAvro(id)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, &kgo.Record{Topic: tuTopic, Value: v})
	}
	return id, recs
}

const wantIncompatibility = "/fields/0/type/1/fields/0/type/1"

func TestIncompatibleWriterSchemaIsDeadLettered(t *testing.T) {
	for _, mode := range []string{config.DecodePinned, config.DecodeWriter} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t)
			badID, bad := e.registerIncompatible(t, 4)
			good := e.trackunit(t, 3)
			e.produce(t, append(good, bad...)...)

			core, logs := observer.New(zap.InfoLevel)
			r := start(t, e.config(t, cfgOpts{decode: mode}), zap.New(core))
			waitFor(t, 30*time.Second, "all records settled", func() bool {
				src := r.b.Stats().Sources["trackunit"]
				return src.Poison >= 4 && src.Objects > 0 && r.b.Stats().DeadLetters >= 4 && settled(r.b, "trackunit", 7)
			})
			st := r.b.Stats()
			src := st.Sources["trackunit"]
			if src.Poison != 4 || src.IncompatibleSchemas != 1 {
				t.Fatalf("stats %+v, want 4 poison records from 1 incompatible schema", src)
			}
			if src.Objects == 0 {
				t.Fatal("the compatible records produced no objects")
			}
			r.shutdown(t)

			letters := readAll(t, e, dlqTopic, 4)
			for _, l := range letters {
				if got := header(l, bridge.HeaderErrorClass); got != bridge.ClassIncompatibleSchema {
					t.Fatalf("class %q, want %q", got, bridge.ClassIncompatibleSchema)
				}
				if got := header(l, bridge.HeaderSchemaID); got != strconv.Itoa(badID) {
					t.Fatalf("schema id header %q, want %d", got, badID)
				}
				var incs []compat.Incompatibility
				if err := json.Unmarshal([]byte(header(l, bridge.HeaderSchemaIncompatibilities)), &incs); err != nil {
					t.Fatalf("incompatibilities header: %v: %q", err, header(l, bridge.HeaderSchemaIncompatibilities))
				}
				found := false
				for _, inc := range incs {
					found = found || (inc.Type == compat.MissingUnionBranch && inc.Location == wantIncompatibility && inc.Message != "")
				}
				if !found {
					t.Fatalf("header lacks MISSING_UNION_BRANCH at %s: %+v", wantIncompatibility, incs)
				}
				if !strings.Contains(header(l, bridge.HeaderError), "MISSING_UNION_BRANCH") {
					t.Fatalf("error header: %q", header(l, bridge.HeaderError))
				}
			}
			n := 0
			for _, l := range logs.All() {
				if strings.Contains(l.Message, "writer schema is incompatible") {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("%d logs about the incompatible schema, want exactly 1", n)
			}
		})
	}
}

func TestIncompatibleWriterSchemaStopsTheSource(t *testing.T) {
	e := newEnv(t)
	_, bad := e.registerIncompatible(t, 2)
	e.produce(t, bad...)
	cfg := e.config(t, cfgOpts{})
	cfg.Sources[0].OnIncompatibleSchema = config.OnIncompatibleStop
	b, err := bridge.New(cfg, bridge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err = b.Run(ctx)
	if err == nil || ctx.Err() != nil {
		t.Fatalf("Run = %v (ctx %v), want the source to stop with an error", err, ctx.Err())
	}
	for _, want := range []string{"source trackunit stopped at topic " + tuTopic, "on_incompatible_schema: stop", "MISSING_UNION_BRANCH at " + wantIncompatibility} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	st := b.Stats()
	if st.DeadLetters != 0 || st.Sources["trackunit"].IncompatibleSchemas != 1 {
		t.Fatalf("stats: %+v", st)
	}
	// Nothing was committed past the record: the group's committed
	// offsets (read without joining: the bridge's static member still
	// holds the group) are at most 1 on every partition of the topic.
	cctx, ccancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer ccancel()
	committed, err := e.kafka.Committed(cctx, cfg.Sources[0].GroupID)
	if err != nil {
		t.Fatal(err)
	}
	for p, off := range committed[tuTopic] {
		if off > 1 {
			t.Errorf("partition %d committed at %d: the group committed past the incompatible records", p, off)
		}
	}
}

func TestIncompatibleSchemaErrorText(t *testing.T) {
	e := &bridge.IncompatibleSchemaError{SchemaID: 7, Profile: "trackunit-insights"}
	for i := range 25 {
		e.Incompatibilities = append(e.Incompatibilities, compat.Incompatibility{Type: compat.TypeMismatch, Location: "/fields/" + strconv.Itoa(i) + "/type", Message: "m"})
	}
	got := e.Error()
	for _, want := range []string{"writer schema id 7", "trackunit-insights", "(25 incompatibilities)", "TYPE_MISMATCH at /fields/19/type: m; and 5 more"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "/fields/20/") {
		t.Errorf("more than 20 listed: %s", got)
	}
}
