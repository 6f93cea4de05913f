package profile_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/telebridge/telebridge/bridge"
	"github.com/telebridge/telebridge/bridge/profile"
	"github.com/telebridge/telebridge/internal/fleet"
	"github.com/telebridge/telebridge/schemas"
)

func loadMapping(t testing.TB, path string) *profile.Mapping {
	t.Helper()
	m, err := profile.LoadMapping(path)
	if err != nil {
		t.Fatalf("load %s:\n%v", path, err)
	}
	return m
}

func mappingProfile(t testing.TB, path string) profile.Profile {
	t.Helper()
	p, err := profile.New(profile.NameMapping, profile.Options{Mapping: loadMapping(t, path)})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// encodeAll renders objects as their JSON lines, for comparison.
func encodeAll(objs []schemas.Object) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = string(o.AppendJSON(nil, "", ""))
	}
	return out
}

// sameObjects requires identical objects in identical order, field by
// field (their full JSON encodings, which cover every field), and
// identical Go types.
func sameObjects(t *testing.T, what string, in *profile.Input, want, got []schemas.Object) {
	t.Helper()
	// The pipeline's identities: eventIds and assigned record ids.
	wi := bridge.AssignIdentities(in.Topic, in.Partition, in.Offset, want)
	gi := bridge.AssignIdentities(in.Topic, in.Partition, in.Offset, got)
	if len(wi) == len(gi) {
		for i := range wi {
			if wi[i] != gi[i] {
				t.Fatalf("%s: object %d identity: built-in %+v, mapping %+v", what, i, wi[i], gi[i])
			}
		}
	}
	w, g := encodeAll(want), encodeAll(got)
	if len(w) != len(g) {
		t.Fatalf("%s: built-in %d objects, mapping %d\nbuilt-in: %v\nmapping:  %v", what, len(w), len(g), w, g)
	}
	for i := range w {
		if w[i] != g[i] {
			t.Fatalf("%s: object %d differs\nbuilt-in: %s\nmapping:  %s", what, i, w[i], g[i])
		}
		if want[i].ObjectType() != got[i].ObjectType() {
			t.Fatalf("%s: object %d type %s vs %s", what, i, want[i].ObjectType(), got[i].ObjectType())
		}
	}
}

// TestMobitoMappingMatchesProfile feeds the MOBITO sample and the fleet
// simulator's messages through the built-in mobito profile and
// testdata/mappings/mobito.yaml and requires identical objects.
func TestMobitoMappingMatchesProfile(t *testing.T) {
	builtin := newProfile(t, profile.NameMobito, profile.Options{})
	mapped := mappingProfile(t, "../../testdata/mappings/mobito.yaml")

	sample := decodeJSONFile(t, "../../testdata/mobito/sample.json")
	in := mobitoInput(sample)
	want, err := builtin.Normalize(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := mapped.Normalize(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameObjects(t, "sample", in, want, got)
	if got[len(got)-1].ObjectType() != schemas.TypeAsset {
		t.Fatal("sample: no asset last")
	}

	f := fleet.New(fleet.Config{Vehicles: 20, Seed: 7})
	for i := range 400 {
		raw := f.NextMobitoJSON()
		in := &profile.Input{Topic: "mobito", Partition: int32(i % 3), Offset: int64(i), Timestamp: f.Now(), Value: decodeJSON(t, raw)}
		want, werr := builtin.Normalize(in, nil)
		got, gerr := mapped.Normalize(in, nil)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("message %d: built-in error %v, mapping error %v\n%s", i, werr, gerr, raw)
		}
		sameObjects(t, "fleet message "+string(bytes.TrimSpace(raw[:min(len(raw), 40)])), in, want, got)
	}
}

// BenchmarkNormalizeMobitoMapping runs testdata/mappings/mobito.yaml on the
// inputs of BenchmarkNormalizeMobito; compare the two (the mapping must
// cost at most 1.5x the built-in profile).
func BenchmarkNormalizeMobitoMapping(b *testing.B) {
	_, mo := benchInputs(b, benchN)
	benchNormalize(b, mappingProfile(b, "../../testdata/mappings/mobito.yaml"), mo)
}

// BenchmarkMobitoMappingVsProfile alternates the built-in mobito profile
// and the MOBITO mapping on the same inputs in small batches, so load on a
// shared machine affects both alike, and reports each one's ns per message
// and their ratio (mapping/built-in; the requirement is at most 1.5).
func BenchmarkMobitoMappingVsProfile(b *testing.B) {
	_, mo := benchInputs(b, benchN)
	builtin := newProfile(b, profile.NameMobito, profile.Options{})
	mapped := mappingProfile(b, "../../testdata/mappings/mobito.yaml")
	var dst []schemas.Object
	for _, in := range mo {
		dst, _ = builtin.Normalize(in, dst[:0])
		dst, _ = mapped.Normalize(in, dst[:0])
	}
	var tb, tm time.Duration
	const batch = 64
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		p := builtin
		if i%2 == 1 {
			p = mapped
		}
		start := time.Now()
		for j := range batch {
			var err error
			if dst, err = p.Normalize(mo[j%len(mo)], dst[:0]); err != nil {
				b.Fatal(err)
			}
		}
		if i%2 == 1 {
			tm += time.Since(start)
		} else {
			tb += time.Since(start)
		}
	}
	n := float64(b.N/2) * batch
	b.ReportMetric(float64(tb.Nanoseconds())/n, "builtin-ns/msg")
	b.ReportMetric(float64(tm.Nanoseconds())/n, "mapping-ns/msg")
	b.ReportMetric(float64(tm)/float64(tb), "ratio")
}

// TestMappingConcurrentUse runs one mapping profile from several
// goroutines (as partition lanes do) and requires every record to map as
// it does alone; run with -race it also checks the shared caches (key
// layouts, memos, asset cache).
func TestMappingConcurrentUse(t *testing.T) {
	f := fleet.New(fleet.Config{Vehicles: 10, Seed: 3})
	var mo []*profile.Input
	for i := range 32 {
		v := decodeJSON(t, f.NextMobitoJSON())
		mo = append(mo, &profile.Input{Topic: "mobito", Offset: int64(i), Timestamp: f.Now(), Value: v})
	}
	serial := mappingProfile(t, "../../testdata/mappings/mobito.yaml")
	want := make([][]string, len(mo))
	for i, in := range mo {
		objs, err := serial.Normalize(in, nil)
		if err != nil {
			t.Fatal(err)
		}
		// Assets depend on the cache history; compare the other objects.
		want[i] = encodeAll(nonAssets(objs))
	}
	shared := mappingProfile(t, "../../testdata/mappings/mobito.yaml")
	errs := make(chan error, 4)
	for g := range 4 {
		go func() {
			for round := range 20 {
				for i := range mo {
					in := mo[(i+g*7+round)%len(mo)]
					objs, err := shared.Normalize(in, nil)
					if err != nil {
						errs <- err
						return
					}
					got := encodeAll(nonAssets(objs))
					w := want[(i+g*7+round)%len(mo)]
					if len(got) != len(w) {
						errs <- fmt.Errorf("goroutine %d: %d objects, want %d", g, len(got), len(w))
						return
					}
					for j := range got {
						if got[j] != w[j] {
							errs <- fmt.Errorf("goroutine %d: object %d\n got %s\nwant %s", g, j, got[j], w[j])
							return
						}
					}
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func nonAssets(objs []schemas.Object) []schemas.Object {
	var out []schemas.Object
	for _, o := range objs {
		if o.ObjectType() != schemas.TypeAsset {
			out = append(out, o)
		}
	}
	return out
}
